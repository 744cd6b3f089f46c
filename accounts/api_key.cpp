#include "accounts/api_key.h"

#include <sodium.h>

namespace x402proxy::accounts {
namespace {

// libsodium's sodium_init is idempotent and thread-safe; it must run before randombytes_buf.
bool sodium_ready() {
  static const bool ready = sodium_init() >= 0;
  return ready;
}

bool is_lower_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

bool is_base64url(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

Error malformed(const std::string& what) {
  return make_error("key.malformed", "malformed API key: " + what +
                                         " (expected x402k_ + 12 lowercase hex digits + _ + 43 "
                                         "base64url characters)");
}

// Decodes the 43-character secret into its 32 bytes. libsodium refuses a last symbol whose unused
// bits are not zero, so two spellings of one secret cannot both be accepted.
bool decode_secret(std::string_view secret, std::array<unsigned char, kSecretBytes>& bytes) {
  if (!sodium_ready())
    return false;
  std::size_t decoded = 0;
  const char* end = nullptr;
  const int rc =
      sodium_base642bin(bytes.data(), bytes.size(), secret.data(), secret.size(), nullptr, &decoded,
                        &end, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  return rc == 0 && decoded == kSecretBytes && end == secret.data() + secret.size();
}

}  // namespace

Result<ParsedKey> parse_api_key(std::string_view presented) {
  const std::size_t expected_length = kApiKeyPrefix.size() + kKeyIdLength + 1 + kSecretLength;
  if (!presented.starts_with(kApiKeyPrefix))
    return malformed("it does not start with x402k_");
  if (presented.size() != expected_length) {
    return malformed(std::to_string(presented.size()) + " characters instead of " +
                     std::to_string(expected_length));
  }
  std::string_view key_id = presented.substr(kApiKeyPrefix.size(), kKeyIdLength);
  for (char c : key_id) {
    if (!is_lower_hex(c))
      return malformed("the key id is not 12 lowercase hex digits");
  }
  if (presented[kApiKeyPrefix.size() + kKeyIdLength] != '_')
    return malformed("no _ after the key id");
  std::string_view secret = presented.substr(kApiKeyPrefix.size() + kKeyIdLength + 1);
  for (char c : secret) {
    if (!is_base64url(c))
      return malformed("the secret has a character outside base64url");
  }
  std::array<unsigned char, kSecretBytes> bytes{};
  const bool decoded = decode_secret(secret, bytes);
  sodium_memzero(bytes.data(), bytes.size());
  if (!decoded)
    return malformed("the secret is not the canonical encoding of 32 bytes");
  return ParsedKey{std::string(key_id), std::string(secret)};
}

std::string format_api_key(const ParsedKey& key) {
  return std::string(kApiKeyPrefix) + key.key_id + "_" + key.secret;
}

Result<ParsedKey> generate_api_key() {
  if (!sodium_ready())
    return make_error("key.random", "libsodium could not be initialised");
  std::array<unsigned char, kKeyIdLength / 2> id_bytes{};
  randombytes_buf(id_bytes.data(), id_bytes.size());
  std::array<char, kKeyIdLength + 1> id_hex{};
  sodium_bin2hex(id_hex.data(), id_hex.size(), id_bytes.data(), id_bytes.size());

  std::array<unsigned char, kSecretBytes> secret_bytes{};
  randombytes_buf(secret_bytes.data(), secret_bytes.size());
  std::array<char, kSecretLength + 1> secret_text{};
  sodium_bin2base64(secret_text.data(), secret_text.size(), secret_bytes.data(),
                    secret_bytes.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  sodium_memzero(secret_bytes.data(), secret_bytes.size());
  ParsedKey key{std::string(id_hex.data(), kKeyIdLength),
                std::string(secret_text.data(), kSecretLength)};
  sodium_memzero(secret_text.data(), secret_text.size());
  return key;
}

Result<StoreKey> generate_store_key() {
  if (!sodium_ready())
    return make_error("key.random", "libsodium could not be initialised");
  StoreKey key{};
  randombytes_buf(key.data(), key.size());
  return key;
}

Result<SecretHash> hash_secret(const ParsedKey& key, const StoreKey& store_key) {
  std::array<unsigned char, kSecretBytes> bytes{};
  if (key.secret.size() != kSecretLength || !decode_secret(key.secret, bytes))
    return malformed("the secret is not the canonical encoding of 32 bytes");
  SecretHash hash{};
  const int rc = crypto_generichash(hash.data(), hash.size(), bytes.data(), bytes.size(),
                                    store_key.data(), store_key.size());
  sodium_memzero(bytes.data(), bytes.size());
  if (rc != 0)
    return make_error("key.hash", "BLAKE2b hashing failed");
  return hash;
}

bool same_hash(const SecretHash& a, const SecretHash& b) {
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace x402proxy::accounts
