#include "x402/base64.h"

#include <string>

#include <catch2/catch.hpp>

namespace {

using x402proxy::x402::base64_decode;
using x402proxy::x402::base64_encode;

// x402 transports-v2/http.md, "Settlement Response Delivery" examples (research §1.7).
constexpr const char* kPaymentResponseSuccess =
    "eyJzdWNjZXNzIjp0cnVlLCJ0cmFuc2FjdGlvbiI6IjB4MTIzNDU2Nzg5MGFiY2RlZjEyMzQ1Njc4OTBhYmNkZWYxMjM0NT"
    "Y3"
    "ODkwYWJjZGVmMTIzNDU2Nzg5MGFiY2RlZiIsIm5ldHdvcmsiOiJlaXAxNTU6ODQ1MzIiLCJwYXllciI6IjB4ODU3YjA2NT"
    "E5"
    "RTkxZTNBNTQ1Mzg3OTFiRGJiMEUyMjM3M2UzNmI2NiJ9";
constexpr const char* kPaymentResponseSuccessJson =
    R"({"success":true,"transaction":"0x1234567890abcdef1234567890abcdef1234567890abcdef1234567890abcdef",)"
    R"("network":"eip155:84532","payer":"0x857b06519E91e3A54538791bDbb0E22373e36b66"})";
constexpr const char* kPaymentResponseFailure =
    "eyJzdWNjZXNzIjpmYWxzZSwiZXJyb3JSZWFzb24iOiJpbnN1ZmZpY2llbnRfZnVuZHMiLCJ0cmFuc2FjdGlvbiI6IiIsIm"
    "5l"
    "dHdvcmsiOiJlaXAxNTU6ODQ1MzIiLCJwYXllciI6IjB4ODU3YjA2NTE5RTkxZTNBNTQ1Mzg3OTFiRGJiMEUyMjM3M2UzNm"
    "I2"
    "NiJ9";
constexpr const char* kPaymentResponseFailureJson =
    R"({"success":false,"errorReason":"insufficient_funds","transaction":"",)"
    R"("network":"eip155:84532","payer":"0x857b06519E91e3A54538791bDbb0E22373e36b66"})";

}  // namespace

TEST_CASE("base64 encodes the RFC 4648 test vectors", "[base64]") {
  CHECK(base64_encode("") == "");
  CHECK(base64_encode("f") == "Zg==");
  CHECK(base64_encode("fo") == "Zm8=");
  CHECK(base64_encode("foo") == "Zm9v");
  CHECK(base64_encode("foob") == "Zm9vYg==");
  CHECK(base64_encode("fooba") == "Zm9vYmE=");
  CHECK(base64_encode("foobar") == "Zm9vYmFy");
  CHECK(base64_encode(std::string("\xfb\xff\x00", 3)) == "+/8A");
}

TEST_CASE("base64 decodes the RFC 4648 test vectors", "[base64]") {
  const std::pair<const char*, const char*> vectors[] = {{"", ""},
                                                         {"Zg==", "f"},
                                                         {"Zm8=", "fo"},
                                                         {"Zm9v", "foo"},
                                                         {"Zm9vYg==", "foob"},
                                                         {"Zm9vYmE=", "fooba"},
                                                         {"Zm9vYmFy", "foobar"}};
  for (const auto& [text, bytes] : vectors) {
    auto decoded = base64_decode(text);
    REQUIRE(decoded.ok());
    CHECK(*decoded == bytes);
  }
  auto binary = base64_decode("+/8A");
  REQUIRE(binary.ok());
  CHECK(*binary == std::string("\xfb\xff\x00", 3));
}

TEST_CASE("the x402 PAYMENT-RESPONSE header examples decode byte-exactly", "[base64]") {
  auto success = base64_decode(kPaymentResponseSuccess);
  REQUIRE(success.ok());
  CHECK(*success == kPaymentResponseSuccessJson);
  CHECK(std::string(kPaymentResponseSuccess).size() == 236);
  CHECK(base64_encode(kPaymentResponseSuccessJson) == kPaymentResponseSuccess);

  auto failure = base64_decode(kPaymentResponseFailure);
  REQUIRE(failure.ok());
  CHECK(*failure == kPaymentResponseFailureJson);
  CHECK(base64_encode(kPaymentResponseFailureJson) == kPaymentResponseFailure);
}

TEST_CASE("every byte value round-trips", "[base64]") {
  std::string all;
  for (int i = 0; i < 256; ++i)
    all += static_cast<char>(i);
  for (std::size_t len = 0; len <= all.size(); len += 37) {
    const std::string bytes = all.substr(0, len);
    auto decoded = base64_decode(base64_encode(bytes));
    REQUIRE(decoded.ok());
    CHECK(*decoded == bytes);
  }
}

TEST_CASE("base64 decoding refuses anything but canonical padded standard base64", "[base64]") {
  const char* refused[] = {
      "Zg",         // missing padding
      "Zg=",        // short padding
      "Zm9v\n",     // trailing newline
      "Zm9v Zm9v",  // inner space
      " Zm9v",      // leading space
      "Zm9vYg\r\n==",
      "-_8A",         // URL-safe alphabet
      "Zm9v_w==",     // URL-safe '_'
      "Zg==Zg==",     // data after padding
      "Z===",         // three '='
      "====",         // only padding
      "Zh==",         // non-zero trailing bits (4 unused bits)
      "Zm9=",         // non-zero trailing bits (2 unused bits)
      "Zm9v\x80Zg=",  // non-ASCII byte
  };
  for (const char* text : refused) {
    INFO(text);
    auto decoded = base64_decode(text);
    REQUIRE_FALSE(decoded.ok());
    CHECK(decoded.error().reason == "base64.invalid");
  }
}

TEST_CASE("base64 errors say what was wrong and where", "[base64]") {
  auto url_safe = base64_decode("ab-d");
  REQUIRE_FALSE(url_safe.ok());
  CHECK(url_safe.error().message ==
        "character '-' at offset 2 is not in the standard base64 alphabet");

  auto unpadded = base64_decode("abcde");
  REQUIRE_FALSE(unpadded.ok());
  CHECK(unpadded.error().message.find("not a multiple of 4") != std::string::npos);

  auto newline = base64_decode("ab\ncd==");
  REQUIRE_FALSE(newline.ok());
}
