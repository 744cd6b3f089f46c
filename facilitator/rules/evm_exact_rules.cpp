#include "facilitator/rules/evm_exact_rules.h"

#include "facilitator/rules/payment_identity.h"
#include "signers/evm/exact_evm_payment.h"
#include "signers/evm/hex.h"
#include "x402/networks.h"

namespace x402proxy::facilitator {
namespace evm = signers::evm;

Result<VerifiedEvmPayment> verify_exact_evm(const x402::PaymentPayload& payment,
                                            const x402::PaymentRequirements& requirements,
                                            std::int64_t now, std::int64_t skew) {
  if (requirements.scheme != "exact" || payment.accepted.scheme != "exact") {
    return make_error("invalid_exact_evm_scheme",
                      "expected scheme exact, got " + payment.accepted.scheme);
  }
  auto domain = evm::eip712_domain_for(requirements);
  if (!domain.ok())
    return domain.error();
  // v2 names the network in `accepted`; v1 payloads name it at the top level (kept in accepted).
  if (x402::to_caip2(payment.accepted.network) != x402::to_caip2(requirements.network)) {
    return make_error(
        "invalid_exact_evm_network_mismatch",
        "the payment is for " + payment.accepted.network + ", expected " + requirements.network);
  }
  auto payload = evm::read_exact_evm_payload(payment.payload);
  if (!payload.ok())
    return payload.error();
  const evm::TransferAuthorization& authorization = payload->authorization;

  // The digest is computed over the SERVER's domain (research §7.2): a signature made for another
  // token or chain recovers to a different address and fails here.
  if (payload->signature_size != 65) {
    return make_error("invalid_exact_evm_signature",
                      "only 65-byte EOA signatures are accepted (smart-wallet signatures are not)");
  }
  auto signer =
      evm::recover_signer(evm::typed_data_digest(*domain, authorization), payload->signature);
  if (!signer.ok())
    return make_error("invalid_exact_evm_signature", signer.error().message);
  if (!(*signer == authorization.from)) {
    return make_error("invalid_exact_evm_signature",
                      "the signature is by " + evm::to_checksum_string(*signer) +
                          ", not by the authorization's from " +
                          evm::to_checksum_string(authorization.from));
  }
  auto pay_to = evm::parse_address(requirements.pay_to);
  if (!pay_to.ok() || !(authorization.to == *pay_to)) {
    return make_error("invalid_exact_evm_recipient_mismatch",
                      "the authorization pays " + evm::to_checksum_string(authorization.to) +
                          ", expected " + requirements.pay_to);
  }
  const evm::Uint256 now_value(std::max<std::int64_t>(now, 0));
  // The reference facilitator keeps 6 s for a block to include the transfer.
  if (authorization.valid_before + evm::Uint256(std::max<std::int64_t>(skew, 0)) < now_value + 6) {
    return make_error("invalid_exact_evm_payload_authorization_valid_before",
                      "the authorization expired (validBefore " + authorization.valid_before.str() +
                          ", now " + std::to_string(now) + ")");
  }
  if (authorization.valid_after > now_value + evm::Uint256(std::max<std::int64_t>(skew, 0))) {
    return make_error("invalid_exact_evm_payload_authorization_valid_after",
                      "the authorization is not valid yet (validAfter " +
                          authorization.valid_after.str() + ", now " + std::to_string(now) + ")");
  }
  auto required = x402::parse_amount(requirements.amount);
  if (!required.ok() || evm::Uint256(*required) != authorization.value) {
    // x402 v2 §9 and @x402/evm 2.27 exact/facilitator/eip3009.ts name it ..._value_mismatch; the
    // library's v1 scheme (exact/v1/facilitator/scheme.ts) still says ..._authorization_value,
    // and a v1 seller's middleware compares against that.
    return make_error(payment.x402_version == 1
                          ? "invalid_exact_evm_authorization_value"
                          : "invalid_exact_evm_payload_authorization_value_mismatch",
                      "the authorization is for " + authorization.value.str() +
                          ", expected exactly " + requirements.amount);
  }
  VerifiedEvmPayment verified;
  verified.payer = evm::to_checksum_string(authorization.from);
  verified.pay_to = evm::to_checksum_string(authorization.to);
  verified.amount = x402::Amount(authorization.value);
  verified.nonce = evm::to_hex(authorization.nonce);
  verified.valid_before = authorization.valid_before > evm::Uint256(INT64_MAX)
                              ? INT64_MAX
                              : static_cast<std::int64_t>(authorization.valid_before);
  verified.payment_id = evm_payment_identity(requirements.network, requirements.asset,
                                             verified.payer, verified.nonce);
  return verified;
}

}  // namespace x402proxy::facilitator
