// One MCP session of the session bridge: its own connection to the MCP server (a stdio child
// process: an unmodified stdio server expects exactly one client and one initialize; or an
// HTTP+SSE session), the requests in flight and the HTTP streams waiting for their messages, and
// — for a child that crashes — the restart. Everything here runs on the bridge's strand.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "proxy/upstream/bridge/message_channel.h"
#include "x402/result.h"

namespace x402proxy::proxy {

// The messages for one HTTP answer: a POST's SSE stream (or its JSON answer, for initialize) or a
// GET stream. The session pushes, the HTTP connection writes.
struct MessageStream {
  MessageStream(boost::asio::any_io_executor executor, std::uint64_t order, bool is_get)
      : wake(executor), order(order), is_get(is_get) {}
  void push(std::string message);
  void finish();

  std::deque<std::string> messages;
  bool done = false;
  boost::asio::steady_timer wake;  // cancelled on every push and at the end
  std::uint64_t order;             // older streams first, when a server message needs a home
  bool is_get;
  std::string progress_token;  // the request's params._meta.progressToken as JSON, if any
  bool takes_server_messages = true;
};

struct BridgeSessionLimits {
  // A channel that ends (a child that exits) is opened again and re-initialized with the
  // session's own initialize (stdio); false: the session ends with it (HTTP+SSE: the server's
  // session is gone, and MCP lets the client start a new one after a 404).
  bool restart_on_close = true;
  std::chrono::milliseconds restart_wait{10000};  // a request waits this long for a restart
  std::chrono::milliseconds first_backoff{200};
  std::chrono::milliseconds max_backoff{5000};
  std::chrono::seconds stable_after{30};  // a child up this long resets the backoff
};

class BridgeSession : public std::enable_shared_from_this<BridgeSession> {
 public:
  BridgeSession(boost::asio::any_io_executor executor, std::string id, ChannelFactory open_channel,
                BridgeSessionLimits limits);

  const std::string& id() const { return id_; }
  bool stopped() const { return state_ == State::stopped; }

  // Opens the first channel and sends it the client's initialize; its answer arrives on
  // `stream`.
  Status start(std::string initialize_request, const std::string& id_key,
               std::shared_ptr<MessageStream> stream);
  // The answer to initialize came and was a success: the session is ready.
  void initialized_ok() { state_ = State::ready; }
  // Kept for replay after a restart.
  void remember_initialized_notification(std::string message);

  // Sends a request whose messages go to `stream`. Waits for a restart in progress (up to
  // restart_wait); gives the error text when the request cannot reach a child.
  boost::asio::awaitable<std::optional<std::string>> send_request(
      std::string message, std::string id_key, std::shared_ptr<MessageStream> stream);
  // Sends a notification or a response to a server request (no answer expected).
  boost::asio::awaitable<std::optional<std::string>> send_other(std::string message);
  bool request_in_flight(const std::string& id_key) const { return pending_.count(id_key) > 0; }

  // A stream no longer read (its client is gone or gave up): its requests' answers are dropped.
  void abandon(const std::shared_ptr<MessageStream>& stream);
  void open_get(std::shared_ptr<MessageStream> stream);
  void close_get(const std::shared_ptr<MessageStream>& stream);

  // DELETE: stops the channel; streams end, requests in flight are answered with an error.
  void stop();
  std::shared_ptr<MessageChannel> channel() const { return channel_; }
  // Nothing in flight, no GET stream, and no message from the client since `cutoff`.
  bool idle_since(std::chrono::steady_clock::time_point cutoff) const {
    return last_activity_ < cutoff && pending_.empty() && get_streams_.empty();
  }

 private:
  enum class State { starting, ready, restarting, stopped };

  Status open_channel();
  // `generation` tells the current channel from one already replaced.
  void on_channel_message(std::uint64_t generation, std::string line);
  void on_channel_closed(std::uint64_t generation, std::string why);
  void route_server_message(std::string line);
  void fail_pending(const std::string& message);
  void schedule_restart();
  void restart_now();

  boost::asio::any_io_executor executor_;
  std::string id_;
  ChannelFactory open_channel_;
  BridgeSessionLimits limits_;
  State state_ = State::starting;
  std::shared_ptr<MessageChannel> channel_;
  std::uint64_t generation_ = 0;
  std::chrono::steady_clock::time_point channel_ready_since_{};
  std::string initialize_request_;
  std::string initialize_key_;
  std::string initialized_notification_;
  bool replaying_initialize_ = false;
  std::chrono::milliseconds backoff_{0};
  std::string last_exit_message_;
  std::chrono::steady_clock::time_point last_activity_ = std::chrono::steady_clock::now();
  std::map<std::string, std::shared_ptr<MessageStream>> pending_;  // request id (JSON) → stream
  std::vector<std::shared_ptr<MessageStream>> get_streams_;
};

// The JSON-RPC error response for request `id_key` (the id as JSON text).
std::string jsonrpc_error(const std::string& id_key, int code, const std::string& message);

}  // namespace x402proxy::proxy
