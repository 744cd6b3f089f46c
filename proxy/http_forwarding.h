// What crosses the proxy unchanged and what does not (RFC 9110 §7.6.1): end-to-end headers pass,
// hop-by-hop headers (and any the Connection header names) stop here. The MCP headers that matter —
// Mcp-Session-Id, MCP-Protocol-Version, Mcp-Method, Mcp-Name, Mcp-Param-*, Authorization,
// Last-Event-ID, Accept — are end-to-end and pass untouched.
#pragma once

#include <string>
#include <string_view>

#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "proxy/upstream_pool.h"

namespace x402proxy::proxy {

bool is_hop_by_hop_header(std::string_view name);

// Copies end-to-end headers of `from` into `to` (which should start empty of them).
void copy_end_to_end_headers(const boost::beast::http::fields& from,
                             boost::beast::http::fields& to);

// The request the upstream receives: the client's method, the upstream's path (plus the client's
// query string), end-to-end headers, Host of the upstream, and `body` (the client's own bytes for
// anything that is not a paid call). Payment headers are dropped when `strip_payment_headers`.
boost::beast::http::request<boost::beast::http::string_body> make_upstream_request(
    const boost::beast::http::request<boost::beast::http::string_body>& client_request,
    const UpstreamEndpoint& upstream, std::string body, bool strip_payment_headers);

}  // namespace x402proxy::proxy
