// Answers the proxy writes itself (errors, payment-required results), as complete HTTP responses.
#pragma once

#include <chrono>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>

namespace x402proxy::net {

// Writes a JSON (or text) response. Returns whether the connection can serve another request;
// `written`, when given, tells whether the whole response was written.
boost::asio::awaitable<bool> write_reply(boost::beast::tcp_stream& client,
                                         boost::beast::http::status status, std::string body,
                                         bool keep_alive, std::chrono::milliseconds write_timeout,
                                         const char* content_type = "application/json",
                                         bool* written = nullptr);

// Writes a response the caller built (extra headers such as Allow); same return.
boost::asio::awaitable<bool> write_response(
    boost::beast::tcp_stream& client,
    boost::beast::http::response<boost::beast::http::string_body> response,
    std::chrono::milliseconds write_timeout);

}  // namespace x402proxy::net
