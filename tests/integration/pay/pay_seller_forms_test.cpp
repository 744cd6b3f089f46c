// `pay` against sellers that ask for payment in the other forms deployed peers use (research §5;
// about 410 lines, one fake seller per form):
// the JSON-RPC error 402 of mcp-go-x402 / x402-go (x402 v1), an HTTP-level 402 with the
// PAYMENT-REQUIRED header, the extension binding of MCP 2026-07-28 — and a seller whose payment
// request is malformed. The fake sellers check the payment they get with the same verification
// rules the embedded facilitator uses.
#include <cctype>
#include <mutex>

#include "facilitator/rules/evm_exact_rules.h"
#include "tests/integration/pay/pay_fixture.h"
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

// --- After a payment was sent: only a refusal at verification lets another one be signed ------

namespace {

std::string two_signers(const std::string& dir) {
  return evm_signers(dir) +
         "  - { type: evm, key_file: " + write_key(dir, "second.key", kSecondPayerKey) + " }\n";
}

bool is_first_payer(const std::string& payer) {
  auto lower = [](std::string text) {
    for (char& c : text)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
  };
  return lower(payer) == lower(kPayer);
}

// The tool-result binding's payment request, with `error` saying why.
TestResponse offer_answer(const json::value& id, const std::string& error) {
  json::object required{{"x402Version", 2},
                        {"error", error},
                        {"resource", {{"url", "mcp://tool/add"}}},
                        {"accepts", json::array{v2_offer()}}};
  return json_answer(
      id, {{"result",
            {{"isError", true},
             {"structuredContent", required},
             {"content", json::array{{{"type", "text"}, {"text", json::serialize(required)}}}}}}});
}

TestResponse paid_result(const json::value& id, const std::string& payer) {
  return json_answer(id,
                     {{"result",
                       {{"content", json::array{{{"type", "text"}, {"text", "3"}}}},
                        {"_meta", {{"x402/payment-response", receipt(payer, "eip155:84532")}}}}}});
}

const json::value* payment_in(const json::object& message) {
  const json::value* meta = message.at("params").as_object().if_contains("_meta");
  return meta != nullptr ? meta->as_object().if_contains("x402/payment") : nullptr;
}

TestResponse http_402(const std::string& error, const std::string& payment_response = "") {
  json::object required{{"x402Version", 2},
                        {"error", error},
                        {"resource", {{"url", "mcp://tool/add"}}},
                        {"accepts", json::array{v2_offer()}}};
  TestResponse r{402, {{"Content-Type", "application/json"}}, "{}"};
  r.headers.emplace_back("PAYMENT-REQUIRED",
                         x402proxy::x402::base64_encode(json::serialize(required)));
  if (!payment_response.empty())
    r.headers.emplace_back("PAYMENT-RESPONSE", payment_response);
  return r;
}

std::vector<std::string> ledger_states(const PayBridge& pay) {
  std::vector<std::string> states;
  for (const auto& row : spending_rows(pay.ledger))
    states.push_back(row.state);
  return states;
}

}  // namespace

TEST_CASE("a payment refused at verification falls back to the next signer",
          "[pay][forms][fallback]") {
  std::string dir = make_temp_dir("pay-refused-fallback");
  TestHttpServer seller([](const RecordedRequest& request) {
    auto message = json::parse(request.body).as_object();
    const json::value* payment = payment_in(message);
    if (payment == nullptr)
      return offer_answer(message.at("id"), "Payment required to access this tool");
    const std::string payer = verified_payer(*payment, v2_offer(), 2);
    if (payer.empty() || is_first_payer(payer))
      return offer_answer(message.at("id"), "insufficient_funds: the payer holds nothing");
    return paid_result(message.at("id"), payer);
  });
  PayBridge pay(dir, seller.url("/mcp"), two_signers(dir));
  auto paid = pay.client->call_tool(1, "add", {{"a", 1}, {"b", 2}});
  REQUIRE(paid);
  INFO(json::serialize(*paid) << "\n" << pay.log());
  REQUIRE(paid->contains("result"));
  CHECK(paid->at("result").at("content").at(0).at("text").as_string() == "3");
  CHECK(seller.requests().size() == 3);
  CHECK(ledger_states(pay) == std::vector<std::string>{"released", "paid"});
}

TEST_CASE("a plain HTTP 402 to a payment falls back, one with PAYMENT-RESPONSE is final",
          "[pay][forms][fallback]") {
  for (bool with_receipt : {false, true}) {
    DYNAMIC_SECTION("PAYMENT-RESPONSE on the refusal: " << with_receipt) {
      std::string dir = make_temp_dir("pay-402-after-payment");
      const std::string failed_receipt = x402proxy::x402::base64_encode(
          R"({"success":false,"errorReason":"transaction_failed","transaction":"",)"
          R"("network":"eip155:84532"})");
      TestHttpServer seller([&](const RecordedRequest& request) {
        auto message = json::parse(request.body).as_object();
        const std::string signature = request.header("payment-signature");
        if (signature.empty())
          return http_402("payment required");
        auto decoded = x402proxy::x402::base64_decode(signature);
        const std::string payer =
            decoded.ok() ? verified_payer(json::parse(*decoded), v2_offer(), 2) : "";
        if (payer.empty() || is_first_payer(payer))
          return http_402("settlement failed", with_receipt ? failed_receipt : "");
        return paid_result(message.at("id"), payer);
      });
      PayBridge pay(dir, seller.url("/mcp"), two_signers(dir));
      auto answer = pay.client->call_tool(1, "add", {{"a", 1}, {"b", 2}});
      REQUIRE(answer);
      INFO(json::serialize(*answer) << "\n" << pay.log());
      if (with_receipt) {
        CHECK(error_code(*answer) == -32055);
        CHECK_THAT(error_message(*answer), Catch::Contains("transaction_failed") &&
                                               Catch::Contains("nothing more was paid"));
        CHECK(seller.requests().size() == 2);  // the second signer was never used
        CHECK(ledger_states(pay) == std::vector<std::string>{"unconfirmed"});
      } else {
        REQUIRE(answer->contains("result"));
        CHECK(seller.requests().size() == 3);
        CHECK(ledger_states(pay) == std::vector<std::string>{"released", "paid"});
      }
    }
  }
}

