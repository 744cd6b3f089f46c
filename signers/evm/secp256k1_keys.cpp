#include "signers/evm/secp256k1_keys.h"

#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include <algorithm>

namespace x402proxy::signers::evm {
namespace {

// libsecp256k1's static context verifies and recovers; signing needs a context of its own, made
// per call so nothing mutable is shared between threads.
struct SigningContext {
  SigningContext() : context(secp256k1_context_create(SECP256K1_CONTEXT_NONE)) {}
  ~SigningContext() { secp256k1_context_destroy(context); }
  secp256k1_context* context;
};

Result<Address> address_of(const secp256k1_context* context, const secp256k1_pubkey& key) {
  std::array<std::uint8_t, 65> serialized{};
  std::size_t length = serialized.size();
  if (!secp256k1_ec_pubkey_serialize(context, serialized.data(), &length, &key,
                                     SECP256K1_EC_UNCOMPRESSED)) {
    return make_error("signature.invalid", "cannot serialize the public key");
  }
  std::array<std::uint8_t, 64> raw{};
  std::copy(serialized.begin() + 1, serialized.end(), raw.begin());
  return address_from_public_key(raw);
}

}  // namespace

Result<EvmKey> EvmKey::from_secret(SecretBytes secret) {
  if (secret.size() != 32)
    return make_error("key.invalid", "an EVM private key is 32 bytes");
  if (!secp256k1_ec_seckey_verify(secp256k1_context_static, secret.data())) {
    return make_error("key.invalid", "the EVM private key is not a valid secp256k1 scalar");
  }
  secp256k1_pubkey public_key;
  SigningContext signing;
  if (!secp256k1_ec_pubkey_create(signing.context, &public_key, secret.data())) {
    return make_error("key.invalid", "cannot derive the public key");
  }
  auto address = address_of(secp256k1_context_static, public_key);
  if (!address.ok())
    return address.error();
  return EvmKey(std::move(secret), *address);
}

Result<EvmKey> EvmKey::generate() {
  while (true) {
    auto secret = random_secret(32);
    if (!secret.ok())
      return secret.error();
    if (secp256k1_ec_seckey_verify(secp256k1_context_static, secret->data())) {
      return from_secret(std::move(secret).value());
    }
  }
}

Signature65 EvmKey::sign_digest(const Hash32& digest) const {
  SigningContext signing;
  secp256k1_ecdsa_recoverable_signature signature;
  // nullptr nonce function: RFC 6979. The result is always low-s.
  [[maybe_unused]] int ok = secp256k1_ecdsa_sign_recoverable(
      signing.context, &signature, digest.data(), secret_.data(), nullptr, nullptr);
  Signature65 out{};
  int recovery_id = 0;
  secp256k1_ecdsa_recoverable_signature_serialize_compact(signing.context, out.data(), &recovery_id,
                                                          &signature);
  out[64] = static_cast<std::uint8_t>(27 + recovery_id);
  return out;
}

Result<Address> recover_signer(const Hash32& digest, std::span<const std::uint8_t> signature) {
  if (signature.size() != 65) {
    return make_error("signature.format", "expected a 65-byte r||s||v signature, got " +
                                              std::to_string(signature.size()) + " bytes");
  }
  int v = signature[64];
  if (v == 27 || v == 28)
    v -= 27;  // Ethereum's form; some signers emit 0/1
  if (v != 0 && v != 1)
    return make_error("signature.format", "v must be 27 or 28");
  const secp256k1_context* context = secp256k1_context_static;
  secp256k1_ecdsa_signature plain;
  if (!secp256k1_ecdsa_signature_parse_compact(context, &plain, signature.data())) {
    return make_error("signature.format", "r or s is not below the curve order");
  }
  secp256k1_ecdsa_signature normalized;
  if (secp256k1_ecdsa_signature_normalize(context, &normalized, &plain)) {
    // recover accepts a high s; on-chain ECRecover (and we) do not.
    return make_error("signature.high_s", "s is in the upper half of the curve order (malleable)");
  }
  secp256k1_ecdsa_recoverable_signature recoverable;
  if (!secp256k1_ecdsa_recoverable_signature_parse_compact(context, &recoverable, signature.data(),
                                                           v)) {
    return make_error("signature.format", "r or s is not below the curve order");
  }
  secp256k1_pubkey key;
  if (!secp256k1_ecdsa_recover(context, &key, &recoverable, digest.data())) {
    return make_error("signature.invalid", "no public key recovers from this signature");
  }
  return address_of(context, key);
}

}  // namespace x402proxy::signers::evm
