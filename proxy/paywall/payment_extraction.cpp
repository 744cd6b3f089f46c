#include "proxy/paywall/payment_extraction.h"

#include <boost/json/serialize.hpp>

#include "mcp/json_member_edit.h"
#include "x402/base64.h"
#include "x402/codec.h"
#include "x402/networks.h"
#include "x402/strict_json.h"

namespace x402proxy::proxy {
namespace json = boost::json;
namespace http = boost::beast::http;

namespace {

Error invalid_payload(std::string message) {
  return make_error("invalid_payload", std::move(message));
}

Result<std::optional<x402::PaymentPayload>> decode_payload_json(std::string_view text,
                                                                const char* where) {
  auto parsed = x402::parse_strict_json(text);
  if (!parsed.ok()) {
    return invalid_payload(std::string(where) + " is not valid JSON: " + parsed.error().message);
  }
  auto payload = x402::payment_payload_from_json(*parsed);
  if (!payload.ok())
    return invalid_payload(std::string(where) + ": " + payload.error().message);
  return std::optional<x402::PaymentPayload>(std::move(payload).value());
}

Result<std::optional<x402::PaymentPayload>> decode_payload_string(std::string_view text,
                                                                  const char* where) {
  std::string_view trimmed = text;
  while (!trimmed.empty() && (trimmed.front() == ' ' || trimmed.front() == '\t')) {
    trimmed.remove_prefix(1);
  }
  if (trimmed.starts_with("{"))
    return decode_payload_json(trimmed, where);
  auto decoded = x402::base64_decode(trimmed);
  if (!decoded.ok()) {
    return invalid_payload(std::string(where) +
                           " is neither a JSON object nor base64 JSON: " + decoded.error().message);
  }
  return decode_payload_json(*decoded, where);
}

}  // namespace

Result<std::optional<x402::PaymentPayload>> extract_payment(
    const mcp::McpMessage& call, const http::request<http::string_body>& request) {
  if (call.payment != nullptr && !call.payment->is_null()) {
    const json::value& value = *call.payment;
    constexpr const char* where = "params._meta[\"x402/payment\"]";
    if (value.is_string())
      return decode_payload_string(value.get_string(), where);
    if (!value.is_object())
      return invalid_payload(std::string(where) + " must be an object");
    auto payload = x402::payment_payload_from_json(value);
    if (!payload.ok())
      return invalid_payload(std::string(where) + ": " + payload.error().message);
    return std::optional<x402::PaymentPayload>(std::move(payload).value());
  }
  if (auto header = request.find("PAYMENT-SIGNATURE"); header != request.end()) {
    return decode_payload_string(header->value(), "PAYMENT-SIGNATURE header");
  }
  if (auto header = request.find("X-PAYMENT"); header != request.end()) {
    return decode_payload_string(header->value(), "X-PAYMENT header");
  }
  return std::optional<x402::PaymentPayload>();
}

Result<const x402::PaymentRequirements*> match_offer(const ToolOffer& offer,
                                                     const x402::PaymentPayload& payment,
                                                     std::string_view tool) {
  for (const x402::PaymentRequirements& offered : offer.accepts) {
    if (payment.x402_version >= 2) {
      if (x402::requirements_match(offered, payment.accepted))
        return &offered;
      continue;
    }
    // x402 v1 payloads name only scheme and network (research §1.8).
    const x402::Network* paid = x402::find_network(payment.accepted.network);
    const x402::Network* ours = x402::find_network(offered.network);
    if (payment.accepted.scheme == offered.scheme && paid != nullptr && paid == ours) {
      return &offered;
    }
  }
  std::string offered_list;
  for (const auto& offered : offer.accepts) {
    if (!offered_list.empty())
      offered_list += ", ";
    offered_list += offered.scheme + " " + offered.amount + " of " + offered.asset + " on " +
                    offered.network + " to " + offered.pay_to;
  }
  return make_error("invalid_payment_requirements",
                    "No matching payment requirements: the payment's accepted terms (" +
                        payment.accepted.scheme + " " + payment.accepted.amount + " of " +
                        payment.accepted.asset + " on " + payment.accepted.network + " to " +
                        payment.accepted.pay_to + ") match none of the offers for tool \"" +
                        std::string(tool) + "\" (" + offered_list + ")");
}

std::optional<std::string> body_without_payment(std::string_view body) {
  return mcp::without_payment_member(body);
}

}  // namespace x402proxy::proxy
