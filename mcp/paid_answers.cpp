#include "mcp/paid_answers.h"

#include <boost/json/serialize.hpp>

#include "x402/codec.h"

namespace x402proxy::mcp {
namespace json = boost::json;

namespace {

constexpr std::string_view kReceiptMetaKey = "x402/payment-response";

x402::PaymentRequired offer_for(const ToolPrice& offer, const std::string& tool,
                                const std::string& error) {
  x402::PaymentRequired required;
  required.x402_version = 2;
  required.error = error;
  // x402 MCP transport: the resource of a tool is mcp://tool/<name>.
  required.resource.url = "mcp://tool/" + tool;
  // x402 v2 ResourceInfo.description is the buyer's one human-readable line about what it pays
  // for: it also says whether a tool error result is charged, since the x402 MCP transport leaves
  // that to the seller (the official server wrapper does not settle isError results).
  const std::string what = offer.description.empty() ? "tool " + tool : offer.description;
  required.resource.description =
      what + (offer.charge_tool_errors ? "; charged even when the tool reports an error"
                                       : "; not charged when the tool reports an error");
  required.accepts = offer.accepts;
  return required;
}

// A tool result the client reads as text (and an LLM can act on), with machine-readable data in
// _meta.
json::object text_result(const std::string& text, const BindingOptions& binding) {
  json::object result;
  if (binding.modern_revision)
    result["resultType"] = "complete";
  result["isError"] = true;
  result["content"] = json::array{json::object{{"type", "text"}, {"text", text}}};
  return result;
}

json::object failed_receipt(const std::string& reason, const PaymentFacts& facts) {
  json::object receipt{{"success", false}, {"errorReason", reason}};
  receipt["transaction"] = facts.transaction;
  receipt["network"] = facts.network;
  if (!facts.payer.empty())
    receipt["payer"] = facts.payer;
  return receipt;
}

}  // namespace

bool reports_tool_error(const json::object& result) {
  const json::value* is_error = result.if_contains("isError");
  return is_error != nullptr && is_error->is_bool() && is_error->get_bool();
}

json::object payment_required_answer(const ToolPrice& offer, const std::string& tool,
                                     const std::string& error, const BindingOptions& binding) {
  return payment_required_result(offer_for(offer, tool, error), binding);
}

json::object settlement_failed_answer(const ToolPrice& offer, const std::string& tool,
                                      const std::string& reason, const PaymentFacts& facts,
                                      const BindingOptions& binding) {
  json::object result = payment_required_result(
      offer_for(offer, tool, "Payment settlement failed: " + reason), binding);
  json::value& meta = result["_meta"];
  if (!meta.is_object())
    meta = json::object();
  meta.get_object()[kReceiptMetaKey] = failed_receipt(reason, facts);
  return result;
}

json::object settlement_pending_answer(const std::string& tool, const PaymentFacts& facts,
                                       int retry_after_seconds, const BindingOptions& binding) {
  std::string text = "Payment settlement pending: the payment for tool \"" + tool + "\" (" +
                     facts.amount + " atomic units on " + facts.network + " from " + facts.payer +
                     ") was accepted and the tool has been called, but the settlement's outcome "
                     "is not known yet";
  if (!facts.transaction.empty())
    text += " (transaction " + facts.transaction + ")";
  text += ". Retry the same call with the same payment in about " +
          std::to_string(retry_after_seconds) +
          " s to receive the result; do not sign a new payment.";
  json::object result = text_result(text, binding);
  json::object receipt = failed_receipt("settlement_pending", facts);
  receipt["retryAfterSeconds"] = retry_after_seconds;
  result["_meta"] = json::object{{kReceiptMetaKey, std::move(receipt)}};
  return result;
}

json::object payment_in_use_answer(const std::string& tool, const PaymentFacts& facts,
                                   const BindingOptions& binding) {
  json::object result = text_result(
      "Payment in use: another call with this payment for tool \"" + tool +
          "\" is in progress. Retry the same call with the same payment in a few seconds; do not "
          "sign a new payment.",
      binding);
  json::object receipt = failed_receipt("payment_in_use", facts);
  receipt["retryAfterSeconds"] = 2;
  result["_meta"] = json::object{{kReceiptMetaKey, std::move(receipt)}};
  return result;
}

json::object payment_spent_answer(const std::string& tool, const PaymentFacts& facts,
                                  const BindingOptions& binding) {
  json::object result = text_result(
      "Payment already used: this payment for tool \"" + tool + "\" was settled (transaction " +
          facts.transaction + ") and its result was delivered. A new call needs a new payment.",
      binding);
  result["_meta"] = json::object{{kReceiptMetaKey, receipt_json(facts)}};
  return result;
}

json::object settlement_unproven_answer(const std::string& tool, const PaymentFacts& facts,
                                        const BindingOptions& binding) {
  std::string text =
      "Payment settlement could not be proven: the outcome of the settlement for "
      "tool \"" +
      tool + "\" is not known, and its authorization can no longer settle";
  if (!facts.transaction.empty())
    text += " (the facilitator named transaction " + facts.transaction + ")";
  text += ". The result is withheld; contact the seller with this payment's details.";
  json::object result = text_result(text, binding);
  result["_meta"] = json::object{{kReceiptMetaKey, failed_receipt("settlement_unproven", facts)}};
  return result;
}

json::object receipt_json(const PaymentFacts& facts) {
  x402::SettleResponse response;
  response.success = true;
  response.transaction = facts.transaction;
  response.network = facts.network;
  if (!facts.payer.empty())
    response.payer = facts.payer;
  if (!facts.amount.empty())
    response.amount = facts.amount;
  return x402::to_json(response);
}

void attach_receipt(json::object& result, const json::object& receipt) {
  // x402 MCP transport: the receipt goes in result._meta, merged with the tool's own _meta.
  json::value& meta = result["_meta"];
  if (!meta.is_object())
    meta = json::object();
  meta.get_object()[kReceiptMetaKey] = receipt;
}

}  // namespace x402proxy::mcp
