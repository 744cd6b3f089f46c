// JwtVerifier, one refusal reason per test: tokens signed here with generated keys, a JWKS served
// over real HTTP. Long (about 590 lines) because every claim and key form has its own case.
#include "accounts/jwt_verifier.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include "tests/support/test_http_server.h"

using namespace x402proxy;
using accounts::JwtOptions;
using accounts::JwtVerifier;
using testing::RecordedRequest;
using testing::TestHttpServer;
using testing::TestResponse;
namespace asio = boost::asio;

namespace {

constexpr std::int64_t kNow = 1'800'000'000;
constexpr char kSecret[] = "0123456789abcdef0123456789abcdef-test-only";

// --- Keys and signing: the test is its own token issuer. ---

struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

Pkey rsa_key() {
  Pkey key(EVP_RSA_gen(2048));
  REQUIRE(key);
  return key;
}

Pkey ec_key() {
  Pkey key(EVP_EC_gen("P-256"));
  REQUIRE(key);
  return key;
}

std::string base64url(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char byte : bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(buffer >> bits) & 0x3F]);
    }
  }
  if (bits > 0)
    out.push_back(kAlphabet[(buffer << (6 - bits)) & 0x3F]);
  return out;
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  REQUIRE(HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
               reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &length));
  return std::string(reinterpret_cast<char*>(mac), length);
}

// RS256: PKCS#1 v1.5 over SHA-256. ES256: the DER signature turned into 32-byte r ‖ 32-byte s.
std::string sign_with(EVP_PKEY* key, std::string_view data) {
  EVP_MD_CTX* context = EVP_MD_CTX_new();
  REQUIRE(EVP_DigestSignInit(context, nullptr, EVP_sha256(), nullptr, key) == 1);
  std::size_t length = 0;
  REQUIRE(EVP_DigestSign(context, nullptr, &length,
                         reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1);
  std::string signature(length, '\0');
  REQUIRE(EVP_DigestSign(context, reinterpret_cast<unsigned char*>(signature.data()), &length,
                         reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1);
  EVP_MD_CTX_free(context);
  signature.resize(length);
  if (!EVP_PKEY_is_a(key, "EC"))
    return signature;
  const unsigned char* der = reinterpret_cast<const unsigned char*>(signature.data());
  ECDSA_SIG* parsed = d2i_ECDSA_SIG(nullptr, &der, static_cast<long>(signature.size()));
  REQUIRE(parsed);
  std::string jose(64, '\0');
  BN_bn2binpad(ECDSA_SIG_get0_r(parsed), reinterpret_cast<unsigned char*>(jose.data()), 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(parsed), reinterpret_cast<unsigned char*>(jose.data()) + 32, 32);
  ECDSA_SIG_free(parsed);
  return jose;
}

std::string header(const std::string& alg, const std::string& kid = "") {
  std::string json = R"({"alg":")" + alg + R"(","typ":"JWT")";
  if (!kid.empty())
    json += R"(,"kid":")" + kid + "\"";
  return json + "}";
}

// Claims for account "acct-1", valid for ten minutes from kNow, plus `extra` members.
std::string claims(const std::string& extra = "") {
  return R"({"sub":"acct-1","exp":)" + std::to_string(kNow + 600) +
         (extra.empty() ? "" : "," + extra) + "}";
}

std::string hs256_token(const std::string& header_json, const std::string& claims_json,
                        std::string_view secret = kSecret) {
  const std::string input = base64url(header_json) + "." + base64url(claims_json);
  return input + "." + base64url(hmac_sha256(secret, input));
}

std::string signed_token(EVP_PKEY* key, const std::string& header_json,
                         const std::string& claims_json) {
  const std::string input = base64url(header_json) + "." + base64url(claims_json);
  return input + "." + base64url(sign_with(key, input));
}

std::string public_pem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  REQUIRE(PEM_write_bio_PUBKEY(bio, key) == 1);
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<std::size_t>(length));
  BIO_free(bio);
  return pem;
}

