#include "pay/remote_session.h"

#include <spdlog/spdlog.h>
#include <boost/beast/http/field.hpp>
#include <boost/json/parse.hpp>

#include "net/sse_splitter.h"
#include "pay/sse_remote.h"
#include "x402/base64.h"

namespace x402proxy::pay {
namespace http = boost::beast::http;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t kMaxMessageBytes = 16 * 1024 * 1024;
constexpr std::size_t kMaxErrorBody = 64 * 1024;

// Mcp-Name carries the tool name; one that is not plain visible ASCII goes in the base64 sentinel
// form (MCP 2026-07-28, Streamable HTTP "Request Metadata").
std::string header_value(std::string_view text) {
  bool plain = !text.empty() && text.front() != ' ' && text.back() != ' ';
  for (unsigned char c : text)
    plain = plain && c >= 0x20 && c < 0x7f;
  if (plain)
    return std::string(text);
  return "=?base64?" + x402::base64_encode(text) + "?=";
}

json::value parse_or_null(std::string_view text) {
  boost::system::error_code ec;
  json::value value = json::parse(text, ec);
  return ec ? json::value() : value;
}

std::string header_text(const http::response_header<>& head, std::string_view name) {
  auto it = head.find(name);
  return it == head.end() ? std::string() : std::string(it->value());
}

// The "id:" field of an SSE event (for Last-Event-ID when the server stream is re-opened).
std::optional<std::string> sse_event_id(std::string_view raw) {
  std::optional<std::string> id;
  while (!raw.empty()) {
    const std::size_t end = raw.find('\n');
    std::string_view line = raw.substr(0, end);
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    if (line.starts_with("id:")) {
      line.remove_prefix(3);
      if (line.starts_with(' '))
        line.remove_prefix(1);
      id = std::string(line);
    }
    raw = end == std::string_view::npos ? std::string_view() : raw.substr(end + 1);
  }
  return id;
}

}  // namespace

Result<std::shared_ptr<RemoteSession>> RemoteSession::create(boost::asio::any_io_executor executor,
                                                             const std::string& url,
                                                             bool tls_verify, bool sse,
                                                             bool detect) {
  net::HttpClientOptions options;
  options.tls_verify = tls_verify;
  auto http = net::HttpClient::create(executor, url, options);
  if (!http.ok())
    return make_error("remote.url", http.error().message);
  std::shared_ptr<RemoteSession> session(new RemoteSession(executor, std::move(http).value(), url));
  session->tls_verify_ = tls_verify;
  session->detect_ = detect && !sse;
  if (sse) {
    auto remote = SseRemote::create(std::move(executor), url, tls_verify);
    if (!remote.ok())
      return remote.error();
    session->sse_ = std::move(remote).value();
  }
  return session;
}

std::vector<std::pair<std::string, std::string>> RemoteSession::common_headers() const {
  std::vector<std::pair<std::string, std::string>> headers{
      {"Accept", "application/json, text/event-stream"}};
  if (!session_id_.empty())
    headers.emplace_back("Mcp-Session-Id", session_id_);
  if (!protocol_version_.empty())
    headers.emplace_back("MCP-Protocol-Version", protocol_version_);
  return headers;
}

boost::asio::awaitable<Result<RemoteAnswer>> RemoteSession::post(
    std::string body, std::string_view method, std::string_view tool,
    std::vector<std::pair<std::string, std::string>> extra_headers, Clock::time_point deadline,
    const RemoteMessageSink& sink, bool& sent) {
  if (sse_)
    co_return co_await sse_->post(std::move(body), deadline, sink, sent);
  auto headers = common_headers();
  if (modern() && !method.empty()) {
    headers.emplace_back("Mcp-Method", std::string(method));
    if (!tool.empty())
      headers.emplace_back("Mcp-Name", header_value(tool));
  }
  for (auto& header : extra_headers)
    headers.push_back(std::move(header));
  // An SSE answer may stay quiet while a long tool runs; the call's deadline bounds it.
  const auto idle = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  if (!detect_ || method != "initialize") {
    co_return co_await exchange(http::verb::post, std::move(body), std::move(headers), deadline,
                                idle, sink, sent);
  }
  std::string initialize = body;  // kept to send again over the old transport
  // What this first answer carries is held until it is known to be the server's: a refusal's
  // body (an old server's 404 or 405 page) must not reach the client as a message.
  std::vector<std::pair<std::string, json::value>> held;
  RemoteMessageSink holding = [&held](std::string text, json::value parsed) {
    held.emplace_back(std::move(text), std::move(parsed));
  };
  auto answer = co_await exchange(http::verb::post, std::move(body), std::move(headers), deadline,
                                  idle, holding, sent);
  detect_ = false;
  const bool refused =
      answer.ok() && answer->status >= 400 && answer->status < 500 && answer->status != 402;
  if (!refused) {
    for (auto& message : held)
      sink(std::move(message.first), std::move(message.second));
    co_return answer;
  }
  // MCP 2025-03-26 basic/transports, "Backwards Compatibility": a 4xx to the initialize POST
  // means a server of the 2024-11-05 HTTP+SSE transport; GET the same URL for its stream.
  auto remote = SseRemote::create(executor_, url_, tls_verify_);
  if (!remote.ok())
    co_return answer;
  spdlog::info(
      "the seller refused a Streamable HTTP initialize (HTTP {}): trying the HTTP+SSE "
      "transport of MCP 2024-11-05 at {}",
      answer->status, url_);
  sse_ = std::move(remote).value();
  auto over_sse = co_await sse_->post(std::move(initialize), deadline, sink, sent);
  if (over_sse.ok())
    co_return over_sse;
  // Not an old server either (a 401 or 400 of a Streamable HTTP server, say): its own refusal is
  // the answer, not the failed guess.
  spdlog::info("the seller is no HTTP+SSE server either ({}); its HTTP {} stands",
               over_sse.error().message, answer->status);
  sse_.reset();
  sent = true;  // the Streamable HTTP POST did reach the server
  for (auto& message : held)
    sink(std::move(message.first), std::move(message.second));
  co_return answer;
}

