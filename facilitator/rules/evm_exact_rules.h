// Verification of an x402 "exact" EVM payment against the server's own requirement, shared by the
// embedded facilitator and the proxy's pre-checks. Checks and reason names follow the reference
// facilitator (@x402/evm 2.27 exact/facilitator, research §3.4); chain state (nonce used, balance)
// is the caller's business.
#pragma once

#include <cstdint>
#include <string>

#include "x402/amount.h"
#include "x402/result.h"
#include "x402/types.h"

namespace x402proxy::facilitator {

struct VerifiedEvmPayment {
  std::string payer;   // EIP-55 address of `from`, who signed
  std::string pay_to;  // EIP-55 address of `to`
  x402::Amount amount = 0;
  std::string nonce;  // 0x + 64 hex, lower case
  std::int64_t valid_before = 0;
  std::string payment_id;  // network:asset:from:nonce, lower case: unique per EIP-3009 rules
};

// Reasons: invalid_exact_evm_scheme, invalid_exact_evm_network_mismatch,
// invalid_exact_evm_missing_eip712_domain, invalid_payload, invalid_exact_evm_signature,
// invalid_exact_evm_recipient_mismatch, invalid_exact_evm_payload_authorization_valid_before,
// invalid_exact_evm_payload_authorization_valid_after,
// invalid_exact_evm_payload_authorization_value_mismatch (v2; a v1 payment gets the library's v1
// name invalid_exact_evm_authorization_value). The full list: rules/reason_names.h.
// `clock_skew` widens both ends of the time window.
Result<VerifiedEvmPayment> verify_exact_evm(const x402::PaymentPayload& payment,
                                            const x402::PaymentRequirements& requirements,
                                            std::int64_t now_unix, std::int64_t clock_skew);

}  // namespace x402proxy::facilitator