std::string bn_param(EVP_PKEY* key, const char* name, int pad_to = 0) {
  BIGNUM* number = nullptr;
  REQUIRE(EVP_PKEY_get_bn_param(key, name, &number) == 1);
  std::string bytes(pad_to ? pad_to : BN_num_bytes(number), '\0');
  BN_bn2binpad(number, reinterpret_cast<unsigned char*>(bytes.data()),
               static_cast<int>(bytes.size()));
  BN_free(number);
  return base64url(bytes);
}

std::string rsa_jwk(EVP_PKEY* key, const std::string& kid) {
  return R"({"kty":"RSA","use":"sig","alg":"RS256","kid":")" + kid + R"(","n":")" +
         bn_param(key, OSSL_PKEY_PARAM_RSA_N) + R"(","e":")" +
         bn_param(key, OSSL_PKEY_PARAM_RSA_E) + "\"}";
}

std::string ec_jwk(EVP_PKEY* key, const std::string& kid) {
  return R"({"kty":"EC","crv":"P-256","kid":")" + kid + R"(","x":")" +
         bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, 32) + R"(","y":")" +
         bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, 32) + "\"}";
}

std::string jwks(const std::vector<std::string>& keys) {
  std::string json = R"({"keys":[)";
  for (std::size_t i = 0; i < keys.size(); ++i)
    json += (i ? "," : "") + keys[i];
  return json + "]}";
}

// A file removed when the test ends.
struct TempFile {
  std::filesystem::path path;
  explicit TempFile(const std::string& contents) {
    static std::atomic<int> counter{0};
    path = std::filesystem::temp_directory_path() /
           ("jwt_verifier_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::ofstream(path, std::ios::binary) << contents;
  }
  ~TempFile() {
    std::error_code ignored;
    std::filesystem::remove(path, ignored);
  }
};

// --- Running the verifier ---

template <class T, class Start>
T run(asio::io_context& context, Start start) {
  std::optional<T> result;
  // stop() rather than running out of work: a JWKS verifier keeps its refresh timer pending.
  asio::co_spawn(
      context, [&]() -> asio::awaitable<void> { result.emplace(co_await start()); },
      [&](std::exception_ptr) { context.stop(); });
  context.restart();
  context.run();
  REQUIRE(result.has_value());
  return std::move(*result);
}

Result<std::string> verify(asio::io_context& context, JwtVerifier& verifier,
                           const std::string& token, std::int64_t now = kNow) {
  return run<Result<std::string>>(context, [&] { return verifier.verify(token, now); });
}

Status refresh(asio::io_context& context, JwtVerifier& verifier) {
  return run<Status>(context, [&] { return verifier.refresh_jwks(); });
}

std::shared_ptr<JwtVerifier> make(asio::io_context& context, JwtOptions options) {
  auto created = JwtVerifier::create(context.get_executor(), std::move(options));
  if (!created.ok())
    FAIL(created.error().reason << ": " << created.error().message);
  return *created;
}

JwtOptions hs256_options() {
  JwtOptions options;
  options.hs256_secret = kSecret;
  return options;
}

void require_account(const Result<std::string>& result, const std::string& account) {
  if (!result.ok())
    FAIL(result.error().reason << ": " << result.error().message);
  CHECK(*result == account);
}

// A refusal with `reason`, whose message shows neither the token nor its signature.
void require_refused(const Result<std::string>& result, const std::string& reason,
                     const std::string& token) {
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().reason == reason);
  INFO("message: " << result.error().message);
  if (!token.empty())
    CHECK(result.error().message.find(token) == std::string::npos);
  const std::string signature = token.substr(token.rfind('.') + 1);
  if (signature.size() >= 8)
    CHECK(result.error().message.find(signature) == std::string::npos);
}

// The token with one byte of its decoded signature flipped.
std::string flip_signature_byte(const std::string& token, std::string_view signature_bytes) {
  std::string flipped(signature_bytes);
  flipped[flipped.size() / 2] = static_cast<char>(flipped[flipped.size() / 2] ^ 0x01);
  return token.substr(0, token.rfind('.') + 1) + base64url(flipped);
}

}  // namespace

