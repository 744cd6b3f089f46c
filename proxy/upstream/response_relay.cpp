#include "proxy/upstream/response_relay.h"

#include <array>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "net/hop_by_hop.h"
#include "proxy/upstream/http_forwarding.h"

namespace x402proxy::proxy {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

asio::awaitable<RelayOutcome> relay_response(UpstreamConnection& upstream,
                                             beast::tcp_stream& client, bool client_keep_alive,
                                             bool head_request, RelayTimeouts timeouts) {
  RelayOutcome outcome;
  boost::system::error_code ec;
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(boost::none);  // streamed, never held: no reason to cap the total
  parser.skip(head_request);
  upstream.stream.expires_after(timeouts.upstream_idle);
  co_await http::async_read_header(upstream.stream, upstream.buffer, parser,
                                   asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    outcome.upstream_error = ec;
    co_return outcome;
  }

  // The client sees the upstream's status and end-to-end headers; framing is ours to choose.
  http::response<http::buffer_body> response;
  response.result(parser.get().result_int());
  response.reason(parser.get().reason());
  response.version(11);
  net::copy_end_to_end_headers(parser.get().base(), response.base());
  if (parser.get().has_content_length()) {
    response.set(http::field::content_length, parser.get()[http::field::content_length]);
  } else if (!head_request && parser.get().result_int() != 204 &&
             parser.get().result_int() != 304) {
    response.chunked(true);
  }
  const bool upstream_keep_alive = parser.get().keep_alive();
  response.keep_alive(client_keep_alive);

  http::response_serializer<http::buffer_body> serializer(response);
  client.expires_after(timeouts.client_write);
  co_await http::async_write_header(client, serializer,
                                    asio::redirect_error(asio::use_awaitable, ec));
  if (ec)
    co_return outcome;
  outcome.response_started = true;

  std::array<char, 16 * 1024> chunk;
  while (!parser.is_done()) {
    parser.get().body().data = chunk.data();
    parser.get().body().size = chunk.size();
    upstream.stream.expires_after(timeouts.upstream_idle);
    co_await http::async_read_some(upstream.stream, upstream.buffer, parser,
                                   asio::redirect_error(asio::use_awaitable, ec));
    if (ec == http::error::need_buffer)
      ec = {};
    if (ec) {
      outcome.upstream_error = ec;
      co_return outcome;  // mid-body: the client connection cannot be reused either
    }
    std::size_t got = chunk.size() - parser.get().body().size;
    if (got == 0 && !parser.is_done())
      continue;
    response.body().data = got ? chunk.data() : nullptr;
    response.body().size = got;
    response.body().more = !parser.is_done();
    client.expires_after(timeouts.client_write);
    co_await http::async_write(client, serializer, asio::redirect_error(asio::use_awaitable, ec));
    if (ec == http::error::need_buffer)
      ec = {};
    if (ec)
      co_return outcome;
  }
  if (!serializer.is_done()) {
    response.body().data = nullptr;
    response.body().size = 0;
    response.body().more = false;
    client.expires_after(timeouts.client_write);
    co_await http::async_write(client, serializer, asio::redirect_error(asio::use_awaitable, ec));
    if (ec == http::error::need_buffer)
      ec = {};
    if (ec)
      co_return outcome;
  }
  outcome.client_ok = client_keep_alive;
  outcome.upstream_reusable = upstream_keep_alive;
  co_return outcome;
}

}  // namespace x402proxy::proxy
