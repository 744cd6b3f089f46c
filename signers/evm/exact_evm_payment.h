// The x402 "exact" scheme on EVM chains (specs/schemes/exact/scheme_exact_evm.md, research §3):
// the EIP-712 domain a requirement implies, and the payload {signature, authorization} both the
// buyer (creating) and the verifiers (reading) work with.
#pragma once

#include <cstdint>
#include <optional>

#include <boost/json/object.hpp>

#include "signers/evm/eip712.h"
#include "signers/evm/secp256k1_keys.h"
#include "x402/result.h"
#include "x402/types.h"

namespace x402proxy::signers::evm {

// Domain from the requirement: extra.name, extra.version, the chain id of the network (CAIP-2
// eip155:<id> or a v1 name), verifyingContract = asset. Reason
// "invalid_exact_evm_missing_eip712_domain" when extra lacks name/version.
Result<Eip712Domain> eip712_domain_for(const x402::PaymentRequirements& requirements);

struct ExactEvmPayload {
  Signature65 signature{};
  std::size_t signature_size = 65;  // longer ones are smart-wallet signatures (not accepted)
  TransferAuthorization authorization;
};

// Reads payload {signature, authorization{from,to,value,validAfter,validBefore,nonce}}.
// Reason "invalid_payload" with the field at fault.
Result<ExactEvmPayload> read_exact_evm_payload(const boost::json::object& payload);
boost::json::object write_exact_evm_payload(const ExactEvmPayload& payload);

// Buyer side, as the reference client does: validAfter = now - 600 (clock skew),
// validBefore = now + maxTimeoutSeconds, a 32-byte nonce from the OS CSPRNG, to = payTo,
// value = amount. `nonce` may be given for reproducible tests.
Result<boost::json::object> create_exact_evm_payload(const EvmKey& key,
                                                     const x402::PaymentRequirements& requirements,
                                                     std::int64_t now_unix,
                                                     std::optional<Hash32> nonce = std::nullopt);

}  // namespace x402proxy::signers::evm
