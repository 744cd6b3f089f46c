#include "proxy/paywall/held_call.h"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/chunk_encode.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "mcp/jsonrpc_reply.h"
#include "net/hop_by_hop.h"
#include "net/http_reply.h"
#include "proxy/upstream/http_forwarding.h"
#include "x402/strict_json.h"

namespace x402proxy::proxy {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;

namespace {

// The event with its data lines replaced by `data` (other fields such as id: and event: kept).
std::string rebuild_event(std::string_view raw, std::string_view data) {
  std::string out;
  bool data_written = false;
  while (!raw.empty()) {
    std::size_t eol = raw.find_first_of("\r\n");
    std::string_view line = raw.substr(0, eol);
    std::size_t skip = eol == std::string_view::npos ? raw.size()
                       : (raw[eol] == '\r' && eol + 1 < raw.size() && raw[eol + 1] == '\n')
                           ? eol + 2
                           : eol + 1;
    raw.remove_prefix(std::min(skip, raw.size()));
    if (line.empty())
      continue;
    if (line == "data" || line.starts_with("data:")) {
      if (!data_written) {
        out.append("data: ").append(data).append("\n");
        data_written = true;
      }
      continue;
    }
    out.append(line).append("\n");
  }
  if (!data_written)
    out.append("data: ").append(data).append("\n");
  out.append("\n");
  return out;
}

}  // namespace

bool is_final_response(const json::value& message, const json::value& id) {
  if (!message.is_object())
    return false;
  const json::object& object = message.get_object();
  const json::value* message_id = object.if_contains("id");
  return message_id != nullptr && *message_id == id && !object.contains("method") &&
         (object.contains("result") || object.contains("error"));
}

HeldCall::HeldCall(const ServeState& state, beast::tcp_stream& client, bool client_keep_alive,
                   json::value id)
    : state_(state), client_(client), client_keep_alive_(client_keep_alive), id_(std::move(id)) {}

HeldCall::~HeldCall() = default;

void HeldCall::finish_upstream(bool reusable) {
  // A pooled connection is reused only after its response was read to the end (DESIGN
  // pitfalls): otherwise what is left of it would be read as the next call's answer.
  if (upstream_ && reusable && parser_ && parser_->is_done() && parser_->get().keep_alive())
    state_.upstream->release(std::move(upstream_));
  upstream_.reset();
}

asio::awaitable<boost::system::error_code> HeldCall::read_final_header() {
  boost::system::error_code ec;
  for (;;) {
    parser_.emplace();
    parser_->body_limit(boost::none);  // bounded by our own accounting below
    upstream_->stream.expires_after(state_.options.upstream_idle_timeout);
    co_await http::async_read_header(upstream_->stream, upstream_->buffer, *parser_,
                                     asio::redirect_error(asio::use_awaitable, ec));
    if (ec)
      co_return ec;
    // An interim 1xx (100 Continue, 102, 103) is never the answer: read on to the final one.
    // 101 (switching protocols) ends HTTP on this connection: a failure, never pooled.
    const unsigned status = parser_->get().result_int();
    if (status == 101)
      co_return asio::error::operation_not_supported;
    if (status < 100 || status >= 200)
      co_return ec;
  }
}

asio::awaitable<std::size_t> HeldCall::read_some_body(boost::system::error_code& ec) {
  while (!parser_->is_done()) {
    parser_->get().body().data = chunk_.data();
    parser_->get().body().size = chunk_.size();
    upstream_->stream.expires_after(state_.options.upstream_idle_timeout);
    co_await http::async_read_some(upstream_->stream, upstream_->buffer, *parser_,
                                   asio::redirect_error(asio::use_awaitable, ec));
    if (ec == http::error::need_buffer)
      ec = {};
    if (ec)
      co_return 0;
    const std::size_t got = chunk_.size() - parser_->get().body().size;
    if (got > 0)
      co_return got;
  }
  co_return 0;
}

asio::awaitable<HeldResult> HeldCall::forward(
    Request request, const std::function<asio::awaitable<Status>()>& before_write) {
  HeldResult result;
  auto acquired = co_await state_.upstream->acquire();
  if (!acquired.ok()) {
    result.kind = HeldResult::Kind::not_forwarded;
    result.why = acquired.error().message;
    co_return result;
  }
  upstream_ = std::move(acquired).value();
  if (auto marked = co_await before_write(); !marked.ok()) {
    state_.upstream->release(std::move(upstream_));  // unused: still clean
    result.kind = HeldResult::Kind::not_forwarded;
    result.why = marked.error().message;
    co_return result;
  }
  boost::system::error_code ec;
  upstream_->stream.expires_after(state_.options.upstream_idle_timeout);
  co_await http::async_write(upstream_->stream, request,
                             asio::redirect_error(asio::use_awaitable, ec));
  if (!ec)
    ec = co_await read_final_header();
  if (ec) {
    upstream_.reset();
    result.why = "upstream " + state_.upstream->endpoint().url + " failed: " + ec.message();
    co_return result;
  }
  upstream_head_ = parser_->get().base();
  if (parser_->get().result_int() / 100 != 2) {
    client_ok_ = co_await relay_refusal();
    result.kind = HeldResult::Kind::upstream_http;
    result.why = "upstream answered HTTP " + std::to_string(parser_->get().result_int());
    co_return result;
  }
  auto type = upstream_head_[http::field::content_type];
  event_stream_ = type.size() >= 17 && beast::iequals(type.substr(0, 17), "text/event-stream");
  if (event_stream_)
    co_return co_await hold_event_stream();
  co_return co_await hold_json();
}

asio::awaitable<bool> HeldCall::relay_refusal() {
  // An upstream refusal (HTTP 4xx/5xx) carries no paid content: relayed as it is, bounded.
  std::string body;
  boost::system::error_code ec;
  while (true) {
    std::size_t got = co_await read_some_body(ec);
    if (ec || got == 0)
      break;
    if (body.size() + got > state_.options.max_held_response_bytes) {
      ec = http::error::body_limit;
      break;
    }
    body.append(chunk_.data(), got);
  }
  finish_upstream(!ec);
  http::response<http::string_body> response{parser_->get().result(), 11};
  net::copy_end_to_end_headers(upstream_head_, response.base());
  response.erase(http::field::content_length);
  if (ec)
    body.clear();
  response.body() = std::move(body);
  response.keep_alive(client_keep_alive_);
  response.prepare_payload();
  client_.expires_after(state_.options.client_write_timeout);
  co_await http::async_write(client_, response, asio::redirect_error(asio::use_awaitable, ec));
  co_return !ec && client_keep_alive_;
}

asio::awaitable<HeldResult> HeldCall::hold_json() {
  HeldResult result;
  std::string body;
  boost::system::error_code ec;
  while (true) {
    std::size_t got = co_await read_some_body(ec);
    if (ec || got == 0)
      break;
    if (body.size() + got > state_.options.max_held_response_bytes) {
      ec = http::error::body_limit;
      break;
    }
    body.append(chunk_.data(), got);
  }
  if (ec) {
    upstream_.reset();
    result.why = "upstream response could not be read: " + ec.message();
    co_return result;
  }
  finish_upstream(true);
  auto parsed = x402::parse_strict_json(body);
  if (!parsed.ok() || !is_final_response(*parsed, id_)) {
    result.why = "upstream answered without a JSON-RPC response for this call";
    co_return result;
  }
  result.kind = HeldResult::Kind::final_message;
  result.message = std::move(parsed).value();
  co_return result;
}

asio::awaitable<bool> HeldCall::write_chunk(std::string_view bytes) {
  boost::system::error_code ec;
  client_.expires_after(state_.options.client_write_timeout);
  if (bytes.empty()) {
    co_await asio::async_write(client_, http::make_chunk_last(),
                               asio::redirect_error(asio::use_awaitable, ec));
  } else {
    co_await asio::async_write(client_, http::make_chunk(asio::buffer(bytes.data(), bytes.size())),
                               asio::redirect_error(asio::use_awaitable, ec));
  }
  co_return !ec;
}

asio::awaitable<HeldResult> HeldCall::hold_event_stream() {
  HeldResult result;
  http::response<http::empty_body> head{http::status::ok, 11};
  net::copy_end_to_end_headers(upstream_head_, head.base());
  head.erase(http::field::content_length);
  head.set(http::field::cache_control, "no-cache");
  head.set("X-Accel-Buffering", "no");
  head.chunked(true);
  head.keep_alive(client_keep_alive_);
  http::response_serializer<http::empty_body> head_serializer(head);
  boost::system::error_code ec;
  client_.expires_after(state_.options.client_write_timeout);
  co_await http::async_write_header(client_, head_serializer,
                                    asio::redirect_error(asio::use_awaitable, ec));
  // A client that went away does not stop the call: the payment still settles and the journal
  // still records it, and the buyer can redeem the result with the same payment.
  head_written_ = !ec;
  client_alive_ = !ec;

  net::SseSplitter splitter(state_.options.max_held_response_bytes);
  while (true) {
    std::size_t got = co_await read_some_body(ec);
    if (ec || got == 0)
      break;
    splitter.feed(std::string_view(chunk_.data(), got));
    while (auto event = splitter.next()) {
      if (!event->data.empty()) {
        auto message = x402::parse_strict_json(event->data);
        if (message.ok() && is_final_response(*message, id_)) {
          // The final response ends the call's stream; anything after it is not ours to wait for.
          finish_upstream(true);
          final_event_raw_ = std::move(event->raw);
          result.kind = HeldResult::Kind::final_message;
          result.message = std::move(message).value();
          co_return result;
        }
      }
      // Progress notifications and other events pass at once.
      if (client_alive_)
        client_alive_ = co_await write_chunk(event->raw);
    }
    if (splitter.overflow()) {
      ec = http::error::body_limit;
      break;
    }
  }
  upstream_.reset();
  result.why = ec ? "upstream event stream failed: " + ec.message()
                  : "upstream event stream ended before the response to this call";
  co_return result;
}

asio::awaitable<bool> HeldCall::deliver(std::string answer) {
  if (head_written_) {
    if (client_alive_) {
      std::string event = final_event_raw_.empty() ? "event: message\ndata: " + answer + "\n\n"
                                                   : rebuild_event(final_event_raw_, answer);
      client_alive_ = co_await write_chunk(event);
    }
    if (client_alive_)
      client_alive_ = co_await write_chunk({});
    delivered_ = client_alive_;
    client_ok_ = client_alive_ && client_keep_alive_;
    co_return client_ok_;
  }
  if (!event_stream_ && parser_) {
    // The upstream's end-to-end headers (Mcp-Session-Id, ...) go with the final answer.
    http::response<http::string_body> response{http::status::ok, 11};
    net::copy_end_to_end_headers(upstream_head_, response.base());
    response.erase(http::field::content_length);
    response.set(http::field::content_type, "application/json");
    response.keep_alive(client_keep_alive_);
    response.body() = std::move(answer);
    response.prepare_payload();
    boost::system::error_code ec;
    client_.expires_after(state_.options.client_write_timeout);
    co_await http::async_write(client_, response, asio::redirect_error(asio::use_awaitable, ec));
    delivered_ = !ec;
    client_ok_ = !ec && client_keep_alive_;
    co_return client_ok_;
  }
  client_ok_ = co_await net::write_reply(client_, http::status::ok, std::move(answer),
                                         client_keep_alive_, state_.options.client_write_timeout,
                                         "application/json", &delivered_);
  co_return client_ok_;
}

asio::awaitable<bool> HeldCall::fail(int code, const std::string& message) {
  std::string error = mcp::jsonrpc_error(id_, code, message);
  if (head_written_) {
    final_event_raw_.clear();
    co_return co_await deliver(std::move(error));
  }
  client_ok_ = co_await net::write_reply(client_, http::status::ok, std::move(error),
                                         client_keep_alive_, state_.options.client_write_timeout);
  co_return client_ok_;
}

}  // namespace x402proxy::proxy
