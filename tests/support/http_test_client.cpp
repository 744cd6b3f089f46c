#include "tests/support/http_test_client.h"

#include <array>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace x402proxy::testing {
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

HttpReply http_request(unsigned short port, const std::string& method, const std::string& target,
                       const std::string& body, const Headers& headers,
                       std::chrono::milliseconds timeout) {
  HttpReply reply;
  net::io_context context;
  beast::tcp_stream stream(context);
  beast::error_code ec;
  stream.expires_after(timeout);
  stream.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port), ec);
  if (ec) {
    reply.error = "connect: " + ec.message();
    return reply;
  }
  http::request<http::string_body> request{http::string_to_verb(method), target, 11};
  request.method_string(method);
  request.set(http::field::host, "127.0.0.1:" + std::to_string(port));
  for (const auto& [name, value] : headers)
    request.set(name, value);
  request.body() = body;
  if (!body.empty() || method == "POST")
    request.prepare_payload();
  http::write(stream, request, ec);
  if (ec) {
    reply.error = "write: " + ec.message();
    return reply;
  }
  beast::flat_buffer buffer;
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(boost::none);
  http::read_header(stream, buffer, parser, ec);
  if (ec) {
    reply.error = "read header: " + ec.message();
    return reply;
  }
  reply.status = parser.get().result_int();
  for (const auto& field : parser.get()) {
    std::string name(field.name_string());
    for (auto& c : name)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    reply.headers[name] = std::string(field.value());
  }
  std::array<char, 8192> chunk;
  while (!parser.is_done()) {
    parser.get().body().data = chunk.data();
    parser.get().body().size = chunk.size();
    http::read_some(stream, buffer, parser, ec);
    if (ec == http::error::need_buffer)
      ec = {};
    if (ec) {
      reply.error = "read body: " + ec.message();
      return reply;
    }
    std::size_t got = chunk.size() - parser.get().body().size;
    if (got == 0)
      continue;
    reply.body.append(chunk.data(), got);
    reply.pieces.emplace_back(std::chrono::steady_clock::now(), std::string(chunk.data(), got));
  }
  return reply;
}

std::string raw_exchange(unsigned short port, const std::string& bytes,
                         std::chrono::milliseconds timeout) {
  net::io_context context;
  beast::tcp_stream stream(context);
  beast::error_code ec;
  stream.expires_after(timeout);
  stream.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port), ec);
  if (ec)
    return "";
  net::write(stream.socket(), net::buffer(bytes), ec);
  std::string out;
  std::array<char, 4096> chunk;
  while (true) {
    std::size_t n = stream.read_some(net::buffer(chunk), ec);
    out.append(chunk.data(), n);
    if (ec)
      break;
  }
  return out;
}

HttpReply mcp_post(unsigned short port, const std::string& body, Headers extra) {
  Headers headers = {{"Content-Type", "application/json"},
                     {"Accept", "application/json, text/event-stream"}};
  headers.insert(headers.end(), extra.begin(), extra.end());
  return http_request(port, "POST", "/mcp", body, headers);
}

}  // namespace x402proxy::testing
