#include "proxy/credit/account_call.h"

#include <spdlog/spdlog.h>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/serialize.hpp>

#include "mcp/json_member_edit.h"
#include "mcp/jsonrpc_reply.h"
#include "mcp/paid_answers.h"
#include "net/http_reply.h"
#include "proxy/paywall/held_call.h"
#include "proxy/paywall/paid_call.h"
#include "proxy/upstream/http_forwarding.h"
#include "x402/amount.h"
#include "x402/codec.h"
#include "x402/networks.h"
#include "x402/price.h"

namespace x402proxy::proxy {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;

namespace {

// The tool's price in the accounts' asset: the first offer in that asset.
std::optional<x402::Amount> price_in(const ToolOffer& offer, const std::string& asset_symbol) {
  for (std::size_t i = 0; i < offer.accepts.size() && i < offer.assets.size(); ++i) {
    if (offer.assets[i].symbol != asset_symbol)
      continue;
    if (auto amount = x402::parse_amount(offer.accepts[i].amount); amount.ok())
      return *amount;
  }
  return std::nullopt;
}

bool modern_revision(const HttpRequest& request, const mcp::McpMessage& call) {
  auto header = request.find("MCP-Protocol-Version");
  if (header != request.end() && header->value() >= "2026-07-28")
    return true;
  return call.body_protocol_version && *call.body_protocol_version >= "2026-07-28";
}

std::string describe_price(const ToolOffer& offer) {
  if (!offer.usd.empty())
    return offer.usd;
  return offer.accepts.empty() ? std::string("?") : offer.accepts.front().amount + " atomic units";
}

}  // namespace

asio::awaitable<bool> run_account_call(const ServeState& state, beast::tcp_stream& client,
                                       const HttpRequest& request, mcp::McpPost& post,
                                       const ToolOffer& offer, const std::string& account) {
  AccountBilling& billing = *state.accounts;
  const mcp::McpMessage& call = post.messages.front();
  const std::string& asset = billing.config().asset;
  const auto price = price_in(offer, asset);
  const std::string request_id = json::serialize(call.id);
  const bool keep_alive = request.keep_alive();
  const mcp::BindingOptions binding{call.advertises_payment_extension,
                                    modern_revision(request, call)};
  Result<std::int64_t, accounts::AccountError> reservation =
      accounts::AccountError(accounts::AccountFailure::invalid, "no price in " + asset);
  if (price)
    reservation = billing.store().reserve(account, asset, *price, call.tool_name, request_id);
  if (!reservation.ok()) {
    // Not enough credit (or no price in the credit asset): offer per-call x402 payment instead.
    const std::string error =
        reservation.error().kind == accounts::AccountFailure::insufficient_credit
            ? "insufficient credit: " + reservation.error().message
            : reservation.error().message;
    std::string body = mcp::jsonrpc_result(
        call.id, mcp::payment_required_answer(offer.price(), call.tool_name, error, binding));
    state.metrics->count_request("tools/call", call.tool_name, "insufficient_credit");
    co_return co_await net::write_reply(client, http::status::ok, std::move(body), keep_alive,
                                        state.options.client_write_timeout);
  }
  HeldCall held(state, client, keep_alive, call.id);
  // Marked before the request goes onto the connection: a crash from then on charges the
  // reservation (the tool may have run) instead of releasing it.
  // `"x402/payment": null` (no payment, read as such) is cut too: no payment member goes upstream.
  auto forwarded = co_await held.forward(
      make_upstream_request(request, state.upstream->endpoint(),
                            mcp::without_payment_member(request.body()).value_or(request.body())),
      [&]() -> asio::awaitable<Status> { co_return billing.store().mark_forwarded(*reservation); });
  std::string outcome = "upstream_failed";
  bool keep = false;
  switch (forwarded.kind) {
    case HeldResult::Kind::not_forwarded:
    case HeldResult::Kind::failed:
      (void)billing.store().release(*reservation, "the upstream never answered this call");
      keep = co_await held.fail(mcp::rpc_code::upstream_unavailable,
                                forwarded.why + "; nothing was charged");
      break;
    case HeldResult::Kind::upstream_http:
      (void)billing.store().release(*reservation, forwarded.why);
      keep = held.client_ok();
      break;
    case HeldResult::Kind::final_message: {
      // As with x402: the price covers the attempt when the tool ran (also an isError result,
      // unless the tool's charge_tool_errors is false); a JSON-RPC error means it did not run,
      // and nothing is charged.
      const json::value* result = forwarded.message.get_object().if_contains("result");
      const bool tool_ran = result != nullptr;
      const bool spared = tool_ran && !offer.charge_tool_errors && result->is_object() &&
                          mcp::reports_tool_error(result->get_object());
      if (spared) {
        (void)billing.store().release(*reservation,
                                      "the tool reported an error (charge_tool_errors false)");
        outcome = "tool_error_not_charged";
      } else if (tool_ran) {
        if (auto s = billing.store().commit(*reservation, "completed"); !s.ok())
          spdlog::error("accounts: commit of reservation {} failed: {}", *reservation,
                        s.error().message);
        outcome = "paid_from_credit";
      } else {
        (void)billing.store().release(*reservation, "the upstream answered with a JSON-RPC error");
      }
      keep = co_await held.deliver(json::serialize(forwarded.message));
      break;
    }
  }
  state.metrics->count_request("tools/call", call.tool_name, outcome);
  spdlog::info("call id={} tool={} price={} account={} outcome={}", request_id, call.tool_name,
               describe_price(offer), account, outcome);
  co_return keep;
}

asio::awaitable<bool> answer_billing_call(const ServeState& state, beast::tcp_stream& client,
                                          const HttpRequest& request, const mcp::McpPost& post,
                                          const std::string& account) {
  const mcp::McpMessage& call = post.messages.front();
  json::object result;
  if (account.empty()) {
    result = json::object{
        {"isError", true},
        {"content",
         json::array{json::object{{"type", "text"},
                                  {"text",
                                   "billing tools need an API key (X-API-Key or Authorization: "
                                   "Bearer) or a user token"}}}}};
  } else {
    json::object arguments;
    if (const json::value* params = post.body.as_object().if_contains("params")) {
      if (const json::value* args = params->as_object().if_contains("arguments");
          args && args->is_object()) {
        arguments = args->get_object();
      }
    }
    result = state.accounts->answer_billing_tool(account, call.tool_name, arguments);
  }
  std::string body = mcp::jsonrpc_result(call.id, std::move(result));
  co_return co_await net::write_reply(client, http::status::ok, std::move(body),
                                      request.keep_alive(), state.options.client_write_timeout);
}

asio::awaitable<bool> run_topup_call(const ServeState& state, beast::tcp_stream& client,
                                     const HttpRequest& request, mcp::McpPost& post,
                                     const std::string& account) {
  const mcp::McpMessage& call = post.messages.front();
  json::object arguments;
  if (const json::value* params = post.body.as_object().if_contains("params")) {
    if (const json::value* args = params->as_object().if_contains("arguments");
        args && args->is_object()) {
      arguments = args->get_object();
    }
  }
  auto offer = state.accounts->topup_offer(arguments);
  if (!offer.ok()) {
    json::object result{
        {"isError", true},
        {"content", json::array{json::object{{"type", "text"}, {"text", offer.error().message}}}}};
    std::string body = mcp::jsonrpc_result(call.id, std::move(result));
    co_return co_await net::write_reply(client, http::status::ok, std::move(body),
                                        request.keep_alive(), state.options.client_write_timeout);
  }
  const ToolOffer topup = std::move(offer).value();  // outlives the call below
  PaidCall paid(state, client, request, post, topup);
  AccountBilling* billing = state.accounts.get();
  paid.answer_locally(PaidCall::LocalAnswer{
      [] {
        return json::object{
            {"content", json::array{json::object{{"type", "text"}, {"text", "top-up"}}}}};
      },
      [billing, account](json::object& result, const x402::PaymentRequirements& requirement,
                         const std::string& payment_id) {
        billing->credit_topup(account, result, requirement, payment_id);
      },
      account});
  const bool keep = co_await paid.run();
  state.metrics->count_request("tools/call", call.tool_name, paid.record().outcome);
  spdlog::info("call id={} tool={} price={} account={} outcome={}", json::serialize(call.id),
               call.tool_name, topup.usd, account, paid.record().outcome);
  co_return keep;
}

asio::awaitable<bool> run_tools_list(const ServeState& state, beast::tcp_stream& client,
                                     const HttpRequest& request, const mcp::McpPost& post) {
  const mcp::McpMessage& message = post.messages.front();
  const std::shared_ptr<const PriceBook> prices = state.current_prices();
  AccountBilling* billing = state.accounts.get();
  HeldCall held(state, client, request.keep_alive(), message.id);
  auto listed = co_await held.forward(
      make_upstream_request(request, state.upstream->endpoint(), request.body()),
      []() -> asio::awaitable<Status> { co_return ok_status(); });
  if (listed.kind == HeldResult::Kind::upstream_http)
    co_return held.client_ok();
  if (listed.kind != HeldResult::Kind::final_message)
    co_return co_await held.fail(mcp::rpc_code::upstream_unavailable, listed.why);
  json::value& final_message = listed.message;
  json::object* result = nullptr;
  if (json::value* r = final_message.get_object().if_contains("result"); r && r->is_object())
    result = &r->get_object();
  json::value* tools = result != nullptr ? result->if_contains("tools") : nullptr;
  if (tools != nullptr && tools->is_array()) {
    for (json::value& tool : tools->get_array()) {
      if (!tool.is_object())
        continue;
      json::object& t = tool.get_object();
      const json::value* name = t.if_contains("name");
      if (name == nullptr || !name->is_string())
        continue;
      const ToolOffer* offer = prices->find(name->get_string());
      if (offer == nullptr)
        continue;
      // Machine-readable price in the tool's _meta (research §5.5: no standard exists; this
      // follows the shape Apify uses), and a human-readable one agents see.
      json::value& meta = t["_meta"];
      if (!meta.is_object())
        meta = json::object();
      json::array accepts;
      for (const auto& requirement : offer->accepts)
        accepts.push_back(x402::to_json(requirement, 2));
      meta.get_object()["x402/price"] =
          json::object{{"price", describe_price(*offer)}, {"accepts", std::move(accepts)}};
      if (billing == nullptr || billing->config().describe_prices) {
        json::value& description = t["description"];
        std::string text = description.is_string() ? std::string(description.get_string()) : "";
        description = text + (text.empty() ? "" : " ") + "(price: " + describe_price(*offer) +
                      " per call, paid with x402 or prepaid credit)";
      }
    }
    if (billing != nullptr) {
      for (auto& definition : billing->billing_tool_definitions())
        tools->get_array().push_back(std::move(definition));
    }
  }
  co_return co_await held.deliver(json::serialize(final_message));
}

}  // namespace x402proxy::proxy
