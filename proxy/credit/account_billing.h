// Account billing inside serve (the `accounts:` config): who a request comes from (a developer API
// key in `Authorization: Bearer x402k_…` or `X-API-Key`, or a user JWT in `Authorization`), and the
// billing tools serve answers itself. Credentials that belong to the proxy are refused with 401
// when wrong — never treated as anonymous — and never reach the upstream; any other Authorization
// value is the upstream's business and passes through.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/object.hpp>

#include "accounts/account_store.h"
#include "accounts/jwt_verifier.h"
#include "config/accounts_config.h"
#include "proxy/paywall/price_book.h"
#include "x402/result.h"

namespace x402proxy::proxy {

struct Caller {
  enum class Kind { anonymous, account, refused };
  Kind kind = Kind::anonymous;
  std::string account;
  std::string refusal;               // why, for the 401 body (never the credential)
  bool strip_authorization = false;  // the Authorization header was ours
};

// One billing entry as the billing tools and the admin API show it.
boost::json::object billing_entry_json(const accounts::BillingEntry& entry);

class AccountBilling {
 public:
  static Result<std::shared_ptr<AccountBilling>> create(boost::asio::any_io_executor executor,
                                                        const config::AccountsConfig& config);

  boost::asio::awaitable<Caller> identify(
      const boost::beast::http::request<boost::beast::http::string_body>& request);

  const config::AccountsConfig& config() const { return config_; }
  accounts::AccountStore& store() { return *store_; }
  bool is_billing_tool(std::string_view tool) const;
  // The billing tools' entries for tools/list (name, description, inputSchema).
  boost::json::array billing_tool_definitions() const;
  // Top-up offers: `one_dollar` is the accept list priced at $1 (extra filled: EIP-712 domain,
  // Solana fee payer); topup_offer() prices it at the amount the caller asks for.
  void set_topup_template(std::vector<x402::PaymentRequirements> one_dollar,
                          std::vector<x402::AssetInfo> assets) {
    topup_template_ = std::move(one_dollar);
    topup_assets_ = std::move(assets);
  }
  // arguments.amount: "$5" (a dollar amount, at most $10,000). Reason "topup.amount".
  Result<ToolOffer> topup_offer(const boost::json::object& arguments) const;
  // Credits a settled top-up once (idempotent on the payment) and words the tool result.
  void credit_topup(const std::string& account, boost::json::object& result,
                    const x402::PaymentRequirements& paid, const std::string& payment_id);

  // balance and history: the tool result for `account` (top-up is a paid call, see serve).
  boost::json::object answer_billing_tool(const std::string& account, std::string_view tool,
                                          const boost::json::object& arguments);

 private:
  AccountBilling(config::AccountsConfig config, std::unique_ptr<accounts::AccountStore> store,
                 std::shared_ptr<accounts::JwtVerifier> jwt)
      : config_(std::move(config)), store_(std::move(store)), jwt_(std::move(jwt)) {}

  config::AccountsConfig config_;
  std::unique_ptr<accounts::AccountStore> store_;
  std::shared_ptr<accounts::JwtVerifier> jwt_;  // null without accounts.jwt
  std::vector<x402::PaymentRequirements> topup_template_;
  std::vector<x402::AssetInfo> topup_assets_;  // the token of each template requirement
};

}  // namespace x402proxy::proxy
