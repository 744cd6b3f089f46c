#include "net/http_server.h"

#include <spdlog/spdlog.h>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>

#include "net/acceptor.h"
#include "net/http_reply.h"
#include "net/spawn.h"

namespace x402proxy::net {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct HttpServer::Shared {
  HttpServerOptions options;
  HttpServerHandlers handlers;
};

namespace {

asio::awaitable<void> serve_connection(tcp::socket socket,
                                       std::shared_ptr<const HttpServer::Shared> shared) {
  const HttpServerOptions& options = shared->options;
  const HttpServerHandlers& handlers = shared->handlers;
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  boost::system::error_code ec;
  const std::string peer = stream.socket().remote_endpoint(ec).address().to_string();
  struct Closed {
    const HttpServerHandlers& handlers;
    bool opened = false;
    ~Closed() {
      if (opened && handlers.on_close)
        handlers.on_close();
    }
  } closed{handlers};
  if (handlers.on_open) {
    closed.opened = true;
    if (auto refusal = handlers.on_open()) {
      co_await write_reply(stream, http::status::service_unavailable, std::move(*refusal), false,
                           options.write_timeout);
      co_return;
    }
  }
  while (true) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(options.body_limit);
    parser.header_limit(static_cast<std::uint32_t>(options.header_limit));
    // Waiting for the next request on an idle keep-alive connection gets the keep-alive
    // timeout; once bytes arrive, the rest of the request must come within the read timeout.
    // A timer cancels the read (rather than the stream's own expiry, which closes the socket)
    // so that a slow client can still be told 408.
    const bool idle = buffer.size() == 0;
    bool timed_out = false;
    asio::steady_timer timer(stream.get_executor(),
                             idle ? options.keep_alive_timeout : options.read_timeout);
    auto on_deadline = [&stream, &timed_out](const boost::system::error_code& wait_error) {
      if (wait_error)
        return;  // cancelled: the request arrived in time
      timed_out = true;
      boost::system::error_code ignored;
      stream.socket().cancel(ignored);
    };
    timer.async_wait(on_deadline);
    stream.expires_never();
    co_await http::async_read_header(stream, buffer, parser,
                                     asio::redirect_error(asio::use_awaitable, ec));
    if (!ec && !parser.is_done()) {
      if (idle) {
        timer.expires_after(options.read_timeout);
        timer.async_wait(on_deadline);
      }
      co_await http::async_read(stream, buffer, parser,
                                asio::redirect_error(asio::use_awaitable, ec));
    }
    timer.cancel();
    if (timed_out)
      ec = beast::error::timeout;
    if (ec) {
      // The few expected endings (the peer closed, an idle connection timed out) are told
      // apart from requests that deserve an answer, in this one place.
      std::optional<ReadFailure> failure;
      http::status status = http::status::bad_request;
      if (ec == http::error::header_limit) {
        failure = ReadFailure::header_too_large;
        status = http::status::request_header_fields_too_large;
      } else if (ec == http::error::body_limit) {
        failure = ReadFailure::body_too_large;
        status = http::status::payload_too_large;
      } else if (ec == beast::error::timeout && parser.got_some()) {
        failure = ReadFailure::too_slow;
        status = http::status::request_timeout;
      } else if (ec != http::error::end_of_stream && ec != beast::error::timeout &&
                 ec != asio::error::eof && ec != asio::error::connection_reset &&
                 parser.got_some()) {
        failure = ReadFailure::malformed;
      }
      if (failure && handlers.read_failure_body) {
        if (auto body = handlers.read_failure_body(*failure, ec.message()))
          co_await write_reply(stream, status, std::move(*body), false, options.write_timeout);
      }
      break;
    }
    HttpRequest request = parser.release();
    const bool keep_alive = co_await handlers.on_request(stream, request, peer);
    if (!keep_alive)
      break;
  }
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
}

}  // namespace

HttpServer::HttpServer(asio::io_context& context, tcp::acceptor acceptor,
                       std::shared_ptr<const Shared> shared)
    : context_(context), acceptor_(std::move(acceptor)), shared_(std::move(shared)) {
  boost::system::error_code ec;
  local_ = acceptor_.local_endpoint(ec);
}

HttpServer::~HttpServer() {
  close();
}

Result<std::unique_ptr<HttpServer>> HttpServer::bind(asio::io_context& context,
                                                     const std::string& address,
                                                     HttpServerOptions options,
                                                     HttpServerHandlers handlers) {
  auto acceptor = open_acceptor(context, address);
  if (!acceptor.ok())
    return acceptor.error();
  auto shared = std::make_shared<Shared>(Shared{std::move(options), std::move(handlers)});
  return std::unique_ptr<HttpServer>(
      new HttpServer(context, std::move(acceptor).value(), std::move(shared)));
}

asio::awaitable<void> HttpServer::run() {
  const HttpServerOptions& options = shared_->options;
  while (acceptor_.is_open()) {
    boost::system::error_code ec;
    asio::any_io_executor executor = options.connection_executor
                                         ? *options.connection_executor
                                         : asio::any_io_executor(asio::make_strand(context_));
    tcp::socket socket(executor);
    co_await acceptor_.async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted || !acceptor_.is_open())
      break;
    if (ec) {
      // Out of descriptors and the like: keep serving the connections there are.
      spdlog::warn("{}: accept failed: {}", options.name, ec.message());
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    spawn_logged(executor, serve_connection(std::move(socket), shared_),
                 options.name + " connection");
  }
}

void HttpServer::start() {
  spawn_logged(acceptor_.get_executor(), run(), shared_->options.name);
}

void HttpServer::close() {
  boost::system::error_code ec;
  acceptor_.close(ec);
}

}  // namespace x402proxy::net
