// x402/codec.h: the decoders of everything a peer sends (PaymentPayload, PaymentRequired, the
// requirements in it, facilitator verify, settle and supported answers; x402 v1 and v2) take any
// JSON value and either decode it or return an error with the documented reason, never crash.
// Round trip: decoding is lossy by design (unknown fields are dropped, a null optional is absent),
// so the canonical text is serialize(to_json(decode(x))); it must decode again and re-encode to
// itself byte for byte (which needs every kept number finite; a double may come back an ulp away).
// Requirements also match themselves (the rule serve uses to pair a payment with its offer).
//
// The input is tried as JSON text (an MCP _meta payment, a facilitator body) and, when it is
// base64, as the decoded header value (PAYMENT-SIGNATURE, PAYMENT-REQUIRED, PAYMENT-RESPONSE).
#include <cstddef>
#include <cstdint>
#include <string>

#include <boost/json/serialize.hpp>

#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/fuzz_json.h"
#include "x402/base64.h"
#include "x402/codec.h"
#include "x402/strict_json.h"

namespace {

using namespace x402proxy;
namespace json = boost::json;

// Decodes `value` with `decode`; if it decodes, checks the canonical round trip with `encode`.
template <class Decode, class Encode>
void check_round_trip(const json::value& value, Decode decode, Encode encode,
                      std::string_view reason) {
  auto first = decode(value);
  if (!first.ok()) {
    FUZZ_CHECK(first.error().reason == reason || first.error().reason == "invalid_x402_version");
    FUZZ_CHECK(!first.error().message.empty());
    return;
  }
  const json::value encoded = encode(*first);
  // A decoded message can always be written as JSON: no number out of double range survives
  // decoding (it would serialize as `Infinity` or `NaN`, fuzz_json.h).
  FUZZ_CHECK(!fuzz::holds_non_finite_number(encoded));
  const std::string canonical = json::serialize(encoded);
  auto reparsed = x402::parse_strict_json(canonical);
  FUZZ_CHECK(reparsed.ok());  // an encoder writes strict JSON: no key twice
  auto second = decode(*reparsed);
  FUZZ_CHECK(second.ok());
  const json::value encoded_again = encode(*second);
  if (fuzz::holds_double(encoded)) {
    // Boost.JSON 1.81 may read a written double back an ulp away (fuzz_json.h).
    FUZZ_CHECK(fuzz::same_json(encoded_again, encoded, true));
  } else {
    FUZZ_CHECK(json::serialize(encoded_again) == canonical);
  }
}

void check_value(const json::value& value) {
  check_round_trip(
      value, [](const json::value& v) { return x402::payment_payload_from_json(v); },
      [](const x402::PaymentPayload& p) { return x402::to_json(p); }, "invalid_payload");
  check_round_trip(
      value, [](const json::value& v) { return x402::payment_required_from_json(v); },
      [](const x402::PaymentRequired& r) { return x402::to_json(r); }, "invalid_payment_required");
  check_round_trip(
      value, [](const json::value& v) { return x402::settle_response_from_json(v); },
      [](const x402::SettleResponse& r) { return x402::to_json(r); }, "invalid_settle_response");
  check_round_trip(
      value, [](const json::value& v) { return x402::verify_response_from_json(v); },
      [](const x402::VerifyResponse& r) { return x402::to_json(r); }, "invalid_verify_response");
  check_round_trip(
      value, [](const json::value& v) { return x402::supported_response_from_json(v); },
      [](const x402::SupportedResponse& r) { return x402::to_json(r); },
      "invalid_supported_response");
  for (int version : {1, 2}) {
    check_round_trip(
        value, [version](const json::value& v) { return x402::requirements_from_json(v, version); },
        [version](const x402::PaymentRequirements& r) { return x402::to_json(r, version); },
        "invalid_payment_requirements");
    if (auto requirements = x402::requirements_from_json(value, version); requirements.ok())
      FUZZ_CHECK(x402::requirements_match(*requirements, *requirements));
  }
  if (auto payment = x402::payment_payload_from_json(value); payment.ok())
    FUZZ_CHECK(x402::requirements_match(payment->accepted, payment->accepted));
  if (auto required = x402::payment_required_from_json(value); required.ok()) {
    FUZZ_CHECK(!required->accepts.empty());
    for (const auto& offer : required->accepts)
      FUZZ_CHECK(x402::requirements_match(offer, offer));
  }
}

void check_text(std::string_view text) {
  auto parsed = x402::parse_strict_json(text);
  if (parsed.ok())
    check_value(*parsed);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input = fuzz::as_text(data, size);
  check_text(input);
  if (auto decoded = x402::base64_decode(input); decoded.ok())
    check_text(*decoded);
  return 0;
}
