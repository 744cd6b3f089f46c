#include "facilitator/settlement.h"

#include <array>

namespace x402proxy::facilitator {
namespace {

// Failure reasons a facilitator gives after checking the payment and before sending anything
// (x402 v2 specification §9 and @x402/evm, @x402/svm 2.27: verification failures re-checked at
// settle). Those prove nothing moved.
bool proves_nothing_moved(std::string_view reason) {
  if (says_already_used(reason))
    return false;
  // A send that threw (it may have been broadcast), a transaction that landed without the
  // expected transfer, a confirmation that never came: not proofs (@x402/evm eip3009.ts
  // settleEIP3009, @x402/svm exact/facilitator/scheme.ts settle).
  for (std::string_view ambiguous : {"transaction_failed", "transfer_event_mismatch",
                                     "not_confirmed", "unexpected", "transaction_state"}) {
    if (reason.find(ambiguous) != std::string_view::npos)
      return false;
  }
  constexpr std::array<std::string_view, 6> kPlain = {
      "insufficient_funds", "unsupported_scheme",           "invalid_network",
      "invalid_payload",    "invalid_payment_requirements", "invalid_x402_version"};
  for (auto known : kPlain) {
    if (reason == known)
      return true;
  }
  // invalid_exact_evm_* and invalid_exact_svm_* are the scheme's verification failures.
  return reason.starts_with("invalid_exact_");
}

}  // namespace

const char* to_string(SettlementOutcome outcome) {
  switch (outcome) {
    case SettlementOutcome::settled:
      return "settled";
    case SettlementOutcome::refused:
      return "refused";
    case SettlementOutcome::unknown:
      return "unknown";
  }
  return "unknown";
}

bool says_already_used(std::string_view reason) {
  return reason == "invalid_exact_evm_nonce_already_used" || reason == "duplicate_settlement" ||
         reason == "invalid_exact_svm_transaction_already_processed" ||
         reason == "settlement_pending";
}

std::string Settlement::detail() const {
  if (message.empty())
    return reason;
  return reason + ": " + message;
}

Settlement classify_settlement(const FacilitatorResult<x402::SettleResponse>& answer,
                               bool earlier_attempt_may_have_landed) {
  Settlement settlement;
  if (answer.ok()) {
    settlement.outcome = SettlementOutcome::settled;
    settlement.transaction = answer->transaction;
    settlement.payer = answer->payer.value_or("");
    settlement.reason = "settled";
    settlement.receipt = *answer;
    return settlement;
  }
  const FacilitatorError& failure = answer.error();
  settlement.reason = failure.reason.empty() ? to_string(failure.kind) : failure.reason;
  settlement.message = failure.message;
  settlement.payer = failure.payer;
  settlement.transaction = failure.transaction;
  settlement.sent = failure.sent;
  // Once an earlier attempt may have moved the money, a refusal now says nothing about it: the
  // authorization is spent or expired either way (a repeated EVM settle answers "nonce already
  // used"; a Solana one after 120 s fails simulation). Only success or a proof from the chain
  // ends it.
  if (earlier_attempt_may_have_landed)
    return settlement;
  switch (failure.kind) {
    case FailureKind::payment_rejected:
      // success:false that names a transaction may have moved money (DESIGN pitfalls).
      if (failure.transaction.empty() && proves_nothing_moved(failure.reason))
        settlement.outcome = SettlementOutcome::refused;
      break;
    case FailureKind::http_status:
      // A 4xx is the facilitator refusing the request itself; 408, 425 and 429 say "later", and
      // a 5xx may come after the transaction was sent.
      if (failure.http_status >= 400 && failure.http_status < 500 && failure.http_status != 408 &&
          failure.http_status != 425 && failure.http_status != 429) {
        settlement.outcome = SettlementOutcome::refused;
      }
      break;
    case FailureKind::timeout:
    case FailureKind::unreachable:
    case FailureKind::malformed_answer:
      break;
  }
  return settlement;
}

}  // namespace x402proxy::facilitator
