// Keep-alive connections to one upstream MCP server over plain HTTP (the common case: the upstream
// runs beside the proxy). Idle connections are reused only while young enough that the upstream
// will not have closed them (Node's default keep-alive timeout is 5 s), because a POST that dies on
// a stale connection cannot be retried safely: it may be a tool call with side effects.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "x402/result.h"

namespace x402proxy::proxy {

struct UpstreamEndpoint {
  std::string host;       // for the resolver (an IPv6 literal without brackets)
  std::string port;       // "80" when the URL has none
  std::string authority;  // the Host header: host (IPv6 in brackets), ":port" unless 80
  std::string path;       // the MCP endpoint path, e.g. "/mcp"
  std::string url;        // for messages
};

// Parses "http://host:port/path" (net/url.h). https upstreams are refused with a clear error for
// now.
Result<UpstreamEndpoint> parse_upstream_url(const std::string& url);

struct UpstreamConnection {
  explicit UpstreamConnection(boost::asio::any_io_executor executor) : stream(executor) {}
  boost::beast::tcp_stream stream;
  boost::beast::flat_buffer buffer;
  std::chrono::steady_clock::time_point idle_since{};
};

class UpstreamPool {
 public:
  UpstreamPool(boost::asio::any_io_executor executor, UpstreamEndpoint endpoint,
               std::chrono::milliseconds connect_timeout, std::size_t max_idle = 64,
               std::chrono::milliseconds max_idle_age = std::chrono::milliseconds(4000));

  const UpstreamEndpoint& endpoint() const { return endpoint_; }

  // A connected stream: an idle one if a young one is available, else a new connection.
  // `fresh`: always a new connection (a readiness probe must reach the upstream now).
  boost::asio::awaitable<Result<std::unique_ptr<UpstreamConnection>>> acquire(bool fresh = false);

  // Returns a connection whose last response was read completely and allows keep-alive.
  void release(std::unique_ptr<UpstreamConnection> connection);

 private:
  boost::asio::any_io_executor executor_;
  UpstreamEndpoint endpoint_;
  std::chrono::milliseconds connect_timeout_;
  std::size_t max_idle_;
  std::chrono::milliseconds max_idle_age_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<UpstreamConnection>> idle_;
  std::vector<boost::asio::ip::tcp::endpoint> resolved_;  // resolved once, under mutex_
};

}  // namespace x402proxy::proxy
