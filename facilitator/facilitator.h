// The seam between the paywall and whoever checks and moves the money: a remote x402 facilitator
// (HTTP, facilitator/remote_facilitator.h) or the embedded one
// (facilitator/embedded_facilitator.h). The paywall does not know which one it talks to (compare
// Envoy's ext_authz Client).
#pragma once

#include <chrono>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "x402/result.h"
#include "x402/types.h"

namespace x402proxy::facilitator {

// Why a facilitator call did not give a usable positive answer.
enum class FailureKind {
  timeout,           // no answer within the call's budget (verify 5 s, settle 60 s by default)
  unreachable,       // connect / TLS / I/O failure before an answer
  http_status,       // answered with an HTTP status and no x402 failure body
  malformed_answer,  // answered, but not the JSON shape the API defines
  payment_rejected,  // verify said isValid:false, or settle said success:false (reason = theirs)
};

const char* to_string(FailureKind kind);

struct FacilitatorError {
  FailureKind kind;
  std::string reason;   // the facilitator's invalidReason/errorReason, or our own for other kinds
  std::string message;  // human-readable detail; never contains a secret
  int http_status = 0;  // when the facilitator answered at all
  std::string payer;    // when the facilitator named one
  std::string transaction;  // a settle failure that names a transaction (it may have moved money)
  bool sent = true;         // false only when the request cannot have reached the facilitator
};

template <class T>
using FacilitatorResult = Result<T, FacilitatorError>;

class Facilitator {
 public:
  virtual ~Facilitator() = default;

  // POST /verify. A positive result means isValid:true; isValid:false is a payment_rejected error.
  virtual boost::asio::awaitable<FacilitatorResult<x402::VerifyResponse>> verify(
      const x402::PaymentPayload& payment, const x402::PaymentRequirements& requirements) = 0;

  // POST /settle. A positive result means success:true; success:false (also with HTTP 200) is a
  // payment_rejected error, as is a settle answer without a transaction. `deadline` bounds this
  // call below the implementation's own settle budget (facilitator/settlement.h tells what a
  // failure means).
  virtual boost::asio::awaitable<FacilitatorResult<x402::SettleResponse>> settle(
      const x402::PaymentPayload& payment, const x402::PaymentRequirements& requirements,
      std::chrono::steady_clock::time_point deadline =
          std::chrono::steady_clock::time_point::max()) = 0;

  // GET /supported.
  virtual boost::asio::awaitable<FacilitatorResult<x402::SupportedResponse>> supported() = 0;
};

}  // namespace x402proxy::facilitator
