// The operations endpoints of serve: GET /healthz (the process answers), GET /readyz (the upstream
// accepts connections and the facilitator answers), GET /metrics (Prometheus text), and
// POST /admin/reload (re-read the config; bearer token required). They live on the MCP port, or
// only on a separate admin port when the config names one.
#pragma once

#include <optional>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "proxy/serve_state.h"

namespace x402proxy::proxy {

// The answer's keep-alive when `request` is one of the operations endpoints, nullopt otherwise.
// `admin_allowed`: this connection may see /readyz, /metrics and /admin/reload.
boost::asio::awaitable<std::optional<bool>> answer_admin_route(
    const ServeState& state, boost::beast::tcp_stream& client,
    const boost::beast::http::request<boost::beast::http::string_body>& request,
    bool admin_allowed);

// Constant-time comparison of a presented token with the configured one.
bool token_matches(std::string_view presented, std::string_view expected);

}  // namespace x402proxy::proxy
