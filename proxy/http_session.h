// One client connection of `serve`: reads requests with limits and deadlines (Beast's parser with a
// body limit, a deadline per request), sends each to the paywall or straight through, and keeps the
// connection alive while both sides allow it.
#pragma once

#include <memory>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "proxy/serve_state.h"

namespace x402proxy::proxy {

// `admin_allowed`: this connection may reach /metrics, /readyz and /admin/reload (true on the MCP
// port unless a separate admin port is configured, and on that admin port). `mcp_allowed`: it may
// reach the MCP endpoint (false on the admin port).
boost::asio::awaitable<void> serve_connection(boost::asio::ip::tcp::socket socket,
                                              std::shared_ptr<ServeState> state,
                                              bool admin_allowed = true, bool mcp_allowed = true);

}  // namespace x402proxy::proxy
