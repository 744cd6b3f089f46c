// The keys that check JWT signatures (RFC 7515 JWS, RFC 7518 algorithms): an HMAC secret, an RSA
// or EC P-256 public key from a PEM file, or the keys of a JWKS document (RFC 7517).
//
// Every key is bound to exactly one algorithm when it is loaded (HMAC secret → HS256, RSA → RS256,
// EC P-256 → ES256). A token's "alg" header never decides how a key is used: it must equal the
// key's algorithm, so an RSA public key is never used as an HMAC secret (RFC 8725 §2.1, §3.1: the
// "algorithm confusion" attack signs an HS256 token with the public key's bytes).
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "x402/result.h"

// OpenSSL's key type, kept out of this header's includes.
struct evp_pkey_st;

namespace x402proxy::accounts {

enum class JwtAlgorithm { hs256, rs256, es256 };

// The JOSE name ("HS256", "RS256", "ES256").
std::string_view algorithm_name(JwtAlgorithm algorithm);
// The algorithm of a JOSE name we support; nullopt for "none" and everything else.
std::optional<JwtAlgorithm> algorithm_from_name(std::string_view name);

// Base64url without padding (RFC 7515 §2, RFC 4648 §5). `strict`: refuse '=' and non-zero unused
// bits of the last symbol, so a token has exactly one accepted spelling. JWKS members are read
// with strict = false, since some issuers pad them. reason "jwt.malformed".
Result<std::string> decode_base64url(std::string_view text, bool strict = true);

// One verification key. Cheap to copy: the OpenSSL key is shared and only ever read, which
// OpenSSL 3 allows from any number of threads.
class JwtKey {
 public:
  // HS256 with `secret` (raw bytes).
  static JwtKey hmac(std::string secret, std::string kid = {});

  JwtAlgorithm algorithm() const { return algorithm_; }
  const std::string& kid() const { return kid_; }

  // Checks `signature` (the decoded third part) over `signing_input` (header.payload as sent).
  // reason "jwt.signature"; an ES256 signature that is not the 64-byte r‖s is refused too.
  Status verify(std::string_view signing_input, std::string_view signature) const;

 private:
  friend Result<JwtKey> key_from_pkey(std::shared_ptr<evp_pkey_st> key, std::string kid,
                                      std::string_view origin);
  JwtKey() = default;

  JwtAlgorithm algorithm_ = JwtAlgorithm::hs256;
  std::string kid_;
  std::string secret_;                 // HS256
  std::shared_ptr<evp_pkey_st> pkey_;  // RS256, ES256
};

// Binds an OpenSSL public key to its algorithm: RSA of at least 2048 bits → RS256, EC on P-256 →
// ES256; anything else is refused (reason "jwt.key"). `origin` names the key's source in messages.
Result<JwtKey> key_from_pkey(std::shared_ptr<evp_pkey_st> key, std::string kid,
                             std::string_view origin);

// A public key from PEM text ("PUBLIC KEY", or the key of a "CERTIFICATE"). reason "jwt.key".
Result<JwtKey> parse_pem_public_key(std::string_view pem, std::string_view origin);

// The usable keys of a JWKS document: "kty":"RSA" (n, e) and "kty":"EC" ("crv":"P-256", x, y).
// Keys for another use ("use" other than "sig"), another algorithm ("alg" other than the key
// type's), another curve or key type are skipped, since issuers publish those beside signing
// keys; a malformed RSA or EC key, a repeated "kid", several keys of which one has no "kid", or no
// usable key at all is refused. reason "jwt.jwks".
Result<std::vector<JwtKey>> parse_jwks(std::string_view text, std::string_view origin);

// A key file's contents, refused above `max_bytes` (a key file is small; anything big is a
// misconfiguration). reason "jwt.key".
Result<std::string> read_key_file(const std::string& path, std::size_t max_bytes);

}  // namespace x402proxy::accounts
