// Who a payment is from, read from the payload as far as it can be read, for refusals. The
// official facilitators name the payer on a refusal whenever they could work it out: @x402/evm
// 2.27 (exact/facilitator/eip3009.ts) answers payer = authorization.from on every verify and
// settle answer, before any check; @x402/svm 2.27 (exact/facilitator/scheme.ts) answers the
// transfer's authority once the TransferChecked instruction has been read. A seller's logs and
// the buyer's wallet show that payer, so the embedded facilitator does the same, also for a
// payment it refuses as malformed when the payer's part of it is intact.
#pragma once

#include <string>

#include "x402/types.h"

namespace x402proxy::facilitator {

// EVM (payload.authorization.from, EIP-55) or SVM (the authority of the transaction's first SPL
// TransferChecked, base58), whichever the payload's shape is; "" when nothing names a payer. No
// signature is checked: a refusal only reports whom the payment claims to be from.
std::string recover_payer(const x402::PaymentPayload& payment);

}  // namespace x402proxy::facilitator
