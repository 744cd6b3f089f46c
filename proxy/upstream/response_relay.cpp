#include "proxy/upstream/response_relay.h"

#include <array>
#include <memory>
#include <optional>

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

namespace {

// While a relay streams an SSE answer (a stream that is quiet for minutes) it also watches the
// client: a client that closes its connection closes the upstream request, so the relay ends and
// the connection slot is freed at once instead of at the upstream's idle timeout. One wait on
// the client socket, armed once the upstream's answer is known to be an event stream; readable
// with bytes waiting means a pipelined next request (not a departure), and the watch ends.
// Not armed for plain answers: measured with bench/free_call.sh, a wait armed on every
// keep-alive request stalled one-connection clients (wrk -c1: 3 to 1,700 requests/s instead
// of 5,000 under the same load), the next request's read waiting behind the cancelled wait.
// Free calls only: a paid call is never cut (its result is kept for the buyer who paid).
class ClientWatch {
 public:
  ClientWatch(beast::tcp_stream& client, UpstreamConnection& upstream)
      : client_(client), state_(std::make_shared<State>()) {
    state_->upstream = &upstream.stream.socket();
    client_.socket().async_wait(
        asio::ip::tcp::socket::wait_read,
        [state = state_, socket = &client_.socket()](const boost::system::error_code& ec) {
          if (state->done)
            return;  // the relay has ended; nothing here is alive
          if (!ec) {
            char byte;
            boost::system::error_code peek_error;
            const std::size_t got = socket->receive(asio::buffer(&byte, 1),
                                                    asio::socket_base::message_peek, peek_error);
            if (got > 0 && !peek_error)
              return;  // a pipelined request, not a departure
          } else if (ec == asio::error::operation_aborted) {
            return;
          }
          state->left = true;
          boost::system::error_code ignored;
          state->upstream->close(ignored);
        });
  }
  ~ClientWatch() {
    state_->done = true;
    boost::system::error_code ignored;
    client_.socket().cancel(ignored);
  }
  bool client_left() const { return state_->left; }

 private:
  struct State {
    bool done = false;
    bool left = false;
    asio::ip::tcp::socket* upstream = nullptr;
  };
  beast::tcp_stream& client_;
  std::shared_ptr<State> state_;
};

}  // namespace

asio::awaitable<RelayOutcome> relay_response(UpstreamConnection& upstream,
                                             beast::tcp_stream& client, bool client_keep_alive,
                                             bool head_request, RelayTimeouts timeouts) {
  RelayOutcome outcome;
  boost::system::error_code ec;
  std::optional<ClientWatch> watch;
  std::optional<http::response_parser<http::buffer_body>> reading;
  for (;;) {
    reading.emplace();
    reading->body_limit(boost::none);  // streamed, never held: no reason to cap the total
    reading->skip(head_request);
    upstream.stream.expires_after(timeouts.upstream_idle);
    co_await http::async_read_header(upstream.stream, upstream.buffer, *reading,
                                     asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      outcome.upstream_error = ec;
      co_return outcome;
    }
    // An interim 1xx is never the answer (RFC 9110 §15.2): the proxy answered the client's
    // 100-continue itself and the upstream's 102/103 are not relayed, so read on to the final
    // response. 101 would end HTTP on the connection: a failure, and the connection is closed.
    const unsigned status = reading->get().result_int();
    if (status == 101) {
      outcome.upstream_error = asio::error::operation_not_supported;
      co_return outcome;
    }
    if (status >= 200)
      break;
  }
  http::response_parser<http::buffer_body>& parser = *reading;

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

  if (parser.get()[http::field::content_type].starts_with("text/event-stream"))
    watch.emplace(client, upstream);
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
      outcome.upstream_error = watch && watch->client_left() ? asio::error::connection_aborted : ec;
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
