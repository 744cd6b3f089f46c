#include "accounts/api_key.h"

#include <set>
#include <string>

#include <catch2/catch.hpp>

using namespace x402proxy::accounts;

namespace {

// 32 zero bytes in base64url without padding.
const std::string kZeroSecret = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
const std::string kValidKey = "x402k_0123456789ab_" + kZeroSecret;

}  // namespace

TEST_CASE("a generated key has the x402k_ format and parses back to its parts", "[accounts]") {
  auto key = generate_api_key();
  REQUIRE(key.ok());
  CHECK(key->key_id.size() == 12);
  CHECK(key->key_id.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(key->secret.size() == 43);
  const std::string text = format_api_key(*key);
  CHECK(text.starts_with("x402k_" + key->key_id + "_"));
  CHECK(text.size() == 6 + 12 + 1 + 43);
  auto parsed = parse_api_key(text);
  REQUIRE(parsed.ok());
  CHECK(parsed->key_id == key->key_id);
  CHECK(parsed->secret == key->secret);
}

TEST_CASE("generated keys differ from each other", "[accounts]") {
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i)
    seen.insert(format_api_key(*generate_api_key()));
  CHECK(seen.size() == 50);
}

TEST_CASE("a secret with - and _ in it parses, since the key id has a fixed length", "[accounts]") {
  // 42 symbols of "-_" (the base64url digits 62 and 63), then "A": its unused bits are zero.
  std::string secret;
  for (int i = 0; i < 21; ++i)
    secret += "-_";
  secret += "A";
  auto parsed = parse_api_key("x402k_abcdefabcdef_" + secret);
  REQUIRE(parsed.ok());
  CHECK(parsed->key_id == "abcdefabcdef");
}

TEST_CASE("malformed keys are refused without echoing them", "[accounts]") {
  const std::string malformed[] = {
      "",
      "sk_live_0123456789ab_" + kZeroSecret,                             // another product's prefix
      "x402k_0123456789AB_" + kZeroSecret,                               // upper-case key id
      "x402k_0123456789a_" + kZeroSecret + "A",                          // short key id
      "x402k_0123456789ab-" + kZeroSecret,                               // wrong separator
      "x402k_0123456789ab_" + kZeroSecret.substr(1),                     // short secret
      "x402k_0123456789ab_" + kZeroSecret + "A",                         // long secret
      "x402k_0123456789ab_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+",  // standard alphabet
      "x402k_0123456789ab_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB",  // non-zero unused bits
      "x402k_0123456789ab_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",  // padding
      " " + kValidKey,
      kValidKey + "\n",
  };
  for (const auto& presented : malformed) {
    INFO("key: " << presented);
    auto parsed = parse_api_key(presented);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().reason == "key.malformed");
    CHECK(parsed.error().message.find("0123456789") == std::string::npos);
    CHECK(parsed.error().message.find("AAAAAAAA") == std::string::npos);
  }
  CHECK(parse_api_key(kValidKey).ok());
}

TEST_CASE("a secret's hash depends on the store key and compares only with itself", "[accounts]") {
  auto key = generate_api_key();
  auto other_key = generate_api_key();
  auto store_a = generate_store_key();
  auto store_b = generate_store_key();
  REQUIRE((key.ok() && other_key.ok() && store_a.ok() && store_b.ok()));
  auto hash_a = hash_secret(*key, *store_a);
  auto hash_a_again = hash_secret(*key, *store_a);
  auto hash_b = hash_secret(*key, *store_b);
  auto other_hash = hash_secret(*other_key, *store_a);
  REQUIRE((hash_a.ok() && hash_a_again.ok() && hash_b.ok() && other_hash.ok()));
  CHECK(same_hash(*hash_a, *hash_a_again));
  CHECK_FALSE(same_hash(*hash_a, *hash_b));
  CHECK_FALSE(same_hash(*hash_a, *other_hash));
}
