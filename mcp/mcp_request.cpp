#include "mcp/mcp_request.h"

#include <boost/json/object.hpp>

#include "x402/base64.h"
#include "x402/strict_json.h"

namespace x402proxy::mcp {
namespace json = boost::json;

namespace {

constexpr std::string_view kPaymentMetaKey = "x402/payment";
constexpr std::string_view kPaymentExtension = "org.x402/payment";
constexpr std::string_view kProtocolVersionMetaKey = "io.modelcontextprotocol/protocolVersion";
constexpr std::string_view kClientCapabilitiesMetaKey =
    "io.modelcontextprotocol/clientCapabilities";

McpPostError invalid(std::string message) {
  return McpPostError(McpPostFailure::invalid, std::move(message));
}

bool valid_id(const json::value& id) {
  return id.is_string() || id.is_int64() || id.is_uint64();
}

// Reads params._meta of a request. `_meta` must be an object when present (MCP basic/_meta).
Result<const json::object*, McpPostError> params_meta(const json::object& params) {
  const json::value* meta = params.if_contains("_meta");
  if (meta == nullptr || meta->is_null())
    return static_cast<const json::object*>(nullptr);
  if (!meta->is_object())
    return invalid("params._meta must be an object");
  return &meta->get_object();
}

Result<McpMessage, McpPostError> classify(const json::value& value) {
  if (!value.is_object())
    return invalid("a JSON-RPC message must be an object");
  const json::object& message = value.get_object();
  const json::value* version = message.if_contains("jsonrpc");
  if (version == nullptr || !version->is_string() || version->get_string() != "2.0") {
    return invalid("\"jsonrpc\" must be \"2.0\"");
  }
  McpMessage out;
  const json::value* method = message.if_contains("method");
  const json::value* id = message.if_contains("id");
  if (method == nullptr) {
    if (message.if_contains("result") == nullptr && message.if_contains("error") == nullptr) {
      return invalid("a JSON-RPC message needs \"method\", \"result\" or \"error\"");
    }
    out.kind = McpMessage::Kind::response;
    if (id != nullptr)
      out.id = *id;
    return out;
  }
  if (!method->is_string())
    return invalid("\"method\" must be a string");
  out.method = std::string(method->get_string());
  if (id == nullptr) {
    out.kind = McpMessage::Kind::notification;
  } else {
    if (!valid_id(*id))
      return invalid("\"id\" must be a string or an integer");
    out.kind = McpMessage::Kind::request;
    out.id = *id;
  }
  const json::value* params_value = message.if_contains("params");
  if (params_value != nullptr && !params_value->is_object() && !params_value->is_array()) {
    return invalid("\"params\" must be an object or an array");
  }
  const json::object* params =
      params_value != nullptr && params_value->is_object() ? &params_value->get_object() : nullptr;

  if (out.method == "tools/call") {
    // A tools/call whose tool cannot be named exactly is refused rather than guessed at: the
    // price lookup and the upstream must see the same tool.
    if (out.kind != McpMessage::Kind::request)
      return invalid("tools/call must be a request");
    if (params == nullptr)
      return invalid("tools/call needs \"params\" as an object");
    const json::value* name = params->if_contains("name");
    if (name == nullptr || !name->is_string()) {
      return invalid("tools/call needs \"params.name\" as a string");
    }
    out.is_tools_call = true;
    out.tool_name = std::string(name->get_string());
  }
  if (params != nullptr) {
    auto meta = params_meta(*params);
    if (!meta.ok())
      return meta.error();
    if (const json::object* m = *meta) {
      out.payment = m->if_contains(kPaymentMetaKey);
      if (const json::value* v = m->if_contains(kProtocolVersionMetaKey); v && v->is_string()) {
        out.body_protocol_version = std::string(v->get_string());
      }
      if (const json::value* caps = m->if_contains(kClientCapabilitiesMetaKey);
          caps && caps->is_object()) {
        if (const json::value* ext = caps->get_object().if_contains("extensions");
            ext && ext->is_object()) {
          out.advertises_payment_extension = ext->get_object().contains(kPaymentExtension);
        }
      }
    }
  }
  return out;
}

}  // namespace

const char* to_string(McpPostFailure failure) {
  return failure == McpPostFailure::parse ? "jsonrpc.parse" : "jsonrpc.invalid";
}

Result<McpPost, McpPostError> inspect_mcp_post(std::string_view body) {
  auto parsed = x402::parse_strict_json(body);
  if (!parsed.ok())
    return McpPostError(McpPostFailure::parse, parsed.error().message);
  McpPost post;
  post.body = std::move(parsed).value();
  if (post.body.is_array()) {
    const json::array& batch = post.body.get_array();
    if (batch.empty())
      return invalid("an empty batch is not a JSON-RPC message");
    post.is_batch = true;
    post.messages.reserve(batch.size());
    for (const json::value& element : batch) {
      auto message = classify(element);
      if (!message.ok())
        return message.error();
      post.messages.push_back(std::move(message).value());
    }
    return post;
  }
  auto message = classify(post.body);
  if (!message.ok())
    return message.error();
  post.messages.push_back(std::move(message).value());
  return post;
}

Result<std::string> decode_mcp_header_value(std::string_view value) {
  constexpr std::string_view prefix = "=?base64?";
  constexpr std::string_view suffix = "?=";
  if (value.size() >= prefix.size() + suffix.size() && value.starts_with(prefix) &&
      value.ends_with(suffix)) {
    auto decoded = x402::base64_decode(
        value.substr(prefix.size(), value.size() - prefix.size() - suffix.size()));
    if (!decoded.ok()) {
      return make_error("mcp.header_mismatch", "Mcp-Name: invalid base64 sentinel value");
    }
    return std::move(decoded).value();
  }
  return std::string(value);
}

Status check_request_headers(const McpMessage& message, const McpRequestHeaders& headers) {
  auto mismatch = [](std::string text) {
    return make_error("mcp.header_mismatch", std::move(text));
  };
  if (headers.method && *headers.method != message.method) {
    return mismatch("Header mismatch: Mcp-Method header value '" + std::string(*headers.method) +
                    "' does not match body value '" + message.method + "'");
  }
  if (headers.protocol_version && message.body_protocol_version &&
      *headers.protocol_version != *message.body_protocol_version) {
    return mismatch("Header mismatch: MCP-Protocol-Version header value '" +
                    std::string(*headers.protocol_version) + "' does not match body value '" +
                    *message.body_protocol_version + "'");
  }
  // From 2026-07-28 on, Mcp-Method and (for tools/call) Mcp-Name are required headers.
  const bool modern = headers.protocol_version && *headers.protocol_version >= "2026-07-28";
  if (modern && message.kind == McpMessage::Kind::request && !headers.method) {
    return mismatch("Header mismatch: required header Mcp-Method is missing");
  }
  if (message.is_tools_call) {
    if (headers.name) {
      auto name = decode_mcp_header_value(*headers.name);
      if (!name.ok())
        return name.error();
      if (*name != message.tool_name) {
        return mismatch("Header mismatch: Mcp-Name header value '" + *name +
                        "' does not match body value '" + message.tool_name + "'");
      }
    } else if (modern) {
      return mismatch("Header mismatch: required header Mcp-Name is missing for tools/call");
    }
  }
  return ok_status();
}

}  // namespace x402proxy::mcp
