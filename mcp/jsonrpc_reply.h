// Every JSON-RPC response the project writes itself (serve, the stdio bridge, pay, the simulated
// Solana RPC), and the x402 payment-required results of the x402 MCP transport
// (specs/transports-v2/mcp.md).
#pragma once

#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "x402/types.h"

namespace x402proxy::mcp {

// JSON-RPC 2.0 error codes the proxy answers with. -32000..-32099 is the server range; MCP reserves
// -32020 for HeaderMismatch (2026-07-28).
namespace rpc_code {
inline constexpr int parse_error = -32700;
inline constexpr int invalid_request = -32600;
inline constexpr int method_not_found = -32601;
inline constexpr int invalid_params = -32602;
inline constexpr int internal_error = -32603;
inline constexpr int header_mismatch = -32020;
inline constexpr int facilitator_unavailable = -32001;  // payment could not be verified
inline constexpr int upstream_unavailable = -32603;     // DESIGN: upstream unreachable → -32603
}  // namespace rpc_code

// JSON-RPC 2.0 §5 response objects, serialized. `data`, when not empty, is the error's data.
std::string jsonrpc_error(const boost::json::value& id, int code, std::string_view message,
                          boost::json::object data = {});
std::string jsonrpc_result(const boost::json::value& id, boost::json::value result);

struct BindingOptions {
  // The request advertised org.x402/payment (MCP 2026-07-28): use the extension binding.
  bool extension_binding = false;
  // MCP 2026-07-28 results carry resultType; "a tool-result response MUST include
  // resultType: complete" on that revision.
  bool modern_revision = false;
};

// The payment-required result: tool-result binding (isError, structuredContent, content[0].text) or
// the extension binding (resultType "payment_required", paymentRequired).
boost::json::object payment_required_result(const x402::PaymentRequired& required,
                                            const BindingOptions& options);

}  // namespace x402proxy::mcp
