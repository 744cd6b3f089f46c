// serve's router: each request a connection reads (net/http_server.h) goes to the admin routes,
// the paywall, the prepaid-credit path or straight through to the upstream; and serve's side of
// the server loop: its limits, its answers to requests that cannot be read, its connection and
// rate limits, and draining.
#pragma once

#include <memory>

#include "net/http_server.h"
#include "proxy/serve_state.h"

namespace x402proxy::proxy {

net::HttpServerOptions serve_server_options(const ServeOptions& options);

// `admin_allowed`: the connections may reach /metrics, /readyz and /admin/reload (true on the MCP
// port unless a separate admin port is configured, and on that admin port). `mcp_allowed`: they
// may reach the MCP endpoint (false on the admin port). `internal`: serve's own loopback
// listener, which the messages of HTTP+SSE clients go through (proxy/sse_clients/): their POST
// was already counted against the rate and connection limits where it arrived, so it is not
// counted twice here, and it offers only the MCP endpoint.
net::HttpServerHandlers serve_handlers(std::shared_ptr<const ServeState> state,
                                       bool admin_allowed = true, bool mcp_allowed = true,
                                       bool internal = false);

}  // namespace x402proxy::proxy
