#include "proxy/upstream/upstream_pool.h"

#include "net/http_client.h"
#include "net/url.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace x402proxy::proxy {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

Result<UpstreamEndpoint> parse_upstream_url(const std::string& url) {
  auto parsed = net::parse_http_url(url);
  if (!parsed.ok())
    return make_error("upstream.url", "upstream URL " + url + ": " + parsed.error().message);
  if (parsed->tls) {
    return make_error("upstream.url", "upstream " + url +
                                          ": https upstreams are not supported yet; run the "
                                          "proxy beside the server and use http://");
  }
  UpstreamEndpoint endpoint;
  endpoint.url = url;
  endpoint.host = parsed->host;
  endpoint.port = parsed->port;
  endpoint.authority = parsed->authority();
  endpoint.path = parsed->path.empty() ? "/" : parsed->path;
  if (!parsed->query.empty())
    endpoint.path += "?" + parsed->query;
  return endpoint;
}

UpstreamPool::UpstreamPool(asio::any_io_executor executor, UpstreamEndpoint endpoint,
                           std::chrono::milliseconds connect_timeout, std::size_t max_idle,
                           std::chrono::milliseconds max_idle_age)
    : executor_(std::move(executor)),
      endpoint_(std::move(endpoint)),
      connect_timeout_(connect_timeout),
      max_idle_(max_idle),
      max_idle_age_(max_idle_age) {}

asio::awaitable<Result<std::unique_ptr<UpstreamConnection>>> UpstreamPool::acquire(bool fresh) {
  const auto now = std::chrono::steady_clock::now();
  std::vector<tcp::endpoint> targets;
  {
    std::lock_guard lock(mutex_);
    while (!fresh && !idle_.empty()) {
      std::unique_ptr<UpstreamConnection> connection = std::move(idle_.back());
      idle_.pop_back();
      // A connection the upstream closed while idle is readable (EOF) or errored: drop it.
      bool alive = net::idle_connection_usable(connection->stream.socket()) &&
                   now - connection->idle_since < max_idle_age_;
      if (alive)
        co_return std::move(connection);
    }
    targets = resolved_;
  }
  boost::system::error_code ec;
  if (targets.empty()) {
    tcp::resolver resolver(executor_);
    auto results = co_await resolver.async_resolve(endpoint_.host, endpoint_.port,
                                                   asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      co_return make_error("upstream.unreachable",
                           "cannot resolve upstream " + endpoint_.url + ": " + ec.message());
    }
    for (const auto& entry : results)
      targets.push_back(entry.endpoint());
    std::lock_guard lock(mutex_);
    resolved_ = targets;
  }
  auto connection = std::make_unique<UpstreamConnection>(executor_);
  connection->stream.expires_after(connect_timeout_);
  co_await connection->stream.async_connect(targets, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    co_return make_error("upstream.unreachable",
                         "cannot connect to upstream " + endpoint_.url + ": " + ec.message());
  }
  connection->stream.socket().set_option(tcp::no_delay(true), ec);
  co_return std::move(connection);
}

void UpstreamPool::release(std::unique_ptr<UpstreamConnection> connection) {
  if (!connection || !connection->stream.socket().is_open())
    return;
  // Bytes already read past the end of the last response belong to no request: a connection
  // holding them would hand them to the next one (another client's answer). Closed instead.
  if (connection->buffer.size() != 0)
    return;
  connection->stream.expires_never();
  connection->idle_since = std::chrono::steady_clock::now();
  std::lock_guard lock(mutex_);
  if (idle_.size() < max_idle_)
    idle_.push_back(std::move(connection));
}

}  // namespace x402proxy::proxy
