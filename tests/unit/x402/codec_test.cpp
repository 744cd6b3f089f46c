// Every JSON example of the x402 specifications parses into our structs and is written back
// byte for byte (key order included). Texts are copied from x402-foundation/x402:
// specs/x402-specification-v2.md (§5.1.1, §5.2.1, §5.3.1, §7.1-7.3), specs/transports-v2/http.md,
// specs/transports-v1/http.md, and research §1.2, §1.4, §4.1. Long because the examples are
// quoted whole.
#include "x402/codec.h"

#include <string>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

#include "x402/base64.h"
#include "x402/strict_json.h"

namespace {

namespace json = boost::json;
using namespace x402proxy::x402;

// The spec's pretty-printed text, compacted with its key order kept.
std::string compact(std::string_view spec_text) {
  return json::serialize(json::parse(spec_text));
}

json::value strict(std::string_view text) {
  auto parsed = parse_strict_json(text);
  REQUIRE(parsed.ok());
  return *parsed;
}

constexpr const char* kPaymentRequiredV2 = R"({
  "x402Version": 2,
  "error": "PAYMENT-SIGNATURE header is required",
  "resource": {
    "url": "https://api.example.com/premium-data",
    "description": "Access to premium market data",
    "mimeType": "application/json"
  },
  "accepts": [
    {
      "scheme": "exact",
      "network": "eip155:84532",
      "amount": "10000",
      "asset": "0x036CbD53842c5426634e7929541eC2318f3dCF7e",
      "payTo": "0x209693Bc6afc0C5328bA36FaF03C514EF312287C",
      "maxTimeoutSeconds": 60,
      "extra": {
        "name": "USDC",
        "version": "2"
      }
    }
  ],
  "extensions": {}
})";

constexpr const char* kPaymentPayloadV2 = R"({
  "x402Version": 2,
  "resource": {
    "url": "https://api.example.com/premium-data",
    "description": "Access to premium market data",
    "mimeType": "application/json"
  },
  "accepted": {
  "scheme": "exact",
    "network": "eip155:84532",
    "amount": "10000",
    "asset": "0x036CbD53842c5426634e7929541eC2318f3dCF7e",
    "payTo": "0x209693Bc6afc0C5328bA36FaF03C514EF312287C",
    "maxTimeoutSeconds": 60,
    "extra": {
      "name": "USDC",
      "version": "2"
    }
  },
  "payload": {
    "signature": "0x2d6a7588d6acca505cbf0d9a4a227e0c52c6c34008c8e8986a1283259764173608a2ce6496642e377d6da8dbbf5836e9bd15092f9ecab05ded3d6293af148b571c",
    "authorization": {
      "from": "0x857b06519E91e3A54538791bDbb0E22373e36b66",
      "to": "0x209693Bc6afc0C5328bA36FaF03C514EF312287C",
      "value": "10000",
      "validAfter": "1740672089",
      "validBefore": "1740672154",
      "nonce": "0xf3746613c2d920b5fdabc0856f2aeb2d4f88ee6037b8cc5d04a71a4462f13480"
    }
  },
  "extensions": {}
})";

constexpr const char* kSettleSuccess = R"({
  "success": true,
  "transaction": "0x1234567890abcdef1234567890abcdef1234567890abcdef1234567890abcdef",
  "network": "eip155:84532",
  "payer": "0x857b06519E91e3A54538791bDbb0E22373e36b66"
})";

constexpr const char* kSettleFailure = R"({
  "success": false,
  "errorReason": "insufficient_funds",
  "transaction": "",
  "network": "eip155:84532",
  "payer": "0x857b06519E91e3A54538791bDbb0E22373e36b66"
})";

constexpr const char* kVerifyValid = R"({
  "isValid": true,
  "payer": "0x857b06519E91e3A54538791bDbb0E22373e36b66"
})";

constexpr const char* kVerifyInvalid = R"({
  "isValid": false,
  "invalidReason": "insufficient_funds",
  "payer": "0x857b06519E91e3A54538791bDbb0E22373e36b66"
})";

