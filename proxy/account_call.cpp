#include "proxy/account_call.h"

#include <spdlog/spdlog.h>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/serialize.hpp>

#include "proxy/client_reply.h"
#include "proxy/http_forwarding.h"
#include "proxy/jsonrpc_reply.h"
#include "proxy/paid_call.h"
#include "proxy/paid_response_stream.h"
#include "x402/amount.h"
#include "x402/codec.h"
#include "x402/networks.h"
#include "x402/price.h"

namespace x402proxy::proxy {
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;

namespace {

struct ForwardOutcome {
  bool keep_alive = false;
  bool concluded = false;
};

// Forwards `request` and hands the upstream's final response for `id` to `conclude`, streaming
// anything before it. Without a final response (the upstream unreachable, refusing, or cut off)
// `concluded` stays false.
net::awaitable<ForwardOutcome> forward_and_conclude(ServeState& state, beast::tcp_stream& client,
                                                    const HttpRequest& request,
                                                    const json::value& id,
                                                    const ConcludeCall& conclude) {
  ForwardOutcome outcome;
  const bool keep_alive = request.keep_alive();
  auto upstream_request =
      make_upstream_request(request, state.upstream->endpoint(), request.body(), true);
  auto acquired = co_await state.upstream->acquire();
  if (!acquired.ok()) {
    std::string body = jsonrpc_error(id, rpc_code::upstream_unavailable,
                                     acquired.error().message + "; nothing was charged");
    outcome.keep_alive = co_await write_reply(client, http::status::ok, std::move(body), keep_alive,
                                              state.options.client_write_timeout);
    co_return outcome;
  }
  boost::system::error_code ec;
  (*acquired)->stream.expires_after(state.options.upstream_idle_timeout);
  co_await http::async_write((*acquired)->stream, upstream_request,
                             net::redirect_error(net::use_awaitable, ec));
  PaidResponseStream stream(state, client, **acquired, keep_alive);
  if (!ec)
    ec = co_await stream.read_header();
  if (ec) {
    std::string body = jsonrpc_error(id, rpc_code::upstream_unavailable,
                                     "upstream " + state.upstream->endpoint().url +
                                         " failed: " + ec.message() + "; nothing was charged");
    outcome.keep_alive = co_await write_reply(client, http::status::ok, std::move(body), keep_alive,
                                              state.options.client_write_timeout);
    co_return outcome;
  }
  if (stream.status() / 100 != 2) {
    outcome.keep_alive = co_await stream.pass_through_unpaid();
    co_return outcome;
  }
  PaidFinish finished;
  if (stream.is_event_stream()) {
    finished = co_await stream.finish_event_stream(id, conclude);
  } else {
    finished = co_await stream.finish_json(id, conclude);
  }
  if (!finished.concluded && !finished.response_started) {
    std::string body =
        jsonrpc_error(id, rpc_code::upstream_unavailable, finished.failure + "; nothing charged");
    outcome.keep_alive = co_await write_reply(client, http::status::ok, std::move(body), keep_alive,
                                              state.options.client_write_timeout);
    co_return outcome;
  }
  if (finished.upstream_reusable)
    state.upstream->release(std::move(*acquired));
  outcome.keep_alive = finished.client_ok;
  outcome.concluded = finished.concluded;
  co_return outcome;
}

// The tool's price in the accounts' asset: the first offer in that asset.
std::optional<x402::Amount> price_in(const ToolOffer& offer, const std::string& asset_symbol) {
  for (const auto& requirement : offer.accepts) {
    const x402::Asset* asset = x402::find_asset(requirement.network, requirement.asset);
    if (asset == nullptr || asset->symbol != asset_symbol)
      continue;
    if (auto amount = x402::parse_amount(requirement.amount); amount.ok())
      return *amount;
  }
  return std::nullopt;
}

std::string describe_price(const ToolOffer& offer) {
  if (!offer.usd.empty())
    return offer.usd;
  return offer.accepts.empty() ? std::string("?") : offer.accepts.front().amount + " atomic units";
}

}  // namespace

net::awaitable<bool> run_account_call(ServeState& state, beast::tcp_stream& client,
                                      const HttpRequest& request, McpPost& post,
                                      const ToolOffer& offer, const std::string& account) {
  AccountBilling& billing = *state.accounts;
  const McpMessage& call = post.messages.front();
  const std::string& asset = billing.config().asset;
  const auto price = price_in(offer, asset);
  const std::string request_id = json::serialize(call.id);
  const bool keep_alive = request.keep_alive();
  Result<std::int64_t> reservation = make_error("accounts.price", "no price in " + asset);
  if (price)
    reservation = billing.store().reserve(account, asset, *price, call.tool_name, request_id);
  if (!reservation.ok()) {
    // Not enough credit (or no price in the credit asset): offer per-call x402 payment instead.
    x402::PaymentRequired required;
    required.error = reservation.error().reason == "insufficient_credit"
                         ? "insufficient credit: " + reservation.error().message
                         : reservation.error().message;
    required.resource.url = "mcp://tool/" + call.tool_name;
    if (!offer.description.empty())
      required.resource.description = offer.description;
    required.accepts = offer.accepts;
    BindingOptions binding{call.advertises_payment_extension, false};
    std::string body = jsonrpc_result(call.id, payment_required_result(required, binding));
    state.metrics->count_request("tools/call", call.tool_name, "insufficient_credit");
    co_return co_await write_reply(client, http::status::ok, std::move(body), keep_alive,
                                   state.options.client_write_timeout);
  }
  bool settled = false;
  ConcludeCall conclude = [&](json::value final_message) -> net::awaitable<std::string> {
    const bool tool_ran =
        final_message.is_object() && final_message.get_object().contains("result");
    // As with x402: the price covers the attempt when the tool ran (also an isError result); a
    // JSON-RPC error means it did not run, and nothing is charged.
    if (tool_ran) {
      if (auto s = billing.store().commit(*reservation, "completed"); !s.ok())
        spdlog::error("accounts: commit of reservation {} failed: {}", *reservation,
                      s.error().message);
    } else {
      (void)billing.store().release(*reservation, "the upstream answered with a JSON-RPC error");
    }
    settled = true;
    co_return json::serialize(final_message);
  };
  auto outcome = co_await forward_and_conclude(state, client, request, call.id, conclude);
  if (!settled)
    (void)billing.store().release(*reservation, "the upstream never answered this call");
  state.metrics->count_request("tools/call", call.tool_name,
                               outcome.concluded ? "paid_from_credit" : "upstream_failed");
  spdlog::info("call id={} tool={} price={} account={} outcome={}", request_id, call.tool_name,
               describe_price(offer), account,
               outcome.concluded ? "paid_from_credit" : "upstream_failed");
  co_return outcome.keep_alive;
}

net::awaitable<bool> answer_billing_call(ServeState& state, beast::tcp_stream& client,
                                         const HttpRequest& request, const McpPost& post,
                                         const std::string& account) {
  const McpMessage& call = post.messages.front();
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
  std::string body = jsonrpc_result(call.id, std::move(result));
  co_return co_await write_reply(client, http::status::ok, std::move(body), request.keep_alive(),
                                 state.options.client_write_timeout);
}

net::awaitable<bool> run_topup_call(ServeState& state, beast::tcp_stream& client,
                                    const HttpRequest& request, McpPost& post,
                                    const std::string& account) {
  const McpMessage& call = post.messages.front();
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
    std::string body = jsonrpc_result(call.id, std::move(result));
    co_return co_await write_reply(client, http::status::ok, std::move(body), request.keep_alive(),
                                   state.options.client_write_timeout);
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
      }});
  const bool keep = co_await paid.run();
  state.metrics->count_request("tools/call", call.tool_name, paid.record().outcome);
  spdlog::info("call id={} tool={} price={} account={} outcome={}", json::serialize(call.id),
               call.tool_name, topup.usd, account, paid.record().outcome);
  co_return keep;
}

net::awaitable<bool> run_tools_list(ServeState& state, beast::tcp_stream& client,
                                    const HttpRequest& request, const McpPost& post) {
  const McpMessage& message = post.messages.front();
  const std::shared_ptr<const PriceBook> prices = state.current_prices();
  AccountBilling* billing = state.accounts.get();
  ConcludeCall conclude = [&](json::value final_message) -> net::awaitable<std::string> {
    json::object* result = nullptr;
    if (final_message.is_object()) {
      if (json::value* r = final_message.get_object().if_contains("result"); r && r->is_object())
        result = &r->get_object();
    }
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
    co_return json::serialize(final_message);
  };
  auto outcome = co_await forward_and_conclude(state, client, request, message.id, conclude);
  co_return outcome.keep_alive;
}

}  // namespace x402proxy::proxy
