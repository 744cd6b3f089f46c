// Bad x402 messages are refused with a reason and a message naming the field; and the
// requirement matching rule of @x402/core 2.27.
#include <string>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

#include "x402/codec.h"

namespace {

namespace json = boost::json;
using namespace x402proxy::x402;

constexpr const char* kRequirements =
    R"({"scheme":"exact","network":"eip155:84532","amount":"10000",)"
    R"("asset":"0x036CbD53842c5426634e7929541eC2318f3dCF7e",)"
    R"("payTo":"0x209693Bc6afc0C5328bA36FaF03C514EF312287C","maxTimeoutSeconds":60,)"
    R"("extra":{"name":"USDC","version":"2"}})";

json::object requirements_with(std::string_view key, json::value value) {
  json::object object = json::parse(kRequirements).as_object();
  object[key] = std::move(value);
  return object;
}

json::object requirements_without(std::string_view key) {
  json::object object = json::parse(kRequirements).as_object();
  object.erase(key);
  return object;
}

PaymentRequirements offer() {
  return *requirements_from_json(json::parse(kRequirements), 2);
}

}  // namespace

TEST_CASE("amount must be a canonical decimal string", "[codec]") {
  for (json::value bad :
       {json::value(10000), json::value("1.5"), json::value("-1"), json::value("0x10"),
        json::value(""), json::value("010"), json::value(" 1"), json::value(nullptr)}) {
    INFO(json::serialize(bad));
    auto parsed = requirements_from_json(requirements_with("amount", bad), 2);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().reason == "invalid_payment_requirements");
    CHECK(parsed.error().message.rfind("amount ", 0) == 0);
  }
  auto number = requirements_from_json(requirements_with("amount", 10000), 2);
  CHECK(number.error().message ==
        "amount must be a decimal string of atomic units (digits only, no leading zero, at most "
        "2^256 - 1), got number 10000");
  CHECK(requirements_from_json(requirements_without("amount"), 2).error().message ==
        "amount is missing; expected a decimal string of atomic units");
}

TEST_CASE("maxTimeoutSeconds must be a positive integer number", "[codec]") {
  for (json::value bad : {json::value(0), json::value(-5), json::value(60.5), json::value(60.0),
                          json::value("60"), json::value(true)}) {
    INFO(json::serialize(bad));
    auto parsed = requirements_from_json(requirements_with("maxTimeoutSeconds", bad), 2);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().message.rfind("maxTimeoutSeconds must be a positive integer number", 0) ==
          0);
  }
  CHECK(requirements_from_json(requirements_with("maxTimeoutSeconds", "60"), 2).error().message ==
        "maxTimeoutSeconds must be a positive integer number, got string \"60\"");
}

TEST_CASE("required strings must be present, strings and non-empty", "[codec]") {
  for (const char* key : {"scheme", "network", "asset", "payTo"}) {
    INFO(key);
    auto missing = requirements_from_json(requirements_without(key), 2);
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().message == std::string(key) + " is missing; expected a non-empty string");
    auto number = requirements_from_json(requirements_with(key, 7), 2);
    CHECK(number.error().message == std::string(key) + " must be a non-empty string, got number 7");
    CHECK_FALSE(requirements_from_json(requirements_with(key, ""), 2).ok());
  }
}

TEST_CASE("a v2 requirement needs a CAIP-2 network, a v1 one a v1 name", "[codec]") {
  auto v1_name = requirements_from_json(requirements_with("network", "base-sepolia"), 2);
  REQUIRE_FALSE(v1_name.ok());
  CHECK(v1_name.error().message.find("CAIP-2") != std::string::npos);

  json::object v1 = requirements_without("amount");
  v1["maxAmountRequired"] = "10000";
  v1["network"] = "base-sepolia";
  v1["resource"] = "https://example.com/tool";
  CHECK(requirements_from_json(v1, 1).ok());
  // A v2 requirement read as v1 lacks maxAmountRequired.
  CHECK(requirements_from_json(json::parse(kRequirements), 1).error().message ==
        "maxAmountRequired is missing; expected a decimal string of atomic units");
}

