#include "proxy/sse_clients/message_relay.h"

#include <spdlog/spdlog.h>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "mcp/jsonrpc_reply.h"
#include "net/spawn.h"

namespace x402proxy::proxy {
namespace asio = boost::asio;
namespace http = boost::beast::http;
namespace json = boost::json;
using std::chrono::steady_clock;

namespace {

// The client's base URL is the MCP endpoint itself; the request path adds nothing. (Named
// strings, not literals: GCC 12 mishandles temporaries made in a co_await full-expression.)
const std::string kRootPath;
const std::string kNoBody;

constexpr std::size_t kMaxRefusalBytes = 64 * 1024;
constexpr std::chrono::seconds kListenRetry{1};
constexpr auto kListenIdle = std::chrono::seconds(30);
constexpr auto kListenMaxRetry = std::chrono::seconds(60);

// A request id kept as its JSON text, as a value again (null for none).
json::value id_value(const std::string& id_text) {
  boost::system::error_code ec;
  json::value id = json::parse(id_text, ec);
  return ec ? json::value(nullptr) : id;
}

bool is_success(unsigned status) {
  return status >= 200 && status < 300;
}

std::string_view trimmed(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' '))
    text.remove_suffix(1);
  while (!text.empty() && (text.front() == '\n' || text.front() == '\r' || text.front() == ' '))
    text.remove_prefix(1);
  return text;
}

}  // namespace

void deliver_to_session(SseClientSession& session, std::string_view data,
                        const std::string& request_id, bool& answered) {
  data = trimmed(data);
  if (data.empty())
    return;  // an SSE event without data (a priming event): nothing to relay
  const bool wants_version = session.protocol_version().empty();
  if (wants_version || (!request_id.empty() && !answered)) {
    boost::system::error_code ec;
    json::value parsed = json::parse(data, ec);
    if (!ec && parsed.is_object()) {
      const json::object& message = parsed.get_object();
      const json::value* id = message.if_contains("id");
      if (!request_id.empty() && id != nullptr && !message.contains("method") &&
          json::serialize(*id) == request_id)
        answered = true;
      const json::value* result = message.if_contains("result");
      if (wants_version && result != nullptr && result->is_object()) {
        const json::value* version = result->get_object().if_contains("protocolVersion");
        if (version != nullptr && version->is_string())
          session.set_protocol_version(std::string(version->get_string()));
      }
    }
  }
  session.push(std::string(data));
}

MessageRelay::MessageRelay(asio::any_io_executor executor, std::shared_ptr<net::HttpClient> mcp,
                           std::shared_ptr<SseClientSession> session, RelayLimits limits,
                           std::string request_id)
    : executor_(executor),
      mcp_(std::move(mcp)),
      session_(std::move(session)),
      limits_(limits),
      request_id_(std::move(request_id)),
      wake_(executor),
      splitter_(limits.max_message_bytes) {}

void MessageRelay::start(std::string body, HeaderList headers) {
  net::spawn_logged(
      executor_,
      [self = shared_from_this(), body = std::move(body), headers = std::move(headers)]() mutable
      -> asio::awaitable<void> { co_await self->run(std::move(body), std::move(headers)); },
      "SSE client message relay");
}

