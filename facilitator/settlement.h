// What a settle attempt established (DESIGN, paywall pipeline step 6). A facilitator's answer is
// one of three outcomes, and only two of them are final:
//   settled  — success with a transaction: the money moved;
//   refused  — a reason that proves nothing moved (the facilitator checked and did not send);
//   unknown  — anything else: a timeout, a connection lost after the request left, HTTP 5xx or
//              429, `settlement_pending`, an "already used" nonce, any failure that names a
//              transaction. The payment may have moved money; it is reconciled, never treated as
//              refused.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "facilitator/facilitator.h"

namespace x402proxy::facilitator {

enum class SettlementOutcome { settled, refused, unknown };
const char* to_string(SettlementOutcome outcome);

struct Settlement {
  SettlementOutcome outcome = SettlementOutcome::unknown;
  std::string transaction;  // settled: the proof; unknown: one the facilitator named, if any
  std::string reason;       // the facilitator's reason code, or ours (timeout, http_503, ...)
  std::string message;      // short and free of secrets
  std::string payer;
  bool sent = true;                             // the request may have reached the facilitator
  std::optional<x402::SettleResponse> receipt;  // settled: the facilitator's answer
  // Reconciliation ended without proof either way before the authorization expired
  // (reason "settlement_unproven"): nothing more is tried.
  bool unproven = false;

  // "reason: message" for logs and the journal.
  std::string detail() const;
};

// `earlier_attempt_may_have_landed`: a previous settle of this payment may have reached the
// facilitator, so no refusal can prove anything any more.
Settlement classify_settlement(const FacilitatorResult<x402::SettleResponse>& answer,
                               bool earlier_attempt_may_have_landed = false);

// The reasons that say the authorization was consumed without saying by whom: the nonce was
// used (by this settlement, an earlier one whose answer was lost, or the payer's cancellation),
// or the transaction was already processed. Never proof of payment on their own.
bool says_already_used(std::string_view reason);

}  // namespace x402proxy::facilitator
