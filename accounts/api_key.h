// API keys for known callers (developers an operator registered). A key is
// "x402k_<key_id>_<secret>": the key id is 12 lowercase hex digits, public (it names the key in
// lists and logs); the secret is 32 random bytes in base64url without padding (RFC 4648 §5, 43
// characters). The ledger keeps only a keyed BLAKE2b-256 hash of the secret, so nothing in the file
// gives a key back.
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "x402/result.h"

namespace x402proxy::accounts {

inline constexpr std::string_view kApiKeyPrefix = "x402k_";
inline constexpr std::size_t kKeyIdLength = 12;   // hex digits: 6 random bytes
inline constexpr std::size_t kSecretBytes = 32;   // 256 bits: guessing is hopeless
inline constexpr std::size_t kSecretLength = 43;  // base64url, no padding, of 32 bytes

struct ParsedKey {
  std::string key_id;
  std::string secret;  // the base64url text as presented
};

// The BLAKE2b key of one ledger file (random, made when the file is created), and a secret's hash
// under it. Keying the hash with a per-file key means a hash copied into another ledger matches
// nothing there.
using StoreKey = std::array<unsigned char, 32>;
using SecretHash = std::array<unsigned char, 32>;

// Accepts exactly the format above; the secret must decode to 32 bytes with its unused low bits
// zero, so each key has one spelling. Reason "key.malformed"; the message describes what is wrong
// without echoing any part of the input (it may be a real key pasted in the wrong place).
Result<ParsedKey> parse_api_key(std::string_view presented);

// "x402k_" + key_id + "_" + secret.
std::string format_api_key(const ParsedKey& key);

// A fresh key id and secret from libsodium's CSPRNG. Reason "key.random" when libsodium cannot
// start.
Result<ParsedKey> generate_api_key();

// A fresh random store key. Reason "key.random".
Result<StoreKey> generate_store_key();

// The keyed BLAKE2b-256 (libsodium crypto_generichash) of the secret's 32 bytes. `key` must come
// from parse_api_key or generate_api_key (reason "key.malformed" otherwise).
Result<SecretHash> hash_secret(const ParsedKey& key, const StoreKey& store_key);

// Constant-time comparison (sodium_memcmp), so response timing says nothing about how much of a
// guessed secret was right.
bool same_hash(const SecretHash& a, const SecretHash& b);

}  // namespace x402proxy::accounts
