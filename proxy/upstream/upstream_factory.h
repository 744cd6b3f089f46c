// The upstream serve forwards to, made from its validated config: an HTTP MCP endpoint, or a
// stdio MCP server behind the in-process loopback bridge (stdio/stdio_bridge.h), so that the
// paywall has one upstream path either way.
#pragma once

#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "config/serve_config.h"
#include "proxy/upstream/stdio/stdio_bridge.h"
#include "proxy/upstream/upstream_pool.h"
#include "x402/result.h"

namespace x402proxy::proxy {

struct UpstreamChoice {
  UpstreamEndpoint endpoint;
  std::unique_ptr<StdioBridge> bridge;  // a stdio upstream's bridge; start it with the listener
  std::string name;                     // for logs
};

Result<UpstreamChoice> make_upstream(const config::UpstreamConfig& config,
                                     boost::asio::io_context& context);

}  // namespace x402proxy::proxy
