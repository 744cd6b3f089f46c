#include "signers/solana/ed25519.h"

#include <openssl/bn.h>
#include <sodium.h>

#include <memory>

namespace x402proxy::signers::solana {
namespace {

bool sodium_ready() {
  static const bool ready = sodium_init() >= 0;  // idempotent, thread-safe in libsodium
  return ready;
}

struct BnCtx {
  BN_CTX* ctx = BN_CTX_new();
  ~BnCtx() { BN_CTX_free(ctx); }
};
using Bn = std::unique_ptr<BIGNUM, decltype(&BN_free)>;
Bn make_bn() {
  return Bn(BN_new(), &BN_free);
}

}  // namespace

Result<SolanaKey> SolanaKey::from_seed(SecretBytes seed) {
  if (!sodium_ready())
    return make_error("key.crypto", "libsodium failed to initialise");
  if (seed.size() != 32)
    return make_error("key.invalid", "a Solana key seed is 32 bytes");
  SecretBytes secret(crypto_sign_SECRETKEYBYTES);
  Pubkey public_key{};
  crypto_sign_seed_keypair(public_key.data(), secret.data(), seed.data());
  return SolanaKey(std::move(secret), public_key);
}

Result<SolanaKey> SolanaKey::generate() {
  auto seed = random_secret(32);
  if (!seed.ok())
    return seed.error();
  return from_seed(std::move(seed).value());
}

Signature64 SolanaKey::sign(std::span<const std::uint8_t> message) const {
  Signature64 signature{};
  crypto_sign_detached(signature.data(), nullptr, message.data(), message.size(), secret_.data());
  return signature;
}

std::string SolanaKey::keypair_json() const {
  std::string out = "[";
  for (std::size_t i = 0; i < 64; ++i) {
    out += std::to_string(secret_.data()[i]);
    out += i + 1 < 64 ? "," : "]";
  }
  return out;
}

bool verify_signature(const Pubkey& key, std::span<const std::uint8_t> message,
                      std::span<const std::uint8_t> signature) {
  if (!sodium_ready() || signature.size() != 64)
    return false;
  return crypto_sign_verify_detached(signature.data(), message.data(), message.size(),
                                     key.data()) == 0;
}

bool is_on_curve(const Pubkey& bytes) {
  // y is the little-endian value without the sign bit; the point exists iff
  // x² = (y² - 1) / (d·y² + 1) has a square root mod p = 2^255 - 19 (RFC 8032 §5.1.3).
  std::array<std::uint8_t, 32> big_endian{};
  for (std::size_t i = 0; i < 32; ++i)
    big_endian[i] = bytes[31 - i];
  big_endian[0] &= 0x7f;
  BnCtx ctx;
  Bn p = make_bn(), y = make_bn(), y2 = make_bn(), u = make_bn(), v = make_bn(), d = make_bn(),
     t = make_bn(), exponent = make_bn(), one = make_bn();
  BN_set_word(p.get(), 1);
  BN_lshift(p.get(), p.get(), 255);
  BN_sub_word(p.get(), 19);
  BN_bin2bn(big_endian.data(), 32, y.get());
  if (BN_cmp(y.get(), p.get()) >= 0)
    return false;  // not a canonical encoding
  BN_one(one.get());
  // d = -121665 / 121666 mod p
  BN_set_word(t.get(), 121666);
  BN_mod_inverse(t.get(), t.get(), p.get(), ctx.ctx);
  BN_set_word(d.get(), 121665);
  BN_mod_mul(d.get(), d.get(), t.get(), p.get(), ctx.ctx);
  BN_mod_sub(d.get(), p.get(), d.get(), p.get(), ctx.ctx);
  BN_mod_sqr(y2.get(), y.get(), p.get(), ctx.ctx);
  BN_mod_sub(u.get(), y2.get(), one.get(), p.get(), ctx.ctx);
  BN_mod_mul(v.get(), d.get(), y2.get(), p.get(), ctx.ctx);
  BN_mod_add(v.get(), v.get(), one.get(), p.get(), ctx.ctx);
  if (BN_is_zero(u.get()))
    return !(bytes[31] & 0x80);  // x = 0: only the positive sign exists
  BN_mod_inverse(t.get(), v.get(), p.get(), ctx.ctx);
  BN_mod_mul(t.get(), u.get(), t.get(), p.get(), ctx.ctx);  // x²
  // Euler's criterion: x² is a square iff (x²)^((p-1)/2) = 1.
  BN_copy(exponent.get(), p.get());
  BN_sub_word(exponent.get(), 1);
  BN_rshift1(exponent.get(), exponent.get());
  BN_mod_exp(t.get(), t.get(), exponent.get(), p.get(), ctx.ctx);
  return BN_is_one(t.get());
}

}  // namespace x402proxy::signers::solana
