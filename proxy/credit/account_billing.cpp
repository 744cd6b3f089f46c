#include "proxy/credit/account_billing.h"

#include <ctime>

#include <spdlog/spdlog.h>
#include <boost/beast/core/string.hpp>
#include <boost/json/serialize.hpp>

#include "x402/amount.h"
#include "x402/networks.h"
#include "x402/price.h"

namespace x402proxy::proxy {
namespace asio = boost::asio;
namespace http = boost::beast::http;
namespace json = boost::json;

namespace {

constexpr std::string_view kKeyPrefix = "x402k_";

bool looks_like_jwt(std::string_view value) {
  const auto first = value.find('.');
  return first != std::string_view::npos && value.find('.', first + 1) != std::string_view::npos &&
         value.find(' ') == std::string_view::npos;
}

json::object text_result(std::string text, json::object structured) {
  return json::object{{"content", json::array{json::object{{"type", "text"}, {"text", text}}}},
                      {"structuredContent", std::move(structured)}};
}

}  // namespace

json::object billing_entry_json(const accounts::BillingEntry& e) {
  return json::object{{"time", e.time},      {"kind", e.kind}, {"asset", e.asset},
                      {"amount", e.amount},  {"tool", e.tool}, {"requestId", e.request_id},
                      {"outcome", e.outcome}};
}

Result<std::shared_ptr<AccountBilling>> AccountBilling::create(
    asio::any_io_executor executor, const config::AccountsConfig& config) {
  auto store = accounts::AccountStore::open(config.ledger);
  if (!store.ok())
    return store.error();
  std::shared_ptr<accounts::JwtVerifier> jwt;
  if (config.jwt.enabled()) {
    accounts::JwtOptions options;
    if (!config.jwt.hs256_secret_env.empty()) {
      const char* secret = std::getenv(config.jwt.hs256_secret_env.c_str());
      if (secret == nullptr || *secret == '\0') {
        return make_error("accounts.jwt",
                          "accounts.jwt.hs256_secret_env: the environment "
                          "variable " +
                              config.jwt.hs256_secret_env + " is not set");
      }
      options.hs256_secret = secret;
    }
    options.public_key_pem = config.jwt.public_key_pem;
    options.jwks_file = config.jwt.jwks_file;
    options.jwks_url = config.jwt.jwks_url;
    options.issuer = config.jwt.issuer;
    options.audience = config.jwt.audience;
    options.account_claim = config.jwt.account_claim;
    options.clock_skew = config.jwt.clock_skew;
    auto verifier = accounts::JwtVerifier::create(executor, options);
    if (!verifier.ok())
      return verifier.error();
    jwt = std::move(verifier).value();
  }
  return std::shared_ptr<AccountBilling>(
      new AccountBilling(config, std::move(store).value(), std::move(jwt)));
}

asio::awaitable<Caller> AccountBilling::identify(const http::request<http::string_body>& request) {
  Caller caller;
  std::string_view credential;
  bool from_authorization = false;
  if (auto it = request.find("X-API-Key"); it != request.end()) {
    credential = it->value();
  } else if (auto auth = request.find(http::field::authorization); auth != request.end()) {
    std::string_view value = auth->value();
    if (value.size() > 7 && boost::beast::iequals(value.substr(0, 7), "Bearer ")) {
      std::string_view token = value.substr(7);
      // Ours: an API key, or a JWT when JWTs are configured. Anything else is the upstream's.
      if (token.starts_with(kKeyPrefix) || (jwt_ && looks_like_jwt(token))) {
        credential = token;
        from_authorization = true;
      }
    }
  }
  if (credential.empty())
    co_return caller;
  caller.strip_authorization = from_authorization;
  if (credential.starts_with(kKeyPrefix) || !from_authorization) {
    auto account = store_->account_for_key(credential);
    if (!account.ok()) {
      caller.kind = Caller::Kind::refused;
      using accounts::AccountFailure;
      const AccountFailure kind = account.error().kind;
      caller.refusal = kind == AccountFailure::key_revoked     ? "this API key has been revoked"
                       : kind == AccountFailure::key_malformed ? "malformed API key"
                                                               : "unknown API key";
      co_return caller;
    }
    caller.kind = Caller::Kind::account;
    caller.account = *account;
    co_return caller;
  }
  auto account = co_await jwt_->verify(credential, static_cast<std::int64_t>(std::time(nullptr)));
  if (!account.ok()) {
    caller.kind = Caller::Kind::refused;
    caller.refusal = "invalid token: " + account.error().message;
    co_return caller;
  }
  caller.kind = Caller::Kind::account;
  caller.account = *account;
  co_return caller;
}

Result<ToolOffer> AccountBilling::topup_offer(const json::object& arguments) const {
  const json::value* amount = arguments.if_contains("amount");
  if (amount == nullptr || !amount->is_string())
    return make_error("topup.amount",
                      "give the amount to add as a string, e.g. {\"amount\": \"$5\"}");
  const std::string text(amount->get_string());
  auto micros = x402::usd_price_to_atomic(text, 6);
  if (!micros.ok())
    return make_error("topup.amount", micros.error().message);
  if (*micros == 0 || *micros > x402::Amount(10'000'000'000ull))
    return make_error("topup.amount", "a top-up is between $0.000001 and $10000");
  if (topup_template_.empty())
    return make_error("topup.amount", "this server accepts no payment for top-ups");
  ToolOffer offer;
  offer.tool = config_.topup_tool;
  offer.description = "Prepaid credit top-up of " + text;
  offer.usd = text;
  for (std::size_t i = 0; i < topup_template_.size() && i < topup_assets_.size(); ++i) {
    x402::PaymentRequirements requirement = topup_template_[i];
    auto atomic = x402::usd_price_to_atomic(text, topup_assets_[i].decimals);
    if (!atomic.ok())
      continue;
    requirement.amount = x402::to_string(*atomic);
    offer.accepts.push_back(std::move(requirement));
    offer.assets.push_back(topup_assets_[i]);
  }
  if (offer.accepts.empty())
    return make_error("topup.amount", "no accepted asset can carry " + text);
  return offer;
}

void AccountBilling::credit_topup(const std::string& account, json::object& result,
                                  const x402::PaymentRequirements& paid,
                                  const std::string& payment_id) {
  // The paid token, as the offer named it (the same network and address as a template entry).
  const x402::AssetInfo* asset = nullptr;
  for (std::size_t i = 0; i < topup_template_.size() && i < topup_assets_.size(); ++i) {
    if (x402::to_caip2(topup_template_[i].network) == x402::to_caip2(paid.network) &&
        topup_template_[i].asset == paid.asset) {
      asset = &topup_assets_[i];
    }
  }
  auto amount = x402::parse_amount(paid.amount);
  std::string text;
  bool failed = asset == nullptr || !amount.ok() || asset->symbol != config_.asset;
  if (!failed) {
    auto credited = store_->credit_topup(account, config_.asset, *amount, payment_id);
    if (!credited.ok()) {
      failed = true;
      spdlog::error("accounts: top-up for {} settled (payment {}) but not credited: {}", account,
                    payment_id, credited.error().message);
    } else {
      auto balance = store_->balance(account, config_.asset);
      // Credited once per payment, by whoever first saw it settled (this call, or the
      // reconciler for a settlement proven later): either way this payment bought this credit.
      text = "Credited " + x402::format_usd(*amount, 6) + "; balance now " +
             (balance.ok() ? x402::format_usd(*balance, 6) : std::string("unknown"));
    }
  }
  if (failed) {
    text =
        "the payment was settled but the credit could not be recorded; contact the operator "
        "with the receipt below";
    result["isError"] = true;
  }
  result["content"] = json::array{json::object{{"type", "text"}, {"text", text}}};
}

bool AccountBilling::is_billing_tool(std::string_view tool) const {
  return tool == config_.balance_tool || tool == config_.topup_tool || tool == config_.history_tool;
}

json::array AccountBilling::billing_tool_definitions() const {
  auto schema = [](json::object properties) {
    return json::object{{"type", "object"}, {"properties", std::move(properties)}};
  };
  return json::array{
      json::object{
          {"name", config_.balance_tool},
          {"description", "Your prepaid credit balance with this server (" + config_.asset + ")."},
          {"inputSchema", schema({})}},
      json::object{
          {"name", config_.topup_tool},
          {"description",
           "Add prepaid credit by paying with x402: call with an amount such as "
           "\"$5\"; the answer says how to pay."},
          {"inputSchema",
           schema({{"amount", json::object{{"type", "string"}, {"description", "e.g. \"$5\""}}}})}},
      json::object{
          {"name", config_.history_tool},
          {"description", "Your recent billing transactions with this server."},
          {"inputSchema", schema({{"limit", json::object{{"type", "integer"}, {"minimum", 1}}}})}}};
}

json::object AccountBilling::answer_billing_tool(const std::string& account, std::string_view tool,
                                                 const json::object& arguments) {
  if (tool == config_.balance_tool) {
    auto balance = store_->balance(account, config_.asset);
    auto available = store_->available(account, config_.asset);
    if (!balance.ok() || !available.ok())
      return json::object{
          {"isError", true},
          {"content", json::array{json::object{{"type", "text"},
                                               {"text", "the billing ledger is unavailable"}}}}};
    const std::string dollars = x402::format_usd(*balance, 6);
    return text_result(
        "Balance: " + dollars + " (" + x402::to_string(*balance) + " atomic " + config_.asset + ")",
        json::object{{"account", account},
                     {"asset", config_.asset},
                     {"balance", x402::to_string(*balance)},
                     {"available", x402::to_string(*available)}});
  }
  if (tool == config_.topup_tool) {
    // Top-up paid with x402 is not wired into serve yet: say so rather than pretend.
    return json::object{
        {"isError", true},
        {"content",
         json::array{json::object{{"type", "text"},
                                  {"text",
                                   "top-up with x402 is not available on this server yet; ask the "
                                   "operator to credit your account"}}}}};
  }
  std::size_t limit = 20;
  if (const json::value* l = arguments.if_contains("limit");
      l && l->is_int64() && l->as_int64() > 0)
    limit = static_cast<std::size_t>(std::min<std::int64_t>(l->as_int64(), 200));
  auto history = store_->history(account, limit);
  json::array entries;
  std::string text;
  if (history.ok()) {
    for (const auto& e : *history) {
      entries.push_back(billing_entry_json(e));
      text += e.kind + " " + e.amount + " " + e.asset + (e.tool.empty() ? "" : " " + e.tool) + "\n";
    }
  }
  return text_result(text.empty() ? "No billing transactions yet." : text,
                     json::object{{"account", account}, {"transactions", std::move(entries)}});
}

}  // namespace x402proxy::proxy
