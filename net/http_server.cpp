#include "net/http_server.h"

#include <spdlog/spdlog.h>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
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

// Framing faults found once the header is read; answered, then the connection ends.
enum class framing_error { ambiguous = 1, expectation };

class FramingCategory final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "http framing"; }
  std::string message(int value) const override {
    return value == static_cast<int>(framing_error::ambiguous) ? "ambiguous framing"
                                                               : "unsupported expectation";
  }
};

const boost::system::error_category& framing_category() {
  static const FramingCategory category;
  return category;
}

boost::system::error_code make_error_code(framing_error e) {
  return {static_cast<int>(e), framing_category()};
}

bool operator==(const boost::system::error_code& ec, framing_error e) {
  return ec == make_error_code(e);
}

// RFC 9112 §6.1 and §6.3: a request whose body length is not told by exactly one unambiguous
// means is refused (400), since a peer may frame it differently and find a second request in
// its body (request smuggling). Accepted: no Transfer-Encoding, or one that is exactly "chunked"
// with no Content-Length. Returns what is wrong, or "".
std::string framing_fault(const HttpRequest& header) {
  const auto codings = header.count(http::field::transfer_encoding);
  if (codings == 0)
    return "";
  if (codings > 1)
    return "more than one Transfer-Encoding header";
  if (header.count(http::field::content_length) != 0)
    return "both Transfer-Encoding and Content-Length";
  std::string_view coding = header[http::field::transfer_encoding];
  while (!coding.empty() && (coding.front() == ' ' || coding.front() == '\t'))
    coding.remove_prefix(1);
  while (!coding.empty() && (coding.back() == ' ' || coding.back() == '\t'))
    coding.remove_suffix(1);
  if (!beast::iequals(coding, "chunked"))
    return "Transfer-Encoding \"" + std::string(coding) + "\" (only \"chunked\" is accepted)";
  if (header.version() < 11)
    return "Transfer-Encoding in an HTTP/1.0 request";
  return "";
}

// Reads one request. An idle keep-alive connection may wait `keep_alive_timeout` for its first
// byte; from that byte on, header and body together must arrive within `read_timeout` (a client
// sending its header a byte a second is cut there, not at the idle timeout). A timer cancels
// the read rather than the stream's own expiry, which would close the socket before a slow
// client could be told 408. Framing is checked once the header is in; `Expect: 100-continue`
// is answered here (serve and the others hold the whole body before acting, so the interim
// answer is ours to give and the header goes no further).
asio::awaitable<boost::system::error_code> read_request(
    beast::tcp_stream& stream, beast::flat_buffer& buffer,
    http::request_parser<http::string_body>& parser, const HttpServerOptions& options,
    std::string& fault) {
  boost::system::error_code ec;
  bool timed_out = false;
  asio::steady_timer timer(stream.get_executor());
  auto on_deadline = [&stream, &timed_out](const boost::system::error_code& wait_error) {
    if (wait_error)
      return;  // cancelled: the request arrived in time
    timed_out = true;
    boost::system::error_code ignored;
    stream.socket().cancel(ignored);
  };
  stream.expires_never();
  if (buffer.size() == 0) {
    timer.expires_after(options.keep_alive_timeout);
    timer.async_wait(on_deadline);
    const std::size_t got = co_await stream.socket().async_read_some(
        buffer.prepare(4096), asio::redirect_error(asio::use_awaitable, ec));
    buffer.commit(got);
    timer.cancel();
    if (timed_out)
      ec = beast::error::timeout;
    if (ec == asio::error::eof)
      ec = http::error::end_of_stream;
    if (ec)
      co_return ec;
    timed_out = false;
  }
  timer.expires_after(options.read_timeout);
  timer.async_wait(on_deadline);
  co_await http::async_read_header(stream, buffer, parser,
                                   asio::redirect_error(asio::use_awaitable, ec));
  if (!ec) {
    fault = framing_fault(parser.get());
    if (!fault.empty())
      ec = make_error_code(framing_error::ambiguous);
  }
  if (!ec && parser.get().count(http::field::expect) != 0) {
    HttpRequest& header = parser.get();
    const std::string_view expect = header[http::field::expect];
    if (header.count(http::field::expect) > 1 || !beast::iequals(expect, "100-continue")) {
      fault = "Expect: " + std::string(expect) + " (only 100-continue is understood)";
      ec = make_error_code(framing_error::expectation);
    } else {
      header.erase(http::field::expect);
      if (!parser.is_done() && header.version() >= 11) {
        static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
        co_await asio::async_write(stream.socket(), asio::buffer(kContinue),
                                   asio::redirect_error(asio::use_awaitable, ec));
      }
    }
  }
  if (!ec && !parser.is_done()) {
    co_await http::async_read(stream, buffer, parser,
                              asio::redirect_error(asio::use_awaitable, ec));
  }
  timer.cancel();
  if (timed_out)
    ec = beast::error::timeout;
  co_return ec;
}

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
    std::string framing_fault;
    ec = co_await read_request(stream, buffer, parser, options, framing_fault);
    if (ec) {
      // The few expected endings (the peer closed, an idle connection timed out) are told
      // apart from requests that deserve an answer, in this one place.
      std::optional<ReadFailure> failure;
      http::status status = http::status::bad_request;
      std::string detail = ec.message();
      if (ec == http::error::header_limit) {
        failure = ReadFailure::header_too_large;
        status = http::status::request_header_fields_too_large;
      } else if (ec == http::error::body_limit) {
        failure = ReadFailure::body_too_large;
        status = http::status::payload_too_large;
      } else if (ec == beast::error::timeout && parser.got_some()) {
        failure = ReadFailure::too_slow;
        status = http::status::request_timeout;
      } else if (ec == framing_error::ambiguous) {
        failure = ReadFailure::bad_framing;
        detail = framing_fault;
      } else if (ec == framing_error::expectation) {
        failure = ReadFailure::expectation_failed;
        status = http::status::expectation_failed;
        detail = framing_fault;
      } else if (ec != http::error::end_of_stream && ec != beast::error::timeout &&
                 ec != asio::error::eof && ec != asio::error::connection_reset &&
                 parser.got_some()) {
        failure = ReadFailure::malformed;
      }
      if (failure && handlers.read_failure_body) {
        if (auto body = handlers.read_failure_body(*failure, detail))
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
