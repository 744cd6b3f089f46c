// A blocking HTTP/1.1 client for tests (test code may block; the daemon may not). Every call has an
// overall timeout and a body limit. Reads record when each piece of the body arrived, so a test can
// tell a streamed answer from a held one; SSE helpers split the body into events with their arrival
// times (WHATWG HTML, "server-sent events", event stream interpretation).
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace x402proxy::testing {

struct HttpReply {
  unsigned status = 0;
  std::map<std::string, std::string> headers;  // lower-cased names
  std::string body;
  std::vector<std::pair<std::chrono::steady_clock::time_point, std::string>> pieces;
  std::string error;  // transport failure or timeout, if any
  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? "" : it->second;
  }
};
using HttpResponse = HttpReply;

using Headers = std::vector<std::pair<std::string, std::string>>;

inline constexpr std::chrono::milliseconds kDefaultHttpTimeout = std::chrono::seconds(20);
inline constexpr std::size_t kReplyBodyLimit = 64 * 1024 * 1024;

HttpReply http_request(unsigned short port, const std::string& method, const std::string& target,
                       const std::string& body = {}, const Headers& headers = {},
                       std::chrono::milliseconds timeout = kDefaultHttpTimeout);

HttpReply post(unsigned short port, const std::string& target, const std::string& body,
               const Headers& headers = {},
               std::chrono::milliseconds timeout = kDefaultHttpTimeout);
HttpReply get(unsigned short port, const std::string& target, const Headers& headers = {},
              std::chrono::milliseconds timeout = kDefaultHttpTimeout);
HttpReply del(unsigned short port, const std::string& target, const Headers& headers = {},
              std::chrono::milliseconds timeout = kDefaultHttpTimeout);

// Sends raw bytes and returns whatever comes back until the server closes or the timeout passes.
std::string raw_exchange(unsigned short port, const std::string& bytes,
                         std::chrono::milliseconds timeout = std::chrono::seconds(10));

// MCP POST to /mcp with the headers a Streamable HTTP client sends.
HttpReply mcp_post(unsigned short port, const std::string& body, Headers extra = {});

struct SseEvent {
  std::string event = "message";                  // the "event" field, "message" when absent
  std::string id;                                 // the "id" field of this event, if any
  std::string data;                               // the data lines, joined with '\n'
  std::chrono::steady_clock::time_point arrival;  // when the blank line ending it arrived
};

// The events of an event-stream body already read (an event is kept when it set any field).
std::vector<SseEvent> sse_events(const HttpReply& reply);

struct SseStream {
  HttpReply reply;  // status, headers, body so far; error says "timeout" when it ran out
  std::vector<SseEvent> events;
  bool ended = false;  // the server finished the body (as opposed to: we stopped reading)
};

// Sends a request whose answer is an event stream (a POST answered with SSE, or GET /mcp) and
// reads until `max_events` events have arrived, the body ends, or `timeout` passes; then closes.
SseStream read_sse(unsigned short port, const std::string& method, const std::string& target,
                   const std::string& body, const Headers& headers, std::size_t max_events,
                   std::chrono::milliseconds timeout = kDefaultHttpTimeout);

}  // namespace x402proxy::testing