TEST_CASE("extra may be absent or null but not another type", "[codec]") {
  auto absent = requirements_from_json(requirements_without("extra"), 2);
  REQUIRE(absent.ok());
  CHECK_FALSE(absent->has_extra);
  auto null_extra = requirements_from_json(requirements_with("extra", nullptr), 2);
  REQUIRE(null_extra.ok());
  CHECK_FALSE(null_extra->has_extra);
  auto text = requirements_from_json(requirements_with("extra", "USDC"), 2);
  REQUIRE_FALSE(text.ok());
  CHECK(text.error().message == "extra must be a JSON object when present, got string \"USDC\"");
}

TEST_CASE("x402Version must be the number 1 or 2", "[codec]") {
  for (const char* text :
       {R"({"accepts":[]})", R"({"x402Version":3,"accepts":[]})",
        R"({"x402Version":"2","accepts":[]})", R"({"x402Version":2.0,"accepts":[]})"}) {
    INFO(text);
    auto parsed = payment_required_from_json(json::parse(text));
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().reason == "invalid_x402_version");
  }
  CHECK(payment_payload_from_json(json::parse(R"({"x402Version":3})")).error().message ==
        "x402Version must be the number 1 or 2, got number 3");
  CHECK(requirements_from_json(json::parse(kRequirements), 3).error().reason ==
        "invalid_x402_version");
}

TEST_CASE("PaymentRequired errors name the field inside accepts", "[codec]") {
  json::object required = {
      {"x402Version", 2},
      {"resource", {{"url", "https://example.com/mcp"}}},
      {"accepts", json::array{json::parse(kRequirements), requirements_with("payTo", nullptr)}}};
  auto parsed = payment_required_from_json(required);
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.error().reason == "invalid_payment_required");
  CHECK(parsed.error().message == "accepts[1].payTo is missing; expected a non-empty string");

  required["accepts"] = json::array{};
  CHECK(payment_required_from_json(required).error().message ==
        "accepts must be a non-empty array of payment requirements, got an array");
  required.erase("resource");
  required["accepts"] = json::array{json::parse(kRequirements)};
  CHECK(payment_required_from_json(required).error().message.rfind("resource is missing", 0) == 0);
  required["resource"] = {{"url", ""}};
  CHECK(payment_required_from_json(required).error().message ==
        "resource.url must be a non-empty string, got string \"\"");
  CHECK(payment_required_from_json(json::parse("[]")).error().message ==
        "the payment-required message must be a JSON object, got an array");
}

TEST_CASE("PaymentPayload errors are invalid_payload and name the field", "[codec]") {
  json::object payment = {{"x402Version", 2},
                          {"accepted", requirements_with("amount", "ten")},
                          {"payload", json::object{}}};
  auto bad_amount = payment_payload_from_json(payment);
  REQUIRE_FALSE(bad_amount.ok());
  CHECK(bad_amount.error().reason == "invalid_payload");
  CHECK(bad_amount.error().message.rfind("accepted.amount must be a decimal string", 0) == 0);

  payment["accepted"] = json::parse(kRequirements);
  payment["payload"] = "0xsignature";
  CHECK(payment_payload_from_json(payment).error().message ==
        "payload must be a JSON object, got string \"0xsignature\"");
  payment.erase("payload");
  CHECK(payment_payload_from_json(payment).error().message ==
        "payload is missing; expected the scheme's payload object");
  payment["payload"] = json::object{};
  payment.erase("accepted");
  CHECK(payment_payload_from_json(payment).error().message.rfind("accepted is missing", 0) == 0);

  auto v1 =
      payment_payload_from_json(json::parse(R"({"x402Version":1,"scheme":"exact","payload":{}})"));
  CHECK(v1.error().message == "network is missing; expected a non-empty string");
}

TEST_CASE("null optional strings in facilitator answers count as absent", "[codec]") {
  auto verify = verify_response_from_json(
      json::parse(R"({"isValid":true,"invalidReason":null,"invalidMessage":null,"payer":null})"));
  REQUIRE(verify.ok());
  CHECK_FALSE(verify->invalid_reason.has_value());
  CHECK_FALSE(verify->payer.has_value());

  auto settle = settle_response_from_json(json::parse(
      R"({"success":false,"errorReason":"unexpected_settle_error","errorMessage":null,)"
      R"("transaction":null,"network":null,"payer":null,"amount":null,"extensions":null})"));
  REQUIRE(settle.ok());
  CHECK(settle->transaction.empty());
  CHECK_FALSE(settle->amount.has_value());
}

