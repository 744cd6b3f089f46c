#include "proxy/paywall/local_payment_check.h"

#include <algorithm>
#include <cctype>

#include "facilitator/rules/evm_exact_rules.h"
#include "facilitator/rules/svm_exact_rules.h"
#include "x402/amount.h"
#include "x402/networks.h"

namespace x402proxy::proxy {
namespace json = boost::json;

namespace {

// x402 exact EVM: the full rule set of the facilitator, signature included, so a forged or
// mismatched payment never costs a facilitator round trip.
Result<CheckedPayment> check_evm(const x402::PaymentPayload& payment,
                                 const x402::PaymentRequirements& required, std::int64_t now,
                                 std::int64_t skew) {
  auto verified = facilitator::verify_exact_evm(payment, required, now, skew);
  if (!verified.ok())
    return verified.error();
  CheckedPayment checked;
  checked.payer = verified->payer;
  // EIP-3009 nonces are unique per (token, from): that pair is the payment's identity.
  checked.replay_key = verified->payment_id;
  // FiatToken requires now < validBefore on chain; the skew covers the chain's clock.
  checked.valid_until =
      verified->valid_before > INT64_MAX - skew ? INT64_MAX : verified->valid_before + skew;
  return checked;
}

// x402 exact SVM: the full rule set with the requirement's own fee payer (the proxy offered it,
// taken from its facilitator's /supported). The signed message is the identity; a blockhash
// lives 150 slots (60 to 90 s) after the buyer fetched it, so 180 s after it arrives here the
// transaction can no longer land.
Result<CheckedPayment> check_svm(const x402::PaymentPayload& payment,
                                 const x402::PaymentRequirements& required, std::int64_t now) {
  std::vector<std::string> fee_payers;
  if (const json::value* fee_payer = required.extra.if_contains("feePayer");
      fee_payer && fee_payer->is_string()) {
    fee_payers.emplace_back(fee_payer->get_string());
  }
  auto verified = facilitator::verify_exact_svm(payment, required, fee_payers);
  if (!verified.ok())
    return verified.error();
  CheckedPayment checked;
  checked.payer = verified->payer;
  checked.replay_key = verified->payment_id;
  checked.valid_until = now + 180;
  return checked;
}

}  // namespace

Result<CheckedPayment> check_payment_locally(const x402::PaymentPayload& payment,
                                             const x402::PaymentRequirements& required,
                                             std::int64_t now_unix,
                                             std::chrono::seconds clock_skew) {
  if (required.scheme != "exact") {
    return make_error("unsupported_scheme",
                      "only the exact scheme is accepted, not " + required.scheme);
  }
  auto network = x402::describe_network(required.network);
  if (!network)
    return make_error("invalid_network", "unknown network " + required.network);
  if (network->family == x402::NetworkFamily::evm) {
    return check_evm(payment, required, now_unix, clock_skew.count());
  }
  return check_svm(payment, required, now_unix);
}

LocalCheck make_local_check(std::chrono::seconds clock_skew) {
  return
      [clock_skew](const x402::PaymentPayload& payment, const x402::PaymentRequirements& required) {
        const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
        return check_payment_locally(payment, required, now, clock_skew);
      };
}

}  // namespace x402proxy::proxy