constexpr const char* kSupported = R"({
  "kinds": [
    {
      "x402Version": 2,
      "scheme": "exact",
      "network": "eip155:84532"
    },
    {
      "x402Version": 2,
      "scheme": "exact",
      "network": "eip155:8453"
    },
    {
      "x402Version": 2,
      "scheme": "exact",
      "network": "eip155:43113"
    },
    {
      "x402Version": 2,
      "scheme": "exact",
      "network": "eip155:43114"
    }
  ],
  "extensions": [],
  "signers": {
    "eip155:*": ["0x1234567890abcdef1234567890abcdef12345678"],
    "solana:*": ["CKPKJWNdJEqa81x7CkZ14BVPiY6y16Sxs7owznqtWYp5"]
  }
})";

constexpr const char* kSupportedWithSolana = R"({
  "kinds": [
    { "x402Version": 2, "scheme": "exact", "network": "eip155:84532" },
    { "x402Version": 1, "scheme": "exact", "network": "base-sepolia" },
    { "x402Version": 2, "scheme": "exact", "network": "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1",
      "extra": { "feePayer": "CKPKJWNdJEqa81x7CkZ14BVPiY6y16Sxs7owznqtWYp5" } }
  ],
  "extensions": ["bazaar"],
  "signers": {
    "eip155:*": ["0x1234567890abcdef1234567890abcdef12345678"],
    "solana:*": ["CKPKJWNdJEqa81x7CkZ14BVPiY6y16Sxs7owznqtWYp5"]
  }
})";

constexpr const char* kSolanaRequirements = R"({
  "scheme": "exact",
  "network": "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp",
  "amount": "1000",
  "asset": "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v",
  "payTo": "2wKupLR9q6wXYppw8Gr2NvWxKBUqm4PPJKkQfoxHDBg4",
  "maxTimeoutSeconds": 60,
  "extra": { "feePayer": "EwWqGE4ZFKLofuestmU4LDdK7XM1N4ALgdZccwYugwGd", "memo": "pi_3abc123def456" }
})";

constexpr const char* kPaymentRequiredV1 = R"({
  "x402Version": 1,
  "error": "Payment required to access this resource",
  "accepts": [
    {
      "scheme": "exact",
      "network": "base-sepolia",
      "maxAmountRequired": "10000",
      "asset": "0x036CbD53842c5426634e7929541eC2318f3dCF7e",
      "payTo": "0x209693Bc6afc0C5328bA36FaF03C514EF312287C",
      "resource": "https://api.example.com/premium-data",
      "description": "Access to premium market data",
      "mimeType": "application/json",
      "outputSchema": null,
      "maxTimeoutSeconds": 60,
      "extra": {
        "name": "USDC",
        "version": "2"
      }
    }
  ]
})";

constexpr const char* kPaymentPayloadV1 = R"({
  "x402Version": 1,
  "scheme": "exact",
  "network": "base-sepolia",
  "payload": {
    "signature": "0x2d6a7588d6acca505cbf0d9a4a227e0c52c6c34008c8e8986a1283259764173608a2ce6496642e377d6da8dbbf5836e9bd15092f9ecab05ded3d6293af148b571c",
    "authorization": {
      "from": "0x857b06519E91e3A54538791bDbb0E22373e36b66",
      "to": "0x209693Bc6afc0C5328bA36FaF03C514EF312287C",
      "value": "10000",
      "validAfter": "1740672089",
      "validBefore": "1740672154",
      "nonce": "0xf3746613c2d920b5fdabc0856f2aeb2d4f88ee6037b8cc5d04a71a4462f13480"
    }
  }
})";

// Header values, transports-v2/http.md and transports-v1/http.md.
constexpr const char* kPaymentRequiredHeader =
    "eyJ4NDAyVmVyc2lvbiI6MiwiZXJyb3IiOiJQQVlNRU5ULVNJR05BVFVSRSBoZWFkZXIgaXMgcmVxdWlyZWQiLCJyZXNvdX"
    "Jj"
    "ZSI6eyJ1cmwiOiJodHRwczovL2FwaS5leGFtcGxlLmNvbS9wcmVtaXVtLWRhdGEiLCJkZXNjcmlwdGlvbiI6IkFjY2Vzcy"
    "B0"
    "byBwcmVtaXVtIG1hcmtldCBkYXRhIiwibWltZVR5cGUiOiJhcHBsaWNhdGlvbi9qc29uIn0sImFjY2VwdHMiOlt7InNjaG"
    "Vt"
    "ZSI6ImV4YWN0IiwibmV0d29yayI6ImVpcDE1NTo4NDUzMiIsImFtb3VudCI6IjEwMDAwIiwiYXNzZXQiOiIweDAzNkNiRD"
    "Uz"
    "ODQyYzU0MjY2MzRlNzkyOTU0MWVDMjMxOGYzZENGN2UiLCJwYXlUbyI6IjB4MjA5NjkzQmM2YWZjMEM1MzI4YkEzNkZhRj"
    "Az"
    "QzUxNEVGMzEyMjg3QyIsIm1heFRpbWVvdXRTZWNvbmRzIjo2MCwiZXh0cmEiOnsibmFtZSI6IlVTREMiLCJ2ZXJzaW9uIj"
    "oi"
    "MiJ9fV19";
