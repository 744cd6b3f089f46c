// What the paywall needs to know about one POSTed MCP message, read once from the body.
// MCP Streamable HTTP: a POST carries one JSON-RPC request or notification (2025-06-18 and later)
// or a batch (2025-03-26 only). Everything is read from a strict parse: a repeated key anywhere is
// refused before this point, so the proxy and the upstream can never disagree about what a message
// says.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

#include "x402/result.h"

namespace x402proxy::mcp {

// One JSON-RPC message of the POST body.
struct McpMessage {
  enum class Kind { request, notification, response };
  Kind kind = Kind::request;
  std::string method;     // "" for a response
  boost::json::value id;  // null for a notification
  bool is_tools_call = false;
  std::string tool_name;                        // params.name of a tools/call
  const boost::json::value* payment = nullptr;  // params._meta["x402/payment"], when present
  // MCP 2026-07-28 per-request client capabilities advertise the x402 extension binding
  // (x402 MCP transport, "Binding Selection").
  bool advertises_payment_extension = false;
  std::optional<std::string>
      body_protocol_version;  // params._meta["io.modelcontextprotocol/protocolVersion"]
};

struct McpPost {
  boost::json::value body;  // the parsed body; messages point into it
  bool is_batch = false;
  std::vector<McpMessage> messages;
};

// Why a POST body is not JSON-RPC: not JSON at all (-32700) or not a JSON-RPC message (-32600).
enum class McpPostFailure { parse, invalid };
const char* to_string(McpPostFailure failure);  // "jsonrpc.parse", "jsonrpc.invalid"
using McpPostError = Failure<McpPostFailure>;

// Parses and classifies a POST body; the error's message names the problem.
Result<McpPost, McpPostError> inspect_mcp_post(std::string_view body);

// The request metadata headers of MCP 2026-07-28 (Streamable HTTP, "Request Metadata"). Values are
// as received; Mcp-Name may use the "=?base64?…?=" sentinel.
struct McpRequestHeaders {
  std::optional<std::string_view> protocol_version;  // MCP-Protocol-Version
  std::optional<std::string_view> method;            // Mcp-Method
  std::optional<std::string_view> name;              // Mcp-Name
};

// Checks that the mirrored headers agree with the body ("Server Validation"). A disagreement is
// refused with reason "mcp.header_mismatch" (HTTP 400, JSON-RPC -32020): an intermediary that
// routes or prices by header must never see another tool than the one the upstream runs.
Status check_request_headers(const McpMessage& message, const McpRequestHeaders& headers);

// Decodes an Mcp-Name / Mcp-Param value, undoing the base64 sentinel encoding when used.
Result<std::string> decode_mcp_header_value(std::string_view value);

}  // namespace x402proxy::mcp