TEST_CASE("facilitator answers with wrong types are refused", "[codec]") {
  CHECK(verify_response_from_json(json::parse(R"({"isValid":"true"})")).error().message ==
        "isValid must be true or false, got string \"true\"");
  CHECK(verify_response_from_json(json::parse(R"({"payer":"0x1"})")).error().reason ==
        "invalid_verify_response");
  CHECK(verify_response_from_json(json::parse(R"({"isValid":false,"invalidReason":42})"))
            .error()
            .message == "invalidReason must be a string when present, got number 42");

  CHECK(settle_response_from_json(json::parse(R"({"success":1})")).error().message ==
        "success must be true or false, got number 1");
  CHECK(settle_response_from_json(json::parse(R"({"success":true,"network":"eip155:8453"})"))
            .error()
            .message == "transaction is missing; expected a string");
  CHECK(settle_response_from_json(
            json::parse(R"({"success":true,"transaction":"","network":"eip155:8453"})"))
            .error()
            .message.rfind("transaction is empty", 0) == 0);
  CHECK(
      settle_response_from_json(json::parse(R"({"success":true,"transaction":"0x1","network":"x",)"
                                            R"("amount":"1.5"})"))
          .error()
          .reason == "invalid_settle_response");

  CHECK(supported_response_from_json(json::parse(R"({"kinds":{}})")).error().message ==
        "kinds must be an array, got an object");
  CHECK(
      supported_response_from_json(json::parse(R"({"kinds":[{"x402Version":2,"scheme":"exact"}]})"))
          .error()
          .message == "kinds[0].network is missing; expected a non-empty string");
  CHECK(supported_response_from_json(json::parse(R"({"kinds":[],"signers":{"eip155:*":"0x1"}})"))
            .error()
            .message == "signers.eip155:* must be an array of address strings, got string \"0x1\"");
  CHECK(supported_response_from_json(json::parse(R"({"kinds":[],"extensions":[1]})"))
            .error()
            .reason == "invalid_supported_response");
}

TEST_CASE("long bad values are cut in error messages", "[codec]") {
  auto parsed = requirements_from_json(requirements_with("amount", json::string(5000, 'x')), 2);
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.error().message.size() < 250);
}

TEST_CASE("an unchanged accepted copy matches its offer", "[codec][match]") {
  CHECK(requirements_match(offer(), offer()));
}

TEST_CASE("any change to a core field breaks the match", "[codec][match]") {
  const std::pair<const char*, json::value> changes[] = {
      {"scheme", "upto"},
      {"network", "eip155:8453"},
      {"amount", "1"},
      {"asset", "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913"},
      {"payTo", "0x857b06519E91e3A54538791bDbb0E22373e36b66"},
      {"maxTimeoutSeconds", 3600},
  };
  for (const auto& [key, value] : changes) {
    INFO(key);
    auto accepted = requirements_from_json(requirements_with(key, value), 2);
    REQUIRE(accepted.ok());
    CHECK_FALSE(requirements_match(offer(), *accepted));
  }
}

TEST_CASE("the client's extra must contain the server's extra", "[codec][match]") {
  auto more = requirements_from_json(
      requirements_with("extra", {{"name", "USDC"}, {"version", "2"}, {"paymentFlow", "upfront"}}),
      2);
  CHECK(requirements_match(offer(), *more));  // additions are allowed

  auto changed = requirements_from_json(
      requirements_with("extra", {{"name", "USD Coin"}, {"version", "2"}}), 2);
  CHECK_FALSE(requirements_match(offer(), *changed));
  auto dropped = requirements_from_json(requirements_with("extra", {{"name", "USDC"}}), 2);
  CHECK_FALSE(requirements_match(offer(), *dropped));
  auto absent = requirements_from_json(requirements_without("extra"), 2);
  CHECK_FALSE(requirements_match(offer(), *absent));
  // A server without extra accepts any client extra.
  CHECK(requirements_match(*absent, offer()));
  // Nested objects are compared as subsets too.
  auto nested_offer = requirements_from_json(requirements_with("extra", {{"a", {{"b", 1}}}}), 2);
  auto nested_more =
      requirements_from_json(requirements_with("extra", {{"a", {{"b", 1}, {"c", 2}}}}), 2);
  CHECK(requirements_match(*nested_offer, *nested_more));
  CHECK_FALSE(requirements_match(*nested_more, *nested_offer));
  // Arrays must be equal.
  auto list = requirements_from_json(requirements_with("extra", {{"a", json::array{1, 2}}}), 2);
  auto longer =
      requirements_from_json(requirements_with("extra", {{"a", json::array{1, 2, 3}}}), 2);
  CHECK_FALSE(requirements_match(*list, *longer));
}

