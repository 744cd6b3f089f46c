#include "proxy/http_session.h"

#include <spdlog/spdlog.h>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "mcp/json_member_edit.h"
#include "mcp/jsonrpc_reply.h"
#include "mcp/mcp_request.h"
#include "net/http_reply.h"
#include "proxy/credit/account_call.h"
#include "proxy/operations/admin_routes.h"
#include "proxy/operations/call_log.h"
#include "proxy/paywall/paid_call.h"
#include "proxy/sse_clients/sse_client_endpoint.h"
#include "proxy/upstream/http_forwarding.h"
#include "proxy/upstream/response_relay.h"

namespace x402proxy::proxy {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using Request = net::HttpRequest;

namespace {

// Headers the proxy acts on (MCP's, the payment's, the credentials', the body's type), each
// allowed once.
constexpr std::string_view kSingleHeaders[] = {
    "Host",       "Content-Type",    "Content-Length",    "Mcp-Session-Id", "MCP-Protocol-Version",
    "Mcp-Method", "Mcp-Name",        "PAYMENT-SIGNATURE", "X-PAYMENT",      "Authorization",
    "X-API-Key",  "Content-Encoding"};

// {"error": message}: the body of the proxy's own HTTP refusals. (Built outside the coroutines:
// GCC 12 mishandles a braced initializer list in a co_await full-expression.)
std::string error_body(const std::string& message) {
  return json::serialize(json::object{{"error", message}});
}

// 405 with Allow (RFC 9110 §15.5.6) for a method the MCP endpoint does not take.
http::response<http::string_body> method_not_allowed(const Request& request) {
  http::response<http::string_body> refused{http::status::method_not_allowed, 11};
  refused.set(http::field::allow, "GET, POST, DELETE");
  refused.set(http::field::content_type, "application/json");
  refused.body() = json::serialize(
      json::object{{"error", "method " + std::string(request.method_string()) +
                                 " is not allowed on the MCP endpoint; use POST, GET or DELETE"}});
  refused.keep_alive(request.keep_alive() && request.body().empty());
  refused.prepare_payload();
  return refused;
}

// The first of kSingleHeaders sent more than once. (Outside the coroutines: GCC 12 cannot keep a
// range-for over an array in a coroutine frame.)
std::optional<std::string_view> repeated_header(const Request& request) {
  for (std::string_view name : kSingleHeaders) {
    if (request.count(name) > 1)
      return name;
  }
  return std::nullopt;
}

std::optional<std::string_view> header(const Request& request, std::string_view name) {
  auto it = request.find(name);
  if (it == request.end())
    return std::nullopt;
  return std::string_view(it->value());
}

// Forwards a request that is not a priced call and streams the answer back untouched.
asio::awaitable<bool> pass_through(const ServeState& state, beast::tcp_stream& client,
                                   const Request& request, std::string body) {
  auto upstream_request =
      make_upstream_request(request, state.upstream->endpoint(), std::move(body));
  auto acquired = co_await state.upstream->acquire();
  const bool keep_alive = request.keep_alive();
  if (!acquired.ok()) {
    co_return co_await net::write_reply(
        client, http::status::bad_gateway,
        mcp::jsonrpc_error(nullptr, mcp::rpc_code::upstream_unavailable, acquired.error().message),
        keep_alive, state.options.client_write_timeout);
  }
  const auto started = std::chrono::steady_clock::now();
  boost::system::error_code ec;
  (*acquired)->stream.expires_after(state.options.upstream_idle_timeout);
  co_await http::async_write((*acquired)->stream, upstream_request,
                             asio::redirect_error(asio::use_awaitable, ec));
  RelayOutcome outcome;
  if (!ec) {
    outcome = co_await relay_response(
        **acquired, client, keep_alive, request.method() == http::verb::head,
        RelayTimeouts{state.options.upstream_idle_timeout, state.options.client_write_timeout});
    ec = outcome.upstream_error;
  }
  state.metrics->upstream_latency.observe(std::chrono::steady_clock::now() - started);
  if (ec && !outcome.response_started) {
    const auto status =
        ec == beast::error::timeout ? http::status::gateway_timeout : http::status::bad_gateway;
    std::string body = mcp::jsonrpc_error(
        nullptr, mcp::rpc_code::upstream_unavailable,
        "upstream " + state.upstream->endpoint().url + " failed: " + ec.message());
    co_return co_await net::write_reply(client, status, std::move(body), keep_alive,
                                        state.options.client_write_timeout);
  }
  if (outcome.upstream_reusable)
    state.upstream->release(std::move(*acquired));
  co_return outcome.client_ok;
}

asio::awaitable<bool> bad_request(const ServeState& state, beast::tcp_stream& client,
                                  http::status status, const json::value& id, int code,
                                  const std::string& message) {
  co_return co_await net::write_reply(client, status, mcp::jsonrpc_error(id, code, message), true,
                                      state.options.client_write_timeout);
}

asio::awaitable<bool> handle_post(const ServeState& state, beast::tcp_stream& client,
                                  const Request& request, const Caller& caller) {
  // A compressed body cannot be inspected; accepting it would let a priced call through unread.
  if (auto encoding = header(request, "Content-Encoding");
      encoding && !beast::iequals(*encoding, "identity")) {
    co_return co_await bad_request(state, client, http::status::unsupported_media_type, nullptr,
                                   mcp::rpc_code::invalid_request,
                                   "Content-Encoding " + std::string(*encoding) +
                                       " is not accepted: send the JSON-RPC body uncompressed");
  }
  auto inspected = mcp::inspect_mcp_post(request.body());
  if (!inspected.ok()) {
    const bool parse = inspected.error().kind == mcp::McpPostFailure::parse;
    const int code = parse ? mcp::rpc_code::parse_error : mcp::rpc_code::invalid_request;
    std::string message =
        (parse ? "Parse error: " : "Invalid Request: ") + inspected.error().message;
    co_return co_await bad_request(state, client, http::status::bad_request, nullptr, code,
                                   message);
  }
  mcp::McpPost& post = *inspected;
  // This call keeps the price list it started with, even if a reload swaps it meanwhile.
  const std::shared_ptr<const PriceBook> prices = state.current_prices();
  const ToolOffer* priced = nullptr;
  for (const mcp::McpMessage& message : post.messages) {
    if (!message.is_tools_call)
      continue;
    if (const ToolOffer* offer = prices->find(message.tool_name)) {
      if (post.is_batch) {
        co_return co_await bad_request(
            state, client, http::status::bad_request, nullptr, mcp::rpc_code::invalid_request,
            "Invalid Request: tool \"" + message.tool_name +
                "\" is priced and cannot be called inside a JSON-RPC batch; send it on its own");
      }
      priced = offer;
    }
  }
  if (!post.is_batch) {
    mcp::McpRequestHeaders headers{header(request, "MCP-Protocol-Version"),
                                   header(request, "Mcp-Method"), header(request, "Mcp-Name")};
    if (auto checked = mcp::check_request_headers(post.messages.front(), headers); !checked.ok()) {
      co_return co_await bad_request(state, client, http::status::bad_request,
                                     post.messages.front().id, mcp::rpc_code::header_mismatch,
                                     checked.error().message);
    }
  }
  const mcp::McpMessage& first = post.messages.front();
  if (state.accounts && !post.is_batch) {
    if (first.is_tools_call && first.tool_name == state.accounts->config().topup_tool &&
        caller.kind == Caller::Kind::account) {
      co_return co_await run_topup_call(state, client, request, post, caller.account);
    }
    if (first.is_tools_call && state.accounts->is_billing_tool(first.tool_name))
      co_return co_await answer_billing_call(state, client, request, post, caller.account);
    if (first.kind == mcp::McpMessage::Kind::request && first.method == "tools/list")
      co_return co_await run_tools_list(state, client, request, post);
    // A known caller without an x402 payment is charged from prepaid credit.
    // `"x402/payment": null` is no payment, as extract_payment() reads it.
    const bool pays_with_x402 = (first.payment != nullptr && !first.payment->is_null()) ||
                                request.find("PAYMENT-SIGNATURE") != request.end() ||
                                request.find("X-PAYMENT") != request.end();
    if (priced != nullptr && caller.kind == Caller::Kind::account && !pays_with_x402) {
      co_return co_await run_account_call(state, client, request, post, *priced, caller.account);
    }
  }
  const std::string method = post.is_batch ? "(batch)" : metric_method_label(first);
  const auto started = std::chrono::steady_clock::now();
  if (priced == nullptr) {
    // Payment material never reaches the upstream: a payment on a free call (or on anything
    // but a priced call) is cut from the text; inside a batch it is refused, as priced calls
    // are.
    std::string body;
    bool carries_payment = false;
    for (const mcp::McpMessage& message : post.messages)
      carries_payment = carries_payment || message.payment != nullptr;
    if (!carries_payment) {
      body = request.body();
    } else if (post.is_batch) {
      co_return co_await bad_request(state, client, http::status::bad_request, nullptr,
                                     mcp::rpc_code::invalid_request,
                                     "Invalid Request: an x402 payment cannot be sent inside a "
                                     "JSON-RPC batch; send the paid call on its own");
    } else if (auto cut = mcp::without_payment_member(request.body())) {
      body = std::move(*cut);
    } else {
      co_return co_await bad_request(state, client, http::status::bad_request, first.id,
                                     mcp::rpc_code::invalid_request,
                                     "Invalid Request: the payment could not be separated from "
                                     "the request body");
    }
    const bool keep = co_await pass_through(state, client, request, std::move(body));
    state.metrics->count_request(method, "", "forwarded");
    if (first.is_tools_call && !post.is_batch) {
      CallRecord record{first.id, first.tool_name, "free", "", "forwarded"};
      log_call(record, std::chrono::steady_clock::now() - started);
    }
    co_return keep;
  }
  PaidCall call(state, client, request, post, *priced);
  const bool keep = co_await call.run();
  const CallRecord& record = call.record();
  state.metrics->count_request(method, record.tool, record.outcome);
  log_call(record, std::chrono::steady_clock::now() - started);
  co_return keep;
}

asio::awaitable<bool> handle_request(const ServeState& state, beast::tcp_stream& client,
                                     Request& request, bool admin_allowed, bool mcp_allowed,
                                     bool internal) {
  if (auto answered = co_await answer_admin_route(state, client, request, admin_allowed))
    co_return *answered;
  std::string_view target = request.target();
  std::string_view path = target.substr(0, target.find('?'));
  // The 2024-11-05 HTTP+SSE transport's two endpoints, beside the MCP endpoint (which wins
  // should an upstream's MCP path be one of theirs).
  if (mcp_allowed && !internal && state.sse_clients && path != state.upstream->endpoint().path &&
      state.sse_clients->handles(path)) {
    co_return co_await state.sse_clients->answer(client, request);
  }
  if (!mcp_allowed || path != state.upstream->endpoint().path) {
    co_return co_await net::write_reply(
        client, http::status::not_found,
        "{\"error\":\"not found: the MCP endpoint is " + state.upstream->endpoint().path + "\"}",
        request.keep_alive(), state.options.client_write_timeout);
  }
  // The MCP endpoint takes POST (inspected), GET and DELETE (MCP basic/transports, Streamable
  // HTTP); anything else, including method tokens in another case ("post"), is answered here
  // and never forwarded.
  const http::verb method = request.method();
  if (method != http::verb::post && method != http::verb::get && method != http::verb::delete_) {
    auto refused = method_not_allowed(request);
    co_return co_await net::write_response(client, std::move(refused),
                                           state.options.client_write_timeout);
  }
  // A header the proxy reads to decide, sent twice, could be read one way here and the other way
  // upstream: refused rather than guessed.
  if (auto repeated = repeated_header(request)) {
    std::string body = error_body("header " + std::string(*repeated) + " appears more than once");
    co_return co_await net::write_reply(client, http::status::bad_request, std::move(body), false,
                                        state.options.client_write_timeout);
  }
  Caller caller;
  if (state.accounts) {
    caller = co_await state.accounts->identify(request);
    if (caller.kind == Caller::Kind::refused) {
      // A credential meant for the proxy that does not check out is never anonymous access.
      std::string body =
          json::serialize(json::object{{"error", "unauthorized: " + caller.refusal}});
      co_return co_await net::write_reply(client, http::status::unauthorized, std::move(body),
                                          request.keep_alive(), state.options.client_write_timeout);
    }
    // The proxy's credentials stay with the proxy.
    request.erase("X-API-Key");
    if (caller.strip_authorization)
      request.erase(http::field::authorization);
  }
  if (request.method() == http::verb::post)
    co_return co_await handle_post(state, client, request, caller);
  // GET opens the server's event stream, DELETE ends a session (MCP basic/transports); neither
  // has a body, and a body on them would reach the upstream uninspected.
  if (!request.body().empty()) {
    std::string body =
        error_body("a " + std::string(request.method_string()) +
                   " request to the MCP endpoint carries no body; send JSON-RPC with POST");
    co_return co_await net::write_reply(client, http::status::bad_request, std::move(body), false,
                                        state.options.client_write_timeout);
  }
  co_return co_await pass_through(state, client, request, std::string());
}

}  // namespace

namespace {

// One request read by the server loop; the connection ends when this says so.
// (References: the state is held by the handler, the peer by the connection, both for longer
// than the request; no copy or allocation per request.)
asio::awaitable<bool> serve_request(const ServeState& state, beast::tcp_stream& client,
                                    net::HttpRequest& request, const std::string& peer,
                                    bool admin_allowed, bool mcp_allowed, bool internal) {
  if (!internal && state.rate_limiter && !state.rate_limiter->allow(peer)) {
    state.metrics->count_refused_connection("rate_limit");
    co_return co_await net::write_reply(
        client, http::status::too_many_requests,
        mcp::jsonrpc_error(nullptr, mcp::rpc_code::internal_error,
                           "rate limit: too many requests from " + peer + "; slow down"),
        request.keep_alive(), state.options.client_write_timeout);
  }
  // Counted for as long as the request is answered, however its coroutine ends.
  struct Counted {
    std::atomic<std::int64_t>& gauge;
    explicit Counted(std::atomic<std::int64_t>& g) : gauge(g) { ++gauge; }
    ~Counted() { --gauge; }
  };
  const std::string_view target = request.target();
  const std::string_view path = target.substr(0, target.find('?'));
  const bool event_stream = request.method() == http::verb::get &&
                            (path == state.upstream->endpoint().path ||
                             (!internal && state.sse_clients && state.sse_clients->handles(path)));
  Counted counted(event_stream ? state.metrics->event_streams_open
                               : state.metrics->requests_in_flight);
  const bool keep_alive =
      co_await handle_request(state, client, request, admin_allowed, mcp_allowed, internal);
  // Draining (SIGTERM): the answer went out; this connection takes no further request.
  co_return keep_alive && !state.draining();
}

}  // namespace

net::HttpServerOptions serve_server_options(const ServeOptions& options) {
  net::HttpServerOptions server;
  server.body_limit = options.body_limit;
  server.header_limit = options.header_limit;
  server.keep_alive_timeout = options.keep_alive_timeout;
  server.read_timeout = options.request_read_timeout;
  server.write_timeout = options.client_write_timeout;
  server.name = "serve";
  return server;
}

net::HttpServerHandlers serve_handlers(std::shared_ptr<const ServeState> state, bool admin_allowed,
                                       bool mcp_allowed, bool internal) {
  net::HttpServerHandlers handlers;
  handlers.on_request = [state, admin_allowed, mcp_allowed, internal](beast::tcp_stream& client,
                                                                      net::HttpRequest& request,
                                                                      const std::string& peer) {
    return serve_request(*state, client, request, peer, admin_allowed, mcp_allowed, internal);
  };
  handlers.read_failure_body = [state](net::ReadFailure failure,
                                       std::string_view detail) -> std::optional<std::string> {
    const ServeOptions& options = state->options;
    switch (failure) {
      case net::ReadFailure::header_too_large:
        return mcp::jsonrpc_error(nullptr, mcp::rpc_code::invalid_request,
                                  "request headers exceed the limit of " +
                                      std::to_string(options.header_limit) + " bytes");
      case net::ReadFailure::body_too_large:
        return mcp::jsonrpc_error(
            nullptr, mcp::rpc_code::invalid_request,
            "request body exceeds the limit of " + std::to_string(options.body_limit) + " bytes");
      case net::ReadFailure::too_slow:
        return mcp::jsonrpc_error(nullptr, mcp::rpc_code::invalid_request,
                                  "request not received within the read timeout");
      case net::ReadFailure::malformed:
        return json::serialize(
            json::object{{"error", "malformed HTTP request: " + std::string(detail)}});
      case net::ReadFailure::bad_framing:
        return json::serialize(json::object{
            {"error", "ambiguous message framing: " + std::string(detail) +
                          "; send either a Content-Length or Transfer-Encoding: chunked"}});
      case net::ReadFailure::expectation_failed:
        return json::serialize(
            json::object{{"error", "expectation failed: " + std::string(detail)}});
    }
    return std::nullopt;
  };
  // Open connections are counted over the MCP and the admin port together (the internal
  // listener's are the SSE clients' own connections, already counted).
  if (internal)
    return handlers;
  handlers.on_open = [state]() -> std::optional<std::string> {
    ++state->metrics->open_connections;
    if (static_cast<std::size_t>(state->metrics->open_connections.load()) <=
        state->options.max_connections)
      return std::nullopt;
    state->metrics->count_refused_connection("max_connections");
    return mcp::jsonrpc_error(nullptr, mcp::rpc_code::internal_error,
                              "too many connections: the proxy's limit of " +
                                  std::to_string(state->options.max_connections) +
                                  " open connections is reached; retry shortly");
  };
  handlers.on_close = [state] { --state->metrics->open_connections; };
  return handlers;
}

}  // namespace x402proxy::proxy
