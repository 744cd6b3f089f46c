#include "mcp/jsonrpc_reply.h"

#include <boost/json/serialize.hpp>

#include "x402/codec.h"

namespace x402proxy::mcp {
namespace json = boost::json;

std::string jsonrpc_error(const json::value& id, int code, std::string_view message,
                          json::object data) {
  json::object error{{"code", code}, {"message", message}};
  if (!data.empty())
    error["data"] = std::move(data);
  json::object envelope{{"jsonrpc", "2.0"}, {"id", id}, {"error", std::move(error)}};
  return json::serialize(envelope);
}

std::string jsonrpc_result(const json::value& id, json::value result) {
  json::object envelope{{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}};
  return json::serialize(envelope);
}

json::object payment_required_result(const x402::PaymentRequired& required,
                                     const BindingOptions& options) {
  json::object payment_required = x402::to_json(required);
  if (options.extension_binding) {
    // x402 MCP transport, "Extension Binding": the operation did not execute; not an error.
    return json::object{{"resultType", "payment_required"},
                        {"paymentRequired", std::move(payment_required)}};
  }
  // x402 MCP transport, "Tool-Result Binding": the same object in structuredContent and,
  // JSON-encoded, in content[0].text.
  json::object result;
  if (options.modern_revision)
    result["resultType"] = "complete";
  result["isError"] = true;
  std::string text = json::serialize(payment_required);
  result["structuredContent"] = std::move(payment_required);
  result["content"] = json::array{json::object{{"type", "text"}, {"text", std::move(text)}}};
  return result;
}

}  // namespace x402proxy::mcp
