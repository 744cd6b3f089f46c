#include "proxy/paywall/payment_extraction.h"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "x402/base64.h"
#include "x402/codec.h"

using namespace x402proxy;
using namespace x402proxy::proxy;
namespace json = boost::json;
namespace http = boost::beast::http;

namespace {

x402::PaymentRequirements usdc(const std::string& amount) {
  x402::PaymentRequirements r;
  r.scheme = "exact";
  r.network = "eip155:84532";
  r.amount = amount;
  r.asset = "0x036CbD53842c5426634e7929541eC2318f3dCF7e";
  r.pay_to = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C";
  r.max_timeout_seconds = 60;
  r.extra = json::object{{"name", "USDC"}, {"version", "2"}};
  r.has_extra = true;
  return r;
}

json::object payment_for(const x402::PaymentRequirements& accepted) {
  return json::object{{"x402Version", 2},
                      {"accepted", x402::to_json(accepted, 2)},
                      {"payload", json::object{{"signature", "0x00"}}}};
}

std::string call_with_meta(const json::value& payment, bool with_other_meta = false) {
  json::object meta{{"x402/payment", payment}};
  if (with_other_meta)
    meta["progressToken"] = 4;
  return json::serialize(json::object{{"jsonrpc", "2.0"},
                                      {"id", 1},
                                      {"method", "tools/call"},
                                      {"params", json::object{{"name", "add"},
                                                              {"arguments", json::object{{"a", 1}}},
                                                              {"_meta", std::move(meta)}}}});
}

Result<std::optional<x402::PaymentPayload>> extract(const std::string& body,
                                                    http::request<http::string_body> request = {}) {
  auto post = mcp::inspect_mcp_post(body);
  REQUIRE(post.ok());
  return extract_payment(post->messages.front(), request);
}

}  // namespace

TEST_CASE("a payment is found as an object, a JSON string or base64 in _meta, or in a header",
          "[payment_extraction]") {
  const auto payment = payment_for(usdc("1000"));
  auto object = extract(call_with_meta(payment));
  REQUIRE(object.ok());
  REQUIRE(object->has_value());
  CHECK((*object)->accepted.amount == "1000");

  auto as_json_text = extract(call_with_meta(json::string(json::serialize(payment))));
  REQUIRE(as_json_text.ok());
  CHECK(as_json_text->has_value());

  auto as_base64 =
      extract(call_with_meta(json::string(x402::base64_encode(json::serialize(payment)))));
  REQUIRE(as_base64.ok());
  CHECK(as_base64->has_value());

  const std::string no_meta =
      R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add"}})";
  http::request<http::string_body> with_header;
  with_header.set("PAYMENT-SIGNATURE", x402::base64_encode(json::serialize(payment)));
  auto from_header = extract(no_meta, with_header);
  REQUIRE(from_header.ok());
  CHECK(from_header->has_value());

  auto none = extract(no_meta);
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());
  auto null_payment = extract(call_with_meta(nullptr));
  REQUIRE(null_payment.ok());
  CHECK_FALSE(null_payment->has_value());  // "x402/payment": null is no payment
}

TEST_CASE("a payment that cannot be decoded is refused as invalid_payload",
          "[payment_extraction]") {
  for (const json::value& bad : {json::value(42), json::value("not base64 !"),
                                 json::value(json::object{{"x402Version", 2}})}) {
    INFO(json::serialize(bad));
    auto refused = extract(call_with_meta(bad));
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().reason == "invalid_payload");
  }
}

TEST_CASE("a payment matches the offer it accepted exactly, changed terms match none",
          "[payment_extraction]") {
  ToolOffer offer;
  offer.accepts = {usdc("1000"), usdc("5000")};
  auto second = x402::payment_payload_from_json(payment_for(usdc("5000")));
  REQUIRE(second.ok());
  auto matched = match_offer(offer, *second, "add");
  REQUIRE(matched.ok());
  CHECK(*matched == &offer.accepts[1]);  // the server's own object, not the client's copy

  auto cheaper = x402::payment_payload_from_json(payment_for(usdc("999")));
  REQUIRE(cheaper.ok());
  auto refused = match_offer(offer, *cheaper, "add");
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().reason == "invalid_payment_requirements");
  CHECK_THAT(refused.error().message, Catch::Contains("999") && Catch::Contains("\"add\""));
}

TEST_CASE("the upstream's body loses the payment and keeps everything else",
          "[payment_extraction]") {
  const std::string body = call_with_meta(payment_for(usdc("1000")), true);
  auto cut = body_without_payment(body);
  REQUIRE(cut);
  auto kept = json::parse(*cut).as_object();
  const auto& params = kept.at("params").as_object();
  CHECK(params.at("_meta").as_object().size() == 1);
  CHECK(params.at("_meta").at("progressToken") == 4);
  CHECK(params.at("arguments").at("a") == 1);
  // Byte for byte: the text before the payment is the client's.
  CHECK(body.substr(0, body.find("\"_meta\"")) == cut->substr(0, cut->find("\"_meta\"")));

  auto bare = body_without_payment(call_with_meta(payment_for(usdc("1000"))));
  REQUIRE(bare);
  CHECK_FALSE(json::parse(*bare).at("params").as_object().contains("_meta"));
}