boost::asio::awaitable<Result<RemoteAnswer>> RemoteSession::listen(const RemoteMessageSink& sink) {
  if (sse_)
    co_return co_await sse_->listen(sink);
  auto headers = common_headers();
  headers[0].second = "text/event-stream";
  if (!last_event_id_.empty())
    headers.emplace_back("Last-Event-ID", last_event_id_);
  bool sent = false;
  // A server stream lives as long as the session; only silence ends it (then it is re-opened).
  co_return co_await exchange(http::verb::get, {}, std::move(headers),
                              Clock::now() + std::chrono::hours(24 * 365), std::chrono::minutes(10),
                              sink, sent);
}

boost::asio::awaitable<void> RemoteSession::close(std::chrono::milliseconds budget) {
  // HTTP+SSE: the session ends with its stream, which ends with pay.
  if (session_id_.empty() || sse_)
    co_return;
  bool sent = false;
  RemoteMessageSink ignore = [](std::string, json::value) {};
  co_await exchange(http::verb::delete_, {}, common_headers(), Clock::now() + budget, budget,
                    ignore, sent);
}

boost::asio::awaitable<Result<RemoteAnswer>> RemoteSession::exchange(
    http::verb method, std::string body, std::vector<std::pair<std::string, std::string>> headers,
    Clock::time_point deadline, std::chrono::milliseconds idle, const RemoteMessageSink& sink,
    bool& sent) {
  RemoteAnswer answer;
  bool is_sse = false;
  bool is_json = false;
  net::SseSplitter splitter(kMaxMessageBytes);
  std::string json_body;
  net::HttpStreamHandler handler;
  handler.on_head = [&](const http::response_header<>& head) -> Status {
    answer.status = head.result_int();
    answer.content_type = header_text(head, "Content-Type");
    answer.payment_required = header_text(head, "PAYMENT-REQUIRED");
    answer.payment_response = header_text(head, "PAYMENT-RESPONSE");
    if (answer.payment_response.empty())
      answer.payment_response = header_text(head, "X-PAYMENT-RESPONSE");
    if (auto id = header_text(head, "Mcp-Session-Id"); !id.empty())
      session_id_ = id;
    const bool success = answer.status / 100 == 2;
    is_sse = success && answer.content_type.starts_with("text/event-stream");
    // A JSON-RPC error answer (an HTTP 400 with a JSON-RPC error object, say) is a message too.
    is_json = answer.content_type.starts_with("application/json") && answer.status != 402;
    return ok_status();
  };
  handler.on_body = [&](std::string_view piece) -> Status {
    if (is_sse) {
      splitter.feed(piece);
      while (auto event = splitter.next()) {
        if (event->data.empty())
          continue;  // a comment or keep-alive
        if (auto id = sse_event_id(event->raw))
          last_event_id_ = *id;
        ++answer.messages;
        json::value parsed = parse_or_null(event->data);
        sink(std::move(event->data), std::move(parsed));
      }
      if (splitter.overflow()) {
        return make_error("remote.too_large", "an event from " + url_ + " is larger than 16 MiB");
      }
      return ok_status();
    }
    std::string& target = is_json ? json_body : answer.body;
    const std::size_t limit = is_json ? kMaxMessageBytes : kMaxErrorBody;
    if (target.size() + piece.size() > limit) {
      if (is_json)
        return make_error("remote.too_large", "an answer from " + url_ + " is larger than 16 MiB");
      target.append(piece.substr(0, limit - target.size()));
      return ok_status();
    }
    target.append(piece);
    return ok_status();
  };
  auto streamed = co_await http_->stream(method, "", std::move(body), std::move(headers), deadline,
                                         idle, handler, sent);
  if (!streamed.ok()) {
    const net::HttpError& e = streamed.error();
    // The handler above stops a stream only for an answer over its limit.
    if (e.kind == net::HttpFailure::stopped)
      co_return make_error("remote.too_large", e.message);
    const std::string what = " (" + url_ + "): " + e.message;
    if (!sent)
      co_return make_error("remote.unreachable", "the paid MCP server is unreachable" + what);
    if (e.kind == net::HttpFailure::timeout)
      co_return make_error("remote.timeout", "the paid MCP server did not answer in time" + what);
    co_return make_error("remote.failed", "the paid MCP server's answer broke off" + what);
  }
  if (is_json && !json_body.empty()) {
    json::value parsed = parse_or_null(json_body);
    if (parsed.is_null()) {
      answer.body = json_body.substr(0, kMaxErrorBody);
    } else {
      ++answer.messages;
      sink(std::move(json_body), std::move(parsed));
    }
  }
  co_return answer;
}

}  // namespace x402proxy::pay
