// The paid MCP server on the HTTP+SSE transport of MCP 2024-11-05 (basic/transports, "HTTP with
// SSE"; `transport: sse` in the wallet config), behind RemoteSession's interface: one GET stream
// (the session) whose first event, `endpoint`, names where each message is POSTed; every answer
// arrives on that stream and is handed to the call it belongs to — its response and the progress
// for its token — or, for server-initiated messages, to the listener (else the oldest call).
// One io_context thread (pay's): no locks.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "net/http_client.h"
#include "net/url.h"
#include "pay/remote_session.h"

namespace x402proxy::pay {

class SseRemote : public std::enable_shared_from_this<SseRemote> {
 public:
  // Reason "remote.url" when `url` is not a usable http(s) URL.
  static Result<std::shared_ptr<SseRemote>> create(boost::asio::any_io_executor executor,
                                                   const std::string& url, bool tls_verify);

  // Sends one message; for a request, returns once its response reached `sink` (status 200),
  // the stream ended ("remote.failed") or `deadline` passed ("remote.timeout"). A POST the server
  // refuses gives its status and body, as a Streamable HTTP answer would.
  boost::asio::awaitable<Result<RemoteAnswer>> post(std::string body,
                                                    std::chrono::steady_clock::time_point deadline,
                                                    const RemoteMessageSink& sink, bool& sent);
  // Server-initiated messages go to `sink` until the stream ends (then status 410: the session
  // is gone, nothing to re-open).
  boost::asio::awaitable<Result<RemoteAnswer>> listen(const RemoteMessageSink& sink);

 private:
  struct Call {
    const RemoteMessageSink* sink;
    std::string id;              // the request's id as JSON
    std::string progress_token;  // its params._meta.progressToken as JSON, if any
    std::size_t messages = 0;
    bool answered = false;
  };

  SseRemote(boost::asio::any_io_executor executor, std::shared_ptr<net::HttpClient> http,
            net::HttpUrl url);
  // Opens the stream once and waits for its endpoint event.
  boost::asio::awaitable<Status> ready(std::chrono::steady_clock::time_point deadline);
  boost::asio::awaitable<void> read_stream();
  // Waits until something changed (notify()) or `deadline`; each waiter has its own timer (one
  // shared timer's expires_at would cancel the other waiters' waits).
  boost::asio::awaitable<void> wait_for_change(std::chrono::steady_clock::time_point deadline);
  void notify();
  void on_event(const std::string& raw, std::string data);
  void route(std::string text);

  boost::asio::any_io_executor executor_;
  std::shared_ptr<net::HttpClient> http_;
  net::HttpUrl url_;
  std::vector<boost::asio::steady_timer*> waiters_;
  bool started_ = false;
  bool ended_ = false;
  std::string end_reason_;
  std::string endpoint_;
  std::vector<Call*> calls_;  // in the order they were sent
  const RemoteMessageSink* listener_ = nullptr;
};

}  // namespace x402proxy::pay
