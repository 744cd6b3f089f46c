#include "net/http_client.h"

#include "net/url.h"

#include <poll.h>

#include <openssl/ssl.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

namespace x402proxy::net {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

struct HttpClient::Connection {
  explicit Connection(asio::any_io_executor executor) : plain(executor) {}
  beast::tcp_stream plain;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream&>> tls;
  beast::flat_buffer buffer;
  Clock::time_point idle_since{};
};

const char* to_string(HttpFailure failure) {
  switch (failure) {
    case HttpFailure::not_sent:
      return "http.not_sent";
    case HttpFailure::timeout:
      return "http.timeout";
    case HttpFailure::unreachable:
      return "http.unreachable";
    case HttpFailure::too_large:
      return "http.too_large";
    case HttpFailure::stopped:
      return "http.stopped";
  }
  return "http.unreachable";
}

namespace {

HttpError failure(const boost::system::error_code& ec, const std::string& what) {
  if (ec == beast::error::timeout)
    return HttpError(HttpFailure::timeout, what + ": no answer within the budget");
  return HttpError(HttpFailure::unreachable, what + ": " + ec.message());
}

template <class Stream>
asio::awaitable<HttpResult> exchange(Stream& stream, beast::flat_buffer& buffer,
                                     http::request<http::string_body>& request,
                                     std::size_t max_bytes, bool& reusable, bool& answered) {
  boost::system::error_code ec;
  co_await http::async_write(stream, request, asio::redirect_error(asio::use_awaitable, ec));
  if (ec)
    co_return failure(ec, "sending the request");
  http::response_parser<http::string_body> parser;
  parser.body_limit(max_bytes);
  co_await http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
  answered = parser.got_some();
  if (ec == http::error::body_limit) {
    co_return HttpError(HttpFailure::too_large,
                        "answer larger than " + std::to_string(max_bytes) + " bytes");
  }
  if (ec)
    co_return failure(ec, "reading the answer");
  reusable = parser.get().keep_alive();
  co_return HttpResponse{parser.get().result_int(), std::move(parser.get().body())};
}

template <class Stream>
asio::awaitable<Result<Ok, HttpError>> exchange_streaming(
    Stream& stream, beast::tcp_stream& lowest, beast::flat_buffer& buffer,
    http::request<http::string_body>& request, Clock::time_point deadline,
    std::chrono::milliseconds idle, const HttpStreamHandler& handler, bool& reusable) {
  boost::system::error_code ec;
  lowest.expires_at(deadline);
  co_await http::async_write(stream, request, asio::redirect_error(asio::use_awaitable, ec));
  if (ec)
    co_return failure(ec, "sending the request");
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(boost::none);  // the handler bounds what it keeps
  lowest.expires_at(deadline);
  co_await http::async_read_header(stream, buffer, parser,
                                   asio::redirect_error(asio::use_awaitable, ec));
  if (ec)
    co_return failure(ec, "reading the answer");
  if (auto s = handler.on_head(parser.get().base()); !s.ok())
    co_return HttpError(HttpFailure::stopped, s.error().message);
  char piece[16 * 1024];
  while (!parser.is_done()) {
    parser.get().body().data = piece;
    parser.get().body().size = sizeof piece;
    lowest.expires_at(std::min(deadline, Clock::now() + idle));
    co_await http::async_read_some(stream, buffer, parser,
                                   asio::redirect_error(asio::use_awaitable, ec));
    if (ec == http::error::need_buffer)
      ec = {};
    if (ec)
      co_return failure(ec, "reading the answer");
    const std::size_t got = sizeof piece - parser.get().body().size;
    if (got > 0) {
      if (auto s = handler.on_body(std::string_view(piece, got)); !s.ok())
        co_return HttpError(HttpFailure::stopped, s.error().message);
    }
  }
  reusable = parser.get().keep_alive();
  co_return Ok{};
}

}  // namespace

bool idle_connection_usable(tcp::socket& socket) {
  if (!socket.is_open())
    return false;
  pollfd watched{socket.native_handle(), POLLIN | POLLRDHUP, 0};
  if (::poll(&watched, 1, 0) < 0)
    return false;
  return (watched.revents & (POLLIN | POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) == 0;
}

HttpClient::HttpClient(asio::any_io_executor executor, HttpClientOptions options)
    : executor_(std::move(executor)), options_(options), tls_context_(ssl::context::tls_client) {}

HttpClient::~HttpClient() = default;

Result<std::shared_ptr<HttpClient>> HttpClient::create(asio::any_io_executor executor,
                                                       const std::string& base_url,
                                                       HttpClientOptions options) {
  std::shared_ptr<HttpClient> client(new HttpClient(std::move(executor), options));
  auto url = parse_http_url(base_url);
  if (!url.ok())
    return make_error("http.url", url.error().message);
  std::string prefix = url->path;
  while (!prefix.empty() && prefix.back() == '/')
    prefix.pop_back();  // avoids "//verify"
  client->tls_ = url->tls;
  client->host_ = url->host;
  client->host_header_ = url->host_for_header();
  client->port_ = url->port;
  client->prefix_ = prefix;
  client->query_ = url->query;
  client->base_url_ = base_url;
  if (client->tls_) {
    boost::system::error_code ec;
    client->tls_context_.set_default_verify_paths(ec);
    client->tls_context_.set_verify_mode(options.tls_verify ? ssl::verify_peer : ssl::verify_none);
    if (options.tls_verify) {
      client->tls_context_.set_verify_callback(ssl::host_name_verification(client->host_));
    }
  }
  return client;
}

std::unique_ptr<HttpClient::Connection> HttpClient::take_idle() {
  std::lock_guard lock(mutex_);
  const auto now = Clock::now();
  while (!idle_.empty()) {
    auto connection = std::move(idle_.back());
    idle_.pop_back();
    if (now - connection->idle_since < options_.max_idle_age &&
        idle_connection_usable(connection->plain.socket())) {
      return connection;
    }
  }
  return nullptr;
}

void HttpClient::give_back(std::unique_ptr<Connection> connection) {
  connection->idle_since = Clock::now();
  connection->plain.expires_never();
  std::lock_guard lock(mutex_);
  if (idle_.size() < options_.max_idle_connections)
    idle_.push_back(std::move(connection));
}

asio::awaitable<Result<std::unique_ptr<HttpClient::Connection>, HttpError>> HttpClient::connect(
    Clock::time_point deadline) {
  boost::system::error_code ec;
  tcp::resolver resolver(executor_);
  auto endpoints =
      co_await resolver.async_resolve(host_, port_, asio::redirect_error(asio::use_awaitable, ec));
  if (ec)
    co_return failure(ec, "resolving " + host_);
  auto connection = std::make_unique<Connection>(executor_);
  connection->plain.expires_at(deadline);
  co_await connection->plain.async_connect(endpoints,
                                           asio::redirect_error(asio::use_awaitable, ec));
  if (ec)
    co_return failure(ec, "connecting to " + host_ + ":" + port_);
  if (tls_) {
    connection->tls =
        std::make_unique<beast::ssl_stream<beast::tcp_stream&>>(connection->plain, tls_context_);
    if (!SSL_set_tlsext_host_name(connection->tls->native_handle(), host_.c_str())) {
      co_return HttpError(HttpFailure::unreachable, "cannot set TLS server name " + host_);
    }
    co_await connection->tls->async_handshake(ssl::stream_base::client,
                                              asio::redirect_error(asio::use_awaitable, ec));
    if (ec)
      co_return failure(ec, "TLS handshake with " + host_);
  }
  co_return std::move(connection);
}

http::request<http::string_body> HttpClient::make_request(
    http::verb method, const std::string& path, std::string body,
    std::vector<std::pair<std::string, std::string>> headers) const {
  std::string target = prefix_ + path;
  if (target.empty())
    target = "/";  // a JSON-RPC node at the URL's root
  if (!query_.empty())
    target += "?" + query_;  // a node URL's key (https://node.example/?api-key=...)
  http::request<http::string_body> request{method, target, 11};
  request.set(http::field::host, host_header_);
  request.set(http::field::user_agent, "x402-mcp-proxy");
  request.set(http::field::accept, "application/json");
  for (auto& [name, value] : headers)
    request.set(name, value);
  if (method != http::verb::get && method != http::verb::delete_) {
    request.set(http::field::content_type, "application/json");
    request.body() = std::move(body);
    request.prepare_payload();
  }
  request.keep_alive(true);
  return request;
}

asio::awaitable<HttpResult> HttpClient::request(
    http::verb method, const std::string& path, std::string body,
    std::vector<std::pair<std::string, std::string>> headers, std::chrono::milliseconds budget,
    bool retry_stale) {
  const auto deadline = Clock::now() + budget;
  auto request = make_request(method, path, std::move(body), std::move(headers));

  for (int attempt = 0; attempt < 2; ++attempt) {
    std::unique_ptr<Connection> connection = take_idle();
    const bool reused = connection != nullptr;
    if (!connection) {
      auto connected = co_await connect(deadline);
      if (!connected.ok()) {
        // Nothing was sent: a caller may treat the call as never made.
        co_return HttpError(HttpFailure::not_sent, connected.error().message);
      }
      connection = std::move(connected).value();
    }
    connection->plain.expires_at(deadline);
    bool reusable = false;
    bool answered = false;
    // (No co_await inside ?: — GCC 12 destroys the temporaries of such expressions twice.)
    HttpResult result = HttpError(HttpFailure::unreachable, "not sent");
    if (connection->tls) {
      result = co_await exchange(*connection->tls, connection->buffer, request,
                                 options_.max_response_bytes, reusable, answered);
    } else {
      result = co_await exchange(connection->plain, connection->buffer, request,
                                 options_.max_response_bytes, reusable, answered);
    }
    if (result.ok()) {
      if (reusable)
        give_back(std::move(connection));
      co_return result;
    }
    // A keep-alive connection the server closed while idle fails before any answer; only then,
    // and only for idempotent calls, is a second attempt safe.
    const bool stale = reused && !answered && result.error().kind == HttpFailure::unreachable;
    if (!(stale && retry_stale && Clock::now() < deadline))
      co_return result;
  }
  co_return HttpError(HttpFailure::unreachable, "no usable connection to " + host_);
}

asio::awaitable<Result<Ok, HttpError>> HttpClient::stream(
    http::verb method, const std::string& path, std::string body,
    std::vector<std::pair<std::string, std::string>> headers, Clock::time_point deadline,
    std::chrono::milliseconds idle, const HttpStreamHandler& handler, bool& sent) {
  sent = false;
  auto request = make_request(method, path, std::move(body), std::move(headers));
  std::unique_ptr<Connection> connection = take_idle();
  if (!connection) {
    auto connected = co_await connect(deadline);
    if (!connected.ok())
      co_return connected.error();
    connection = std::move(connected).value();
  }
  sent = true;
  bool reusable = false;
  Result<Ok, HttpError> result = Ok{};
  if (connection->tls) {
    result = co_await exchange_streaming(*connection->tls, connection->plain, connection->buffer,
                                         request, deadline, idle, handler, reusable);
  } else {
    result = co_await exchange_streaming(connection->plain, connection->plain, connection->buffer,
                                         request, deadline, idle, handler, reusable);
  }
  if (result.ok() && reusable)
    give_back(std::move(connection));
  co_return result;
}

}  // namespace x402proxy::net
