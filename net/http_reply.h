// Answers the proxy writes itself (errors, payment-required results), as complete HTTP responses.
#pragma once

#include <chrono>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/status.hpp>

namespace x402proxy::net {

// Writes a JSON (or text) response. Returns whether the connection can serve another request;
// `written`, when given, tells whether the whole response was written.
boost::asio::awaitable<bool> write_reply(boost::beast::tcp_stream& client,
                                         boost::beast::http::status status, std::string body,
                                         bool keep_alive, std::chrono::milliseconds write_timeout,
                                         const char* content_type = "application/json",
                                         bool* written = nullptr);

}  // namespace x402proxy::net
