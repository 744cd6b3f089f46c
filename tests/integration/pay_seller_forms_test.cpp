// `pay` against sellers that ask for payment in the other forms deployed peers use (research §5):
// the JSON-RPC error 402 of mcp-go-x402 / x402-go (x402 v1), an HTTP-level 402 with the
// PAYMENT-REQUIRED header, the extension binding of MCP 2026-07-28 — and a seller whose payment
// request is malformed. The fake sellers check the payment they get with the same verification
// rules the embedded facilitator uses.
#include "facilitator/rules/evm_exact_rules.h"
#include "tests/integration/pay_fixture.h"
#include "x402/base64.h"

using namespace x402proxy::testing;
namespace json = boost::json;

namespace {

constexpr const char* kBaseSepoliaUsdc = "0x036CbD53842c5426634e7929541eC2318f3dCF7e";

json::object v1_offer() {
  return {{"scheme", "exact"},
          {"network", "base-sepolia"},
          {"maxAmountRequired", "1000"},
          {"resource", "mcp://tools/add"},
          {"description", "add"},
          {"mimeType", "application/json"},
          {"payTo", kPayTo},
          {"maxTimeoutSeconds", 60},
          {"asset", kBaseSepoliaUsdc},
          {"extra", {{"name", "USDC"}, {"version", "2"}}}};
}

json::object v2_offer() {
  return {{"scheme", "exact"},
          {"network", "eip155:84532"},
          {"amount", "1000"},
          {"asset", kBaseSepoliaUsdc},
          {"payTo", kPayTo},
          {"maxTimeoutSeconds", 60},
          {"extra", {{"name", "USDC"}, {"version", "2"}}}};
}

TestResponse json_answer(const json::value& id, json::object body_fields) {
  json::object message{{"jsonrpc", "2.0"}, {"id", id}};
  for (auto& [k, v] : body_fields)
    message[k] = v;
  return TestResponse{200, {{"Content-Type", "application/json"}}, json::serialize(message)};
}

// Verifies a payment as the embedded facilitator would; returns the payer, or "" when invalid.
std::string verified_payer(const json::value& payment_json, const json::object& offer,
                           int version) {
  auto payment = x402proxy::x402::payment_payload_from_json(payment_json);
  auto requirement = x402proxy::x402::requirements_from_json(offer, version);
  if (!payment.ok() || !requirement.ok() || payment->x402_version != version)
    return "";
  auto verified = x402proxy::facilitator::verify_exact_evm(*payment, *requirement, unix_now(), 5);
  return verified.ok() ? verified->payer : "";
}

json::object receipt(const std::string& payer, const std::string& network) {
  return {{"success", true},
          {"transaction", "0xabc0000000000000000000000000000000000000000000000000000000000001"},
          {"network", network},
          {"payer", payer}};
}

std::string evm_signers(const std::string& dir) {
  return "  - { type: evm, key_file: " + write_key(dir, "evm.key", kPayerKey) + " }\n";
}

}  // namespace

TEST_CASE("pay answers the legacy JSON-RPC error 402 with a v1 payment in _meta", "[pay][forms]") {
  std::string dir = make_temp_dir("pay-legacy");
  TestHttpServer seller([](const RecordedRequest& request) {
    auto message = json::parse(request.body).as_object();
    const auto& params = message.at("params").as_object();
    const json::value* meta = params.if_contains("_meta");
    if (meta == nullptr || !meta->as_object().contains("x402/payment")) {
      return json_answer(message.at("id"), {{"error",
                                             {{"code", 402},
                                              {"message", "Payment required"},
                                              {"data",
                                               {{"x402Version", 1},
                                                {"error", "payment required"},
                                                {"accepts", json::array{v1_offer()}}}}}}});
    }
    const std::string payer = verified_payer(meta->as_object().at("x402/payment"), v1_offer(), 1);
    if (payer.empty())
      return json_answer(message.at("id"), {{"error", {{"code", -32602}, {"message", "bad"}}}});
    return json_answer(
        message.at("id"),
        {{"result",
          {{"content", json::array{{{"type", "text"}, {"text", "3"}}}},
           {"_meta", {{"x402/payment-response", receipt(payer, "base-sepolia")}}}}}});
  });
  PayBridge pay(dir, seller.url("/mcp"), evm_signers(dir));
  auto paid = pay.client->call_tool(7, "add", {{"a", 1}, {"b", 2}});
  REQUIRE(paid);
  INFO(json::serialize(*paid) << "\n" << pay.log());
  REQUIRE(paid->contains("result"));
  CHECK(paid->at("result").at("content").at(0).at("text").as_string() == "3");
  CHECK_THAT(pay.log(), Catch::Contains("JSON-RPC error 402, x402 v1"));
  CHECK(seller.requests().size() == 2);
}

