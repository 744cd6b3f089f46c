#include "tests/support/test_http_server.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace x402proxy::testing {
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

struct TestHttpServer::Impl {
  net::io_context context;
  tcp::acceptor acceptor{context};
};

struct TestHttpServerAccess {
  static net::awaitable<void> sleep(std::chrono::milliseconds duration) {
    if (duration.count() <= 0)
      co_return;
    net::steady_timer timer(co_await net::this_coro::executor, duration);
    boost::system::error_code ec;
    co_await timer.async_wait(net::redirect_error(net::use_awaitable, ec));
  }

  static net::awaitable<void> session(TestHttpServer& server, tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    boost::system::error_code ec;
    while (true) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(64 * 1024 * 1024);
      co_await http::async_read(stream, buffer, parser,
                                net::redirect_error(net::use_awaitable, ec));
      if (ec)
        co_return;
      auto& request = parser.get();
      RecordedRequest recorded;
      recorded.method = std::string(request.method_string());
      recorded.target = std::string(request.target());
      for (const auto& field : request) {
        std::string name(field.name_string());
        for (auto& c : name)
          c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        recorded.headers[name] = std::string(field.value());
      }
      recorded.body = request.body();
      {
        std::lock_guard lock(server.mutex_);
        server.requests_.push_back(recorded);
      }
      TestResponse answer = server.handler_(recorded);
      co_await sleep(answer.delay);
      if (answer.hang_up)
        co_return;
      if (answer.chunks.empty()) {
        http::response<http::string_body> response{static_cast<http::status>(answer.status), 11};
        for (auto& [name, value] : answer.headers)
          response.set(name, value);
        response.body() = answer.body;
        response.keep_alive(request.keep_alive());
        response.prepare_payload();
        co_await http::async_write(stream, response, net::redirect_error(net::use_awaitable, ec));
        if (ec || !request.keep_alive())
          co_return;
        continue;
      }
      http::response<http::empty_body> head{static_cast<http::status>(answer.status), 11};
      for (auto& [name, value] : answer.headers)
        head.set(name, value);
      head.chunked(true);
      head.keep_alive(request.keep_alive());
      http::response_serializer<http::empty_body> serializer(head);
      co_await http::async_write_header(stream, serializer,
                                        net::redirect_error(net::use_awaitable, ec));
      if (ec)
        co_return;
      for (auto& [delay, piece] : answer.chunks) {
        co_await sleep(delay);
        if (piece.empty())
          co_return;  // an empty piece means: cut the stream here
        co_await net::async_write(stream, http::make_chunk(net::buffer(piece)),
                                  net::redirect_error(net::use_awaitable, ec));
        if (ec)
          co_return;
      }
      co_await net::async_write(stream, http::make_chunk_last(),
                                net::redirect_error(net::use_awaitable, ec));
      if (ec || !request.keep_alive())
        co_return;
    }
  }

  static net::awaitable<void> accept_loop(TestHttpServer& server) {
    while (true) {
      boost::system::error_code ec;
      tcp::socket socket =
          co_await server.impl_->acceptor.async_accept(net::redirect_error(net::use_awaitable, ec));
      if (ec)
        co_return;
      ++server.connections_;
      net::co_spawn(server.impl_->context, session(server, std::move(socket)), net::detached);
    }
  }
};

TestHttpServer::TestHttpServer(TestHandler handler)
    : impl_(std::make_unique<Impl>()), handler_(std::move(handler)) {
  tcp::endpoint endpoint(net::ip::make_address("127.0.0.1"), 0);
  impl_->acceptor.open(endpoint.protocol());
  impl_->acceptor.set_option(net::socket_base::reuse_address(true));
  impl_->acceptor.bind(endpoint);
  impl_->acceptor.listen();
  port_ = impl_->acceptor.local_endpoint().port();
  net::co_spawn(impl_->context, TestHttpServerAccess::accept_loop(*this), net::detached);
  thread_ = std::thread([this] { impl_->context.run(); });
}

TestHttpServer::~TestHttpServer() {
  impl_->context.stop();
  if (thread_.joinable())
    thread_.join();
}

void TestHttpServer::stop() {
  net::post(impl_->context, [this] {
    boost::system::error_code ec;
    impl_->acceptor.close(ec);
  });
}

std::vector<RecordedRequest> TestHttpServer::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

}  // namespace x402proxy::testing
