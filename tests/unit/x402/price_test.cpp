#include "x402/price.h"

#include <catch2/catch.hpp>

namespace {
using x402proxy::x402::Amount;
using x402proxy::x402::format_usd;
using x402proxy::x402::usd_price_to_atomic;
}  // namespace

TEST_CASE("dollar prices become atomic units of a 6-decimal token", "[price]") {
  CHECK(*usd_price_to_atomic("$0.001", 6) == 1000);
  CHECK(*usd_price_to_atomic("0.001", 6) == 1000);
  CHECK(*usd_price_to_atomic("$0.01", 6) == 10000);  // research §3.6
  CHECK(*usd_price_to_atomic("$1", 6) == 1000000);
  CHECK(*usd_price_to_atomic("$1000.50", 6) == 1000500000);
  CHECK(*usd_price_to_atomic("$0.000001", 6) == 1);
  CHECK(*usd_price_to_atomic("$0", 6) == 0);
  CHECK(*usd_price_to_atomic("$0.0", 6) == 0);
  CHECK(*usd_price_to_atomic("$007.5", 6) == 7500000);
}

TEST_CASE("trailing zeros past the token's precision are exact and accepted", "[price]") {
  CHECK(*usd_price_to_atomic("$1.0000000", 6) == 1000000);
  CHECK(*usd_price_to_atomic("$0.00100000000", 6) == 1000);
}

TEST_CASE("prices work for other decimal counts", "[price]") {
  CHECK(*usd_price_to_atomic("$1.5", 18) == Amount("1500000000000000000"));
  CHECK(*usd_price_to_atomic("$2", 0) == 2);
  CHECK_FALSE(usd_price_to_atomic("$2.5", 0).ok());
}

TEST_CASE("too many decimal places are refused with a message naming the token", "[price]") {
  auto refused = usd_price_to_atomic("$0.0000001", 6, "USDC");
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().reason == "invalid_price");
  CHECK(refused.error().message == "price \"$0.0000001\" has more decimal places than USDC's 6");
  CHECK(usd_price_to_atomic("$0.0000001", 6).error().message ==
        "price \"$0.0000001\" has more decimal places than the token's 6");
}

TEST_CASE("malformed prices are refused", "[price]") {
  for (const char* text :
       {"",   "$",  "-1",    "$-1", "+1",  "$+1", " 1",    "1 ",   "$ 1", "$1,000.50", "1,5",
        ".5", "5.", "1.2.3", "1e3", "$$1", "1$",  "USD 1", "0x10", "NaN", "inf",       "１"}) {
    INFO(text);
    auto parsed = usd_price_to_atomic(text, 6);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().reason == "invalid_price");
  }
  CHECK(usd_price_to_atomic("-0.5", 6).error().message == "price \"-0.5\" is negative");
  CHECK(usd_price_to_atomic("$1,000", 6).error().message.find("thousands separator") !=
        std::string::npos);
}

TEST_CASE("prices beyond 256 bits are refused, the largest one is not", "[price]") {
  // 2^256 - 1 atomic units of a 9-decimal token.
  auto max = usd_price_to_atomic(
      "$115792089237316195423570985008687907853269984665640564039457584007913.129639935", 9);
  REQUIRE(max.ok());
  CHECK(*max == ~Amount(0));
  auto over = usd_price_to_atomic(
      "$115792089237316195423570985008687907853269984665640564039457584007913.129639936", 9);
  REQUIRE_FALSE(over.ok());
  CHECK(over.error().message.find("too large") != std::string::npos);
  CHECK_FALSE(usd_price_to_atomic("$1", 78).ok());
}

TEST_CASE("atomic amounts format as short dollar strings", "[price]") {
  CHECK(format_usd(1000, 6) == "$0.001");
  CHECK(format_usd(10000, 6) == "$0.01");
  CHECK(format_usd(1000000, 6) == "$1");
  CHECK(format_usd(1500000, 6) == "$1.5");
  CHECK(format_usd(1000500000, 6) == "$1000.5");
  CHECK(format_usd(1, 6) == "$0.000001");
  CHECK(format_usd(0, 6) == "$0");
  CHECK(format_usd(42, 0) == "$42");
  CHECK(format_usd(Amount("1500000000000000000"), 18) == "$1.5");
}

TEST_CASE("format_usd and usd_price_to_atomic are inverse", "[price]") {
  for (const char* text : {"$0.001", "$1", "$1000.5", "$0.000001", "$123456.789"}) {
    CHECK(format_usd(*usd_price_to_atomic(text, 6), 6) == text);
  }
}
