#include "proxy/upstream/upstream_pool.h"

#include "net/http_client.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace x402proxy::proxy {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

Result<UpstreamEndpoint> parse_upstream_url(const std::string& url) {
  constexpr std::string_view http = "http://";
  if (url.starts_with("https://")) {
    return make_error("upstream.url", "upstream " + url +
                                          ": https upstreams are not supported yet; run the "
                                          "proxy beside the server and use http://");
  }
  if (!url.starts_with(http)) {
    return make_error("upstream.url", "upstream URL must start with http://, got " + url);
  }
  std::string_view rest = std::string_view(url).substr(http.size());
  std::size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "/" : rest.substr(slash);
  if (authority.empty())
    return make_error("upstream.url", "upstream URL has no host: " + url);
  UpstreamEndpoint endpoint;
  endpoint.url = url;
  endpoint.path = std::string(path);
  if (authority.front() == '[') {  // [v6]:port
    std::size_t close = authority.find(']');
    if (close == std::string_view::npos)
      return make_error("upstream.url", "bad IPv6 host: " + url);
    endpoint.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    endpoint.port = after.starts_with(":") ? std::string(after.substr(1)) : "80";
  } else {
    std::size_t colon = authority.rfind(':');
    endpoint.host = std::string(authority.substr(0, colon));
    endpoint.port =
        colon == std::string_view::npos ? "80" : std::string(authority.substr(colon + 1));
  }
  if (endpoint.port.empty() || endpoint.port.find_first_not_of("0123456789") != std::string::npos) {
    return make_error("upstream.url", "bad port in upstream URL " + url);
  }
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
  connection->stream.expires_never();
  connection->idle_since = std::chrono::steady_clock::now();
  std::lock_guard lock(mutex_);
  if (idle_.size() < max_idle_)
    idle_.push_back(std::move(connection));
}

}  // namespace x402proxy::proxy
