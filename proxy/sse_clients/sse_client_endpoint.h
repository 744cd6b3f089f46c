// serve's side of the HTTP+SSE transport of MCP 2024-11-05 (basic/transports, "HTTP with SSE"),
// for clients that speak only that (the 2025-03-26 revision's "Backwards Compatibility" section:
// a server may keep offering the old SSE and POST endpoints beside the new MCP endpoint):
//   GET /sse opens the client's event stream; its first event is `endpoint`, whose data is the
//   URI for its messages (/messages?sessionId=<random>); every message for the client follows as
//   an `event: message` with the JSON-RPC message as data;
//   POST /messages?sessionId=… takes one message; 202 Accepted, the answer goes on the stream.
// Each SSE client is one Streamable HTTP client of serve's own MCP endpoint (reached on an
// internal loopback listener), so a priced tools/call POSTed here goes through the same paywall,
// journal and upstream path as one POSTed to /mcp; refusals that endpoint answers with an HTTP
// error (malformed JSON-RPC, a batch holding a priced call, a refused credential) are the POST's
// answer here too. The session ends, and its Streamable HTTP session with it, when the client's
// stream closes.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "net/http_client.h"
#include "net/http_server.h"
#include "proxy/sse_clients/message_relay.h"
#include "proxy/sse_clients/sse_client_session.h"

namespace x402proxy::proxy {

struct SseClientOptions {
  std::string stream_path = "/sse";
  std::string messages_path = "/messages";
  std::size_t max_sessions = 1024;
  std::size_t max_queued = 4096;  // messages waiting for one client's stream
  // An SSE comment on a quiet stream, so that a client gone without a word is noticed.
  std::chrono::milliseconds keep_alive{std::chrono::seconds(15)};
  std::chrono::milliseconds write_timeout{std::chrono::seconds(30)};
  RelayLimits relay;
};

class SseClientEndpoint {
 public:
  // `mcp`: a client of serve's MCP endpoint on its internal listener.
  SseClientEndpoint(std::shared_ptr<net::HttpClient> mcp, SseClientOptions options);

  bool handles(std::string_view path) const {
    return path == options_.stream_path || path == options_.messages_path;
  }
  // Answers GET on the stream path or POST on the messages path; whether the connection may
  // carry another request.
  boost::asio::awaitable<bool> answer(boost::beast::tcp_stream& client,
                                      const net::HttpRequest& request);
  std::size_t open_sessions() const;

 private:
  boost::asio::awaitable<bool> open_stream(boost::beast::tcp_stream& client,
                                           const net::HttpRequest& request);
  boost::asio::awaitable<bool> take_message(boost::beast::tcp_stream& client,
                                            const net::HttpRequest& request);
  std::shared_ptr<SseClientSession> find(const std::string& id) const;
  void forget(const std::string& id);

  std::shared_ptr<net::HttpClient> mcp_;
  SseClientOptions options_;
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<SseClientSession>> sessions_;
};

}  // namespace x402proxy::proxy
