// One client of serve on the HTTP+SSE transport of MCP 2024-11-05 (`GET /sse`, then `POST
// /messages?sessionId=…`; MCP 2024-11-05 basic/transports "HTTP with SSE"): the queue of messages
// for its event stream, and the Streamable HTTP session on serve's own MCP endpoint that its
// messages go through (so that the paywall, the journal and the upstream see one ordinary
// Streamable HTTP client per SSE client).
//
// Several threads touch a session (the stream's connection writes it, each POSTed message's
// exchange fills it), so its state is under a mutex; the stream writer is woken on its own
// executor (an Asio timer is not safe to cancel from another thread).
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

namespace x402proxy::proxy {

class SseClientSession : public std::enable_shared_from_this<SseClientSession> {
 public:
  // `stream_executor`: the executor of the connection that writes the event stream.
  // `max_queued`: messages waiting for a client that does not read; over it the session closes
  // (a stream that does not drain must not grow without bound).
  SseClientSession(std::string id, boost::asio::any_io_executor stream_executor,
                   std::size_t max_queued);

  const std::string& id() const { return id_; }

  // Queues one JSON-RPC message (its JSON text) for the client's stream; false when the
  // session is closed.
  bool push(std::string message);
  // Ends the stream (the client left, serve stops, or the queue overflowed).
  void close();
  bool closed() const;

  // For the stream writer, on stream_executor: the next message, if one waits.
  std::optional<std::string> pop();
  // Cancelled (on stream_executor) at every push and at close.
  boost::asio::steady_timer& wake() { return wake_; }

  // The Mcp-Session-Id serve's MCP endpoint gave this client's initialize ("" before, or when
  // the upstream keeps no sessions), and the protocol version initialize negotiated.
  std::string mcp_session() const;
  void set_mcp_session(std::string id);
  std::string protocol_version() const;
  void set_protocol_version(std::string version);
  // True once, for whoever opens the session's listening stream.
  bool claim_listener();

 private:
  void wake_writer();

  const std::string id_;
  boost::asio::any_io_executor stream_executor_;
  boost::asio::steady_timer wake_;
  const std::size_t max_queued_;
  mutable std::mutex mutex_;
  std::deque<std::string> queue_;
  bool closed_ = false;
  std::string mcp_session_;
  std::string protocol_version_;
  bool listener_claimed_ = false;
};

}  // namespace x402proxy::proxy
