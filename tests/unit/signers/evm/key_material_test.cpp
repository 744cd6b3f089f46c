#include "signers/key_material.h"

#include <sys/stat.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>

#include <catch2/catch.hpp>

using namespace x402proxy::signers;

TEST_CASE("keys parse from hex and from the Solana JSON keypair format", "[keys]") {
  auto hex = parse_key_text("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80\n");
  REQUIRE(hex.ok());
  CHECK(hex->size() == 32);
  CHECK(hex->data()[0] == 0xac);
  std::string json = "[";
  for (int i = 0; i < 64; ++i)
    json += std::to_string(i) + (i < 63 ? "," : "]");
  auto keypair = parse_key_text(json);
  REQUIRE(keypair.ok());
  CHECK(keypair->size() == 32);
  CHECK(keypair->data()[31] == 31);
  CHECK_FALSE(parse_key_text("[1,2,3]").ok());
  CHECK_FALSE(parse_key_text("0x1234").ok());
}

TEST_CASE("errors about keys never contain the key", "[keys]") {
  const std::string secret = "0xZZ0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
  auto bad = parse_key_text(secret);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find("0974bec3") == std::string::npos);
  ::setenv("X402_TEST_KEY", secret.c_str(), 1);
  auto env = load_key_env("X402_TEST_KEY");
  REQUIRE_FALSE(env.ok());
  CHECK_THAT(env.error().message, Catch::Contains("X402_TEST_KEY"));
  CHECK(env.error().message.find("0974bec3") == std::string::npos);
  ::unsetenv("X402_TEST_KEY");
}

TEST_CASE("key files are created 0600 and never overwritten", "[keys]") {
  auto path = std::filesystem::temp_directory_path() / ("key-test-" + std::to_string(::getpid()));
  std::filesystem::remove(path);
  REQUIRE(write_key_file(path.string(), "0x01\n").ok());
  struct stat info {};
  REQUIRE(::stat(path.c_str(), &info) == 0);
  CHECK((info.st_mode & 0777) == 0600);
  CHECK_FALSE(write_key_file(path.string(), "0x02\n").ok());
  std::filesystem::remove(path);
}

TEST_CASE("random secrets differ", "[keys]") {
  auto a = random_secret(32);
  auto b = random_secret(32);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(std::memcmp(a->data(), b->data(), 32) != 0);
}
