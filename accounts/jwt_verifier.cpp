// A bearer JWT checked and mapped to an account: parse, select the key (refreshing the JWKS URL
// on an unknown kid), verify the signature, check exp/nbf/iss/aud with clock skew. About 440
// lines because the JOSE steps are one sequence, each with its own refusal reason.
#include "accounts/jwt_verifier.h"

#include <cmath>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/json/value.hpp>

#include "net/http_client.h"
#include "x402/strict_json.h"

namespace x402proxy::accounts {

namespace asio = boost::asio;
namespace json = boost::json;

struct JwtVerifier::KeySet {
  std::vector<JwtKey> keys;
};

namespace {

// A bearer token is a few hundred bytes to a few KiB; a huge one is an attack on the parser.
constexpr std::size_t kMaxTokenBytes = 16 * 1024;
constexpr std::size_t kMaxKeyFileBytes = 256 * 1024;
constexpr std::size_t kMaxJwksBytes = 512 * 1024;
constexpr std::size_t kMaxJsonDepth = 32;
constexpr std::size_t kMinHs256SecretBytes = 32;  // RFC 7518 §3.2: a key the size of the hash
constexpr std::chrono::milliseconds kJwksFetchBudget{5000};
// A token with a made-up kid must not make every request a JWKS fetch.
constexpr std::chrono::seconds kUnknownKidRefreshInterval{30};
constexpr std::size_t kQuotedClaimChars = 64;  // claim values in messages are the token's text

constexpr char kUnknownKid[] = "jwt.unknown_kid";

// A token split into what the later checks need. Owns its bytes, so nothing refers to the caller's
// token across a suspension.
struct ParsedToken {
  std::string signing_input;  // "header.payload" exactly as sent (RFC 7515 §5.2)
  std::string claims_json;
  std::string signature;
  JwtAlgorithm algorithm = JwtAlgorithm::hs256;
  std::optional<std::string> kid;
};

std::string quoted(std::string_view text) {
  std::string out = "\"";
  out += text.substr(0, kQuotedClaimChars);
  if (text.size() > kQuotedClaimChars)
    out += "…";
  return out + "\"";
}

Result<json::object> parse_json_object(std::string_view text, std::string_view what) {
  auto parsed = x402::parse_strict_json(text, kMaxJsonDepth);
  if (!parsed.ok())
    return make_error("jwt.malformed", std::string(what) + ": " + parsed.error().message);
  if (!parsed->is_object())
    return make_error("jwt.malformed", std::string(what) + " is not a JSON object");
  return std::move(parsed->get_object());
}

// Compact serialization only (RFC 7515 §7.1): BASE64URL(header) "." BASE64URL(payload) "."
// BASE64URL(signature), without padding. Messages describe the fault, never the text.
Result<ParsedToken> parse_token(std::string_view token) {
  if (token.size() > kMaxTokenBytes) {
    return make_error("jwt.malformed", "the token is " + std::to_string(token.size()) +
                                           " bytes; at most " + std::to_string(kMaxTokenBytes));
  }
  const std::size_t first = token.find('.');
  const std::size_t second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos)
    return make_error("jwt.malformed", "expected three dot-separated parts (compact JWS)");
  const std::string_view header_text = token.substr(0, first);
  const std::string_view payload_text = token.substr(first + 1, second - first - 1);
  const std::string_view signature_text = token.substr(second + 1);
  if (header_text.empty() || payload_text.empty())
    return make_error("jwt.malformed", "the header or the payload part is empty");

  auto header_json = decode_base64url(header_text);
  if (!header_json.ok())
    return make_error("jwt.malformed", "header: " + header_json.error().message);
  auto header = parse_json_object(*header_json, "the header");
  if (!header.ok())
    return header.error();
  // RFC 7515 §4.1.11: a token that lists extensions it requires us to understand is refused.
  if (header->contains("crit"))
    return make_error("jwt.malformed", "the header has \"crit\" extensions; none is supported");
  const json::value* alg = header->if_contains("alg");
  if (!alg || !alg->is_string())
    return make_error("jwt.malformed", "the header has no \"alg\" string");
  const std::string_view alg_name(alg->get_string().data(), alg->get_string().size());
  const auto algorithm = algorithm_from_name(alg_name);
  // RFC 8725 §3.1: "none" (an unsigned token) is never accepted.
  if (!algorithm) {
    return make_error("jwt.algorithm",
                      "alg " + quoted(alg_name) + " is refused; expected HS256, RS256 or ES256");
  }
  ParsedToken parsed;
  parsed.algorithm = *algorithm;
  if (const json::value* kid = header->if_contains("kid")) {
    if (!kid->is_string())
      return make_error("jwt.malformed", "the header's \"kid\" is not a string");
    parsed.kid = std::string(kid->get_string());
  }

