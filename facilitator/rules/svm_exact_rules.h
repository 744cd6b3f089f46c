// Verification of an x402 "exact" Solana payment against the server's own requirement, shared by
// the embedded facilitator and the proxy's pre-checks. Checks and reason names follow the
// reference facilitator (@x402/svm 2.27, research §4.4); chain state is the caller's business.
#pragma once

#include <span>
#include <string>

#include "x402/amount.h"
#include "x402/result.h"
#include "x402/types.h"

namespace x402proxy::facilitator {

struct VerifiedSvmPayment {
  std::string payer;        // the transfer authority (the buyer), base58
  std::string destination;  // the payee's associated token account, base58
  x402::Amount amount = 0;
  // "svm:<network>:" + base58(SHA-256 of the message): what the buyer signed, whatever the fee
  // payer's signature slot carries.
  std::string payment_id;
};

// `fee_payers`: the fee-payer addresses the facilitator manages (the requirement's feePayer must
// be one of them). Reasons: invalid_exact_svm_unsupported_scheme,
// invalid_exact_svm_network_mismatch, invalid_exact_svm_payload_missing_fee_payer,
// invalid_exact_svm_fee_payer_not_managed_by_facilitator,
// invalid_exact_svm_payload_transaction_could_not_be_decoded,
// invalid_exact_svm_payload_transaction_instructions_length,
// invalid_exact_svm_payload_transaction_instructions_compute_limit_instruction,
// invalid_exact_svm_payload_transaction_instructions_compute_price_instruction(_too_high),
// invalid_exact_svm_payload_no_transfer_instruction, invalid_exact_svm_payload_mint_mismatch,
// invalid_exact_svm_payload_recipient_mismatch, invalid_exact_svm_payload_amount_mismatch,
// invalid_exact_svm_payload_transaction_fee_payer_transferring_funds,
// invalid_exact_svm_payload_unknown_{fourth,fifth,sixth}_instruction,
// invalid_exact_svm_payload_memo_count, invalid_exact_svm_payload_memo_mismatch,
// invalid_exact_svm_payload_signature_invalid.
Result<VerifiedSvmPayment> verify_exact_svm(const x402::PaymentPayload& payment,
                                            const x402::PaymentRequirements& requirements,
                                            std::span<const std::string> fee_payers);

}  // namespace x402proxy::facilitator