TEST_CASE("an HS256 token signed with the configured secret names its account", "[jwt]") {
  asio::io_context context;
  auto verifier = make(context, hs256_options());
  require_account(verify(context, *verifier, hs256_token(header("HS256"), claims())), "acct-1");

  SECTION("another claim can name the account") {
    JwtOptions options = hs256_options();
    options.account_claim = "account_id";
    auto custom = make(context, options);
    require_account(
        verify(context, *custom, hs256_token(header("HS256"), claims(R"("account_id":"team-7")"))),
        "team-7");
    const std::string without = hs256_token(header("HS256"), claims());
    require_refused(verify(context, *custom, without), "jwt.claim", without);
  }
  SECTION("an account claim that is not a non-empty string is refused") {
    for (const std::string& body :
         {std::string(R"({"exp":)") + std::to_string(kNow + 600) + "}",
          std::string(R"({"sub":42,"exp":)") + std::to_string(kNow + 600) + "}",
          std::string(R"({"sub":"","exp":)") + std::to_string(kNow + 600) + "}"}) {
      const std::string token = hs256_token(header("HS256"), body);
      require_refused(verify(context, *verifier, token), "jwt.claim", token);
    }
  }
  SECTION("a token signed with another secret is refused") {
    const std::string token =
        hs256_token(header("HS256"), claims(), "another-secret-of-at-least-32-bytes!!");
    require_refused(verify(context, *verifier, token), "jwt.signature", token);
  }
  SECTION("a secret shorter than 32 bytes, or not exactly one key source, is refused up front") {
    JwtOptions short_secret;
    short_secret.hs256_secret = "too-short";
    auto created = JwtVerifier::create(context.get_executor(), short_secret);
    REQUIRE_FALSE(created.ok());
    CHECK(created.error().reason == "jwt.config");
    CHECK(created.error().message.find("too-short") == std::string::npos);

    CHECK(JwtVerifier::create(context.get_executor(), JwtOptions{}).error().reason == "jwt.config");
    JwtOptions two = hs256_options();
    two.jwks_file = "/nonexistent/jwks.json";
    CHECK(JwtVerifier::create(context.get_executor(), two).error().reason == "jwt.config");
  }
}

TEST_CASE("an RS256 or ES256 token is checked with a PEM public key", "[jwt]") {
  asio::io_context context;
  Pkey rsa = rsa_key();
  TempFile pem(public_pem(rsa.get()));
  JwtOptions options;
  options.public_key_pem = pem.path.string();
  auto verifier = make(context, options);

  require_account(verify(context, *verifier, signed_token(rsa.get(), header("RS256"), claims())),
                  "acct-1");
  // A single key without a kid checks every token, whatever kid it names.
  require_account(
      verify(context, *verifier, signed_token(rsa.get(), header("RS256", "any"), claims())),
      "acct-1");

  Pkey other = rsa_key();
  const std::string forged = signed_token(other.get(), header("RS256"), claims());
  require_refused(verify(context, *verifier, forged), "jwt.signature", forged);

  Pkey ec = ec_key();
  TempFile ec_pem(public_pem(ec.get()));
  JwtOptions ec_options;
  ec_options.public_key_pem = ec_pem.path.string();
  auto ec_verifier = make(context, ec_options);
  require_account(verify(context, *ec_verifier, signed_token(ec.get(), header("ES256"), claims())),
                  "acct-1");
  // An RS256 token is never checked with the EC key, even if it were somehow to verify.
  const std::string rs256 = signed_token(rsa.get(), header("RS256"), claims());
  require_refused(verify(context, *ec_verifier, rs256), "jwt.algorithm", rs256);

  TempFile garbage("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n");
  JwtOptions bad;
  bad.public_key_pem = garbage.path.string();
  CHECK(JwtVerifier::create(context.get_executor(), bad).error().reason == "jwt.config");
}