  auto claims = decode_base64url(payload_text);
  if (!claims.ok())
    return make_error("jwt.malformed", "payload: " + claims.error().message);
  auto signature = decode_base64url(signature_text);
  if (!signature.ok())
    return make_error("jwt.malformed", "signature: " + signature.error().message);
  parsed.signing_input = std::string(token.substr(0, second));
  parsed.claims_json = std::move(claims).value();
  parsed.signature = std::move(signature).value();
  return parsed;
}

// Picks the key by the token's kid (RFC 7515 §4.1.4). A single key without a kid (an HS256 secret,
// a PEM key) checks every token, whatever kid it names.
Result<JwtKey> select_key(const std::vector<JwtKey>& keys, const std::optional<std::string>& kid) {
  if (keys.size() == 1 && keys.front().kid().empty())
    return keys.front();
  if (keys.empty())
    return make_error(kUnknownKid, "no keys are loaded yet (the JWKS URL was not fetched)");
  if (!kid) {
    if (keys.size() == 1)
      return keys.front();
    return make_error(kUnknownKid, "the token names no kid, and " + std::to_string(keys.size()) +
                                       " keys are configured");
  }
  for (const JwtKey& key : keys) {
    if (key.kid() == *kid)
      return key;
  }
  return make_error(kUnknownKid, "no configured key has kid " + quoted(*kid));
}

// RFC 7519 §2 NumericDate: seconds, possibly fractional; whole seconds are enough here.
std::optional<std::int64_t> numeric_date(const json::value& value) {
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  if (value.is_int64())
    return value.get_int64();
  if (value.is_uint64())
    return value.get_uint64() > static_cast<std::uint64_t>(kMax) ? kMax
                                                                 : std::int64_t(value.get_uint64());
  if (value.is_double() && std::isfinite(value.get_double())) {
    const double seconds = std::floor(value.get_double());
    if (seconds >= 9.2e18)
      return kMax;
    if (seconds <= -9.2e18)
      return std::numeric_limits<std::int64_t>::min();
    return static_cast<std::int64_t>(seconds);
  }
  return std::nullopt;
}

std::int64_t saturating_add(std::int64_t a, std::int64_t b) {
  std::int64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum))
    return b > 0 ? std::numeric_limits<std::int64_t>::max()
                 : std::numeric_limits<std::int64_t>::min();
  return sum;
}

bool audience_matches(const json::value& aud, std::string_view expected) {
  if (aud.is_string())
    return aud.get_string() == expected;
  if (!aud.is_array())
    return false;
  for (const json::value& entry : aud.get_array()) {
    if (entry.is_string() && entry.get_string() == expected)
      return true;
  }
  return false;
}

// RFC 7519 §4.1: the registered claims we rely on, then the account claim.
Result<std::string> check_claims(const std::string& claims_json, const JwtOptions& options,
                                 std::int64_t now) {
  auto claims = parse_json_object(claims_json, "the claims");
  if (!claims.ok())
    return claims.error();
  const std::int64_t skew = options.clock_skew.count();

  const json::value* exp = claims->if_contains("exp");
  if (!exp)
    return make_error("jwt.claim", "the token has no \"exp\"; an expiry is required");
  const auto expires = numeric_date(*exp);
  if (!expires)
    return make_error("jwt.claim", "\"exp\" is not a number");
  // §4.1.4: the token is valid strictly before "exp"; the skew absorbs clocks that disagree.
  if (now >= saturating_add(*expires, skew)) {
    return make_error("jwt.expired", "the token expired at " + std::to_string(*expires) + " (now " +
                                         std::to_string(now) + ", clock skew " +
                                         std::to_string(skew) + " s)");
  }
  if (const json::value* nbf = claims->if_contains("nbf")) {
    const auto not_before = numeric_date(*nbf);
    if (!not_before)
      return make_error("jwt.claim", "\"nbf\" is not a number");
    if (saturating_add(now, skew) < *not_before) {
      return make_error("jwt.not_yet_valid",
                        "the token is valid from " + std::to_string(*not_before) + " (now " +
                            std::to_string(now) + ", clock skew " + std::to_string(skew) + " s)");
    }
  }
  if (!options.issuer.empty()) {
    const json::value* iss = claims->if_contains("iss");
    if (!iss || !iss->is_string() || iss->get_string() != options.issuer) {
      const std::string got = iss && iss->is_string() ? quoted(iss->get_string()) : "none";
      return make_error("jwt.issuer", "expected issuer " + quoted(options.issuer) + ", got " + got);
    }
  }
  if (!options.audience.empty()) {
    const json::value* aud = claims->if_contains("aud");
    if (!aud || !audience_matches(*aud, options.audience)) {
      return make_error("jwt.audience",
                        "expected " + quoted(options.audience) + " in \"aud\", " +
                            (aud ? std::string("which does not hold it") : std::string("absent")));
    }
  }
  const json::value* account = claims->if_contains(options.account_claim);
  if (!account || !account->is_string() || account->get_string().empty()) {
    return make_error("jwt.claim", "the account claim " + quoted(options.account_claim) +
                                       " must be a non-empty string");
  }
  return std::string(account->get_string());
}

