// `serve` in front of an MCP server that does not speak Streamable HTTP — a stdio server it spawns,
// or a server on the HTTP+SSE transport of MCP 2024-11-05: an in-process Streamable HTTP server on
// 127.0.0.1:0 (MCP basic/transports "Streamable HTTP") that turns each MCP session into one
// message channel to that server (bridge/message_channel.h: one child process speaking stdio, or
// one SSE session), and that serve's ordinary HTTP upstream path talks to.
//
// Why a bridge over loopback rather than a second upstream implementation inside the paywall:
// every paywall behaviour — streaming free calls, holding a paid response until settlement, the
// payment journal, the error mapping — stays one code path, tested once; the price is one loopback
// hop per message. The bridge runs on serve's io_context (it spawns nothing outside the process's
// own children) on one strand, so its session table needs no locks.
//
// Why one channel per session: an unmodified stdio server expects exactly one client and one
// initialize; sharing a child between sessions with id rewriting would break servers that refuse
// a second initialize, and would mix sessions' state (subscriptions, roots, log levels). An SSE
// server keeps one server-side session per stream for the same reasons.
//
// A channel that ends while its session lives fails the session's requests in flight with a
// JSON-RPC error -32603 (serve then does not settle a paid call: the tool did not finish). A
// child is restarted with backoff (0.2 s doubling to 5 s) and re-initialized with the session's
// own initialize and notifications/initialized; requests arriving meanwhile wait up to 10 s. An
// SSE stream that ends ends the session (restart_on_close false).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>

#include "net/http_server.h"
#include "proxy/upstream/bridge/bridge_session.h"
#include "proxy/upstream/bridge/message_channel.h"
#include "x402/result.h"

namespace x402proxy::proxy {

struct SessionBridgeOptions {
  ChannelFactory open_channel;
  std::string name = "stdio bridge";  // in log lines
  std::size_t body_limit = 16 * 1024 * 1024;
  std::chrono::milliseconds read_timeout{30000};
  std::chrono::milliseconds write_timeout{30000};
  std::chrono::milliseconds keep_alive_timeout{60000};  // longer than serve's pool keeps idlers
  std::chrono::milliseconds initialize_timeout{60000};  // a first start may fetch packages (npx)
  std::chrono::milliseconds call_idle_timeout{300000};  // no message for a request this long
  std::chrono::milliseconds get_keep_alive{25000};      // SSE comment on a quiet GET stream
  // Most clients never DELETE their session: an idle session's channel is stopped after this,
  // and no more than max_sessions run at once (each session is a process or a connection).
  std::chrono::milliseconds session_idle_timeout{std::chrono::minutes(30)};
  std::size_t max_sessions = 256;
  BridgeSessionLimits session;
  // At shutdown, once the io_context has stopped: stops the channels still open, blocking
  // allowed (stdio: SIGTERM, SIGKILL after 2 s, reap). Empty: nothing to wait for.
  std::function<void(const std::vector<std::shared_ptr<MessageChannel>>&)> stop_now;
};

class SessionBridge {
 public:
  // Binds 127.0.0.1:0 on `context` (url() is known from here on). Reason "upstream.bridge".
  static Result<std::unique_ptr<SessionBridge>> bind(boost::asio::io_context& context,
                                                     SessionBridgeOptions options);
  // Starts accepting; separate from bind so that serve can run its start-up work on the
  // io_context (context.run() until it is done) before the bridge gives it endless work.
  void start_accepting();
  ~SessionBridge();

  std::string url() const;  // http://127.0.0.1:PORT/mcp
  // For shutdown, after the io_context has stopped: stops accepting and stops every channel
  // (children: SIGTERM, SIGKILL after 2 s), blocking until they are reaped.
  void stop_channels();

 private:
  using Strand = boost::asio::strand<boost::asio::io_context::executor_type>;
  SessionBridge(Strand strand, SessionBridgeOptions options);
  boost::asio::awaitable<void> sweep_idle_sessions();
  // One request of the server loop (net/http_server.h), on the bridge's strand.
  boost::asio::awaitable<bool> answer(boost::beast::tcp_stream& stream, net::HttpRequest& request);

  Strand strand_;
  std::unique_ptr<net::HttpServer> server_;  // every connection on strand_
  bool accepting_ = true;
  SessionBridgeOptions options_;
  std::map<std::string, std::shared_ptr<BridgeSession>> sessions_;
  std::uint64_t next_stream_order_ = 0;

  friend class BridgeExchange;
};

}  // namespace x402proxy::proxy
