#include "tests/support/test_http_server.h"

#include <array>
#include <cctype>
#include <future>
#include <list>
#include <stdexcept>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace x402proxy::testing {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// Declared so that destruction runs acceptor, then context (which destroys suspended sessions,
// and they unlink themselves from `live`), then `live`.
struct TestHttpServer::Impl {
  std::list<beast::tcp_stream*> live;  // open connections; touched on the I/O thread only
  asio::io_context context;
  // While the server is down (no acceptor, no connection) run() must still wait for work.
  asio::executor_work_guard<asio::io_context::executor_type> keep_running{context.get_executor()};
  tcp::acceptor acceptor{context};
};

struct TestHttpServerAccess {
  // Keeps the server's list of open connections right however the session coroutine ends.
  struct LiveConnection {
    std::list<beast::tcp_stream*>& live;
    std::atomic<std::size_t>& open;
    std::list<beast::tcp_stream*>::iterator at;
    LiveConnection(TestHttpServer& server, beast::tcp_stream& stream)
        : live(server.impl_->live),
          open(server.open_connections_),
          at(live.insert(live.end(), &stream)) {
      ++open;
    }
    ~LiveConnection() {
      live.erase(at);
      --open;
    }
    LiveConnection(const LiveConnection&) = delete;
    LiveConnection& operator=(const LiveConnection&) = delete;
  };

  static asio::awaitable<void> sleep(std::chrono::milliseconds duration) {
    if (duration.count() <= 0)
      co_return;
    asio::steady_timer timer(co_await asio::this_coro::executor, duration);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }

  static RecordedRequest record(const http::request<http::string_body>& request) {
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
    return recorded;
  }

  // Waits until the peer closes the connection (or kMaxHold passes, or the server closes it).
  static asio::awaitable<void> hold(beast::tcp_stream& stream) {
    stream.expires_after(TestHttpServer::kMaxHold);
    std::array<char, 512> sink;
    boost::system::error_code ec;
    while (!ec)
      co_await stream.async_read_some(asio::buffer(sink),
                                      asio::redirect_error(asio::use_awaitable, ec));
  }

  // Sends one answer; false when the connection must end after it.
  static asio::awaitable<bool> send(beast::tcp_stream& stream, const TestResponse& answer,
                                    bool keep_alive) {
    boost::system::error_code ec;
    if (answer.chunks.empty() && !answer.hold_open) {
      http::response<http::string_body> response{static_cast<http::status>(answer.status), 11};
      for (const auto& [name, value] : answer.headers)
        response.set(name, value);
      response.body() = answer.body;
      response.keep_alive(keep_alive);
      response.prepare_payload();
      stream.expires_after(TestHttpServer::kIoTimeout);
      co_await http::async_write(stream, response, asio::redirect_error(asio::use_awaitable, ec));
      co_return !ec && keep_alive;
    }
    http::response<http::empty_body> head{static_cast<http::status>(answer.status), 11};
    for (const auto& [name, value] : answer.headers)
      head.set(name, value);
    head.chunked(true);
    head.keep_alive(keep_alive);
    http::response_serializer<http::empty_body> serializer(head);
    stream.expires_after(TestHttpServer::kIoTimeout);
    co_await http::async_write_header(stream, serializer,
                                      asio::redirect_error(asio::use_awaitable, ec));
    if (ec)
      co_return false;
    for (const auto& [delay, piece] : answer.chunks) {
      co_await sleep(delay);
      if (piece.empty())
        co_return false;  // cut the stream here
      stream.expires_after(TestHttpServer::kIoTimeout);
      co_await asio::async_write(stream, http::make_chunk(asio::buffer(piece)),
                                 asio::redirect_error(asio::use_awaitable, ec));
      if (ec)
        co_return false;
    }
    if (answer.hold_open) {
      co_await hold(stream);
      co_return false;
    }
    stream.expires_after(TestHttpServer::kIoTimeout);
    co_await asio::async_write(stream, http::make_chunk_last(),
                               asio::redirect_error(asio::use_awaitable, ec));
    co_return !ec && keep_alive;
  }

