// One session with an MCP server on the HTTP+SSE transport of MCP 2024-11-05 (basic/transports,
// "HTTP with SSE"), as a message channel of the session bridge: GET on the server's SSE endpoint
// opens the session's stream; its first event, `endpoint`, names the URI the client POSTs each
// message to; every server message (responses, notifications such as progress, server-to-client
// requests) comes as an `event: message` on the stream. The stream is the session: when it ends,
// the channel is closed (and the bridge ends the session).
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "net/http_client.h"
#include "net/url.h"
#include "proxy/upstream/bridge/message_channel.h"
#include "x402/result.h"

namespace x402proxy::proxy {

struct SseUpstream {
  net::HttpUrl url;  // the server's SSE endpoint (GET), e.g. http://127.0.0.1:3001/sse
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(5)};
  std::chrono::milliseconds endpoint_timeout{std::chrono::seconds(30)};  // for the first event
  std::chrono::milliseconds post_timeout{std::chrono::seconds(30)};      // each message's 202
  std::size_t max_event_bytes = 16 * 1024 * 1024;
};

// The target (path and query) to POST to, from the endpoint event's data: an absolute path, a
// path relative to the SSE endpoint, or an absolute URL of the same origin (another origin is
// refused, as the MCP SDK's client refuses it: messages must not be sent elsewhere). Reason
// "upstream.sse".
Result<std::string> resolve_sse_endpoint(const net::HttpUrl& sse_url, std::string_view data);

class SseChannel : public MessageChannel, public std::enable_shared_from_this<SseChannel> {
 public:
  SseChannel(boost::asio::any_io_executor executor, SseUpstream upstream,
             std::shared_ptr<net::HttpClient> poster, ChannelMessageHandler on_message,
             ChannelClosedHandler on_closed);
  // Starts the stream; messages sent before the endpoint event wait for it.
  void start();

  void send(std::string message) override;
  void stop() override;
  std::string name() const override;

 private:
  boost::asio::awaitable<void> read_stream();
  boost::asio::awaitable<void> write_messages();
  void on_event(std::string_view type, std::string data);
  void close(std::string why);

  boost::asio::any_io_executor executor_;
  SseUpstream upstream_;
  std::shared_ptr<net::HttpClient> poster_;
  ChannelMessageHandler on_message_;
  ChannelClosedHandler on_closed_;
  boost::beast::tcp_stream stream_;
  std::deque<std::string> outbox_;
  std::string endpoint_;  // where messages go; empty until the endpoint event
  bool writing_ = false;
  bool closed_ = false;
};

// The bridge's channels for an SSE server: one SseChannel (one server-side session) per session.
// Reason "upstream.sse" when the URL cannot be used.
Result<ChannelFactory> sse_channel_factory(const std::string& sse_url);

}  // namespace x402proxy::proxy