TEST_CASE("Solana per-payment extra fields are ignored when matching", "[codec][match]") {
  json::object solana = {{"scheme", "exact"},
                         {"network", "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1"},
                         {"amount", "1000"},
                         {"asset", "4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU"},
                         {"payTo", "2wKupLR9q6wXYppw8Gr2NvWxKBUqm4PPJKkQfoxHDBg4"},
                         {"maxTimeoutSeconds", 60},
                         {"extra",
                          {{"feePayer", "EwWqGE4ZFKLofuestmU4LDdK7XM1N4ALgdZccwYugwGd"},
                           {"recentBlockhash", "server-hash"},
                           {"lastValidBlockHeight", 100}}}};
  auto offered = requirements_from_json(solana, 2);
  REQUIRE(offered.ok());
  solana["extra"].as_object()["recentBlockhash"] = "client-hash";
  solana["extra"].as_object().erase("lastValidBlockHeight");
  auto accepted = requirements_from_json(solana, 2);
  CHECK(requirements_match(*offered, *accepted));

  solana["extra"].as_object()["feePayer"] = "SomeoneElse1111111111111111111111111111111";
  CHECK_FALSE(requirements_match(*offered, *requirements_from_json(solana, 2)));

  // On EVM the same field names are ordinary and must match.
  auto evm_offer = requirements_from_json(
      requirements_with("extra", {{"name", "USDC"}, {"recentBlockhash", "a"}}), 2);
  auto evm_accepted = requirements_from_json(
      requirements_with("extra", {{"name", "USDC"}, {"recentBlockhash", "b"}}), 2);
  CHECK_FALSE(requirements_match(*evm_offer, *evm_accepted));
}

TEST_CASE("a message holding a number out of double range is refused as it cannot be written again",
          "[codec]") {
  // Boost.JSON reads 1e400 as infinity and 0e400 as NaN, and would write `Infinity` and `NaN`
  // into the facilitator request and the payment journal (found by the tests/fuzz targets).
  for (const char* number : {"1e400", "-1e400", "0e400"}) {
    INFO(number);
    json::object payment = json::parse(R"({"x402Version":2,"accepted":)" +
                                       std::string(kRequirements) + R"(,"payload":{}})")
                               .as_object();
    payment["payload"] = json::parse(std::string(R"({"signature":"0x1","note":[)") + number + "]}");
    auto refused = payment_payload_from_json(payment);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().reason == "invalid_payload");
    CHECK(refused.error().message.find("out of double range") != std::string::npos);

    auto requirements = requirements_from_json(
        requirements_with("extra", json::parse(std::string(R"({"x":)") + number + "}")), 2);
    REQUIRE_FALSE(requirements.ok());
    CHECK(requirements.error().reason == "invalid_payment_requirements");

    auto settle = settle_response_from_json(json::parse(
        std::string(R"({"success":false,"transaction":"","network":"","extensions":{"x":)") +
        number + "}}"));
    REQUIRE_FALSE(settle.ok());
    CHECK(settle.error().reason == "invalid_settle_response");
  }
  // A large number that fits a double, and one beyond uint64, still pass.
  json::object payment =
      json::parse(R"({"x402Version":2,"accepted":)" + std::string(kRequirements) +
                  R"(,"payload":{"a":1e300,"b":18446744073709551616}})")
          .as_object();
  CHECK(payment_payload_from_json(payment).ok());
}
