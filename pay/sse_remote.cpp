#include "pay/sse_remote.h"

#include <algorithm>

#include <spdlog/spdlog.h>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "net/spawn.h"
#include "net/sse_splitter.h"

namespace x402proxy::pay {
namespace asio = boost::asio;
namespace http = boost::beast::http;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t kMaxEventBytes = 16 * 1024 * 1024;

std::string event_type(std::string_view raw) {
  while (!raw.empty()) {
    const std::size_t end = raw.find('\n');
    std::string_view line = raw.substr(0, end);
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    if (line.starts_with("event:")) {
      line.remove_prefix(6);
      if (line.starts_with(' '))
        line.remove_prefix(1);
      return std::string(line);
    }
    raw = end == std::string_view::npos ? std::string_view() : raw.substr(end + 1);
  }
  return "message";  // SSE: an event without an event field is a message
}

std::string target_of(const net::HttpUrl& url) {
  std::string target = url.path.empty() ? "/" : url.path;
  return url.query.empty() ? target : target + "?" + url.query;
}

}  // namespace

Result<std::shared_ptr<SseRemote>> SseRemote::create(asio::any_io_executor executor,
                                                     const std::string& url, bool tls_verify) {
  auto parsed = net::parse_http_url(url);
  if (!parsed.ok())
    return make_error("remote.url", parsed.error().message);
  net::HttpClientOptions options;
  options.tls_verify = tls_verify;
  auto http = net::HttpClient::create(
      executor, (parsed->tls ? "https://" : "http://") + parsed->authority(), options);
  if (!http.ok())
    return make_error("remote.url", http.error().message);
  return std::shared_ptr<SseRemote>(new SseRemote(executor, *http, *parsed));
}

SseRemote::SseRemote(asio::any_io_executor executor, std::shared_ptr<net::HttpClient> http,
                     net::HttpUrl url)
    : executor_(executor), http_(std::move(http)), url_(std::move(url)) {}

asio::awaitable<void> SseRemote::wait_for_change(Clock::time_point deadline) {
  asio::steady_timer timer(executor_, deadline);
  waiters_.push_back(&timer);
  boost::system::error_code ec;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  std::erase(waiters_, &timer);
}

void SseRemote::notify() {
  for (auto* timer : waiters_)
    timer->cancel();
}

asio::awaitable<Status> SseRemote::ready(Clock::time_point deadline) {
  if (!started_) {
    started_ = true;
    net::spawn_logged(
        executor_,
        [self = shared_from_this()]() -> asio::awaitable<void> { co_await self->read_stream(); },
        "pay: the seller's SSE stream");
  }
  while (endpoint_.empty() && !ended_ && Clock::now() < deadline)
    co_await wait_for_change(deadline);
  if (!endpoint_.empty() && !ended_)
    co_return ok_status();
  co_return make_error("remote.unreachable", ended_
                                                 ? end_reason_
                                                 : "the seller's SSE stream " + url_.authority() +
                                                       url_.path + " named no endpoint in time");
}

asio::awaitable<void> SseRemote::read_stream() {
  net::SseSplitter splitter(kMaxEventBytes);
  unsigned status = 0;
  std::string type;
  net::HttpStreamHandler handler;
  handler.on_head = [&](const http::response_header<>& head) -> Status {
    status = head.result_int();
    type = std::string(head[http::field::content_type]);
    if (status != 200 || !type.starts_with("text/event-stream"))
      return make_error("remote.sse", "not an event stream");
    return ok_status();
  };
  handler.on_body = [&](std::string_view piece) -> Status {
    splitter.feed(piece);
    while (auto event = splitter.next())
      on_event(event->raw, std::move(event->data));
    if (splitter.overflow())
      return make_error("remote.sse", "an event over 16 MiB");
    return ok_status();
  };
  std::vector<std::pair<std::string, std::string>> headers{{"Accept", "text/event-stream"},
                                                           {"Cache-Control", "no-cache"}};
  const std::string target = target_of(url_);
  const std::string no_body;
  bool sent = false;
  // The stream is the session: it may idle for as long as the session lives.
  auto streamed = co_await http_->stream(http::verb::get, target, no_body, std::move(headers),
                                         Clock::now() + std::chrono::hours(24 * 365),
                                         std::chrono::hours(24), handler, sent);
  ended_ = true;
  if (status != 0 && (status != 200 || !type.starts_with("text/event-stream")))
    end_reason_ = "the seller answered GET " + target + " with HTTP " + std::to_string(status) +
                  " " + type + ", not an HTTP+SSE event stream";
  else if (!streamed.ok())
    end_reason_ = "the seller's SSE stream failed: " + streamed.error().message;
  else
    end_reason_ = "the seller closed its SSE stream (the MCP session is over)";
  spdlog::warn("{}", end_reason_);
  notify();
}