TEST_CASE("the @x402/mcp settlement failure text ends the call without a second payment",
          "[pay][forms][settlement]") {
  std::string dir = make_temp_dir("pay-mcp-settle-failed");
  TestHttpServer seller([](const RecordedRequest& request) {
    auto message = json::parse(request.body).as_object();
    if (payment_in(message) == nullptr)
      return offer_answer(message.at("id"), "Payment required");
    return offer_answer(message.at("id"), "Payment settlement failed: transaction reverted");
  });
  PayBridge pay(dir, seller.url("/mcp"), two_signers(dir));
  auto answer = pay.client->call_tool(1, "add", {{"a", 1}, {"b", 2}});
  REQUIRE(answer);
  INFO(json::serialize(*answer) << "\n" << pay.log());
  CHECK(error_code(*answer) == -32055);
  CHECK_THAT(error_message(*answer), Catch::Contains("transaction reverted"));
  CHECK(seller.requests().size() == 2);
  CHECK(ledger_states(pay) == std::vector<std::string>{"unconfirmed"});
}

TEST_CASE("a payment whose answer was lost is sent again, unchanged, by the next identical call",
          "[pay][forms][redeem]") {
  std::string dir = make_temp_dir("pay-lost-answer");
  std::mutex mutex;
  std::vector<std::string> payments_seen;  // as serialized by the seller, one per paid request
  TestHttpServer seller([&](const RecordedRequest& request) {
    auto message = json::parse(request.body).as_object();
    const json::value* payment = payment_in(message);
    if (payment == nullptr)
      return offer_answer(message.at("id"), "Payment required");
    std::lock_guard lock(mutex);
    payments_seen.push_back(json::serialize(*payment));
    if (payments_seen.size() == 1) {
      TestResponse lost;
      lost.hang_up = true;  // it arrived; its answer never leaves
      return lost;
    }
    return paid_result(message.at("id"), verified_payer(*payment, v2_offer(), 2));
  });
  PayBridge pay(dir, seller.url("/mcp"), two_signers(dir));
  auto lost = pay.client->call_tool(1, "add", {{"a", 1}, {"b", 2}});
  REQUIRE(lost);
  INFO(json::serialize(*lost) << "\n" << pay.log());
  CHECK(error_code(*lost) == -32054);
  CHECK_THAT(error_message(*lost), Catch::Contains("next identical call"));
  CHECK(ledger_states(pay) == std::vector<std::string>{"unconfirmed"});

  // The same arguments, spelled in another key order: the same call.
  pay.client->send(json::parse(R"({"jsonrpc":"2.0","id":2,"method":"tools/call",)"
                               R"("params":{"name":"add","arguments":{"b":2,"a":1}}})"));
  auto redeemed = pay.client->response(2);
  REQUIRE(redeemed);
  INFO(json::serialize(*redeemed) << "\n" << pay.log());
  REQUIRE(redeemed->contains("result"));
  CHECK(redeemed->at("result").at("content").at(0).at("text").as_string() == "3");
  {
    std::lock_guard lock(mutex);
    REQUIRE(payments_seen.size() == 2);
    CHECK(payments_seen[0] == payments_seen[1]);
  }
  CHECK(seller.requests().size() == 3);  // unpaid, paid (lost), the same payment again
  CHECK(ledger_states(pay) == std::vector<std::string>{"paid"});
}

TEST_CASE("a pending payment the seller refuses at verification is replaced by a new one",
          "[pay][forms][redeem]") {
  std::string dir = make_temp_dir("pay-lost-then-refused");
  std::mutex mutex;
  std::vector<std::string> payments_seen;
  TestHttpServer seller([&](const RecordedRequest& request) {
    auto message = json::parse(request.body).as_object();
    const json::value* payment = payment_in(message);
    if (payment == nullptr)
      return offer_answer(message.at("id"), "Payment required");
    std::lock_guard lock(mutex);
    payments_seen.push_back(json::serialize(*payment));
    if (payments_seen.size() == 1) {
      TestResponse lost;
      lost.hang_up = true;
      return lost;
    }
    if (payments_seen.size() == 2)  // the same payment again: this seller no longer takes it
      return offer_answer(message.at("id"), "invalid_exact_evm_payload_authorization_valid_before");
    return paid_result(message.at("id"), verified_payer(*payment, v2_offer(), 2));
  });
  PayBridge pay(dir, seller.url("/mcp"), evm_signers(dir));
  auto lost = pay.client->call_tool(1, "add", {{"a", 1}, {"b", 2}});
  REQUIRE(lost);
  CHECK(error_code(*lost) == -32054);
  auto paid = pay.client->call_tool(2, "add", {{"a", 1}, {"b", 2}});
  REQUIRE(paid);
  INFO(json::serialize(*paid) << "\n" << pay.log());
  REQUIRE(paid->contains("result"));
  {
    std::lock_guard lock(mutex);
    REQUIRE(payments_seen.size() == 3);
    CHECK(payments_seen[0] == payments_seen[1]);
    CHECK(payments_seen[2] != payments_seen[1]);
  }
  CHECK(seller.requests().size() == 4);  // no unpaid call first: the refusal carried the offer
  CHECK(ledger_states(pay) == std::vector<std::string>{"released", "paid"});
}