constexpr const char* kPaymentSignatureHeader =
    "eyJ4NDAyVmVyc2lvbiI6MiwicmVzb3VyY2UiOnsidXJsIjoiaHR0cHM6Ly9hcGkuZXhhbXBsZS5jb20vcHJlbWl1bS1kYX"
    "Rh"
    "IiwiZGVzY3JpcHRpb24iOiJBY2Nlc3MgdG8gcHJlbWl1bSBtYXJrZXQgZGF0YSIsIm1pbWVUeXBlIjoiYXBwbGljYXRpb2"
    "4v"
    "anNvbiJ9LCJhY2NlcHRlZCI6eyJzY2hlbWUiOiJleGFjdCIsIm5ldHdvcmsiOiJlaXAxNTU6ODQ1MzIiLCJhbW91bnQiOi"
    "Ix"
    "MDAwMCIsImFzc2V0IjoiMHgwMzZDYkQ1Mzg0MmM1NDI2NjM0ZTc5Mjk1NDFlQzIzMThmM2RDRjdlIiwicGF5VG8iOiIweD"
    "Iw"
    "OTY5M0JjNmFmYzBDNTMyOGJBMzZGYUYwM0M1MTRFRjMxMjI4N0MiLCJtYXhUaW1lb3V0U2Vjb25kcyI6NjAsImV4dHJhIj"
    "p7"
    "Im5hbWUiOiJVU0RDIiwidmVyc2lvbiI6IjIifX0sInBheWxvYWQiOnsic2lnbmF0dXJlIjoiMHgyZDZhNzU4OGQ2YWNjYT"
    "Uw"
    "NWNiZjBkOWE0YTIyN2UwYzUyYzZjMzQwMDhjOGU4OTg2YTEyODMyNTk3NjQxNzM2MDhhMmNlNjQ5NjY0MmUzNzdkNmRhOG"
    "Ri"
    "YmY1ODM2ZTliZDE1MDkyZjllY2FiMDVkZWQzZDYyOTNhZjE0OGI1NzFjIiwiYXV0aG9yaXphdGlvbiI6eyJmcm9tIjoiMH"
    "g4"
    "NTdiMDY1MTlFOTFlM0E1NDUzODc5MWJEYmIwRTIyMzczZTM2YjY2IiwidG8iOiIweDIwOTY5M0JjNmFmYzBDNTMyOGJBMz"
    "ZG"
    "YUYwM0M1MTRFRjMxMjI4N0MiLCJ2YWx1ZSI6IjEwMDAwIiwidmFsaWRBZnRlciI6IjE3NDA2NzIwODkiLCJ2YWxpZEJlZm"
    "9y"
    "ZSI6IjE3NDA2NzIxNTQiLCJub25jZSI6IjB4ZjM3NDY2MTNjMmQ5MjBiNWZkYWJjMDg1NmYyYWViMmQ0Zjg4ZWU2MDM3Yj"
    "hj"
    "YzVkMDRhNzFhNDQ2MmYxMzQ4MCJ9fX0=";
constexpr const char* kPaymentResponseFailureHeader =
    "eyJzdWNjZXNzIjpmYWxzZSwiZXJyb3JSZWFzb24iOiJpbnN1ZmZpY2llbnRfZnVuZHMiLCJ0cmFuc2FjdGlvbiI6IiIsIm"
    "5l"
    "dHdvcmsiOiJlaXAxNTU6ODQ1MzIiLCJwYXllciI6IjB4ODU3YjA2NTE5RTkxZTNBNTQ1Mzg3OTFiRGJiMEUyMjM3M2UzNm"
    "I2"
    "NiJ9";