void SseRemote::on_event(const std::string& raw, std::string data) {
  const std::string type = event_type(raw);
  if (type == "endpoint" && endpoint_.empty()) {
    // MCP 2024-11-05: the URI for messages; only on the stream's own origin (as the SDK client).
    if (data.starts_with("/")) {
      endpoint_ = data;
    } else if (auto named = net::parse_http_url(data); named.ok() && named->tls == url_.tls &&
                                                       named->host == url_.host &&
                                                       named->port == url_.port) {
      endpoint_ = target_of(*named);
    } else {
      spdlog::error("the seller's endpoint event names another origin or no URI; refused");
      return;
    }
    notify();
    return;
  }
  if (type == "message" && !data.empty())
    route(std::move(data));
}

void SseRemote::route(std::string text) {
  boost::system::error_code ec;
  json::value parsed = json::parse(text, ec);
  Call* owner = nullptr;
  if (!ec && parsed.is_object()) {
    const json::object& message = parsed.get_object();
    const json::value* id = message.if_contains("id");
    const json::value* method = message.if_contains("method");
    if (id != nullptr && method == nullptr) {
      const std::string key = json::serialize(*id);
      for (Call* call : calls_) {
        if (call->id == key)
          owner = call;
      }
      if (owner == nullptr) {
        spdlog::debug("the seller answered request {}, which nobody waits for", key);
        return;
      }
      owner->answered = true;
    } else if (method != nullptr && method->is_string() &&
               method->get_string() == "notifications/progress") {
      const json::value* params = message.if_contains("params");
      const json::value* token = params && params->is_object()
                                     ? params->get_object().if_contains("progressToken")
                                     : nullptr;
      for (Call* call : calls_) {
        if (token != nullptr && call->progress_token == json::serialize(*token))
          owner = call;
      }
    }
  }
  if (owner == nullptr && listener_ != nullptr) {
    (*listener_)(std::move(text), std::move(parsed));
    return;
  }
  if (owner == nullptr && !calls_.empty())
    owner = calls_.front();  // a server request during a call: the only client that can answer
  if (owner == nullptr)
    return;
  ++owner->messages;
  (*owner->sink)(std::move(text), std::move(parsed));
  notify();
}

asio::awaitable<Result<RemoteAnswer>> SseRemote::post(std::string body, Clock::time_point deadline,
                                                      const RemoteMessageSink& sink, bool& sent) {
  auto self = shared_from_this();
  sent = false;
  if (auto opened = co_await ready(deadline); !opened.ok())
    co_return opened.error();
  Call call{&sink, {}, {}};
  {
    boost::system::error_code ec;
    json::value parsed = json::parse(body, ec);
    if (!ec && parsed.is_object()) {
      const json::object& message = parsed.get_object();
      if (message.contains("method") && message.contains("id"))
        call.id = json::serialize(message.at("id"));
      const json::value* params = message.if_contains("params");
      const json::value* meta =
          params && params->is_object() ? params->get_object().if_contains("_meta") : nullptr;
      const json::value* token =
          meta && meta->is_object() ? meta->get_object().if_contains("progressToken") : nullptr;
      if (token != nullptr)
        call.progress_token = json::serialize(*token);
    }
  }
  if (!call.id.empty())
    calls_.push_back(&call);
  std::vector<std::pair<std::string, std::string>> no_headers;
  // The POST is only acknowledged (202), but a server may acknowledge late (serve holds it up to
  // a few seconds to answer a refusal in kind): the call's own deadline bounds it.
  const auto budget =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  const std::string endpoint = endpoint_;
  auto posted = co_await http_->request(http::verb::post, endpoint, std::move(body),
                                        std::move(no_headers), budget, false);
  auto forget = [&] { std::erase(calls_, &call); };
  if (!posted.ok()) {
    forget();
    sent = posted.error().kind != net::HttpFailure::not_sent;
    co_return make_error(sent ? "remote.failed" : "remote.unreachable",
                         "the seller's messages endpoint: " + posted.error().message);
  }
  sent = true;
  RemoteAnswer answer;
  answer.status = posted->status;
  if (posted->status < 200 || posted->status >= 300) {
    forget();
    answer.body = posted->body.substr(0, 64 * 1024);
    co_return answer;
  }
  if (call.id.empty()) {
    answer.status = 202;
    co_return answer;
  }
  while (!call.answered && !ended_ && Clock::now() < deadline)
    co_await wait_for_change(deadline);
  forget();
  if (!call.answered) {
    co_return make_error(ended_ ? "remote.failed" : "remote.timeout",
                         ended_ ? end_reason_ : "no answer from the seller in time");
  }
  answer.status = 200;
  answer.content_type = "text/event-stream";
  answer.messages = call.messages;
  co_return answer;
}

asio::awaitable<Result<RemoteAnswer>> SseRemote::listen(const RemoteMessageSink& sink) {
  auto self = shared_from_this();
  if (auto opened = co_await ready(Clock::now() + std::chrono::seconds(30)); !opened.ok())
    co_return opened.error();
  listener_ = &sink;
  while (!ended_)
    co_await wait_for_change(Clock::time_point::max());
  listener_ = nullptr;
  RemoteAnswer answer;
  answer.status = 410;  // the session is gone with its stream: nothing to re-open
  co_return answer;
}

}  // namespace x402proxy::pay
