// The `facilitator` command's configuration: the keys added for /supported's signers.
#include "config/facilitator_config.h"

#include <catch2/catch.hpp>

using namespace x402proxy;

TEST_CASE("evm_signer is an EVM address listed in /supported signers", "[config][facilitator]") {
  auto none = config::parse_facilitator_config("listen: 127.0.0.1:0\n", "f.yaml");
  REQUIRE(none.ok());
  CHECK((*none)->evm_signer.empty());

  auto given = config::parse_facilitator_config(
      "evm_signer: \"0x1111111111111111111111111111111111111111\"\n", "f.yaml");
  REQUIRE(given.ok());
  CHECK((*given)->evm_signer == "0x1111111111111111111111111111111111111111");

  auto wrong = config::parse_facilitator_config("evm_signer: \"0x1234\"\n", "f.yaml");
  REQUIRE_FALSE(wrong.ok());
  CHECK_THAT(wrong.error().message,
             Catch::Contains("evm_signer") && Catch::Contains("an EVM address"));
}