constexpr const char* kXPaymentHeader =
    "eyJ4NDAyVmVyc2lvbiI6MSwic2NoZW1lIjoiZXhhY3QiLCJuZXR3b3JrIjoiYmFzZS1zZXBvbGlhIiwicGF5bG9hZCI6ey"
    "Jz"
    "aWduYXR1cmUiOiIweDJkNmE3NTg4ZDZhY2NhNTA1Y2JmMGQ5YTRhMjI3ZTBjNTJjNmMzNDAwOGM4ZTg5ODZhMTI4MzI1OT"
    "c2"
    "NDE3MzYwOGEyY2U2NDk2NjQyZTM3N2Q2ZGE4ZGJiZjU4MzZlOWJkMTUwOTJmOWVjYWIwNWRlZDNkNjI5M2FmMTQ4YjU3MW"
    "Mi"
    "LCJhdXRob3JpemF0aW9uIjp7ImZyb20iOiIweDg1N2IwNjUxOUU5MWUzQTU0NTM4NzkxYkRiYjBFMjIzNzNlMzZiNjYiLC"
    "J0"
    "byI6IjB4MjA5NjkzQmM2YWZjMEM1MzI4YkEzNkZhRjAzQzUxNEVGMzEyMjg3QyIsInZhbHVlIjoiMTAwMDAiLCJ2YWxpZE"
    "Fm"
    "dGVyIjoiMTc0MDY3MjA4OSIsInZhbGlkQmVmb3JlIjoiMTc0MDY3MjE1NCIsIm5vbmNlIjoiMHhmMzc0NjYxM2MyZDkyMG"
    "I1"
    "ZmRhYmMwODU2ZjJhZWIyZDRmODhlZTYwMzdiOGNjNWQwNGE3MWE0NDYyZjEzNDgwIn19fQ==";
constexpr const char* kXPaymentResponseSuccessHeader =
    "eyJzdWNjZXNzIjp0cnVlLCJ0cmFuc2FjdGlvbiI6IjB4MTIzNDU2Nzg5MGFiY2RlZjEyMzQ1Njc4OTBhYmNkZWYxMjM0NT"
    "Y3"
    "ODkwYWJjZGVmMTIzNDU2Nzg5MGFiY2RlZiIsIm5ldHdvcmsiOiJiYXNlLXNlcG9saWEiLCJwYXllciI6IjB4ODU3YjA2NT"
    "E5"
    "RTkxZTNBNTQ1Mzg3OTFiRGJiMEUyMjM3M2UzNmI2NiJ9";

std::string decoded_header(const char* header) {
  auto decoded = base64_decode(header);
  REQUIRE(decoded.ok());
  return *decoded;
}

}  // namespace

TEST_CASE("the v2 PaymentRequired example round-trips byte for byte", "[codec]") {
  auto required = payment_required_from_json(strict(kPaymentRequiredV2));
  REQUIRE(required.ok());
  CHECK(required->x402_version == 2);
  CHECK(required->error == "PAYMENT-SIGNATURE header is required");
  CHECK(required->resource.url == "https://api.example.com/premium-data");
  CHECK(required->resource.mime_type == "application/json");
  REQUIRE(required->accepts.size() == 1);
  const PaymentRequirements& offer = required->accepts[0];
  CHECK(offer.scheme == "exact");
  CHECK(offer.network == "eip155:84532");
  CHECK(offer.amount == "10000");
  CHECK(offer.asset == "0x036CbD53842c5426634e7929541eC2318f3dCF7e");
  CHECK(offer.pay_to == "0x209693Bc6afc0C5328bA36FaF03C514EF312287C");
  CHECK(offer.max_timeout_seconds == 60);
  CHECK(offer.has_extra);
  CHECK(offer.extra.at("name") == "USDC");
  CHECK_FALSE(offer.v1_resource.has_value());
  REQUIRE(required->extensions.has_value());
  CHECK(required->extensions->empty());

  CHECK(json::serialize(to_json(*required)) == compact(kPaymentRequiredV2));
}

