// One structured log line per /verify and /settle the facilitator service answers, so that an
// operator can tell what it decided and for whom: operation, outcome, reason, payer, network,
// asset, amount, scheme, x402 version, transaction, time taken and the refusal's detail. logfmt
// (key=value, values with spaces quoted). Never a signature or payload: the detail is the
// facilitator's own message with long hex / base58 / base64 runs cut out (net/redaction.h).
#pragma once

#include <chrono>
#include <string>

namespace x402proxy::facilitator {

struct FacilitatorCallRecord {
  std::string operation;  // "verify" | "settle"
  std::string outcome;    // "valid", "invalid", "settled", "refused", "error", "bad_request"
  std::string reason;
  std::string payer;
  std::string network;
  std::string asset;
  std::string amount;  // the requirement's, atomic units
  std::string scheme;
  int x402_version = 0;
  std::string transaction;
  std::string detail;
  std::chrono::steady_clock::duration elapsed{};
};

std::string format_call_record(const FacilitatorCallRecord& record);
// At info; "error" and "bad_request" outcomes at warn.
void log_call_record(const FacilitatorCallRecord& record);

}  // namespace x402proxy::facilitator