TEST_CASE("pay answers an HTTP 402 with the payment in the PAYMENT-SIGNATURE header",
          "[pay][forms]") {
  std::string dir = make_temp_dir("pay-http402");
  TestHttpServer seller([](const RecordedRequest& request) {
    auto message = json::parse(request.body).as_object();
    const std::string signature = request.header("payment-signature");
    if (signature.empty()) {
      json::object required{{"x402Version", 2},
                            {"error", "payment required"},
                            {"resource", {{"url", "mcp://tool/add"}}},
                            {"accepts", json::array{v2_offer()}}};
      TestResponse r{402, {{"Content-Type", "application/json"}}, "{}"};
      r.headers.emplace_back("PAYMENT-REQUIRED",
                             x402proxy::x402::base64_encode(json::serialize(required)));
      return r;
    }
    auto decoded = x402proxy::x402::base64_decode(signature);
    const std::string payer =
        decoded.ok() ? verified_payer(json::parse(*decoded), v2_offer(), 2) : "";
    if (payer.empty())
      return TestResponse{400, {}, "bad payment"};
    return json_answer(
        message.at("id"),
        {{"result",
          {{"content", json::array{{{"type", "text"}, {"text", "3"}}}},
           {"_meta", {{"x402/payment-response", receipt(payer, "eip155:84532")}}}}}});
  });
  PayBridge pay(dir, seller.url("/mcp"), evm_signers(dir));
  auto paid = pay.client->call_tool(8, "add", {{"a", 1}, {"b", 2}});
  REQUIRE(paid);
  INFO(json::serialize(*paid) << "\n" << pay.log());
  REQUIRE(paid->contains("result"));
  CHECK_THAT(pay.log(), Catch::Contains("HTTP 402"));
  auto requests = seller.requests();
  REQUIRE(requests.size() == 2);
  CHECK(requests[1].body.find("x402/payment") == std::string::npos);  // header form only
}

TEST_CASE("a malformed payment request from the seller is an error and nothing is signed",
          "[pay][forms]") {
  std::string dir = make_temp_dir("pay-malformed");
  TestHttpServer seller([](const RecordedRequest& request) {
    auto message = json::parse(request.body).as_object();
    json::object broken{{"x402Version", 2}, {"accepts", json::array{{{"scheme", "exact"}}}}};
    return json_answer(
        message.at("id"),
        {{"result",
          {{"isError", true},
           {"structuredContent", broken},
           {"content", json::array{{{"type", "text"}, {"text", json::serialize(broken)}}}}}}});
  });
  PayBridge pay(dir, seller.url("/mcp"), evm_signers(dir));
  auto answer = pay.client->call_tool(9, "add", {{"a", 1}, {"b", 2}});
  REQUIRE(answer);
  INFO(json::serialize(*answer));
  CHECK(error_code(*answer) == -32053);
  CHECK_THAT(error_message(*answer),
             Catch::Contains("malformed") && Catch::Contains("nothing was paid"));
  CHECK(seller.requests().size() == 1);  // no retry: nothing was signed
}

TEST_CASE("on MCP 2026-07-28 pay asks for and understands the extension binding", "[pay][forms]") {
  std::string dir = make_temp_dir("pay-extension");
  ServeFixture serve(embedded_serve_options(dir));
  PayBridge pay(dir, "http://127.0.0.1:" + std::to_string(serve.port) + "/mcp", evm_signers(dir));
  REQUIRE(pay.client->initialize("2026-07-28"));
  auto paid = pay.client->call_tool(3, "add", {{"a", 20}, {"b", 22}});
  REQUIRE(paid);
  INFO(json::serialize(*paid) << "\n" << pay.log());
  REQUIRE(paid->contains("result"));
  CHECK(paid->at("result").at("content").at(0).at("text").as_string() == "42");
  CHECK_THAT(pay.log(), Catch::Contains("extension binding"));
  CHECK(settled_transfers(dir + "/ledger.sqlite").size() == 1);
}