asio::awaitable<RelayHead> MessageRelay::head() {
  const auto deadline = steady_clock::now() + limits_.head_wait;
  while (!head_known_ && steady_clock::now() < deadline) {
    wake_.expires_at(deadline);
    boost::system::error_code ec;
    co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  RelayHead head;
  if (!head_known_) {
    acknowledged_ = true;
    head.status = 202;
    co_return head;
  }
  head.status = status_;
  if (!is_success(status_))
    head.body = body_;
  co_return head;
}

void MessageRelay::deliver(std::string_view data) {
  deliver_to_session(*session_, data, request_id_, answered_);
}

asio::awaitable<void> MessageRelay::run(std::string body, HeaderList headers) {
  net::HttpStreamHandler handler;
  handler.on_head = [this](const http::response_header<>& head) -> Status {
    status_ = head.result_int();
    auto type = head[http::field::content_type];
    event_stream_ = type.substr(0, 17) == "text/event-stream";
    if (auto id = head["Mcp-Session-Id"]; !id.empty() && session_->mcp_session().empty())
      session_->set_mcp_session(std::string(id));
    if (is_success(status_)) {
      head_known_ = true;
      wake_.cancel();
    }
    return ok_status();
  };
  handler.on_body = [this](std::string_view piece) -> Status {
    if (!is_success(status_) || !event_stream_) {
      const std::size_t limit = is_success(status_) ? limits_.max_message_bytes : kMaxRefusalBytes;
      if (body_.size() + piece.size() > limit)
        return make_error("sse_client.too_large",
                          "the answer is over " + std::to_string(limit) + " bytes");
      body_.append(piece);
      return ok_status();
    }
    splitter_.feed(piece);
    while (auto event = splitter_.next())
      deliver(event->data);
    if (splitter_.overflow())
      return make_error("sse_client.too_large", "an event of the answer is too large");
    return ok_status();
  };
  bool sent = false;
  const auto deadline = steady_clock::now() + std::chrono::hours(24);
  auto streamed =
      co_await mcp_->stream(http::verb::post, kRootPath, std::move(body), std::move(headers),
                            deadline, limits_.answer_idle, handler, sent);
  if (is_success(status_) && !event_stream_)
    deliver(body_);
  if (!streamed.ok()) {
    spdlog::warn("SSE client session {}: serve's MCP endpoint: {}", session_->id(),
                 streamed.error().message);
    if (status_ == 0) {
      status_ = 502;
      body_ = mcp::jsonrpc_error(
          id_value(request_id_), mcp::rpc_code::internal_error,
          "serve's MCP endpoint could not be reached: " + streamed.error().message);
    }
  }
  if (acknowledged_ && !is_success(status_) && !body_.empty()) {
    // The client was told 202 already: the refusal reaches it on its stream instead.
    deliver(body_);
  }
  if (is_success(status_) && !request_id_.empty() && !answered_) {
    // The answer ended without the response (the upstream left mid-stream): the client hears
    // that, rather than waiting for its timeout.
    std::string error = mcp::jsonrpc_error(id_value(request_id_), mcp::rpc_code::internal_error,
                                           "the answer to this request ended before its response");
    session_->push(std::move(error));
  }
  head_known_ = true;
  wake_.cancel();
}

asio::awaitable<void> listen_to_server(std::shared_ptr<net::HttpClient> mcp,
                                       std::shared_ptr<SseClientSession> session,
                                       RelayLimits limits) {
  asio::steady_timer pause(co_await asio::this_coro::executor);
  // A server whose listening stream ends at once (one that sends its notifications and closes)
  // is asked again ever more slowly, not every second.
  auto retry = kListenRetry;
  while (!session->closed()) {
    const auto opened = steady_clock::now();
    unsigned status = 0;
    net::SseSplitter splitter(limits.max_message_bytes);
    bool answered = false;
    const std::string no_request;
    net::HttpStreamHandler handler;
    handler.on_head = [&](const http::response_header<>& head) -> Status {
      status = head.result_int();
      if (status != 200)
        return make_error("sse_client.no_stream", "no listening stream");
      return ok_status();
    };
    handler.on_body = [&](std::string_view piece) -> Status {
      splitter.feed(piece);
      while (auto event = splitter.next())
        deliver_to_session(*session, event->data, no_request, answered);
      if (session->closed())
        return make_error("sse_client.closed", "the client's stream closed");
      if (splitter.overflow())
        return make_error("sse_client.too_large", "an event is too large");
      return ok_status();
    };
    HeaderList headers{{"Accept", "text/event-stream"}};
    if (auto id = session->mcp_session(); !id.empty())
      headers.emplace_back("Mcp-Session-Id", id);
    if (auto version = session->protocol_version(); !version.empty())
      headers.emplace_back("MCP-Protocol-Version", version);
    bool sent = false;
    const auto deadline = steady_clock::now() + std::chrono::hours(24);
    (void)co_await mcp->stream(http::verb::get, kRootPath, kNoBody, std::move(headers), deadline,
                               kListenIdle, handler, sent);
    if (status != 0 && status != 200) {
      // MCP basic/transports (Streamable HTTP): a server may not offer a GET stream (405).
      spdlog::debug("SSE client session {}: no listening stream (HTTP {})", session->id(), status);
      co_return;
    }
    const bool lasted = steady_clock::now() - opened >= kListenIdle / 3;
    retry = lasted ? std::chrono::seconds(kListenRetry)
                   : std::min<std::chrono::seconds>(retry * 2, kListenMaxRetry);
    pause.expires_after(retry);
    boost::system::error_code ec;
    co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

asio::awaitable<void> end_mcp_session(std::shared_ptr<net::HttpClient> mcp, std::string mcp_session,
                                      std::string protocol_version) {
  HeaderList headers{{"Mcp-Session-Id", mcp_session}};
  if (!protocol_version.empty())
    headers.emplace_back("MCP-Protocol-Version", protocol_version);
  auto ended = co_await mcp->request(http::verb::delete_, kRootPath, kNoBody, std::move(headers),
                                     std::chrono::seconds(5), false);
  if (!ended.ok())
    spdlog::debug("ending MCP session {}: {}", mcp_session, ended.error().message);
}

}  // namespace x402proxy::proxy
