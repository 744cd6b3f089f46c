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

namespace x402proxy::pay {

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

// What a seller's answer to a call that carried a payment says about that payment. Only
// `refused` proves the payment cannot settle, so only then may another one be signed: every
// other answer to a payment that left may mean money moved.
enum class PaidOutcome {
  answered,           // the call's own answer (with a success receipt, or none): for the client
  refused,            // a fresh payment request without a failed receipt: refused at verification
  settlement_failed,  // "Payment settlement failed: …" or a failed receipt: final
  unproven,           // settlement_unproven: final, the outcome will never be known
  pending,            // settlement_pending: retry with the same payment later
  in_use,             // payment_in_use: another call holds this payment; retry shortly
};
const char* to_string(PaidOutcome outcome);

struct PaidAnswer {
  PaidOutcome outcome = PaidOutcome::answered;
  std::string reason;  // the seller's words (errorReason, error text)
  std::optional<x402::SettleResponse> receipt;
  std::optional<RecognizedPaymentRequest> fresh_request;  // refused: what it asks for instead
  std::optional<int> retry_after_seconds;                 // pending, in_use: as the seller said
};

// The answer to a retry that carried a payment. `response` is its JSON-RPC answer (nullptr when
// none came: an HTTP 402); `status` and the headers are the HTTP answer's. A 402 with a
// PAYMENT-RESPONSE receipt is a settlement failure, a plain 402 a refusal. A JSON-RPC answer is
// judged by its failed receipt first (serve: settlement_pending, payment_in_use,
// settlement_unproven, or a failure), then by the "Payment settlement failed: " error text the
// official @x402/mcp wrapper sends without a receipt; a payment request with neither is a
// refusal at verification.
PaidAnswer classify_paid_answer(const boost::json::object* response, unsigned status,
                                std::string_view payment_required_header,
                                std::string_view payment_response_header, std::string_view body);

}  // namespace x402proxy::pay
