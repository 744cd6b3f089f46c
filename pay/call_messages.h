// What the bridge reads from and writes into a client's JSON-RPC call: the tool it names, its
// params._meta, the advertisement of the x402 extension binding, and the fingerprint that tells
// "the same call" again when a payment is redeemed.
#pragma once

#include <string>
#include <string_view>

#include <boost/json/object.hpp>

namespace x402proxy::pay {

inline constexpr std::string_view kPaymentMetaKey = "x402/payment";
inline constexpr std::string_view kCapabilitiesMetaKey =
    "io.modelcontextprotocol/clientCapabilities";
inline constexpr std::string_view kPaymentExtension = "org.x402/payment";

// params._meta of a request, created (with params) when missing.
boost::json::object& params_meta(boost::json::object& request);

// MCP 2026-07-28: clients advertise per request which extensions they handle; advertising
// org.x402/payment asks the seller for the extension binding (x402 MCP transport, "Binding
// Selection"). Merged into what the client itself sent, never replacing it.
void advertise_payment_extension(boost::json::object& request);

std::string tool_name_of(const boost::json::object& request);  // params.name, "" when none
std::string method_of(const boost::json::object& message);     // "" when none

// What identifies "the same call" for redeeming a payment: SHA-256 (hex) of the seller's URL,
// the tool name and the canonical JSON of params.arguments (object keys sorted at every level).
// Hashed, so the ledger keeps no arguments.
std::string call_fingerprint(const std::string& seller, const std::string& tool,
                             const boost::json::object& request);

}  // namespace x402proxy::pay
