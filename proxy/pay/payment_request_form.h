// Recognising "pay first" in every form a seller may send it (research §5), so that `pay` works
// with the official x402 MCP transport and with the peers deployed before it:
//   tool_result   x402 v2 MCP transport, tool-result binding: isError with the PaymentRequired in
//                 structuredContent and/or content[0].text (Cloudflare also in _meta["x402/error"])
//   extension     x402 v2 MCP transport, extension binding: resultType "payment_required"
//   jsonrpc_error the December 2025 text and mcp-go-x402 / x402-go: error code 402, data = it
//   http_402      an HTTP-level 402 on the MCP POST: PAYMENT-REQUIRED header (v2) or a v1 body
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "x402/result.h"
#include "x402/types.h"

namespace x402proxy::proxy {

enum class PaymentRequestForm { tool_result, extension, jsonrpc_error, http_402 };
const char* to_string(PaymentRequestForm form);

struct RecognizedPaymentRequest {
  PaymentRequestForm form = PaymentRequestForm::tool_result;
  x402::PaymentRequired required;
};

// From a JSON-RPC response. nullopt: an ordinary answer (including an ordinary tool error).
// Error (reason "seller.malformed_payment_required"): it is a payment request, but its
// PaymentRequired does not parse; nothing may be signed for it.
Result<std::optional<RecognizedPaymentRequest>> recognize_payment_request(
    const boost::json::object& response);

// From an HTTP 402 answer: the base64 PAYMENT-REQUIRED header when present, else the JSON body.
Result<RecognizedPaymentRequest> recognize_http_402(std::string_view payment_required_header,
                                                    std::string_view body);

// The settlement receipt of a paid result: result._meta["x402/payment-response"] (or, for the
// JSON-RPC error form, error.data["x402/payment-response"]). nullopt when absent or unreadable.
std::optional<x402::SettleResponse> payment_receipt(const boost::json::object& response);

}  // namespace x402proxy::proxy
