// The bridge's side of the paid MCP server: Streamable HTTP (MCP basic/transports) as a client.
// It keeps the session the server assigns (Mcp-Session-Id) and the negotiated protocol version,
// adds the headers each revision requires (MCP-Protocol-Version; Mcp-Method and Mcp-Name from
// 2026-07-28 on), and turns every answer — a JSON body or an SSE stream — into JSON-RPC messages
// handed over one by one as they arrive.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>

#include "net/http_client.h"
#include "x402/result.h"

namespace x402proxy::pay {

class SseRemote;  // pay/sse_remote.h: a seller on the HTTP+SSE transport of MCP 2024-11-05

// How an exchange ended when it did not produce JSON-RPC messages, or what came with them.
struct RemoteAnswer {
  unsigned status = 0;
  std::string content_type;
  std::string payment_required;  // PAYMENT-REQUIRED header (HTTP 402, x402 v2)
  std::string payment_response;  // PAYMENT-RESPONSE / X-PAYMENT-RESPONSE header
  std::string body;          // a body that was not JSON-RPC (an HTTP error, a v1 402), ≤ 64 KiB
  std::size_t messages = 0;  // how many JSON-RPC messages went to the sink
};

// Receives each JSON-RPC message: its text exactly as the server sent it, and its parse (null when
// it is not JSON, which the sink may report).
using RemoteMessageSink = std::function<void(std::string text, boost::json::value parsed)>;

class RemoteSession {
 public:
  // `sse`: the seller speaks the HTTP+SSE transport of MCP 2024-11-05 and `url` is its GET /sse
  // endpoint; every call below then goes through that session (pay/sse_remote.h).
  // `detect`: Streamable HTTP unless the seller refuses the client's initialize POST with a 4xx
  // (not 402), then the HTTP+SSE transport at the same URL (MCP 2025-03-26 basic/transports,
  // "Backwards Compatibility": what a client that supports both does).
  static Result<std::shared_ptr<RemoteSession>> create(boost::asio::any_io_executor executor,
                                                       const std::string& url, bool tls_verify,
                                                       bool sse = false, bool detect = false);

  // POSTs one JSON-RPC message (`method`/`tool` feed the 2026-07-28 headers). `extra_headers`
  // carry a payment header when the seller asked in HTTP 402 form. Errors: "remote.unreachable"
  // (with `sent` false: nothing reached the server), "remote.failed" / "remote.timeout" (the
  // answer broke off or did not come), "remote.too_large" (an event over 16 MiB).
  boost::asio::awaitable<Result<RemoteAnswer>> post(
      std::string body, std::string_view method, std::string_view tool,
      std::vector<std::pair<std::string, std::string>> extra_headers,
      std::chrono::steady_clock::time_point deadline, const RemoteMessageSink& sink, bool& sent);

  // The server-to-client stream (GET). Returns when the server closes it or refuses it (405).
  boost::asio::awaitable<Result<RemoteAnswer>> listen(const RemoteMessageSink& sink);

  // Ends the session (DELETE), best effort within `budget`.
  boost::asio::awaitable<void> close(std::chrono::milliseconds budget);

  // What the client negotiated in initialize; set by the bridge when it sees the answer.
  void set_protocol_version(std::string version) { protocol_version_ = std::move(version); }
  const std::string& protocol_version() const { return protocol_version_; }
  const std::string& session_id() const { return session_id_; }
  const std::string& url() const { return url_; }
  // MCP 2026-07-28 and later (stateless, resultType, per-request capabilities).
  bool modern() const { return protocol_version_ >= "2026-07-28"; }

 private:
  RemoteSession(boost::asio::any_io_executor executor, std::shared_ptr<net::HttpClient> http,
                std::string url)
      : executor_(std::move(executor)), http_(std::move(http)), url_(std::move(url)) {}
  std::vector<std::pair<std::string, std::string>> common_headers() const;
  boost::asio::awaitable<Result<RemoteAnswer>> exchange(
      boost::beast::http::verb method, std::string body,
      std::vector<std::pair<std::string, std::string>> headers,
      std::chrono::steady_clock::time_point deadline, std::chrono::milliseconds idle,
      const RemoteMessageSink& sink, bool& sent);

  boost::asio::any_io_executor executor_;
  std::shared_ptr<net::HttpClient> http_;
  std::shared_ptr<SseRemote> sse_;
  bool tls_verify_ = true;
  bool detect_ = false;  // until the first initialize has been answered
  std::string url_;
  std::string session_id_;
  std::string protocol_version_;
  std::string last_event_id_;
};

}  // namespace x402proxy::pay
