// Verifies the JWT bearer tokens that name the account a call is billed to.
//
// Only compact JWS tokens (RFC 7515 §7.1) signed with HS256, RS256 or ES256 are accepted, checked
// against keys configured up front: an HMAC secret, a PEM public key, a JWKS file, or a JWKS URL
// that is fetched at start, refreshed periodically, and refreshed early when a token names a kid
// it does not know (key rotation). The claims follow RFC 7519 §4.1 ("exp" required, "nbf", "iss",
// "aud") with a clock skew, and the account is one string claim ("sub" by default).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "accounts/jwt_keys.h"
#include "x402/result.h"

namespace x402proxy::net {
class HttpClient;
}

namespace x402proxy::accounts {

// Exactly one key source is set: hs256_secret, public_key_pem, jwks_file or jwks_url.
struct JwtOptions {
  std::string hs256_secret;    // HS256 with this secret (≥ 32 bytes, RFC 7518 §3.2)
  std::string public_key_pem;  // path of a PEM public key (RSA → RS256, EC P-256 → ES256)
  std::string jwks_file;       // path of a JWKS file (RSA and EC P-256 keys with kid)
  // http(s) URL of a JWKS, fetched at start, refreshed every `jwks_refresh` and when a token names
  // an unknown kid (at most once per 30 s).
  std::string jwks_url;
  std::string issuer;    // required "iss" when set
  std::string audience;  // required in "aud" (string or array) when set
  std::string account_claim = "sub";
  std::chrono::seconds clock_skew{60};
  std::chrono::seconds jwks_refresh{300};
};

class JwtVerifier : public std::enable_shared_from_this<JwtVerifier> {
 public:
  // Loads the keys (reason "jwt.config" for options or files that cannot be used). With a JWKS
  // URL, the first fetch and the refresh timer start on `executor`; the verifier must be
  // destroyed before the executor's execution context, like any Asio I/O object.
  static Result<std::shared_ptr<JwtVerifier>> create(boost::asio::any_io_executor executor,
                                                     JwtOptions options);
  ~JwtVerifier();
  JwtVerifier(const JwtVerifier&) = delete;
  JwtVerifier& operator=(const JwtVerifier&) = delete;

  // The account (value of the account claim, a string) of a valid token. `token` must stay alive
  // until the returned awaitable completes. Reasons:
  //  "jwt.malformed"   not three base64url parts (no padding), header not a JSON object, a "crit"
  //                    header, claims not a JSON object, a repeated JSON key;
  //  "jwt.algorithm"   alg none, unsupported, or not the algorithm of the key that would check it;
  //  "jwt.unknown_kid" no configured key has the token's kid (or several keys and no kid);
  //  "jwt.signature"   the signature does not verify;
  //  "jwt.expired", "jwt.not_yet_valid" ("exp" and "nbf", with the clock skew);
  //  "jwt.issuer", "jwt.audience";
  //  "jwt.claim"       the account claim is missing, empty or not a string, or "exp" is missing or
  //                    "exp"/"nbf" is not a number.
  // Messages never contain the token.
  boost::asio::awaitable<Result<std::string>> verify(std::string_view token, std::int64_t now_unix);

  // Fetches the JWKS URL now (also used by the timer); on failure the keys in use stay. No-op
  // without jwks_url. Reasons: those of HttpClient ("http.*"), "jwt.jwks" (a status other than 200
  // or a document without a usable key).
  boost::asio::awaitable<Status> refresh_jwks();

 private:
  struct KeySet;
  JwtVerifier(boost::asio::any_io_executor executor, JwtOptions options);
  std::shared_ptr<const KeySet> key_set() const;
  // True when a refresh caused by an unknown kid may run now; claims the slot.
  bool claim_unknown_kid_refresh();
  static boost::asio::awaitable<void> refresh_periodically(
      std::weak_ptr<JwtVerifier> weak, std::shared_ptr<boost::asio::steady_timer> timer,
      std::chrono::seconds period);

  boost::asio::any_io_executor executor_;
  const JwtOptions options_;
  std::shared_ptr<net::HttpClient> jwks_client_;              // with jwks_url only
  std::shared_ptr<boost::asio::steady_timer> refresh_timer_;  // with jwks_url only

  mutable std::mutex mutex_;  // guards the members below
  std::shared_ptr<const KeySet> keys_;
  std::uint64_t fetches_started_ = 0;
  std::uint64_t installed_fetch_ = 0;  // the fetch whose keys are in use
  std::chrono::steady_clock::time_point last_unknown_kid_refresh_{};
  bool unknown_kid_refreshed_ = false;
};

}  // namespace x402proxy::accounts
