#include "proxy/paid_response_stream.h"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/chunk_encode.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/serialize.hpp>

#include "proxy/http_forwarding.h"
#include "proxy/jsonrpc_reply.h"
#include "proxy/sse_splitter.h"
#include "x402/strict_json.h"

namespace x402proxy::proxy {
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;

namespace {

// The final response to call `id`: a JSON-RPC response object carrying that id.
bool is_final_response(const json::value& message, const json::value& id) {
  if (!message.is_object())
    return false;
  const json::object& object = message.get_object();
  const json::value* message_id = object.if_contains("id");
  return message_id != nullptr && *message_id == id && !object.contains("method") &&
         (object.contains("result") || object.contains("error"));
}

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

PaidResponseStream::PaidResponseStream(ServeState& state, beast::tcp_stream& client,
                                       UpstreamConnection& upstream, bool client_keep_alive)
    : state_(state), client_(client), upstream_(upstream), client_keep_alive_(client_keep_alive) {
  parser_.body_limit(boost::none);  // bounded by our own accounting below
}

net::awaitable<boost::system::error_code> PaidResponseStream::read_header() {
  boost::system::error_code ec;
  upstream_.stream.expires_after(state_.options.upstream_idle_timeout);
  co_await http::async_read_header(upstream_.stream, upstream_.buffer, parser_,
                                   net::redirect_error(net::use_awaitable, ec));
  co_return ec;
}

bool PaidResponseStream::is_event_stream() const {
  auto type = parser_.get()[http::field::content_type];
  return type.size() >= 17 && beast::iequals(type.substr(0, 17), "text/event-stream");
}

net::awaitable<std::size_t> PaidResponseStream::read_some_body(boost::system::error_code& ec) {
  while (!parser_.is_done()) {
    parser_.get().body().data = chunk_.data();
    parser_.get().body().size = chunk_.size();
    upstream_.stream.expires_after(state_.options.upstream_idle_timeout);
    co_await http::async_read_some(upstream_.stream, upstream_.buffer, parser_,
                                   net::redirect_error(net::use_awaitable, ec));
    if (ec == http::error::need_buffer)
      ec = {};
    if (ec)
      co_return 0;
    std::size_t got = chunk_.size() - parser_.get().body().size;
    if (got > 0)
      co_return got;
  }
  co_return 0;
}

net::awaitable<boost::system::error_code> PaidResponseStream::read_whole_body(std::string& body) {
  boost::system::error_code ec;
  while (true) {
    std::size_t got = co_await read_some_body(ec);
    if (ec)
      co_return ec;
    if (got == 0)
      co_return ec;
    if (body.size() + got > state_.options.max_held_response_bytes) {
      co_return http::error::body_limit;
    }
    body.append(chunk_.data(), got);
  }
}

net::awaitable<bool> PaidResponseStream::pass_through_unpaid() {
  std::string body;
  auto ec = co_await read_whole_body(body);
  http::response<http::string_body> response{parser_.get().result(), 11};
  copy_end_to_end_headers(parser_.get().base(), response.base());
  response.erase(http::field::content_length);
  if (ec)
    body.clear();
  response.body() = std::move(body);
  response.keep_alive(client_keep_alive_);
  response.prepare_payload();
  client_.expires_after(state_.options.client_write_timeout);
  co_await http::async_write(client_, response, net::redirect_error(net::use_awaitable, ec));
  co_return !ec && client_keep_alive_;
}

net::awaitable<PaidFinish> PaidResponseStream::finish_json(const json::value& id,
                                                           const ConcludeCall& conclude) {
  PaidFinish finish;
  std::string body;
  if (auto ec = co_await read_whole_body(body); ec) {
    finish.failure = "upstream response could not be read: " + ec.message();
    co_return finish;
  }
  auto parsed = x402::parse_strict_json(body);
  if (!parsed.ok() || !is_final_response(*parsed, id)) {
    finish.failure = "upstream answered without a JSON-RPC response for this call";
    co_return finish;
  }
  finish.upstream_reusable = parser_.get().keep_alive();
  finish.concluded = true;
  std::string answer = co_await conclude(std::move(parsed).value());

  http::response<http::string_body> response{http::status::ok, 11};
  copy_end_to_end_headers(parser_.get().base(), response.base());
  response.erase(http::field::content_length);
  response.set(http::field::content_type, "application/json");
  response.keep_alive(client_keep_alive_);
  response.body() = std::move(answer);
  response.prepare_payload();
  boost::system::error_code ec;
  client_.expires_after(state_.options.client_write_timeout);
  co_await http::async_write(client_, response, net::redirect_error(net::use_awaitable, ec));
  finish.response_started = true;
  finish.client_ok = !ec && client_keep_alive_;
  co_return finish;
}

net::awaitable<bool> PaidResponseStream::write_to_client(std::string_view bytes) {
  boost::system::error_code ec;
  client_.expires_after(state_.options.client_write_timeout);
  if (bytes.empty()) {
    co_await net::async_write(client_, http::make_chunk_last(),
                              net::redirect_error(net::use_awaitable, ec));
  } else {
    co_await net::async_write(client_, http::make_chunk(net::buffer(bytes.data(), bytes.size())),
                              net::redirect_error(net::use_awaitable, ec));
  }
  co_return !ec;
}

net::awaitable<PaidFinish> PaidResponseStream::finish_event_stream(const json::value& id,
                                                                   const ConcludeCall& conclude) {
  PaidFinish finish;
  http::response<http::empty_body> head{http::status::ok, 11};
  copy_end_to_end_headers(parser_.get().base(), head.base());
  head.erase(http::field::content_length);
  head.set(http::field::cache_control, "no-cache");
  head.set("X-Accel-Buffering", "no");
  head.chunked(true);
  head.keep_alive(client_keep_alive_);
  http::response_serializer<http::empty_body> head_serializer(head);
  boost::system::error_code ec;
  client_.expires_after(state_.options.client_write_timeout);
  co_await http::async_write_header(client_, head_serializer,
                                    net::redirect_error(net::use_awaitable, ec));
  if (ec) {
    finish.failure = "client went away before the response";
    co_return finish;
  }
  finish.response_started = true;

  SseSplitter splitter(state_.options.max_held_response_bytes);
  bool client_alive = true;
  while (true) {
    std::size_t got = co_await read_some_body(ec);
    if (ec || got == 0)
      break;
    splitter.feed(std::string_view(chunk_.data(), got));
    while (auto event = splitter.next()) {
      Result<json::value> message = make_error("sse.empty", "no data");
      if (!event->data.empty())
        message = x402::parse_strict_json(event->data);
      if (message.ok() && is_final_response(*message, id)) {
        finish.concluded = true;
        std::string answer = co_await conclude(std::move(message).value());
        if (client_alive)
          client_alive = co_await write_to_client(rebuild_event(event->raw, answer));
        if (client_alive)
          client_alive = co_await write_to_client({});
        // The final response ends the call's stream; anything after it is not ours to wait for.
        finish.upstream_reusable = parser_.is_done() && parser_.get().keep_alive();
        finish.client_ok = client_alive && client_keep_alive_;
        co_return finish;
      }
      // Progress notifications and other events pass at once (a client that stopped reading
      // does not stop the call: the payment still settles and the journal still records it).
      if (client_alive)
        client_alive = co_await write_to_client(event->raw);
    }
    if (splitter.overflow()) {
      ec = http::error::body_limit;
      break;
    }
  }
  finish.failure = ec ? "upstream event stream failed: " + ec.message()
                      : "upstream event stream ended before the response to this call";
  std::string error =
      jsonrpc_error(id, rpc_code::upstream_unavailable, finish.failure + "; payment not settled");
  if (client_alive)
    client_alive = co_await write_to_client("event: message\ndata: " + error + "\n\n");
  if (client_alive)
    co_await write_to_client({});
  co_return finish;
}

}  // namespace x402proxy::proxy
