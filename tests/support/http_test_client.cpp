#include "tests/support/http_test_client.h"

#include <array>
#include <cctype>
#include <functional>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace x402proxy::testing {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

// Decides after each piece of body whether the caller has read enough.
using EnoughRead = std::function<bool(const HttpReply&)>;

std::string failure(const char* step, const beast::error_code& ec) {
  return std::string(step) + ": " + (ec == beast::error::timeout ? "timeout" : ec.message());
}

// One request on a fresh connection. The deadline covers connect, write and the whole read: the
// operations are asynchronous because Beast's stream timeouts apply to asynchronous ones only.
asio::awaitable<void> exchange_steps(beast::tcp_stream& stream, unsigned short port,
                                     http::request<http::string_body>& request,
                                     const EnoughRead& enough, HttpReply& reply, bool& ended) {
  beast::error_code ec;
  co_await stream.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                                asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    reply.error = failure("connect", ec);
    co_return;
  }
  co_await http::async_write(stream, request, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    reply.error = failure("write", ec);
    co_return;
  }
  beast::flat_buffer buffer;
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(kReplyBodyLimit);
  co_await http::async_read_header(stream, buffer, parser,
                                   asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    reply.error = failure("read header", ec);
    co_return;
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
    if (enough && enough(reply))
      co_return;  // the connection closes with `stream`
    parser.get().body().data = chunk.data();
    parser.get().body().size = chunk.size();
    co_await http::async_read_some(stream, buffer, parser,
                                   asio::redirect_error(asio::use_awaitable, ec));
    if (ec == http::error::need_buffer)
      ec = {};
    if (ec) {
      reply.error = failure("read body", ec);
      co_return;
    }
    const std::size_t got = chunk.size() - parser.get().body().size;
    if (got == 0)
      continue;
    reply.body.append(chunk.data(), got);
    reply.pieces.emplace_back(std::chrono::steady_clock::now(), std::string(chunk.data(), got));
  }
  ended = true;
}

HttpReply exchange(unsigned short port, const std::string& method, const std::string& target,
                   const std::string& body, const Headers& headers,
                   std::chrono::milliseconds timeout, const EnoughRead& enough, bool* ended) {
  http::request<http::string_body> request{http::string_to_verb(method), target, 11};
  request.method_string(method);
  request.set(http::field::host, "127.0.0.1:" + std::to_string(port));
  for (const auto& [name, value] : headers)
    request.set(name, value);
  request.body() = body;
  if (!body.empty() || method == "POST")
    request.prepare_payload();
  HttpReply reply;
  bool finished = false;
  asio::io_context context;
  beast::tcp_stream stream(context);
  stream.expires_after(timeout);
  asio::co_spawn(context, exchange_steps(stream, port, request, enough, reply, finished),
                 asio::detached);
  context.run();
  if (ended)
    *ended = finished;
  return reply;
}

asio::awaitable<void> raw_steps(beast::tcp_stream& stream, unsigned short port,
                                const std::string& bytes, std::string& out) {
  beast::error_code ec;
  co_await stream.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                                asio::redirect_error(asio::use_awaitable, ec));
  if (ec)
    co_return;
  co_await asio::async_write(stream, asio::buffer(bytes),
                             asio::redirect_error(asio::use_awaitable, ec));
  std::array<char, 4096> chunk;
  while (!ec && out.size() < kReplyBodyLimit) {
    const std::size_t n = co_await stream.async_read_some(
        asio::buffer(chunk), asio::redirect_error(asio::use_awaitable, ec));
    out.append(chunk.data(), n);
  }
}

// The time the byte at `offset` of the body arrived.
std::chrono::steady_clock::time_point arrival_of(const HttpReply& reply, std::size_t offset) {
  std::size_t end = 0;
  for (const auto& [when, piece] : reply.pieces) {
    end += piece.size();
    if (offset < end)
      return when;
  }
  return reply.pieces.empty() ? std::chrono::steady_clock::now() : reply.pieces.back().first;
}

}  // namespace

