#include "proxy/credit/admin_accounts.h"

#include <boost/json/serialize.hpp>

#include "x402/price.h"
#include "x402/strict_json.h"

namespace x402proxy::proxy {
namespace json = boost::json;

namespace {

AdminAnswer error(unsigned status, const std::string& message) {
  return {status, json::serialize(json::object{{"error", message}})};
}

// "$5" (6-decimal assets) or atomic units.
Result<x402::Amount> amount_of(std::string_view body) {
  auto parsed = x402::parse_strict_json(body);
  if (!parsed.ok() || !parsed->is_object())
    return make_error("admin.body", "expected a JSON object like {\"amount\": \"$5\"}");
  const json::value* amount = parsed->get_object().if_contains("amount");
  if (amount == nullptr || !amount->is_string())
    return make_error("admin.body", "expected \"amount\" as a string, e.g. \"$5\" or \"5000000\"");
  const std::string text(amount->get_string());
  if (auto atomic = x402::parse_amount(text); atomic.ok())
    return *atomic;
  auto usd = x402::usd_price_to_atomic(text, 6);
  if (!usd.ok())
    return make_error("admin.body", usd.error().message);
  return *usd;
}

json::object balances_json(const std::map<std::string, std::string>& balances) {
  json::object out;
  for (const auto& [asset, amount] : balances)
    out[asset] = amount;
  return out;
}

AdminAnswer show(AccountBilling& billing, const std::string& account) {
  accounts::AccountStore& store = billing.store();
  const std::string& asset = billing.config().asset;
  auto balance = store.balance(account, asset);
  auto keys = store.keys(account);
  auto history = store.history(account, 20);
  if (!balance.ok() || !keys.ok() || !history.ok())
    return error(500, "the accounts ledger is unavailable");
  json::array key_list;
  for (const auto& k : *keys) {
    key_list.push_back(
        json::object{{"keyId", k.key_id}, {"created", k.created}, {"revoked", k.revoked != 0}});
  }
  json::array entries;
  for (const auto& e : *history) {
    entries.push_back(billing_entry_json(e));
  }
  return {200, json::serialize(json::object{{"account", account},
                                            {"asset", asset},
                                            {"balance", x402::to_string(*balance)},
                                            {"keys", std::move(key_list)},
                                            {"history", std::move(entries)}})};
}

}  // namespace

AdminAnswer answer_accounts_admin(AccountBilling& billing, std::string_view method,
                                  std::string_view path, std::string_view body) {
  accounts::AccountStore& store = billing.store();
  const std::string& asset = billing.config().asset;
  if (path.starts_with("/admin/keys/")) {
    std::string_view rest = path.substr(12);
    const auto slash = rest.find('/');
    if (method != "POST" || slash == std::string_view::npos || rest.substr(slash) != "/revoke")
      return error(404, "expected POST /admin/keys/{key_id}/revoke");
    auto revoked = store.revoke_key(std::string(rest.substr(0, slash)));
    if (!revoked.ok())
      return error(404, revoked.error().message);
    return {200, json::serialize(json::object{{"revoked", true}})};
  }
  std::string_view rest = path.substr(std::string_view("/admin/accounts").size());
  if (rest.empty() || rest == "/") {
    if (method != "GET")
      return error(405, "use GET /admin/accounts");
    auto accounts = store.list();
    if (!accounts.ok())
      return error(500, "the accounts ledger is unavailable");
    json::array out;
    for (const auto& a : *accounts) {
      out.push_back(json::object{{"account", a.account},
                                 {"balances", balances_json(a.balances)},
                                 {"activeKeys", a.active_keys}});
    }
    return {200, json::serialize(json::object{{"accounts", std::move(out)}})};
  }
  rest.remove_prefix(1);
  const auto slash = rest.find('/');
  const std::string account(rest.substr(0, slash));
  const std::string_view action =
      slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  if (action.empty()) {
    if (method != "GET")
      return error(405, "use GET /admin/accounts/{account}");
    return show(billing, account);
  }
  if (method != "POST")
    return error(405, "use POST for /admin/accounts/{account}/" + std::string(action));
  if (action == "keys") {
    auto issued = store.add_key(account);
    if (!issued.ok())
      return error(400, issued.error().message);
    return {200, json::serialize(json::object{
                     {"account", account}, {"keyId", issued->key_id}, {"key", issued->key}})};
  }
  if (action == "credit" || action == "debit") {
    auto amount = amount_of(body);
    if (!amount.ok())
      return error(400, amount.error().message);
    auto done = action == "credit" ? store.credit(account, asset, *amount, "admin api")
                                   : store.debit(account, asset, *amount, "admin api");
    if (!done.ok())
      return error(done.error().kind == accounts::AccountFailure::insufficient_credit ? 409 : 400,
                   done.error().message);
    return show(billing, account);
  }
  return error(404, "unknown action " + std::string(action));
}

}  // namespace x402proxy::proxy
