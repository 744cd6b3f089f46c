// Every key form a JWT may be checked with (HS256 secrets, RS256 and ES256 public keys from PEM
// or a JWKS document), parsed with OpenSSL in one place: about 450 lines, most of them the JWK
// fields each key type needs and their checks.
#include "accounts/jwt_keys.h"

#include <array>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <set>
#include <utility>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <boost/json/value.hpp>

#include "x402/strict_json.h"

namespace x402proxy::accounts {
namespace {

namespace json = boost::json;

// RFC 8725 §3.5 and NIST SP 800-131A: shorter RSA keys are no longer safe for signatures.
constexpr int kMinRsaBits = 2048;
constexpr std::size_t kP256CoordinateBytes = 32;

struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* context) const { EVP_PKEY_CTX_free(context); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* context) const { EVP_MD_CTX_free(context); }
};
struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct BnFree {
  void operator()(BIGNUM* number) const { BN_free(number); }
};
struct ParamBuildFree {
  void operator()(OSSL_PARAM_BLD* build) const { OSSL_PARAM_BLD_free(build); }
};
struct ParamFree {
  void operator()(OSSL_PARAM* params) const { OSSL_PARAM_free(params); }
};
struct EcdsaSigFree {
  void operator()(ECDSA_SIG* signature) const { ECDSA_SIG_free(signature); }
};
struct X509Free {
  void operator()(X509* certificate) const { X509_free(certificate); }
};

std::shared_ptr<EVP_PKEY> share(EVP_PKEY* key) {
  return std::shared_ptr<EVP_PKEY>(key, PkeyFree{});
}

const unsigned char* bytes(std::string_view text) {
  return reinterpret_cast<const unsigned char*>(text.data());
}

int base64url_value(char c) {
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '-')
    return 62;
  if (c == '_')
    return 63;
  return -1;
}