HttpReply http_request(unsigned short port, const std::string& method, const std::string& target,
                       const std::string& body, const Headers& headers,
                       std::chrono::milliseconds timeout) {
  return exchange(port, method, target, body, headers, timeout, nullptr, nullptr);
}

HttpReply post(unsigned short port, const std::string& target, const std::string& body,
               const Headers& headers, std::chrono::milliseconds timeout) {
  return http_request(port, "POST", target, body, headers, timeout);
}

HttpReply get(unsigned short port, const std::string& target, const Headers& headers,
              std::chrono::milliseconds timeout) {
  return http_request(port, "GET", target, {}, headers, timeout);
}

HttpReply del(unsigned short port, const std::string& target, const Headers& headers,
              std::chrono::milliseconds timeout) {
  return http_request(port, "DELETE", target, {}, headers, timeout);
}

std::string raw_exchange(unsigned short port, const std::string& bytes,
                         std::chrono::milliseconds timeout) {
  std::string out;
  asio::io_context context;
  beast::tcp_stream stream(context);
  stream.expires_after(timeout);
  asio::co_spawn(context, raw_steps(stream, port, bytes, out), asio::detached);
  context.run();
  return out;
}

HttpReply mcp_post(unsigned short port, const std::string& body, Headers extra) {
  Headers headers = {{"Content-Type", "application/json"},
                     {"Accept", "application/json, text/event-stream"}};
  headers.insert(headers.end(), extra.begin(), extra.end());
  return http_request(port, "POST", "/mcp", body, headers);
}

std::vector<SseEvent> sse_events(const HttpReply& reply) {
  std::vector<SseEvent> events;
  SseEvent current;
  bool has_field = false;
  bool has_data = false;
  const std::string& text = reply.body;
  std::size_t start = 0;
  while (start < text.size()) {
    // Lines end in CRLF, LF or CR.
    const std::size_t end = text.find_first_of("\r\n", start);
    if (end == std::string::npos)
      break;  // an unfinished line: the event is not complete yet
    const std::string line = text.substr(start, end - start);
    std::size_t next = end + 1;
    if (text[end] == '\r' && next < text.size() && text[next] == '\n')
      ++next;
    if (line.empty()) {
      if (has_field) {
        current.arrival = arrival_of(reply, end);
        events.push_back(current);
      }
      current = SseEvent{};
      has_field = has_data = false;
    } else if (line[0] != ':') {  // a line starting with ':' is a comment
      const std::size_t colon = line.find(':');
      const std::string field = line.substr(0, colon);
      std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
      if (!value.empty() && value[0] == ' ')
        value.erase(0, 1);
      if (field == "data") {
        current.data += (has_data ? "\n" : "") + value;
        has_data = true;
      } else if (field == "event") {
        current.event = value;
      } else if (field == "id") {
        current.id = value;
      }
      has_field = true;
    }
    start = next;
  }
  return events;
}

SseStream read_sse(unsigned short port, const std::string& method, const std::string& target,
                   const std::string& body, const Headers& headers, std::size_t max_events,
                   std::chrono::milliseconds timeout) {
  Headers with_accept = {
      {"Accept", method == "GET" ? "text/event-stream" : "application/json, text/event-stream"}};
  if (method == "POST")
    with_accept.emplace_back("Content-Type", "application/json");
  for (const auto& header : headers) {
    std::erase_if(with_accept,
                  [&](const auto& h) { return beast::iequals(h.first, header.first); });
  }
  with_accept.insert(with_accept.end(), headers.begin(), headers.end());
  SseStream stream;
  stream.reply = exchange(
      port, method, target, body, with_accept, timeout,
      [max_events](const HttpReply& so_far) { return sse_events(so_far).size() >= max_events; },
      &stream.ended);
  stream.events = sse_events(stream.reply);
  return stream;
}

}  // namespace x402proxy::testing