TEST_CASE("the PAYMENT-REQUIRED header example is reproduced from the struct", "[codec]") {
  const std::string header_json = decoded_header(kPaymentRequiredHeader);
  auto required = payment_required_from_json(strict(header_json));
  REQUIRE(required.ok());
  CHECK_FALSE(required->extensions.has_value());  // the header example has no "extensions"
  CHECK(json::serialize(to_json(*required)) == header_json);
  CHECK(base64_encode(json::serialize(to_json(*required))) == kPaymentRequiredHeader);
}

TEST_CASE("the v2 PaymentPayload example and PAYMENT-SIGNATURE header round-trip", "[codec]") {
  auto payment = payment_payload_from_json(strict(kPaymentPayloadV2));
  REQUIRE(payment.ok());
  CHECK(payment->x402_version == 2);
  REQUIRE(payment->resource.has_value());
  CHECK(payment->resource->description == "Access to premium market data");
  CHECK(payment->accepted.amount == "10000");
  CHECK(payment->payload.at("authorization").at("nonce") ==
        "0xf3746613c2d920b5fdabc0856f2aeb2d4f88ee6037b8cc5d04a71a4462f13480");
  CHECK(json::serialize(to_json(*payment)) == compact(kPaymentPayloadV2));

  const std::string header_json = decoded_header(kPaymentSignatureHeader);
  auto from_header = payment_payload_from_json(strict(header_json));
  REQUIRE(from_header.ok());
  CHECK(json::serialize(to_json(*from_header)) == header_json);
}

TEST_CASE("the settle response examples round-trip in spec key order", "[codec]") {
  for (const char* text : {kSettleSuccess, kSettleFailure}) {
    auto response = settle_response_from_json(strict(text));
    REQUIRE(response.ok());
    CHECK(json::serialize(to_json(*response)) == compact(text));
  }
  auto failure = settle_response_from_json(strict(decoded_header(kPaymentResponseFailureHeader)));
  REQUIRE(failure.ok());
  CHECK_FALSE(failure->success);
  CHECK(failure->error_reason == "insufficient_funds");
  CHECK(failure->transaction.empty());
  CHECK(base64_encode(json::serialize(to_json(*failure))) == kPaymentResponseFailureHeader);

  // v1 X-PAYMENT-RESPONSE: same shape, v1 network name.
  auto v1 = settle_response_from_json(strict(decoded_header(kXPaymentResponseSuccessHeader)));
  REQUIRE(v1.ok());
  CHECK(v1->network == "base-sepolia");
  CHECK(base64_encode(json::serialize(to_json(*v1))) == kXPaymentResponseSuccessHeader);
}

TEST_CASE("the §7.2 settle examples (payer first) parse to the same response", "[codec]") {
  auto payer_first = settle_response_from_json(strict(R"({
  "success": true,
  "payer": "0x857b06519E91e3A54538791bDbb0E22373e36b66",
  "transaction": "0x1234567890abcdef1234567890abcdef1234567890abcdef1234567890abcdef",
  "network": "eip155:84532"
})"));
  REQUIRE(payer_first.ok());
  CHECK(json::serialize(to_json(*payer_first)) == compact(kSettleSuccess));
}

TEST_CASE("the verify response examples round-trip", "[codec]") {
  for (const char* text : {kVerifyValid, kVerifyInvalid}) {
    auto response = verify_response_from_json(strict(text));
    REQUIRE(response.ok());
    CHECK(json::serialize(to_json(*response)) == compact(text));
  }
  auto invalid = verify_response_from_json(strict(kVerifyInvalid));
  CHECK_FALSE(invalid->is_valid);
  CHECK(invalid->invalid_reason == "insufficient_funds");
}

TEST_CASE("the /supported examples round-trip", "[codec]") {
  for (const char* text : {kSupported, kSupportedWithSolana}) {
    auto response = supported_response_from_json(strict(text));
    REQUIRE(response.ok());
    CHECK(json::serialize(to_json(*response)) == compact(text));
  }
  auto mixed = supported_response_from_json(strict(kSupportedWithSolana));
  REQUIRE(mixed->kinds.size() == 3);
  CHECK(mixed->kinds[1].x402_version == 1);
  CHECK(mixed->kinds[2].extra->at("feePayer") == "CKPKJWNdJEqa81x7CkZ14BVPiY6y16Sxs7owznqtWYp5");
  CHECK(mixed->signers[1].first == "solana:*");
}