  static asio::awaitable<void> session(TestHttpServer& server, tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    LiveConnection live(server, stream);
    beast::flat_buffer buffer;
    while (true) {
      boost::system::error_code ec;
      http::request_parser<http::string_body> parser;
      parser.body_limit(TestHttpServer::kBodyLimit);
      stream.expires_after(TestHttpServer::kIoTimeout);
      co_await http::async_read(stream, buffer, parser,
                                asio::redirect_error(asio::use_awaitable, ec));
      if (ec)
        co_return;
      const auto& request = parser.get();
      RecordedRequest recorded = record(request);
      if (server.recording_) {
        std::lock_guard lock(server.mutex_);
        server.requests_.push_back(recorded);
      }
      const TestResponse answer = server.handler_(recorded);
      co_await sleep(answer.delay);
      if (answer.hang_up)
        co_return;
      if (!co_await send(stream, answer, request.keep_alive()))
        co_return;
    }
  }

  static asio::awaitable<void> accept_loop(TestHttpServer& server) {
    while (true) {
      boost::system::error_code ec;
      tcp::socket socket = co_await server.impl_->acceptor.async_accept(
          asio::redirect_error(asio::use_awaitable, ec));
      if (ec)
        co_return;
      ++server.connections_;
      asio::co_spawn(server.impl_->context, session(server, std::move(socket)), asio::detached);
    }
  }

  static bool listen(TestHttpServer& server, unsigned short port) {
    boost::system::error_code ec;
    auto& acceptor = server.impl_->acceptor;
    tcp::endpoint endpoint(asio::ip::make_address(server.address_), port);
    acceptor.open(endpoint.protocol(), ec);
    if (!ec)
      acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec)
      acceptor.bind(endpoint, ec);
    if (!ec)
      acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      acceptor.close(ec);
      return false;
    }
    server.port_ = acceptor.local_endpoint().port();
    asio::co_spawn(server.impl_->context, accept_loop(server), asio::detached);
    return true;
  }

  static void close_all(TestHttpServer& server) {
    for (beast::tcp_stream* stream : server.impl_->live) {
      boost::system::error_code ec;
      stream->socket().shutdown(tcp::socket::shutdown_both, ec);
      stream->socket().close(ec);
    }
  }

  // Runs `work` on the server's I/O thread and waits for it (never call from a handler).
  template <typename Work>
  static void run_on_io(TestHttpServer& server, Work work) {
    std::promise<void> done;
    asio::post(server.impl_->context, [&] {
      work();
      done.set_value();
    });
    done.get_future().wait();
  }
};

TestHttpServer::TestHttpServer(TestHandler handler, unsigned short port, std::string address)
    : impl_(std::make_unique<Impl>()), address_(std::move(address)), handler_(std::move(handler)) {
  if (!TestHttpServerAccess::listen(*this, port))
    throw std::runtime_error("test HTTP server: cannot listen on " + address_ + ":" +
                             std::to_string(port));
  thread_ = std::thread([this] { impl_->context.run(); });
}

TestHttpServer::~TestHttpServer() {
  impl_->context.stop();
  if (thread_.joinable())
    thread_.join();
  impl_.reset();  // suspended sessions end here, while the members they touch still exist
}

void TestHttpServer::stop() {
  TestHttpServerAccess::run_on_io(*this, [this] {
    boost::system::error_code ec;
    impl_->acceptor.close(ec);
  });
}

void TestHttpServer::close_connections() {
  TestHttpServerAccess::run_on_io(*this, [this] { TestHttpServerAccess::close_all(*this); });
}

void TestHttpServer::stop_listening() {
  TestHttpServerAccess::run_on_io(*this, [this] {
    boost::system::error_code ec;
    impl_->acceptor.close(ec);
    TestHttpServerAccess::close_all(*this);
  });
}

bool TestHttpServer::resume_listening() {
  bool listening = false;
  TestHttpServerAccess::run_on_io(*this, [this, &listening] {
    listening = impl_->acceptor.is_open() || TestHttpServerAccess::listen(*this, port_);
  });
  return listening;
}

std::vector<RecordedRequest> TestHttpServer::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

}  // namespace x402proxy::testing
