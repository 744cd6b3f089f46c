// A payment's replay identity: what the payer signed that makes it one payment, derived the same
// way by the proxy's replay guard, its journal and the embedded facilitator's ledger.
//   EVM exact (EIP-3009): the chain, the token, `from` and the nonce (a nonce is used once per
//   token and authorizer).
//   SVM exact: the transaction message the payer signed — never the wire bytes, whose fee-payer
//   signature slot is empty in the buyer's copy and can carry anything (DESIGN pitfalls).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "x402/result.h"
#include "x402/types.h"

namespace x402proxy::facilitator {

std::string evm_payment_identity(std::string_view network, std::string_view asset,
                                 std::string_view from_address, std::string_view nonce_hex);
std::string svm_payment_identity(std::string_view network,
                                 std::span<const std::uint8_t> message_bytes);

// The identity of `payment` for `requirements` without checking signatures or time: for looking
// the payment up (a buyer retrying with it). Reason "invalid_payload" when it cannot be read.
Result<std::string> payment_identity(const x402::PaymentPayload& payment,
                                     const x402::PaymentRequirements& requirements);

}  // namespace x402proxy::facilitator