// The key's algorithm decides, never the token's header (RFC 8725 §3.1).
Result<std::string> check_token(const ParsedToken& token, const JwtKey& key,
                                const JwtOptions& options, std::int64_t now) {
  if (token.algorithm != key.algorithm()) {
    return make_error("jwt.algorithm",
                      "the token says " + std::string(algorithm_name(token.algorithm)) +
                          ", but its key is for " + std::string(algorithm_name(key.algorithm())));
  }
  // The signature is checked before the claims are even parsed: unauthenticated JSON is parsed
  // only as far as the header.
  Status signed_ok = key.verify(token.signing_input, token.signature);
  if (!signed_ok.ok())
    return signed_ok.error();
  return check_claims(token.claims_json, options, now);
}

Error config_error(const Error& error) {
  return make_error("jwt.config", error.message);
}

}  // namespace

JwtVerifier::JwtVerifier(asio::any_io_executor executor, JwtOptions options)
    : executor_(std::move(executor)), options_(std::move(options)) {}

JwtVerifier::~JwtVerifier() {
  // The refresh loop owns the timer too; cancelling on the timer's executor ends its wait without
  // touching the timer from another thread.
  if (refresh_timer_)
    asio::post(refresh_timer_->get_executor(), [timer = refresh_timer_] { timer->cancel(); });
}

Result<std::shared_ptr<JwtVerifier>> JwtVerifier::create(asio::any_io_executor executor,
                                                         JwtOptions options) {
  const int sources = !options.hs256_secret.empty() + !options.public_key_pem.empty() +
                      !options.jwks_file.empty() + !options.jwks_url.empty();
  if (sources != 1) {
    return make_error("jwt.config",
                      "set exactly one of hs256_secret, public_key_pem, jwks_file, jwks_url (" +
                          std::to_string(sources) + " set)");
  }
  if (options.clock_skew.count() < 0)
    return make_error("jwt.config", "clock_skew must not be negative");
  if (options.jwks_refresh.count() <= 0)
    return make_error("jwt.config", "jwks_refresh must be positive");
  if (options.account_claim.empty())
    return make_error("jwt.config", "account_claim must name a claim");

  auto keys = std::make_shared<KeySet>();
  if (!options.hs256_secret.empty()) {
    if (options.hs256_secret.size() < kMinHs256SecretBytes) {
      return make_error("jwt.config", "an HS256 secret needs at least 32 bytes, got " +
                                          std::to_string(options.hs256_secret.size()));
    }
    keys->keys.push_back(JwtKey::hmac(options.hs256_secret));
  } else if (!options.public_key_pem.empty()) {
    auto pem = read_key_file(options.public_key_pem, kMaxKeyFileBytes);
    if (!pem.ok())
      return config_error(pem.error());
    auto key = parse_pem_public_key(*pem, options.public_key_pem);
    if (!key.ok())
      return config_error(key.error());
    keys->keys.push_back(std::move(key).value());
  } else if (!options.jwks_file.empty()) {
    auto text = read_key_file(options.jwks_file, kMaxJwksBytes);
    if (!text.ok())
      return config_error(text.error());
    auto parsed = parse_jwks(*text, options.jwks_file);
    if (!parsed.ok())
      return config_error(parsed.error());
    keys->keys = std::move(parsed).value();
  }

  std::shared_ptr<net::HttpClient> client;
  if (!options.jwks_url.empty()) {
    net::HttpClientOptions client_options;
    client_options.max_response_bytes = kMaxJwksBytes;
    auto created = net::HttpClient::create(executor, options.jwks_url, client_options);
    if (!created.ok())
      return config_error(created.error());
    client = std::move(created).value();
  }

  std::shared_ptr<JwtVerifier> verifier(new JwtVerifier(executor, std::move(options)));
  verifier->keys_ = std::move(keys);
  if (client) {
    verifier->jwks_client_ = std::move(client);
    verifier->refresh_timer_ = std::make_shared<asio::steady_timer>(executor);
    asio::co_spawn(
        executor,
        refresh_periodically(verifier, verifier->refresh_timer_, verifier->options_.jwks_refresh),
        asio::detached);
  }
  return verifier;
}

