// The upstream serve forwards to, made from its validated config: an HTTP MCP endpoint, or an MCP
// server that speaks no Streamable HTTP — a stdio server, or one on the HTTP+SSE transport of
// MCP 2024-11-05 — behind the in-process loopback bridge (bridge/session_bridge.h), so that the
// paywall has one upstream path either way.
#pragma once

#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "config/serve_config.h"
#include "proxy/upstream/bridge/session_bridge.h"
#include "proxy/upstream/upstream_pool.h"
#include "x402/result.h"

namespace x402proxy::proxy {

struct UpstreamChoice {
  UpstreamEndpoint endpoint;
  std::unique_ptr<SessionBridge> bridge;  // a bridged upstream's bridge; start it with the listener
  std::string name;                       // for logs
};

// `transport: auto` asks the upstream once (an initialize POST, on `context`, before serve
// accepts anything) and bridges to SSE when that is refused with a 4xx.
Result<UpstreamChoice> make_upstream(const config::UpstreamConfig& config,
                                     boost::asio::io_context& context);

}  // namespace x402proxy::proxy
