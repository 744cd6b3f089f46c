// What crosses a proxy unchanged and what does not (RFC 9110 §7.6.1): end-to-end headers pass,
// hop-by-hop headers (and any the Connection header names) stop at each hop. The MCP headers that
// matter — Mcp-Session-Id, MCP-Protocol-Version, Mcp-Method, Mcp-Name, Mcp-Param-*,
// Authorization, Last-Event-ID, Accept — are end-to-end and pass untouched.
#pragma once

#include <string_view>

#include <boost/beast/http/fields.hpp>

namespace x402proxy::net {

bool is_hop_by_hop_header(std::string_view name);

// Header names listed in the Connection header are hop-by-hop too (RFC 9110 §7.6.1).
bool named_by_connection(const boost::beast::http::fields& fields, std::string_view name);

// Copies end-to-end headers of `from` into `to` (which should start empty of them).
void copy_end_to_end_headers(const boost::beast::http::fields& from,
                             boost::beast::http::fields& to);

}  // namespace x402proxy::net
