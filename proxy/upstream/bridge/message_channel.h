// The seam of the session bridge (session_bridge.h): one connection to an unmodified MCP server
// that carries whole JSON-RPC messages both ways for one MCP session — a stdio child process
// (stdio/stdio_child.h, MCP basic/transports "stdio") or an HTTP+SSE session (sse/sse_channel.h,
// MCP 2024-11-05 basic/transports "HTTP with SSE"). The bridge turns either into Streamable HTTP
// for the paywall, so the paywall keeps one upstream path.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include "x402/result.h"

namespace x402proxy::proxy {

class MessageChannel {
 public:
  virtual ~MessageChannel() = default;
  // Queues one JSON-RPC message (its JSON text); messages leave in order.
  virtual void send(std::string message) = 0;
  // Ends the connection; the closed handler follows.
  virtual void stop() = 0;
  // For log lines: "upstream[1234]" (a process), "upstream SSE session …".
  virtual std::string name() const = 0;
};

// Each message from the server; the end of the connection, once, with why it ended. Both run on
// the executor the channel was made with (the bridge's strand).
using ChannelMessageHandler = std::function<void(std::string message)>;
using ChannelClosedHandler = std::function<void(std::string why)>;

// Opens one channel (one per MCP session, and again for a restart). Reason
// "upstream.spawn" / "upstream.sse" when it cannot even be started.
using ChannelFactory = std::function<Result<std::shared_ptr<MessageChannel>>(
    boost::asio::any_io_executor executor, ChannelMessageHandler on_message,
    ChannelClosedHandler on_closed)>;

}  // namespace x402proxy::proxy
