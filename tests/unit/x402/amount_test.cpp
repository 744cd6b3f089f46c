#include "x402/amount.h"

#include <string>

#include <catch2/catch.hpp>

namespace {
using x402proxy::x402::Amount;
using x402proxy::x402::parse_amount;
using x402proxy::x402::to_string;

constexpr const char* kMaxUint256 =
    "115792089237316195423570985008687907853269984665640564039457584007913129639935";
}  // namespace

TEST_CASE("amounts parse as exact 256-bit integers", "[amount]") {
  CHECK(*parse_amount("0") == 0);
  CHECK(*parse_amount("10000") == 10000);
  CHECK(*parse_amount("18446744073709551616") == Amount(1) << 64);  // just past uint64
  CHECK(*parse_amount("1234567890123456789012345678901234567890") ==
        Amount("1234567890123456789012345678901234567890"));
  auto max = parse_amount(kMaxUint256);
  REQUIRE(max.ok());
  CHECK(*max == ~Amount(0));
}

TEST_CASE("amounts round-trip through to_string", "[amount]") {
  for (const char* text : {"0", "1", "999", "10000", "10000000000000000000", kMaxUint256}) {
    CHECK(to_string(*parse_amount(text)) == text);
  }
}

TEST_CASE("amounts refuse anything but canonical digits in range", "[amount]") {
  const std::string refused[] = {
      "",
      "-1",
      "+1",
      " 1",
      "1 ",
      "1.0",
      "1e3",
      "0x10",
      "01",
      "00",
      "１",  // full-width digit
      "115792089237316195423570985008687907853269984665640564039457584007913129639936",  // 2^256
      std::string(79, '1'),
  };
  for (const auto& text : refused) {
    INFO(text);
    auto parsed = parse_amount(text);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().reason == "invalid_amount");
  }
  CHECK(parse_amount("12a").error().message ==
        "amount \"12a\" must contain only decimal digits (atomic units)");
  CHECK(parse_amount(std::string(79, '9')).error().message.find("exceeds 2^256 - 1") !=
        std::string::npos);
}