TEST_CASE("an ES256 token is checked with a key from a JWKS file, an unknown kid is refused",
          "[jwt]") {
  asio::io_context context;
  Pkey ec = ec_key();
  Pkey rsa = rsa_key();
  // An encryption key and an unsupported curve sit beside the signing keys, as at real issuers.
  TempFile file(jwks({ec_jwk(ec.get(), "ec-1"), rsa_jwk(rsa.get(), "rsa-1"),
                      R"({"kty":"RSA","use":"enc","kid":"enc-1","n":"AQAB","e":"AQAB"})",
                      R"({"kty":"EC","crv":"P-384","kid":"p384","x":"AA","y":"AA"})"}));
  JwtOptions options;
  options.jwks_file = file.path.string();
  auto verifier = make(context, options);

  require_account(
      verify(context, *verifier, signed_token(ec.get(), header("ES256", "ec-1"), claims())),
      "acct-1");
  require_account(
      verify(context, *verifier, signed_token(rsa.get(), header("RS256", "rsa-1"), claims())),
      "acct-1");

  const std::string unknown = signed_token(ec.get(), header("ES256", "ec-2"), claims());
  require_refused(verify(context, *verifier, unknown), "jwt.unknown_kid", unknown);
  const std::string unnamed = signed_token(ec.get(), header("ES256"), claims());
  require_refused(verify(context, *verifier, unnamed), "jwt.unknown_kid", unnamed);
  const std::string wrong_key = signed_token(ec.get(), header("ES256", "rsa-1"), claims());
  require_refused(verify(context, *verifier, wrong_key), "jwt.algorithm", wrong_key);

  // The DER form OpenSSL produces is not a JWS ES256 signature (RFC 7518 §3.4).
  const std::string input = base64url(header("ES256", "ec-1")) + "." + base64url(claims());
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  REQUIRE(EVP_DigestSignInit(md, nullptr, EVP_sha256(), nullptr, ec.get()) == 1);
  std::string der(80, '\0');
  std::size_t der_length = der.size();
  REQUIRE(EVP_DigestSign(md, reinterpret_cast<unsigned char*>(der.data()), &der_length,
                         reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1);
  EVP_MD_CTX_free(md);
  der.resize(der_length);
  const std::string der_token = input + "." + base64url(der);
  require_refused(verify(context, *verifier, der_token), "jwt.signature", der_token);

  TempFile duplicate(jwks({ec_jwk(ec.get(), "same"), rsa_jwk(rsa.get(), "same")}));
  JwtOptions dup;
  dup.jwks_file = duplicate.path.string();
  CHECK(JwtVerifier::create(context.get_executor(), dup).error().reason == "jwt.config");
}

TEST_CASE("expiry and not-before allow the clock skew and no more", "[jwt]") {
  asio::io_context context;
  auto verifier = make(context, hs256_options());  // clock_skew 60 s
  auto at = [&](const std::string& body) { return hs256_token(header("HS256"), body); };
  auto exp = [](std::int64_t t) { return std::to_string(t); };

  require_account(verify(context, *verifier, at(R"({"sub":"a","exp":)" + exp(kNow - 30) + "}")),
                  "a");
  const std::string expired = at(R"({"sub":"a","exp":)" + exp(kNow - 60) + "}");
  require_refused(verify(context, *verifier, expired), "jwt.expired", expired);
  const std::string long_expired = at(R"({"sub":"a","exp":)" + exp(kNow - 3600) + "}");
  require_refused(verify(context, *verifier, long_expired), "jwt.expired", long_expired);

  require_account(
      verify(context, *verifier,
             at(R"({"sub":"a","exp":)" + exp(kNow + 600) + R"(,"nbf":)" + exp(kNow + 30) + "}")),
      "a");
  const std::string early =
      at(R"({"sub":"a","exp":)" + exp(kNow + 600) + R"(,"nbf":)" + exp(kNow + 61) + "}");
  require_refused(verify(context, *verifier, early), "jwt.not_yet_valid", early);

  const std::string no_exp = at(R"({"sub":"a"})");
  require_refused(verify(context, *verifier, no_exp), "jwt.claim", no_exp);
  const std::string text_exp = at(R"({"sub":"a","exp":"tomorrow"})");
  require_refused(verify(context, *verifier, text_exp), "jwt.claim", text_exp);

  JwtOptions strict = hs256_options();
  strict.clock_skew = std::chrono::seconds(0);
  auto no_skew = make(context, strict);
  const std::string just_expired = at(R"({"sub":"a","exp":)" + exp(kNow) + "}");
  require_refused(verify(context, *no_skew, just_expired), "jwt.expired", just_expired);
}

TEST_CASE("issuer and audience must match when configured", "[jwt]") {
  asio::io_context context;
  JwtOptions options = hs256_options();
  options.issuer = "https://issuer.example";
  options.audience = "x402-proxy";
  auto verifier = make(context, options);
  auto token = [](const std::string& extra) { return hs256_token(header("HS256"), claims(extra)); };

  require_account(
      verify(context, *verifier, token(R"("iss":"https://issuer.example","aud":"x402-proxy")")),
      "acct-1");
  require_account(verify(context, *verifier,
                         token(R"("iss":"https://issuer.example","aud":["other","x402-proxy"])")),
                  "acct-1");

  for (const std::string& extra :
       {std::string(R"("iss":"https://evil.example","aud":"x402-proxy")"),
        std::string(R"("aud":"x402-proxy")"),
        std::string(R"("iss":["https://issuer.example"],"aud":"x402-proxy")")}) {
    const std::string refused = token(extra);
    require_refused(verify(context, *verifier, refused), "jwt.issuer", refused);
  }
  for (const std::string& extra :
       {std::string(R"("iss":"https://issuer.example","aud":"other")"),
        std::string(R"("iss":"https://issuer.example","aud":["other","x402-proxy-2"])"),
        std::string(R"("iss":"https://issuer.example")")}) {
    const std::string refused = token(extra);
    require_refused(verify(context, *verifier, refused), "jwt.audience", refused);
  }
}

TEST_CASE("a token with one flipped byte fails the signature check", "[jwt]") {
  asio::io_context context;
  const std::string input = base64url(header("HS256")) + "." + base64url(claims());
  const std::string token = input + "." + base64url(hmac_sha256(kSecret, input));
  auto verifier = make(context, hs256_options());
  const std::string flipped = flip_signature_byte(token, hmac_sha256(kSecret, input));
  require_refused(verify(context, *verifier, flipped), "jwt.signature", flipped);
  // Changed claims under the old signature.
  const std::string changed =
      base64url(header("HS256")) + "." +
      base64url(R"({"sub":"acct-2","exp":)" + std::to_string(kNow + 600) + "}") +
      token.substr(token.rfind('.'));
  require_refused(verify(context, *verifier, changed), "jwt.signature", changed);

  Pkey rsa = rsa_key();
  TempFile pem(public_pem(rsa.get()));
  JwtOptions options;
  options.public_key_pem = pem.path.string();
  auto rsa_verifier = make(context, options);
  const std::string rs_input = base64url(header("RS256")) + "." + base64url(claims());
  const std::string rs_signature = sign_with(rsa.get(), rs_input);
  const std::string rs_flipped =
      flip_signature_byte(rs_input + "." + base64url(rs_signature), rs_signature);
  require_refused(verify(context, *rsa_verifier, rs_flipped), "jwt.signature", rs_flipped);
}

TEST_CASE("alg none and unsupported algorithms are refused", "[jwt]") {
  asio::io_context context;
  auto verifier = make(context, hs256_options());
  const std::string none =
      base64url(R"({"alg":"none","typ":"JWT"})") + "." + base64url(claims()) + ".";
  require_refused(verify(context, *verifier, none), "jwt.algorithm", none);
  const std::string none_signed = hs256_token(R"({"alg":"none"})", claims());
  require_refused(verify(context, *verifier, none_signed), "jwt.algorithm", none_signed);
  const std::string hs512 = hs256_token(header("HS512"), claims());
  require_refused(verify(context, *verifier, hs512), "jwt.algorithm", hs512);
  const std::string lower = hs256_token(header("hs256"), claims());
  require_refused(verify(context, *verifier, lower), "jwt.algorithm", lower);
}

TEST_CASE(
    "an HS256 token keyed with the RSA public key's PEM text is refused (algorithm confusion)",
    "[jwt]") {
  asio::io_context context;
  Pkey rsa = rsa_key();
  const std::string pem_text = public_pem(rsa.get());
  TempFile pem(pem_text);
  JwtOptions options;
  options.public_key_pem = pem.path.string();
  auto verifier = make(context, options);
  const std::string confused = hs256_token(header("HS256"), claims(), pem_text);
  require_refused(verify(context, *verifier, confused), "jwt.algorithm", confused);

  TempFile file(jwks({rsa_jwk(rsa.get(), "rsa-1")}));
  JwtOptions from_jwks;
  from_jwks.jwks_file = file.path.string();
  auto jwks_verifier = make(context, from_jwks);
  const std::string confused_kid = hs256_token(header("HS256", "rsa-1"), claims(), pem_text);
  require_refused(verify(context, *jwks_verifier, confused_kid), "jwt.algorithm", confused_kid);
}

TEST_CASE("a JWKS URL is refreshed when a token names a kid it does not know", "[jwt]") {
  Pkey key_a = ec_key();
  Pkey key_b = rsa_key();
  const std::string only_a = jwks({ec_jwk(key_a.get(), "a")});
  const std::string a_and_b = jwks({ec_jwk(key_a.get(), "a"), rsa_jwk(key_b.get(), "b")});
  std::atomic<int> published{1};  // 1: A only, 2: A and B, 0: the server fails
  TestHttpServer server([&](const RecordedRequest&) {
    const int state = published.load();
    if (state == 0)
      return TestResponse{500, {{"Content-Type", "text/plain"}}, "down"};
    return TestResponse{200, {{"Content-Type", "application/json"}}, state == 1 ? only_a : a_and_b};
  });

  asio::io_context context;
  JwtOptions options;
  options.jwks_url = server.url("/jwks.json");
  auto verifier = make(context, options);
  REQUIRE(refresh(context, *verifier).ok());

  const std::string token_a = signed_token(key_a.get(), header("ES256", "a"), claims());
  require_account(verify(context, *verifier, token_a), "acct-1");

  published = 2;
  const std::string token_b = signed_token(key_b.get(), header("RS256", "b"), claims());
  require_account(verify(context, *verifier, token_b), "acct-1");

  // Start-up fetch, the explicit refresh, the unknown-kid refresh; wait for all three to land.
  for (int i = 0; i < 100 && server.requests().size() < 3; ++i) {
    context.restart();
    context.run_for(std::chrono::milliseconds(20));
  }
  const auto requests = server.requests();
  REQUIRE(requests.size() == 3);
  for (const auto& request : requests) {
    CHECK(request.method == "GET");
    CHECK(request.target == "/jwks.json");
  }

  // Another unknown kid within 30 s does not cause another fetch.
  const std::string token_c = signed_token(key_b.get(), header("RS256", "c"), claims());
  require_refused(verify(context, *verifier, token_c), "jwt.unknown_kid", token_c);
  CHECK(server.requests().size() == 3);

  // A failed refresh keeps the keys in use.
  published = 0;
  auto failed = refresh(context, *verifier);
  REQUIRE_FALSE(failed.ok());
  CHECK(failed.error().reason == "jwt.jwks");
  require_account(verify(context, *verifier, token_b), "acct-1");

  // Dropping the verifier ends its refresh timer: the io_context runs out of work.
  verifier.reset();
  context.restart();
  context.run_for(std::chrono::seconds(5));
  CHECK(context.stopped());
}

TEST_CASE("malformed tokens are refused without echoing them", "[jwt]") {
  asio::io_context context;
  auto verifier = make(context, hs256_options());
  const std::string valid = hs256_token(header("HS256"), claims());
  const std::size_t first_dot = valid.find('.');
  std::vector<std::string> malformed = {
      "",
      valid.substr(0, valid.rfind('.')),                           // two parts
      valid + ".extra",                                            // four parts
      valid + "=",                                                 // padding
      valid.substr(0, first_dot) + "=" + valid.substr(first_dot),  // padded header
      "+" + valid.substr(1),                                       // not base64url
      base64url("not json") + valid.substr(first_dot),             // header not JSON
      base64url("[\"HS256\"]") + valid.substr(first_dot),          // header not an object
      base64url(R"({"typ":"JWT"})") + valid.substr(first_dot),     // no alg
      base64url(R"({"alg":"HS256","alg":"HS256"})") + valid.substr(first_dot),  // repeated key
      base64url(R"({"alg":"HS256","crit":["exp"]})") + valid.substr(first_dot),
      hs256_token(header("HS256"), "not json either"),
      hs256_token(header("HS256"), R"({"sub":"a","sub":"b","exp":1})"),
  };
  for (const std::string& token : malformed) {
    INFO("case " << &token - malformed.data());
    require_refused(verify(context, *verifier, token), "jwt.malformed", token);
  }
}
