// Every invalidReason / errorReason the embedded facilitator puts on the wire, with where the name
// comes from. Sellers run the official middleware (@x402/express over @x402/core) and compare
// these strings with what @x402/evm and @x402/svm 2.27 emit, so a name is the library's wherever
// the library has one for that condition; the x402 v2 specification's table (§9 "Error Handling")
// is followed only where the library has no name of its own. Where the two disagree the library
// wins (README "Refusal reasons" lists the differences):
//   spec invalid_exact_evm_payload_recipient_mismatch -> library
//   invalid_exact_evm_recipient_mismatch spec invalid_exact_evm_payload_signature           ->
//   library invalid_exact_evm_signature spec insufficient_funds (EVM)                     ->
//   library invalid_exact_evm_insufficient_balance spec invalid_scheme / unsupported_scheme ->
//   invalid_exact_evm_scheme,
//                                                        invalid_exact_svm_unsupported_scheme
// tests/unit/facilitator/reason_names_test.cpp checks each library name against the installed
// @x402/evm and @x402/svm dist, each spec name against §9, and that the sources emit no other.
#pragma once

#include <array>
#include <string_view>

namespace x402proxy::facilitator {

enum class ReasonSource {
  evm_library,  // @x402/evm 2.27 exact (src/exact/facilitator/errors.ts, v1 scheme.ts)
  svm_library,  // @x402/svm 2.27 exact (src/exact/facilitator/errors.ts, scheme.ts)
  spec,         // x402 v2 specification §9; the libraries have no name for it
};

struct ReasonName {
  std::string_view name;
  ReasonSource source;
};

inline constexpr std::array kEmittedReasons = {
    // EVM exact, in the order @x402/evm's verifyEIP3009 checks.
    ReasonName{"invalid_exact_evm_scheme", ReasonSource::evm_library},
    ReasonName{"invalid_exact_evm_missing_eip712_domain", ReasonSource::evm_library},
    ReasonName{"invalid_exact_evm_network_mismatch", ReasonSource::evm_library},
    ReasonName{"invalid_exact_evm_signature", ReasonSource::evm_library},
    ReasonName{"invalid_exact_evm_recipient_mismatch", ReasonSource::evm_library},
    ReasonName{"invalid_exact_evm_payload_authorization_valid_before", ReasonSource::evm_library},
    ReasonName{"invalid_exact_evm_payload_authorization_valid_after", ReasonSource::evm_library},
    ReasonName{"invalid_exact_evm_payload_authorization_value_mismatch",
               ReasonSource::evm_library},                                           // v2
    ReasonName{"invalid_exact_evm_authorization_value", ReasonSource::evm_library},  // v1
    // The ledger's state, where the library reads the chain's (simulation diagnosis).
    ReasonName{"invalid_exact_evm_nonce_already_used", ReasonSource::evm_library},
    ReasonName{"invalid_exact_evm_insufficient_balance", ReasonSource::evm_library},
    // SVM exact, in the order @x402/svm's verify checks.
    ReasonName{"invalid_exact_svm_unsupported_scheme", ReasonSource::svm_library},
    ReasonName{"invalid_exact_svm_network_mismatch", ReasonSource::svm_library},
    ReasonName{"invalid_exact_svm_payload_missing_fee_payer", ReasonSource::svm_library},
    ReasonName{"invalid_exact_svm_fee_payer_not_managed_by_facilitator", ReasonSource::svm_library},
    ReasonName{"invalid_exact_svm_payload_transaction_could_not_be_decoded",
               ReasonSource::svm_library},
    ReasonName{"invalid_exact_svm_fee_payer_mismatch", ReasonSource::svm_library},
    ReasonName{"invalid_exact_svm_payload_transaction_instructions_length",
               ReasonSource::svm_library},
    ReasonName{"invalid_exact_svm_payload_transaction_instructions_compute_limit_instruction",
               ReasonSource::svm_library},
    ReasonName{"invalid_exact_svm_payload_transaction_instructions_compute_price_instruction",
               ReasonSource::svm_library},
    ReasonName{
        "invalid_exact_svm_payload_transaction_instructions_compute_price_instruction_too_high",
        ReasonSource::svm_library},
    ReasonName{"invalid_exact_svm_payload_no_transfer_instruction", ReasonSource::svm_library},
    ReasonName{"invalid_exact_svm_payload_mint_mismatch", ReasonSource::svm_library},
    ReasonName{"invalid_exact_svm_payload_recipient_mismatch", ReasonSource::svm_library},
    ReasonName{"invalid_exact_svm_payload_amount_mismatch", ReasonSource::svm_library},
    ReasonName{"invalid_exact_svm_payload_transaction_fee_payer_transferring_funds",
               ReasonSource::svm_library},
    ReasonName{"invalid_exact_svm_payload_unknown_fourth_instruction", ReasonSource::svm_library},
    ReasonName{"invalid_exact_svm_payload_unknown_fifth_instruction", ReasonSource::svm_library},
    ReasonName{"invalid_exact_svm_payload_unknown_sixth_instruction", ReasonSource::svm_library},
    ReasonName{"invalid_exact_svm_payload_memo_count", ReasonSource::svm_library},
    ReasonName{"invalid_exact_svm_payload_memo_mismatch", ReasonSource::svm_library},
    ReasonName{"invalid_exact_svm_payload_signature_invalid", ReasonSource::svm_library},
    ReasonName{"duplicate_settlement", ReasonSource::svm_library},
    // No library name: @x402/svm only sees a failed simulation, and the library validates bodies
    // by throwing (HTTP 500) where the embedded facilitator answers a reason.
    ReasonName{"insufficient_funds", ReasonSource::spec},  // SVM payer short in the ledger
    ReasonName{"invalid_network", ReasonSource::spec},
    ReasonName{"invalid_payload", ReasonSource::spec},
    ReasonName{"invalid_payment_requirements", ReasonSource::spec},
};

}  // namespace x402proxy::facilitator
