// Ed25519 keys and signatures (libsodium), and the on-curve test program-derived addresses need.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "signers/key_material.h"
#include "signers/solana/base58.h"
#include "x402/result.h"

namespace x402proxy::signers::solana {

using Signature64 = std::array<std::uint8_t, 64>;

class SolanaKey {
 public:
  static Result<SolanaKey> from_seed(SecretBytes seed);  // the 32-byte seed of a keypair file
  static Result<SolanaKey> generate();
  const Pubkey& public_key() const { return public_key_; }
  Signature64 sign(std::span<const std::uint8_t> message) const;
  // The 64-byte [seed ‖ public key] a Solana keypair file holds, as its JSON text.
  std::string keypair_json() const;

 private:
  SolanaKey(SecretBytes secret, Pubkey public_key)
      : secret_(std::move(secret)), public_key_(public_key) {}
  SecretBytes secret_;  // libsodium's 64-byte secret key (seed ‖ public key)
  Pubkey public_key_;
};

bool verify_signature(const Pubkey& key, std::span<const std::uint8_t> message,
                      std::span<const std::uint8_t> signature);

// Whether 32 bytes decompress to a point of edwards25519 (any subgroup): the test Solana applies
// to program-derived addresses, which must be off the curve.
bool is_on_curve(const Pubkey& bytes);

}  // namespace x402proxy::signers::solana
