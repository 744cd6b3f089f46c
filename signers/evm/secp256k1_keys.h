// secp256k1 recoverable signatures as Ethereum uses them: 65 bytes r ‖ s ‖ v, v = 27 or 28, s in
// the lower half of the curve order (USDC's ECRecover refuses high s, research §3.1).
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "signers/evm/address.h"
#include "signers/evm/keccak.h"
#include "signers/key_material.h"
#include "x402/result.h"

namespace x402proxy::signers::evm {

using Signature65 = std::array<std::uint8_t, 65>;

class EvmKey {
 public:
  // From a 32-byte secret; refuses zero and values not below the curve order.
  static Result<EvmKey> from_secret(SecretBytes secret);
  static Result<EvmKey> generate();

  const Address& address() const { return address_; }
  // RFC 6979 deterministic, low-s, v = 27 + recovery id.
  Signature65 sign_digest(const Hash32& digest) const;

 private:
  EvmKey(SecretBytes secret, Address address) : secret_(std::move(secret)), address_(address) {}
  SecretBytes secret_;
  Address address_;
};

// Who signed `digest`. Reasons: "signature.format" (not 65 bytes, v not 0/1/27/28, r or s out of
// range), "signature.high_s" (malleable form), "signature.invalid" (no key recovers).
Result<Address> recover_signer(const Hash32& digest, std::span<const std::uint8_t> signature);

}  // namespace x402proxy::signers::evm