// ES256 (RFC 7518 §3.4): the JWS signature is r and s as two 32-byte big-endian integers; OpenSSL
// wants the DER SEQUENCE of two INTEGERs.
Result<std::string> es256_signature_to_der(std::string_view signature) {
  if (signature.size() != 2 * kP256CoordinateBytes) {
    return make_error("jwt.signature", "an ES256 signature is 64 bytes (r‖s), got " +
                                           std::to_string(signature.size()));
  }
  std::unique_ptr<ECDSA_SIG, EcdsaSigFree> parsed(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(bytes(signature), kP256CoordinateBytes, nullptr);
  BIGNUM* s = BN_bin2bn(bytes(signature) + kP256CoordinateBytes, kP256CoordinateBytes, nullptr);
  if (!parsed || !r || !s || ECDSA_SIG_set0(parsed.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return make_error("jwt.signature", "cannot read the ES256 signature");
  }
  unsigned char* der = nullptr;
  const int length = i2d_ECDSA_SIG(parsed.get(), &der);
  if (length <= 0)
    return make_error("jwt.signature", "cannot encode the ES256 signature");
  std::string out(reinterpret_cast<const char*>(der), static_cast<std::size_t>(length));
  OPENSSL_free(der);
  return out;
}

Status verify_with_pkey(EVP_PKEY* key, JwtAlgorithm algorithm, std::string_view signing_input,
                        std::string_view signature) {
  std::string der;
  if (algorithm == JwtAlgorithm::es256) {
    auto converted = es256_signature_to_der(signature);
    if (!converted.ok())
      return converted.error();
    der = std::move(converted).value();
    signature = der;
  }
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> context(EVP_MD_CTX_new());
  EVP_PKEY_CTX* key_context = nullptr;  // owned by `context`
  if (!context ||
      EVP_DigestVerifyInit(context.get(), &key_context, EVP_sha256(), nullptr, key) != 1) {
    return make_error("jwt.signature", "cannot set up signature verification");
  }
  // RS256 is RSASSA-PKCS1-v1_5 (RFC 7518 §3.3), never PSS.
  if (algorithm == JwtAlgorithm::rs256 &&
      EVP_PKEY_CTX_set_rsa_padding(key_context, RSA_PKCS1_PADDING) != 1) {
    return make_error("jwt.signature", "cannot select PKCS#1 v1.5 padding");
  }
  const int verified = EVP_DigestVerify(context.get(), bytes(signature), signature.size(),
                                        bytes(signing_input), signing_input.size());
  if (verified != 1) {
    return make_error("jwt.signature", std::string("the ") +
                                           std::string(algorithm_name(algorithm)) +
                                           " signature does not match the token");
  }
  return ok_status();
}

Result<std::shared_ptr<EVP_PKEY>> pkey_from_params(const char* type, OSSL_PARAM_BLD* build) {
  std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(build));
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> context(
      EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* key = nullptr;
  if (!params || !context || EVP_PKEY_fromdata_init(context.get()) != 1 ||
      EVP_PKEY_fromdata(context.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return make_error("jwt.jwks", std::string("OpenSSL refused the ") + type + " key");
  }
  return share(key);
}

// Reads a base64url JWK member such as "n" or "x".
Result<std::string> jwk_bytes(const json::object& jwk, std::string_view name,
                              const std::string& where) {
  const json::value* member = jwk.if_contains(name);
  if (!member || !member->is_string())
    return make_error("jwt.jwks", where + ": \"" + std::string(name) + "\" must be a string");
  const json::string& text = member->get_string();
  auto decoded = decode_base64url(std::string_view(text.data(), text.size()), false);
  if (!decoded.ok() || decoded->empty())
    return make_error("jwt.jwks", where + ": \"" + std::string(name) + "\" is not base64url");
  return decoded;
}

Result<std::shared_ptr<EVP_PKEY>> rsa_from_jwk(const json::object& jwk, const std::string& where) {
  auto modulus = jwk_bytes(jwk, "n", where);
  if (!modulus.ok())
    return modulus.error();
  auto exponent = jwk_bytes(jwk, "e", where);
  if (!exponent.ok())
    return exponent.error();
  std::unique_ptr<BIGNUM, BnFree> n(BN_bin2bn(bytes(*modulus), modulus->size(), nullptr));
  std::unique_ptr<BIGNUM, BnFree> e(BN_bin2bn(bytes(*exponent), exponent->size(), nullptr));
  std::unique_ptr<OSSL_PARAM_BLD, ParamBuildFree> build(OSSL_PARAM_BLD_new());
  if (!n || !e || !build ||
      OSSL_PARAM_BLD_push_BN(build.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(build.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1) {
    return make_error("jwt.jwks", where + ": cannot build the RSA key");
  }
  return pkey_from_params("RSA", build.get());
}

Result<std::shared_ptr<EVP_PKEY>> ec_from_jwk(const json::object& jwk, const std::string& where) {
  auto x = jwk_bytes(jwk, "x", where);
  if (!x.ok())
    return x.error();
  auto y = jwk_bytes(jwk, "y", where);
  if (!y.ok())
    return y.error();
  // RFC 7518 §6.2.1.2: each coordinate is the full 32 bytes for P-256, leading zeros included.
  if (x->size() != kP256CoordinateBytes || y->size() != kP256CoordinateBytes)
    return make_error("jwt.jwks", where + ": P-256 coordinates are 32 bytes each");
  std::string point = "\x04" + *x + *y;  // SEC 1 uncompressed point
  std::unique_ptr<OSSL_PARAM_BLD, ParamBuildFree> build(OSSL_PARAM_BLD_new());
  static constexpr char kGroup[] = "prime256v1";
  if (!build ||
      OSSL_PARAM_BLD_push_utf8_string(build.get(), OSSL_PKEY_PARAM_GROUP_NAME, kGroup, 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(build.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    return make_error("jwt.jwks", where + ": cannot build the EC key");
  }
  auto key = pkey_from_params("EC", build.get());
  if (!key.ok())
    return make_error("jwt.jwks", where + ": " + key.error().message);
  // fromdata does not promise the point is on the curve; a point off it is a broken key.
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> check(
      EVP_PKEY_CTX_new_from_pkey(nullptr, key->get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1)
    return make_error("jwt.jwks", where + ": the EC point is not on P-256");
  return key;
}

std::string jwk_name(std::size_t index, const std::string& kid) {
  std::string name = "key " + std::to_string(index);
  if (!kid.empty())
    name += " (kid \"" + kid.substr(0, 64) + "\")";
  return name;
}

// One entry of "keys": a key, nullopt for a key we skip on purpose, or an error.
Result<std::optional<JwtKey>> parse_jwk(const json::value& entry, std::size_t index,
                                        std::string_view origin) {
  const std::string where = std::string(origin) + " " + jwk_name(index, "");
  if (!entry.is_object())
    return make_error("jwt.jwks", where + " is not an object");
  const json::object& jwk = entry.get_object();
  std::string kid;
  if (const json::value* member = jwk.if_contains("kid")) {
    if (!member->is_string())
      return make_error("jwt.jwks", where + ": \"kid\" must be a string");
    kid = std::string(member->get_string());
  }
  const json::value* kty = jwk.if_contains("kty");
  if (!kty || !kty->is_string())
    return make_error("jwt.jwks", where + ": \"kty\" must be a string");
  if (const json::value* use = jwk.if_contains("use");
      use && !(use->is_string() && use->get_string() == "sig"))
    return std::optional<JwtKey>();  // an encryption key (RFC 7517 §4.2)
  const json::value* alg = jwk.if_contains("alg");
  const std::string named = std::string(origin) + " " + jwk_name(index, kid);

  Result<std::shared_ptr<EVP_PKEY>> key = make_error("jwt.jwks", named + ": not read");
  if (kty->get_string() == "RSA") {
    if (alg && !(alg->is_string() && alg->get_string() == "RS256"))
      return std::optional<JwtKey>();  // meant for RS384, PS256, ...: not ours to use
    key = rsa_from_jwk(jwk, named);
  } else if (kty->get_string() == "EC") {
    const json::value* crv = jwk.if_contains("crv");
    if (!crv || !crv->is_string())
      return make_error("jwt.jwks", named + ": \"crv\" must be a string");
    if (crv->get_string() != "P-256" ||
        (alg && !(alg->is_string() && alg->get_string() == "ES256")))
      return std::optional<JwtKey>();
    key = ec_from_jwk(jwk, named);
  } else {
    return std::optional<JwtKey>();  // "oct", "OKP", ...
  }
  if (!key.ok())
    return key.error();
  auto bound = key_from_pkey(std::move(key).value(), kid, named);
  if (!bound.ok())
    return make_error("jwt.jwks", bound.error().message);
  return std::optional<JwtKey>(std::move(bound).value());
}

}  // namespace

std::string_view algorithm_name(JwtAlgorithm algorithm) {
  switch (algorithm) {
    case JwtAlgorithm::hs256:
      return "HS256";
    case JwtAlgorithm::rs256:
      return "RS256";
    case JwtAlgorithm::es256:
      return "ES256";
  }
  return "?";
}

std::optional<JwtAlgorithm> algorithm_from_name(std::string_view name) {
  if (name == "HS256")
    return JwtAlgorithm::hs256;
  if (name == "RS256")
    return JwtAlgorithm::rs256;
  if (name == "ES256")
    return JwtAlgorithm::es256;
  return std::nullopt;
}

Result<std::string> decode_base64url(std::string_view text, bool strict) {
  if (!strict) {
    while (text.ends_with('='))
      text.remove_suffix(1);
  }
  // A single symbol left over carries only 6 bits: no byte can end there.
  if (text.size() % 4 == 1)
    return make_error("jwt.malformed", "base64url text has an impossible length");
  std::string out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    const int value = base64url_value(c);
    if (value < 0)
      return make_error("jwt.malformed", "base64url text holds a character outside its alphabet");
    buffer = (buffer << 6) | static_cast<std::uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  // RFC 4648 §3.5: the unused bits of the last symbol are zero in a canonical encoding.
  if (strict && bits > 0 && (buffer & ((1u << bits) - 1)) != 0)
    return make_error("jwt.malformed", "base64url text is not canonical (unused bits set)");
  return out;
}

JwtKey JwtKey::hmac(std::string secret, std::string kid) {
  JwtKey key;
  key.algorithm_ = JwtAlgorithm::hs256;
  key.secret_ = std::move(secret);
  key.kid_ = std::move(kid);
  return key;
}

Status JwtKey::verify(std::string_view signing_input, std::string_view signature) const {
  if (algorithm_ != JwtAlgorithm::hs256)
    return verify_with_pkey(pkey_.get(), algorithm_, signing_input, signature);
  std::array<unsigned char, EVP_MAX_MD_SIZE> expected{};
  unsigned int length = 0;
  if (!HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()), bytes(signing_input),
            signing_input.size(), expected.data(), &length)) {
    return make_error("jwt.signature", "cannot compute the HS256 MAC");
  }
  // Constant time: a comparison that stops at the first difference leaks how much of a forged
  // MAC was right.
  if (signature.size() != length || CRYPTO_memcmp(expected.data(), signature.data(), length) != 0)
    return make_error("jwt.signature", "the HS256 signature does not match the token");
  return ok_status();
}

Result<JwtKey> key_from_pkey(std::shared_ptr<evp_pkey_st> key, std::string kid,
                             std::string_view origin) {
  JwtKey bound;
  bound.kid_ = std::move(kid);
  if (EVP_PKEY_is_a(key.get(), "RSA")) {
    const int bits = EVP_PKEY_get_bits(key.get());
    if (bits < kMinRsaBits) {
      return make_error("jwt.key", std::string(origin) +
                                       ": an RSA key needs at least 2048 bits, got " +
                                       std::to_string(bits));
    }
    bound.algorithm_ = JwtAlgorithm::rs256;
  } else if (EVP_PKEY_is_a(key.get(), "EC")) {
    std::array<char, 64> group{};
    std::size_t length = 0;
    if (EVP_PKEY_get_group_name(key.get(), group.data(), group.size(), &length) != 1 ||
        std::string_view(group.data(), length) != "prime256v1") {
      return make_error("jwt.key", std::string(origin) + ": an EC key must be on P-256 (ES256)");
    }
    bound.algorithm_ = JwtAlgorithm::es256;
  } else {
    return make_error("jwt.key", std::string(origin) + ": expected an RSA or EC P-256 public key");
  }
  bound.pkey_ = std::move(key);
  return bound;
}

Result<JwtKey> parse_pem_public_key(std::string_view pem, std::string_view origin) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio)
    return make_error("jwt.key", "cannot read " + std::string(origin));
  EVP_PKEY* key = PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr);
  if (!key) {
    // An issuer often hands out its certificate rather than the bare key.
    std::unique_ptr<BIO, BioFree> again(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    std::unique_ptr<X509, X509Free> certificate(
        again ? PEM_read_bio_X509(again.get(), nullptr, nullptr, nullptr) : nullptr);
    if (certificate)
      key = X509_get_pubkey(certificate.get());
  }
  if (!key) {
    return make_error("jwt.key",
                      std::string(origin) + ": expected a PEM \"PUBLIC KEY\" or \"CERTIFICATE\"");
  }
  return key_from_pkey(share(key), "", origin);
}

Result<std::vector<JwtKey>> parse_jwks(std::string_view text, std::string_view origin) {
  auto parsed = x402::parse_strict_json(text);
  if (!parsed.ok())
    return make_error("jwt.jwks", std::string(origin) + ": " + parsed.error().message);
  const json::value* keys =
      parsed->is_object() ? parsed->get_object().if_contains("keys") : nullptr;
  if (!keys || !keys->is_array())
    return make_error("jwt.jwks",
                      std::string(origin) + ": expected an object with a \"keys\" array");
  std::vector<JwtKey> usable;
  std::set<std::string> kids;
  bool unnamed = false;
  std::size_t index = 0;
  for (const json::value& entry : keys->get_array()) {
    auto key = parse_jwk(entry, index++, origin);
    if (!key.ok())
      return key.error();
    if (!key->has_value())
      continue;
    JwtKey& found = **key;
    if (found.kid().empty()) {
      unnamed = true;
    } else if (!kids.insert(found.kid()).second) {
      return make_error("jwt.jwks", std::string(origin) + ": kid \"" + found.kid().substr(0, 64) +
                                        "\" appears twice");
    }
    usable.push_back(std::move(found));
  }
  if (usable.empty()) {
    return make_error("jwt.jwks",
                      std::string(origin) + ": no RS256 or ES256 (P-256) signing key in \"keys\"");
  }
  // A token picks its key by "kid" (RFC 7515 §4.1.4); with several keys an unnamed one could
  // never be picked reliably.
  if (unnamed && usable.size() > 1)
    return make_error("jwt.jwks", std::string(origin) + ": with several keys each needs a \"kid\"");
  return usable;
}

Result<std::string> read_key_file(const std::string& path, std::size_t max_bytes) {
  std::ifstream file(path, std::ios::binary);
  if (!file)
    return make_error("jwt.key", "cannot open " + path);
  std::string contents;
  std::array<char, 4096> chunk{};
  while (file.read(chunk.data(), chunk.size()) || file.gcount() > 0) {
    contents.append(chunk.data(), static_cast<std::size_t>(file.gcount()));
    if (contents.size() > max_bytes) {
      return make_error("jwt.key", path + " is larger than " + std::to_string(max_bytes) +
                                       " bytes; expected a key file");
    }
  }
  if (file.bad())
    return make_error("jwt.key", "cannot read " + path);
  return contents;
}

}  // namespace x402proxy::accounts