std::shared_ptr<const JwtVerifier::KeySet> JwtVerifier::key_set() const {
  std::lock_guard lock(mutex_);
  return keys_;
}

bool JwtVerifier::claim_unknown_kid_refresh() {
  std::lock_guard lock(mutex_);
  const auto now = std::chrono::steady_clock::now();
  if (unknown_kid_refreshed_ && now - last_unknown_kid_refresh_ < kUnknownKidRefreshInterval)
    return false;
  unknown_kid_refreshed_ = true;
  last_unknown_kid_refresh_ = now;
  return true;
}

asio::awaitable<Result<std::string>> JwtVerifier::verify(std::string_view token,
                                                         std::int64_t now_unix) {
  auto parsed = parse_token(token);
  if (!parsed.ok())
    co_return parsed.error();
  auto key = select_key(key_set()->keys, parsed->kid);
  // Key rotation: the issuer may sign with a key published after our last fetch.
  const bool unknown_kid = !key.ok() && key.error().reason == kUnknownKid;
  if (unknown_kid && jwks_client_ && claim_unknown_kid_refresh()) {
    Status refreshed = co_await refresh_jwks();
    if (refreshed.ok())
      key = select_key(key_set()->keys, parsed->kid);
  }
  if (!key.ok())
    co_return key.error();
  Result<std::string> account = check_token(*parsed, *key, options_, now_unix);
  co_return account;
}

asio::awaitable<Status> JwtVerifier::refresh_jwks() {
  if (!jwks_client_) {
    Status nothing_to_do = ok_status();
    co_return nothing_to_do;
  }
  auto self = shared_from_this();  // the fetch may outlast the caller's reference
  std::uint64_t fetch = 0;
  {
    std::lock_guard lock(mutex_);
    fetch = ++fetches_started_;
  }
  // Named arguments: GCC 12 mishandles temporaries in a co_await full-expression.
  const std::string path;  // the URL's own path: HttpClient appends to it
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  auto response =
      co_await jwks_client_->request(boost::beast::http::verb::get, path, std::move(body),
                                     std::move(headers), kJwksFetchBudget, true);
  if (!response.ok()) {
    Status failed = Error(response.error());
    co_return failed;
  }
  if (response->status != 200) {
    Status failed = make_error("jwt.jwks", options_.jwks_url + " answered HTTP " +
                                               std::to_string(response->status) + ", expected 200");
    co_return failed;
  }
  auto parsed = parse_jwks(response->body, options_.jwks_url);
  if (!parsed.ok()) {
    Status failed = parsed.error();
    co_return failed;
  }
  auto keys = std::make_shared<KeySet>();
  keys->keys = std::move(parsed).value();
  {
    // Fetches may overlap (timer, unknown kid, a caller); an older answer arriving last must not
    // bring back keys that a newer one already replaced.
    std::lock_guard lock(mutex_);
    if (fetch > installed_fetch_) {
      keys_ = std::move(keys);
      installed_fetch_ = fetch;
    }
  }
  Status installed = ok_status();
  co_return installed;
}

asio::awaitable<void> JwtVerifier::refresh_periodically(std::weak_ptr<JwtVerifier> weak,
                                                        std::shared_ptr<asio::steady_timer> timer,
                                                        std::chrono::seconds period) {
  for (;;) {
    {
      // Held only for the fetch, so that the verifier's owner decides its lifetime.
      std::shared_ptr<JwtVerifier> self = weak.lock();
      if (!self)
        co_return;
      Status refreshed = co_await self->refresh_jwks();
      if (!refreshed.ok()) {
        spdlog::warn("JWKS refresh from {} failed, the keys in use stay: {}",
                     self->options_.jwks_url, refreshed.error().message);
      }
    }
    if (weak.expired())
      co_return;
    timer->expires_after(period);
    boost::system::error_code ec;
    co_await timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (ec)
      co_return;  // cancelled: the verifier is gone
  }
}

}  // namespace x402proxy::accounts
