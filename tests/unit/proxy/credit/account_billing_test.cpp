// Crediting a top-up: the call that settled it and the reconciler that proves a pending one
// later may both see the same payment settled; the credit is made once whichever comes first.
#include "proxy/credit/account_billing.h"

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <catch2/catch.hpp>

using namespace x402proxy;
using namespace x402proxy::proxy;
namespace json = boost::json;

namespace {

x402::PaymentRequirements usdc_on_base_sepolia(const std::string& amount) {
  x402::PaymentRequirements requirements;
  requirements.scheme = "exact";
  requirements.network = "eip155:84532";
  requirements.amount = amount;
  requirements.asset = "0x036CbD53842c5426634e7929541eC2318f3dCF7e";
  requirements.pay_to = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C";
  requirements.max_timeout_seconds = 300;
  return requirements;
}

std::shared_ptr<AccountBilling> billing(boost::asio::io_context& context) {
  config::AccountsConfig config;
  config.enabled = true;
  config.ledger = ":memory:";
  auto created = AccountBilling::create(context.get_executor(), config);
  REQUIRE(created.ok());
  auto asset = x402::builtin_asset("eip155:84532", "USDC");
  REQUIRE(asset.has_value());
  (*created)->set_topup_template({usdc_on_base_sepolia("1000000")}, {*asset});
  return *created;
}

std::string text_of(const json::object& result) {
  return std::string(result.at("content").at(0).at("text").as_string());
}

}  // namespace

TEST_CASE("a settled top-up seen twice (by its call and by the reconciler) is credited once",
          "[credit][topup]") {
  boost::asio::io_context context;
  auto credit = billing(context);
  const auto paid = usdc_on_base_sepolia("2000");
  json::object by_call;
  credit->credit_topup("alice", by_call, paid, "payment-1");
  CHECK_FALSE(by_call.contains("isError"));
  CHECK_THAT(text_of(by_call), Catch::Contains("Credited $0.002"));
  json::object by_reconciler;
  credit->credit_topup("alice", by_reconciler, paid, "payment-1");
  CHECK_FALSE(by_reconciler.contains("isError"));
  CHECK(*credit->store().balance("alice", "USDC") == 2000);
  // Another payment is another credit.
  json::object second;
  credit->credit_topup("alice", second, paid, "payment-2");
  CHECK(*credit->store().balance("alice", "USDC") == 4000);
}

TEST_CASE("a top-up in a token that is not the accounts' asset is not credited",
          "[credit][topup]") {
  boost::asio::io_context context;
  auto credit = billing(context);
  auto paid = usdc_on_base_sepolia("2000");
  paid.asset = "0x0000000000000000000000000000000000000001";
  json::object result;
  credit->credit_topup("alice", result, paid, "payment-1");
  CHECK(result.at("isError").as_bool());
  CHECK(*credit->store().balance("alice", "USDC") == 0);
}
