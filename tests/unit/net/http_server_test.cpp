#include "net/http_server.h"

#include <atomic>
#include <stdexcept>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include "net/http_reply.h"
#include "tests/support/http_test_client.h"

namespace asio = boost::asio;
namespace http = boost::beast::http;
using namespace x402proxy;
using testing::get;
using testing::post;
using testing::raw_exchange;

namespace {

// A server on its own thread, for the blocking test client.
class RunningServer {
 public:
  RunningServer(net::HttpServerOptions options, net::HttpServerHandlers handlers) {
    auto bound =
        net::HttpServer::bind(context_, "127.0.0.1:0", std::move(options), std::move(handlers));
    REQUIRE(bound.ok());
    server_ = std::move(bound).value();
    server_->start();
    thread_ = std::thread([this] { context_.run(); });
  }
  ~RunningServer() {
    asio::post(context_, [this] { server_->close(); });
    context_.stop();
    thread_.join();
  }
  unsigned short port() const { return server_->local_endpoint().port(); }

 private:
  asio::io_context context_;
  std::unique_ptr<net::HttpServer> server_;
  std::thread thread_;
};

net::HttpServerHandlers echo_handlers() {
  net::HttpServerHandlers handlers;
  handlers.on_request = [](boost::beast::tcp_stream& stream, net::HttpRequest& request,
                           const std::string&) -> asio::awaitable<bool> {
    return net::write_reply(stream, http::status::ok, "{\"echo\":\"" + request.body() + "\"}",
                            request.keep_alive(), std::chrono::seconds(5));
  };
  handlers.read_failure_body = [](net::ReadFailure failure,
                                  std::string_view) -> std::optional<std::string> {
    switch (failure) {
      case net::ReadFailure::header_too_large:
        return std::string("{\"error\":\"headers\"}");
      case net::ReadFailure::body_too_large:
        return std::string("{\"error\":\"body\"}");
      case net::ReadFailure::too_slow:
        return std::string("{\"error\":\"slow\"}");
      case net::ReadFailure::malformed:
        return std::string("{\"error\":\"malformed\"}");
      case net::ReadFailure::bad_framing:
        return std::string("{\"error\":\"framing\"}");
      case net::ReadFailure::expectation_failed:
        return std::string("{\"error\":\"expectation\"}");
    }
    return std::nullopt;
  };
  return handlers;
}

}  // namespace

TEST_CASE("the server loop hands each request to its handler and keeps the connection",
          "[http_server]") {
  RunningServer server({}, echo_handlers());
  auto reply = post(server.port(), "/x", "hi");
  CHECK(reply.status == 200);
  CHECK(reply.body == R"({"echo":"hi"})");
  // Two requests on one connection, both answered.
  std::string two = raw_exchange(server.port(),
                                 "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\na"
                                 "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
                                 "Connection: close\r\n\r\nb",
                                 std::chrono::seconds(5));
  CHECK(two.find(R"({"echo":"a"})") != std::string::npos);
  CHECK(two.find(R"({"echo":"b"})") != std::string::npos);
}

TEST_CASE("requests over a limit, too slow or malformed get the server's own answer",
          "[http_server]") {
  net::HttpServerOptions options;
  options.body_limit = 16;
  options.header_limit = 256;
  options.read_timeout = std::chrono::milliseconds(300);
  RunningServer server(options, echo_handlers());
  auto large = post(server.port(), "/", std::string(100, 'x'));
  CHECK(large.status == 413);
  CHECK(large.body == R"({"error":"body"})");
  auto headers = get(server.port(), "/", {{"X-Long", std::string(1000, 'h')}});
  CHECK(headers.status == 431);
  CHECK(headers.body == R"({"error":"headers"})");
  std::string slow =
      raw_exchange(server.port(), "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab",
                   std::chrono::seconds(5));
  CHECK(slow.starts_with("HTTP/1.1 408"));
  CHECK(slow.find(R"({"error":"slow"})") != std::string::npos);
  std::string garbled =
      raw_exchange(server.port(), "NOT HTTP AT ALL\r\n\r\n", std::chrono::seconds(5));
  CHECK(garbled.starts_with("HTTP/1.1 400"));
}

TEST_CASE("a connection refused on open gets 503, an escaping exception ends only its connection",
          "[http_server]") {
  std::atomic<int> open{0};
  std::atomic<int> closed{0};
  net::HttpServerHandlers handlers = echo_handlers();
  handlers.on_open = [&open]() -> std::optional<std::string> {
    if (++open == 1)
      return std::string("{\"error\":\"full\"}");
    return std::nullopt;
  };
  handlers.on_close = [&closed] { ++closed; };
  auto echo = handlers.on_request;
  handlers.on_request = [echo](boost::beast::tcp_stream& stream, net::HttpRequest& request,
                               const std::string& peer) -> asio::awaitable<bool> {
    if (request.target() == "/throw")
      throw std::runtime_error("handler bug");
    return echo(stream, request, peer);
  };
  RunningServer server({}, std::move(handlers));
  auto refused = get(server.port(), "/");
  CHECK(refused.status == 503);
  CHECK(refused.body == R"({"error":"full"})");
  auto thrown = get(server.port(), "/throw");
  CHECK(thrown.status == 0);  // the connection ended without an answer
  auto after = post(server.port(), "/", "still");
  CHECK(after.status == 200);
  CHECK(after.body == R"({"echo":"still"})");
  CHECK(closed >= 2);
}
