#include "facilitator/embedded/ledger.h"

#include <catch2/catch.hpp>

using namespace x402proxy;
using facilitator::Ledger;
using facilitator::LedgerTransfer;

namespace {
LedgerTransfer transfer(std::string id, unsigned amount) {
  LedgerTransfer t;
  t.network = "eip155:84532";
  t.asset = "0x036CbD53842c5426634e7929541eC2318f3dCF7e";
  t.payer = "0xPayer";
  t.payee = "0xPayee";
  t.amount = amount;
  t.payment_id = std::move(id);
  t.resource = "mcp://tool/add";
  t.transaction = "0x01";
  return t;
}
}  // namespace

TEST_CASE("a settlement moves the amount from payer to payee", "[ledger]") {
  auto ledger = Ledger::open(":memory:", 5000);
  REQUIRE(ledger.ok());
  auto first = (*ledger)->record(transfer("a", 1200));
  INFO((first.ok() ? "" : first.error().message));
  REQUIRE(first.ok());
  auto t = transfer("", 0);
  CHECK(*(*ledger)->balance(t.network, t.asset, "0xPayer") == 3800);
  CHECK(*(*ledger)->balance(t.network, t.asset, "0xPayee") == 6200);
  CHECK(*(*ledger)->was_settled("a"));
  CHECK_FALSE(*(*ledger)->was_settled("b"));
  REQUIRE((*ledger)->transfers()->size() == 1);
}

TEST_CASE("the same payment settles at most once", "[ledger]") {
  auto ledger = Ledger::open(":memory:", 5000);
  REQUIRE(ledger.ok());
  REQUIRE((*ledger)->record(transfer("a", 100)).ok());
  auto again = (*ledger)->record(transfer("a", 100));
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().reason == "duplicate_settlement");
  auto t = transfer("", 0);
  CHECK(*(*ledger)->balance(t.network, t.asset, "0xPayer") == 4900);
}

TEST_CASE("a payer cannot spend more than it holds, and a refusal changes nothing", "[ledger]") {
  auto ledger = Ledger::open(":memory:", 1000);
  REQUIRE(ledger.ok());
  REQUIRE((*ledger)->record(transfer("a", 600)).ok());
  auto refused = (*ledger)->record(transfer("b", 600));
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().reason == "insufficient_funds");
  CHECK_THAT(refused.error().message, Catch::Contains("400") && Catch::Contains("600"));
  CHECK_FALSE(*(*ledger)->was_settled("b"));  // rolled back, the id stays usable
  auto t = transfer("", 0);
  CHECK(*(*ledger)->balance(t.network, t.asset, "0xPayer") == 400);
}
