// Finding the buyer's payment in a tools/call and matching it to one of the tool's offers.
// x402 MCP transport: the PaymentPayload is an object in params._meta["x402/payment"]. Also taken:
// a JSON string or base64 string there (Python and Cloudflare clients send those), and the HTTP
// headers PAYMENT-SIGNATURE (v2) / X-PAYMENT (v1) that HTTP-level x402 clients put on the POST.
#pragma once

#include <optional>
#include <string>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "mcp/mcp_request.h"
#include "proxy/serve_state.h"
#include "x402/result.h"
#include "x402/types.h"

namespace x402proxy::proxy {

// No payment at all → std::nullopt; a payment that cannot be decoded → an Error whose reason is
// "invalid_payload" and whose message says what is wrong with it.
Result<std::optional<x402::PaymentPayload>> extract_payment(
    const mcp::McpMessage& call,
    const boost::beast::http::request<boost::beast::http::string_body>& request);

// The offer the payment pays for. v2: the payment's `accepted` must equal one of the offers (the
// client may add to `extra`, never change it); v1: same scheme, and the same network by name.
// The server's own object is returned: it, not the client's copy, is what gets verified.
Result<const x402::PaymentRequirements*> match_offer(const ToolOffer& offer,
                                                     const x402::PaymentPayload& payment,
                                                     std::string_view tool);

// The body the upstream receives for a paid call: the client's text with params._meta's
// "x402/payment" member cut out (and _meta, if that was its only key), every other byte as sent
// (a parse-and-serialize round trip would turn 1e400 into Infinity). nullopt: the text could not
// be followed, and the call is refused rather than forwarded re-serialized.
std::optional<std::string> body_without_payment(std::string_view body);

}  // namespace x402proxy::proxy
