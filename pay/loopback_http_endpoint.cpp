#include "pay/loopback_http_endpoint.h"

#include <deque>

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/chunk_encode.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/serialize.hpp>

#include "mcp/jsonrpc_reply.h"
#include "net/acceptor.h"
#include "x402/strict_json.h"

namespace x402proxy::pay {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;

namespace {

constexpr std::size_t kBodyLimit = 4 * 1024 * 1024;
constexpr auto kReadTimeout = std::chrono::seconds(30);
constexpr auto kWriteTimeout = std::chrono::seconds(30);

// Messages for one POST's SSE stream, produced by the forwarder and consumed by the writer.
struct MessageQueue {
  explicit MessageQueue(asio::any_io_executor executor) : wake(executor) {}
  void push(std::string message) {
    messages.push_back(std::move(message));
    wake.cancel();
  }
  void finish() {
    done = true;
    wake.cancel();
  }
  std::deque<std::string> messages;
  bool done = false;
  asio::steady_timer wake;
};

http::response<http::string_body> plain_answer(unsigned version, http::status status,
                                               std::string body, bool keep_alive,
                                               const char* content_type = "application/json") {
  http::response<http::string_body> response{status, version};
  response.set(http::field::content_type, content_type);
  response.body() = std::move(body);
  response.keep_alive(keep_alive);
  response.prepare_payload();
  return response;
}

std::string rpc_error_body(int code, const std::string& message) {
  return mcp::jsonrpc_error(nullptr, code, message);
}

}  // namespace

Result<std::unique_ptr<LoopbackHttpEndpoint>> LoopbackHttpEndpoint::bind(
    asio::io_context& context, const std::string& address, PayingForwarder& forwarder) {
  net::HttpServerOptions options;
  options.body_limit = kBodyLimit;
  options.keep_alive_timeout = kReadTimeout;
  options.read_timeout = kReadTimeout;
  options.write_timeout = kWriteTimeout;
  options.name = "pay endpoint";
  std::unique_ptr<LoopbackHttpEndpoint> endpoint(new LoopbackHttpEndpoint(forwarder));
  net::HttpServerHandlers handlers;
  LoopbackHttpEndpoint* self = endpoint.get();  // outlives its server, which it owns
  handlers.on_request = [self](beast::tcp_stream& stream, net::HttpRequest& request,
                               const std::string&) { return self->answer(stream, request); };
  handlers.read_failure_body = [](net::ReadFailure failure,
                                  std::string_view) -> std::optional<std::string> {
    if (failure == net::ReadFailure::body_too_large)
      return rpc_error_body(-32600, "request body larger than 4 MiB");
    return std::nullopt;  // closed, timed out or garbled: nothing more to say on it
  };
  auto server = net::HttpServer::bind(context, address, std::move(options), std::move(handlers));
  if (!server.ok())
    return server.error();
  endpoint->server_ = std::move(server).value();
  return endpoint;
}

asio::awaitable<bool> LoopbackHttpEndpoint::answer(beast::tcp_stream& stream,
                                                   net::HttpRequest& request) {
  {
    boost::system::error_code ec;
    const bool keep_alive = request.keep_alive();
    const unsigned version = request.version();
    stream.expires_after(kWriteTimeout);

    if (request.method() == http::verb::get || request.method() == http::verb::delete_) {
      // No server stream of our own; DELETE ends nothing a local client owns.
      auto answer = request.method() == http::verb::get
                        ? plain_answer(version, http::status::method_not_allowed, "", keep_alive)
                        : plain_answer(version, http::status::ok, "", keep_alive);
      if (request.method() == http::verb::get)
        answer.set(http::field::allow, "POST, DELETE");
      co_await http::async_write(stream, answer, asio::redirect_error(asio::use_awaitable, ec));
      co_return !ec && keep_alive;
    }
    if (request.method() != http::verb::post) {
      auto answer = plain_answer(version, http::status::method_not_allowed, "", keep_alive);
      answer.set(http::field::allow, "POST, GET, DELETE");
      co_await http::async_write(stream, answer, asio::redirect_error(asio::use_awaitable, ec));
      co_return !ec && keep_alive;
    }
    auto parsed = x402::parse_strict_json(request.body());
    if (!parsed.ok()) {
      auto answer = plain_answer(version, http::status::bad_request,
                                 rpc_error_body(-32700, "parse error: " + parsed.error().message),
                                 keep_alive);
      co_await http::async_write(stream, answer, asio::redirect_error(asio::use_awaitable, ec));
      co_return !ec && keep_alive;
    }
    const bool is_request = parsed->is_object() && parsed->get_object().contains("method") &&
                            parsed->get_object().contains("id");
    auto queue = std::make_shared<MessageQueue>(stream.get_executor());
    PayingForwarder::ClientWriter writer = [queue](std::string m) { queue->push(std::move(m)); };
    if (!is_request) {
      co_await forwarder_.handle(std::move(request.body()), std::move(parsed).value(), writer);
      auto answer = plain_answer(version, http::status::accepted, "", keep_alive);
      co_await http::async_write(stream, answer, asio::redirect_error(asio::use_awaitable, ec));
      co_return !ec && keep_alive;
    }
    asio::co_spawn(stream.get_executor(),
                   forwarder_.handle(std::move(request.body()), std::move(parsed).value(), writer),
                   [queue](std::exception_ptr) { queue->finish(); });
    // The answer is an SSE stream: each message as its own event, the moment it is ready.
    http::response<http::empty_body> head{http::status::ok, version};
    head.set(http::field::content_type, "text/event-stream");
    head.set(http::field::cache_control, "no-cache");
    head.chunked(true);
    head.keep_alive(keep_alive);
    http::response_serializer<http::empty_body> serializer(head);
    co_await http::async_write_header(stream, serializer,
                                      asio::redirect_error(asio::use_awaitable, ec));
    while (!ec) {
      if (queue->messages.empty()) {
        if (queue->done)
          break;
        queue->wake.expires_after(std::chrono::hours(1));
        boost::system::error_code wait_ec;
        co_await queue->wake.async_wait(asio::redirect_error(asio::use_awaitable, wait_ec));
        continue;
      }
      std::string event = "event: message\ndata: " + queue->messages.front() + "\n\n";
      queue->messages.pop_front();
      stream.expires_after(kWriteTimeout);
      co_await asio::async_write(stream, http::make_chunk(asio::buffer(event)),
                                 asio::redirect_error(asio::use_awaitable, ec));
    }
    if (!ec) {
      co_await asio::async_write(stream, http::make_chunk_last(),
                                 asio::redirect_error(asio::use_awaitable, ec));
    }
    co_return !ec && keep_alive;
  }
}

}  // namespace x402proxy::pay