TEST_CASE("a v1 facilitator's bare {kinds} gets empty extensions and signers", "[codec]") {
  auto v1 = supported_response_from_json(
      strict(R"({"kinds":[{"x402Version":1,"scheme":"exact","network":"base-sepolia"}]})"));
  REQUIRE(v1.ok());
  CHECK(v1->extensions.empty());
  CHECK(v1->signers.empty());
}

TEST_CASE("the Solana requirements example round-trips with its extra", "[codec]") {
  auto requirements = requirements_from_json(strict(kSolanaRequirements), 2);
  REQUIRE(requirements.ok());
  CHECK(requirements->extra.at("memo") == "pi_3abc123def456");
  CHECK(json::serialize(to_json(*requirements, 2)) == compact(kSolanaRequirements));
}

TEST_CASE("the v1 402 body round-trips with maxAmountRequired and inline resource", "[codec]") {
  auto required = payment_required_from_json(strict(kPaymentRequiredV1));
  REQUIRE(required.ok());
  CHECK(required->x402_version == 1);
  REQUIRE(required->accepts.size() == 1);
  const PaymentRequirements& offer = required->accepts[0];
  CHECK(offer.amount == "10000");
  CHECK(offer.network == "base-sepolia");
  REQUIRE(offer.v1_resource.has_value());
  CHECK(offer.v1_resource->url == "https://api.example.com/premium-data");
  CHECK(offer.v1_resource->description == "Access to premium market data");
  REQUIRE(offer.v1_output_schema.has_value());
  CHECK(offer.v1_output_schema->is_null());
  CHECK(json::serialize(to_json(*required)) == compact(kPaymentRequiredV1));
}

TEST_CASE("the v1 payment payload and X-PAYMENT header round-trip", "[codec]") {
  auto payment = payment_payload_from_json(strict(kPaymentPayloadV1));
  REQUIRE(payment.ok());
  CHECK(payment->x402_version == 1);
  CHECK(payment->accepted.scheme == "exact");
  CHECK(payment->accepted.network == "base-sepolia");
  CHECK_FALSE(payment->resource.has_value());
  CHECK(json::serialize(to_json(*payment)) == compact(kPaymentPayloadV1));
  CHECK(base64_encode(json::serialize(to_json(*payment))) == kXPaymentHeader);
}

TEST_CASE("one requirement converts between the v1 and v2 encodings", "[codec]") {
  auto v1 = requirements_from_json(strict(kPaymentRequiredV1).at("accepts").at(0), 1);
  REQUIRE(v1.ok());
  PaymentRequirements as_v2 = *v1;
  as_v2.network = "eip155:84532";
  const std::string v2_text = json::serialize(to_json(as_v2, 2));
  CHECK(v2_text == R"({"scheme":"exact","network":"eip155:84532","amount":"10000",)"
                   R"("asset":"0x036CbD53842c5426634e7929541eC2318f3dCF7e",)"
                   R"("payTo":"0x209693Bc6afc0C5328bA36FaF03C514EF312287C","maxTimeoutSeconds":60,)"
                   R"("extra":{"name":"USDC","version":"2"}})");
  auto back = requirements_from_json(strict(json::serialize(to_json(*v1, 1))), 1);
  REQUIRE(back.ok());
  CHECK(*back == *v1);
}

TEST_CASE("optional fields that are absent are omitted on output", "[codec]") {
  PaymentRequirements bare;
  bare.scheme = "exact";
  bare.network = "eip155:8453";
  bare.amount = "1";
  bare.asset = "0xA";
  bare.pay_to = "0xB";
  bare.max_timeout_seconds = 30;
  CHECK(json::serialize(to_json(bare, 2)) ==
        R"({"scheme":"exact","network":"eip155:8453","amount":"1","asset":"0xA",)"
        R"("payTo":"0xB","maxTimeoutSeconds":30})");
  bare.has_extra = true;  // present but empty differs from absent
  CHECK(json::serialize(to_json(bare, 2)).ends_with(R"("maxTimeoutSeconds":30,"extra":{}})"));

  SettleResponse settle;
  settle.success = true;
  settle.transaction = "0x1";
  settle.network = "eip155:8453";
  settle.amount = "5";
  CHECK(json::serialize(to_json(settle)) ==
        R"({"success":true,"transaction":"0x1","network":"eip155:8453","amount":"5"})");

  CHECK(json::serialize(to_json(VerifyResponse{})) == R"({"isValid":false})");
}
