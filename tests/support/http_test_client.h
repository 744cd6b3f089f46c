// A blocking HTTP/1.1 client for tests (test code may block; the daemon may not). Every call has a
// timeout. Streaming reads record when each piece arrived, so a test can tell streamed from held.
#pragma once

#include <chrono>
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
  std::string error;  // transport failure, if any
  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? "" : it->second;
  }
};

using Headers = std::vector<std::pair<std::string, std::string>>;

HttpReply http_request(unsigned short port, const std::string& method, const std::string& target,
                       const std::string& body = {}, const Headers& headers = {},
                       std::chrono::milliseconds timeout = std::chrono::seconds(20));

// Sends raw bytes and returns whatever comes back until the server closes or the timeout passes.
std::string raw_exchange(unsigned short port, const std::string& bytes,
                         std::chrono::milliseconds timeout = std::chrono::seconds(10));

// MCP POST with the headers a Streamable HTTP client sends.
HttpReply mcp_post(unsigned short port, const std::string& body, Headers extra = {});

}  // namespace x402proxy::testing
