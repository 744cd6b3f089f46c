// Every answer the paywall writes itself about a payment, built in one place (STYLE: one
// local-reply helper) so that the x402 path, the credit path and redemption say the same thing
// the same way. Each returns the JSON-RPC `result` object for the call's id.
//
// The shapes follow the x402 MCP transport (specs/transports-v2/mcp.md): a payment-required
// answer is the tool-result binding (isError, the PaymentRequired in structuredContent and in
// content[0].text) or, when the client asked for it, the extension binding. Settlement failure
// withholds the tool's content and states the failure. "Settlement pending" is this proxy's own
// answer for a payment whose outcome is not known yet: it names the payment and tells the buyer
// to retry the same call with the same payment; it carries no `accepts`, so no client takes it
// for a request to pay again.
#pragma once

#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "mcp/jsonrpc_reply.h"
#include "x402/types.h"

namespace x402proxy::mcp {

// What a priced tool offers, as an answer names it: the requirements in the seller's order and
// the tool's description (x402 `resource.description`).
struct ToolPrice {
  std::string description;
  std::vector<x402::PaymentRequirements> accepts;
  // Stated in resource.description so that a buyer knows before paying whether a tool error
  // result is charged (serve's charge_tool_errors).
  bool charge_tool_errors = true;
};

// What a receipt or a pending answer says about one payment.
struct PaymentFacts {
  std::string network;
  std::string payer;
  std::string amount;
  std::string transaction;  // the proven one (receipt) or the one a facilitator named (pending)
};

// The x402 offer for `offer`'s tool with `error` saying why the call was not run.
// MCP CallToolResult: `isError: true` is the tool reporting a failure in its result (as opposed
// to a JSON-RPC error, where the call did not run). Anything but the boolean true is no error.
bool reports_tool_error(const boost::json::object& result);

boost::json::object payment_required_answer(const ToolPrice& offer, const std::string& tool,
                                            const std::string& error,
                                            const BindingOptions& binding);

// Settlement failed with proof that nothing moved: the tool's content is withheld (x402 MCP
// transport, "Settlement Failure"). The failed receipt in `_meta["x402/payment-response"]`
// (success false) tells a paying client that this payment was consumed by an attempt and that
// it must not simply sign another.
boost::json::object settlement_failed_answer(const ToolPrice& offer, const std::string& tool,
                                             const std::string& reason, const PaymentFacts& facts,
                                             const BindingOptions& binding);

// The outcome is not known yet: retry the same call with the same payment.
boost::json::object settlement_pending_answer(const std::string& tool, const PaymentFacts& facts,
                                              int retry_after_seconds,
                                              const BindingOptions& binding);

// Another call holds this payment right now (a copy sent twice at once, or a retry while the
// first attempt is still running): retry the same call with the same payment shortly.
boost::json::object payment_in_use_answer(const std::string& tool, const PaymentFacts& facts,
                                          const BindingOptions& binding);

// The payment was settled and its result already delivered: it buys nothing more. The receipt
// is included so that a paying client can book it.
boost::json::object payment_spent_answer(const std::string& tool, const PaymentFacts& facts,
                                         const BindingOptions& binding);

// Reconciliation ended without proof either way: the buyer is told what is known.
boost::json::object settlement_unproven_answer(const std::string& tool, const PaymentFacts& facts,
                                               const BindingOptions& binding);

// The x402 receipt (SettleResponse) for a settled payment.
boost::json::object receipt_json(const PaymentFacts& facts);

// Adds the receipt to the tool's own result (`_meta` merged, never replaced).
void attach_receipt(boost::json::object& result, const boost::json::object& receipt);

}  // namespace x402proxy::mcp
