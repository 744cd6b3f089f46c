#include "net/http_reply.h"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

namespace x402proxy::net {
namespace asio = boost::asio;
namespace http = boost::beast::http;

asio::awaitable<bool> write_reply(boost::beast::tcp_stream& client, http::status status,
                                  std::string body, bool keep_alive,
                                  std::chrono::milliseconds write_timeout, const char* content_type,
                                  bool* written) {
  http::response<http::string_body> response{status, 11};
  response.set(http::field::content_type, content_type);
  response.set(http::field::cache_control, "no-store");
  response.keep_alive(keep_alive);
  response.body() = std::move(body);
  response.prepare_payload();
  boost::system::error_code ec;
  client.expires_after(write_timeout);
  co_await http::async_write(client, response, asio::redirect_error(asio::use_awaitable, ec));
  if (written != nullptr)
    *written = !ec;
  co_return !ec && keep_alive;
}

asio::awaitable<bool> write_response(boost::beast::tcp_stream& client,
                                     http::response<http::string_body> response,
                                     std::chrono::milliseconds write_timeout) {
  response.set(http::field::cache_control, "no-store");
  const bool keep_alive = response.keep_alive();
  boost::system::error_code ec;
  client.expires_after(write_timeout);
  co_await http::async_write(client, response, asio::redirect_error(asio::use_awaitable, ec));
  co_return !ec && keep_alive;
}

}  // namespace x402proxy::net
