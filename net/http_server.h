// The one HTTP/1.1 server loop of the project (serve and its admin port, the facilitator service,
// pay's loopback endpoint, the stdio bridge): accept, one coroutine per connection with every
// escaping exception logged (Beast's examples catch at co_spawn; `detached` swallows), requests
// read with header and body limits and deadlines, and each request handed to the server's own
// handler, which writes its answer. What a server answers is its own; how a request is read is
// the same everywhere.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "x402/result.h"

namespace x402proxy::net {

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;

struct HttpServerOptions {
  std::size_t body_limit = 4 * 1024 * 1024;
  std::size_t header_limit = 8 * 1024;  // Beast's default
  // Waiting for the next request on an idle keep-alive connection.
  std::chrono::milliseconds keep_alive_timeout{std::chrono::seconds(30)};
  // The rest of a request once its first bytes arrived.
  std::chrono::milliseconds read_timeout{std::chrono::seconds(30)};
  std::chrono::milliseconds write_timeout{std::chrono::seconds(30)};  // the answers written here
  // Every connection on this executor (a strand a server's state lives on) instead of a strand
  // of its own.
  std::optional<boost::asio::any_io_executor> connection_executor;
  std::string name = "http server";  // in log lines
};

// Why a request could not be read; the server answers it with 431, 413, 408, 400 (malformed,
// or framing that a peer could read differently: RFC 9112 §6.3) or 417 (an Expect other than
// 100-continue).
enum class ReadFailure {
  header_too_large,
  body_too_large,
  too_slow,
  malformed,
  bad_framing,
  expectation_failed
};

struct HttpServerHandlers {
  // One request: writes the answer and says whether the connection may carry another.
  std::function<boost::asio::awaitable<bool>(boost::beast::tcp_stream& stream, HttpRequest& request,
                                             const std::string& peer)>
      on_request;
  // The JSON body of the answer to a request that could not be read (`detail` says what went
  // wrong); nullopt, or no function, closes the connection without an answer.
  std::function<std::optional<std::string>(ReadFailure failure, std::string_view detail)>
      read_failure_body;
  // A connection opens, before anything is read: a body refuses it with 503 (a connection
  // limit). on_close runs when any connection on_open saw ends.
  std::function<std::optional<std::string>()> on_open;
  std::function<void()> on_close;
};

class HttpServer {
 public:
  // Binds "host:port" / "[v6]:port" (port 0 picks a free one; local_endpoint() tells which).
  // Reasons "listen.address", "listen.bind".
  static Result<std::unique_ptr<HttpServer>> bind(boost::asio::io_context& context,
                                                  const std::string& address,
                                                  HttpServerOptions options,
                                                  HttpServerHandlers handlers);
  ~HttpServer();

  boost::asio::ip::tcp::endpoint local_endpoint() const { return local_; }
  // Accepts until close(); connections already open go on to their end.
  boost::asio::awaitable<void> run();
  // Starts run() on the acceptor's executor.
  void start();
  void close();

  struct Shared;  // what the connections share with the server (http_server.cpp)

 private:
  HttpServer(boost::asio::io_context& context, boost::asio::ip::tcp::acceptor acceptor,
             std::shared_ptr<const Shared> shared);

  boost::asio::io_context& context_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::ip::tcp::endpoint local_;
  std::shared_ptr<const Shared> shared_;
};

}  // namespace x402proxy::net
