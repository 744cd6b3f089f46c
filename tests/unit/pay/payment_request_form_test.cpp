// How the bridge reads every form a seller asks for payment in (tool result, extension binding,
// JSON-RPC 402, HTTP 402) and every answer serve writes (mcp/paid_answers.h) — about 470 lines of
// quoted messages, one case per form and outcome.
#include "pay/payment_request_form.h"

#include <string>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

#include "mcp/paid_answers.h"
#include "x402/base64.h"
#include "x402/codec.h"

using namespace x402proxy;
using pay::PaymentRequestForm;
using pay::recognize_http_402;
using pay::recognize_payment_request;
namespace json = boost::json;

namespace {

// A v2 PaymentRequired as @x402/mcp sends it: 0.001 USDC on Base Sepolia.
const char* kRequiredV2 =
    R"({"x402Version":2,"error":"payment required","resource":{"url":"mcp://tool/add"},)"
    R"("accepts":[{"scheme":"exact","network":"eip155:84532","amount":"1000",)"
    R"("asset":"0x036CbD53842c5426634e7929541eC2318f3dCF7e",)"
    R"("payTo":"0x209693Bc6afc0C5328bA36FaF03C514EF312287C","maxTimeoutSeconds":60,)"
    R"("extra":{"name":"USDC","version":"2"}}]})";

// The same offer in x402 v1 form, as mcp-go-x402 / x402-go send it.
const char* kRequiredV1 =
    R"({"x402Version":1,"error":"payment required",)"
    R"("accepts":[{"scheme":"exact","network":"base-sepolia","maxAmountRequired":"1000",)"
    R"("resource":"mcp://tool/add","description":"add two numbers","mimeType":"application/json",)"
    R"("asset":"0x036CbD53842c5426634e7929541eC2318f3dCF7e",)"
    R"("payTo":"0x209693Bc6afc0C5328bA36FaF03C514EF312287C","maxTimeoutSeconds":60,)"
    R"("extra":{"name":"USDC","version":"2"}}]})";

const char* kReceipt =
    R"({"success":true,"transaction":"0x7c1f3a9e5b2d4c6e8f0a1b3c5d7e9f1a3b5c7d9e1f3a5b7c9d1e3f5a7b9c1d3e",)"
    R"("network":"eip155:84532","payer":"0x857b06519E91e3A54538791bDbb0E22373e36b66"})";

json::object parse_object(const std::string& text) {
  return json::parse(text).as_object();
}

std::string escaped(const std::string& text) {
  return json::serialize(json::value(text));
}

// A JSON-RPC response whose result is the given object text.
json::object response_with_result(const std::string& result) {
  return parse_object(R"({"jsonrpc":"2.0","id":1,"result":)" + result + "}");
}

void check_is_the_v2_offer(const x402::PaymentRequired& required) {
  CHECK(required.x402_version == 2);
  CHECK(required.resource.url == "mcp://tool/add");
  REQUIRE(required.accepts.size() == 1);
  const x402::PaymentRequirements& offer = required.accepts[0];
  CHECK(offer.scheme == "exact");
  CHECK(offer.network == "eip155:84532");
  CHECK(offer.amount == "1000");
  CHECK(offer.asset == "0x036CbD53842c5426634e7929541eC2318f3dCF7e");
  CHECK(offer.pay_to == "0x209693Bc6afc0C5328bA36FaF03C514EF312287C");
  CHECK(offer.max_timeout_seconds == 60);
  CHECK(offer.extra.at("name").as_string() == "USDC");
}

std::string error_reason_of(const json::object& response) {
  auto recognized = recognize_payment_request(response);
  REQUIRE_FALSE(recognized.ok());
  return recognized.error().reason;
}

}  // namespace

TEST_CASE("a tool error with the PaymentRequired in structuredContent is the tool-result binding",
          "[payment_request_form]") {
  auto response =
      response_with_result(R"({"isError":true,"structuredContent":)" + std::string(kRequiredV2) +
                           R"(,"content":[{"type":"text","text":"payment required"}]})");
  auto recognized = recognize_payment_request(response);
  REQUIRE(recognized.ok());
  REQUIRE(recognized->has_value());
  CHECK((*recognized)->form == PaymentRequestForm::tool_result);
  check_is_the_v2_offer((*recognized)->required);
}

TEST_CASE("a tool error with the PaymentRequired only as content text is recognised (Apify style)",
          "[payment_request_form]") {
  auto response = response_with_result(R"({"isError":true,"content":[{"type":"text","text":)" +
                                       escaped(kRequiredV2) + "}]}");
  auto recognized = recognize_payment_request(response);
  REQUIRE(recognized.ok());
  REQUIRE(recognized->has_value());
  CHECK((*recognized)->form == PaymentRequestForm::tool_result);
  check_is_the_v2_offer((*recognized)->required);
}

TEST_CASE("a PaymentRequired inside the x402/error text wrapper is unwrapped",
          "[payment_request_form]") {
  const std::string wrapped =
      R"({"x402/error":{"code":402,"data":)" + std::string(kRequiredV2) + "}}";
  auto response = response_with_result(R"({"isError":true,"content":[{"type":"text","text":)" +
                                       escaped(wrapped) + "}]}");
  auto recognized = recognize_payment_request(response);
  REQUIRE(recognized.ok());
  REQUIRE(recognized->has_value());
  CHECK((*recognized)->form == PaymentRequestForm::tool_result);
  check_is_the_v2_offer((*recognized)->required);
}

TEST_CASE("a PaymentRequired in _meta x402/error of a tool error is recognised (Cloudflare style)",
          "[payment_request_form]") {
  auto response = response_with_result(
      R"({"isError":true,"content":[{"type":"text","text":"Payment required to call add"}],)"
      R"("_meta":{"x402/error":)" +
      std::string(kRequiredV2) + "}}");
  auto recognized = recognize_payment_request(response);
  REQUIRE(recognized.ok());
  REQUIRE(recognized->has_value());
  CHECK((*recognized)->form == PaymentRequestForm::tool_result);
  check_is_the_v2_offer((*recognized)->required);
}

TEST_CASE("an ordinary tool error with plain text is passed through as no payment request",
          "[payment_request_form]") {
  auto response = response_with_result(
      R"({"isError":true,"content":[{"type":"text","text":"division by zero"}]})");
  auto recognized = recognize_payment_request(response);
  REQUIRE(recognized.ok());
  CHECK_FALSE(recognized->has_value());
}

TEST_CASE("a tool error whose text is unrelated JSON is not a payment request",
          "[payment_request_form]") {
  auto response = response_with_result(
      R"({"isError":true,"content":[{"type":"text","text":)" +
      escaped(R"({"error":"rate limited","retryAfter":30,"x402Version":2})") + "}]}");
  auto recognized = recognize_payment_request(response);
  REQUIRE(recognized.ok());
  CHECK_FALSE(recognized->has_value());
}

TEST_CASE("a successful tool result is not a payment request even if it mentions a PaymentRequired",
          "[payment_request_form]") {
  // Without isError the content is the tool's answer, whatever it looks like.
  auto response =
      response_with_result(R"({"content":[{"type":"text","text":)" + escaped(kRequiredV2) +
                           R"(}],"structuredContent":)" + kRequiredV2 + "}");
  auto recognized = recognize_payment_request(response);
  REQUIRE(recognized.ok());
  CHECK_FALSE(recognized->has_value());

  auto plain = response_with_result(R"({"content":[{"type":"text","text":"3"}]})");
  auto plain_recognized = recognize_payment_request(plain);
  REQUIRE(plain_recognized.ok());
  CHECK_FALSE(plain_recognized->has_value());
}

TEST_CASE("a tool error whose PaymentRequired does not parse is malformed, not a tool error",
          "[payment_request_form]") {
  auto response = response_with_result(
      R"({"isError":true,"structuredContent":{"x402Version":2,"resource":{"url":"mcp://tool/add"},)"
      R"("accepts":[{"scheme":"exact","network":"eip155:84532"}]}})");
  CHECK(error_reason_of(response) == "seller.malformed_payment_required");
}

TEST_CASE("resultType payment_required with paymentRequired is the extension binding",
          "[payment_request_form]") {
  auto response = response_with_result(R"({"resultType":"payment_required","paymentRequired":)" +
                                       std::string(kRequiredV2) + "}");
  auto recognized = recognize_payment_request(response);
  REQUIRE(recognized.ok());
  REQUIRE(recognized->has_value());
  CHECK((*recognized)->form == PaymentRequestForm::extension);
  check_is_the_v2_offer((*recognized)->required);
}

TEST_CASE("resultType payment_required without paymentRequired is malformed",
          "[payment_request_form]") {
  auto response = response_with_result(R"({"resultType":"payment_required"})");
  auto recognized = recognize_payment_request(response);
  REQUIRE_FALSE(recognized.ok());
  CHECK(recognized.error().reason == "seller.malformed_payment_required");
  CHECK_THAT(recognized.error().message,
             Catch::Contains("extension binding") && Catch::Contains("paymentRequired"));
}

TEST_CASE("JSON-RPC error 402 with v1 data is the jsonrpc_error form in version 1",
          "[payment_request_form]") {
  auto response = parse_object(
      R"({"jsonrpc":"2.0","id":4,"error":{"code":402,"message":"Payment required","data":)" +
      std::string(kRequiredV1) + "}}");
  auto recognized = recognize_payment_request(response);
  REQUIRE(recognized.ok());
  REQUIRE(recognized->has_value());
  CHECK((*recognized)->form == PaymentRequestForm::jsonrpc_error);
  const x402::PaymentRequired& required = (*recognized)->required;
  CHECK(required.x402_version == 1);
  REQUIRE(required.accepts.size() == 1);
  CHECK(required.accepts[0].network == "base-sepolia");
  CHECK(required.accepts[0].amount == "1000");
  REQUIRE(required.accepts[0].v1_resource.has_value());
  CHECK(required.accepts[0].v1_resource->url == "mcp://tool/add");
}

TEST_CASE("a JSON-RPC error with another code is not a payment request", "[payment_request_form]") {
  auto response = parse_object(
      R"({"jsonrpc":"2.0","id":4,"error":{"code":-32602,"message":"Invalid params","data":)" +
      std::string(kRequiredV1) + "}}");
  auto recognized = recognize_payment_request(response);
  REQUIRE(recognized.ok());
  CHECK_FALSE(recognized->has_value());
}

TEST_CASE("JSON-RPC error 402 without data is a malformed payment request",
          "[payment_request_form]") {
  auto response =
      parse_object(R"({"jsonrpc":"2.0","id":4,"error":{"code":402,"message":"Payment required"}})");
  auto recognized = recognize_payment_request(response);
  REQUIRE_FALSE(recognized.ok());
  CHECK(recognized.error().reason == "seller.malformed_payment_required");
  CHECK_THAT(recognized.error().message, Catch::Contains("JSON-RPC error 402"));
}

TEST_CASE("a payment request with empty accepts is malformed since there is nothing to pay",
          "[payment_request_form]") {
  const std::string empty = R"({"x402Version":2,"resource":{"url":"mcp://tool/add"},"accepts":[]})";
  CHECK(error_reason_of(parse_object(R"({"jsonrpc":"2.0","id":4,"error":{"code":402,"data":)" +
                                     empty + "}}")) == "seller.malformed_payment_required");
  CHECK(error_reason_of(response_with_result(
            R"({"resultType":"payment_required","paymentRequired":)" + empty + "}")) ==
        "seller.malformed_payment_required");
  CHECK(error_reason_of(response_with_result(R"({"isError":true,"structuredContent":)" + empty +
                                             "}")) == "seller.malformed_payment_required");
}

TEST_CASE("an HTTP 402 with a base64 PAYMENT-REQUIRED header is read from the header",
          "[payment_request_form]") {
  // The body is ignored when the header is present.
  auto recognized = recognize_http_402(x402::base64_encode(kRequiredV2), "<html>402</html>");
  REQUIRE(recognized.ok());
  CHECK(recognized->form == PaymentRequestForm::http_402);
  check_is_the_v2_offer(recognized->required);
}

TEST_CASE("an HTTP 402 without the header is read from a v1 JSON body", "[payment_request_form]") {
  auto recognized = recognize_http_402("", kRequiredV1);
  REQUIRE(recognized.ok());
  CHECK(recognized->form == PaymentRequestForm::http_402);
  CHECK(recognized->required.x402_version == 1);
  REQUIRE(recognized->required.accepts.size() == 1);
  CHECK(recognized->required.accepts[0].network == "base-sepolia");
  CHECK(recognized->required.accepts[0].amount == "1000");
}

TEST_CASE("an HTTP 402 whose PAYMENT-REQUIRED header is not base64 is malformed",
          "[payment_request_form]") {
  auto recognized = recognize_http_402("not base64!{}", kRequiredV1);
  REQUIRE_FALSE(recognized.ok());
  CHECK(recognized.error().reason == "seller.malformed_payment_required");
  CHECK_THAT(recognized.error().message, Catch::Contains("not base64"));
}

TEST_CASE("an HTTP 402 with neither header nor JSON body is malformed", "[payment_request_form]") {
  auto recognized = recognize_http_402("", "Payment Required");
  REQUIRE_FALSE(recognized.ok());
  CHECK(recognized.error().reason == "seller.malformed_payment_required");
}

TEST_CASE("the settlement receipt is read from result _meta", "[payment_request_form]") {
  auto response = response_with_result(
      R"({"content":[{"type":"text","text":"3"}],"_meta":{"x402/payment-response":)" +
      std::string(kReceipt) + "}}");
  auto receipt = pay::payment_receipt(response);
  REQUIRE(receipt.has_value());
  CHECK(receipt->success);
  CHECK(receipt->network == "eip155:84532");
  CHECK(receipt->transaction ==
        "0x7c1f3a9e5b2d4c6e8f0a1b3c5d7e9f1a3b5c7d9e1f3a5b7c9d1e3f5a7b9c1d3e");
  CHECK(receipt->payer == std::optional<std::string>("0x857b06519E91e3A54538791bDbb0E22373e36b66"));
}

TEST_CASE("the settlement receipt of the JSON-RPC error form is read from error data",
          "[payment_request_form]") {
  auto response = parse_object(
      R"({"jsonrpc":"2.0","id":4,"error":{"code":-32000,"message":"tool failed after payment",)"
      R"("data":{"x402/payment-response":)" +
      std::string(kReceipt) + "}}}");
  auto receipt = pay::payment_receipt(response);
  REQUIRE(receipt.has_value());
  CHECK(receipt->success);
  CHECK(receipt->network == "eip155:84532");
}

TEST_CASE("no receipt is reported when it is absent or unreadable", "[payment_request_form]") {
  CHECK_FALSE(
      pay::payment_receipt(response_with_result(R"({"content":[{"type":"text","text":"3"}]})"))
          .has_value());
  CHECK_FALSE(pay::payment_receipt(response_with_result(R"({"_meta":{"other":1}})")).has_value());
  CHECK_FALSE(pay::payment_receipt(
                  parse_object(R"({"jsonrpc":"2.0","id":4,"error":{"code":-32000,"message":"x"}})"))
                  .has_value());
  // A successful receipt must carry the transaction; this one does not parse.
  CHECK_FALSE(pay::payment_receipt(
                  response_with_result(R"({"_meta":{"x402/payment-response":{"success":true}}})"))
                  .has_value());
}

// --- Answers to a call that carried a payment ----------------------------------------------
// serve's own answer builders (proxy/paid_answers.h) stand in for the seller, so that a change
// of shape on one side fails here rather than as a double payment.

namespace {

using pay::classify_paid_answer;
using pay::PaidOutcome;

mcp::ToolPrice add_offer() {
  auto required = x402::payment_required_from_json(json::parse(kRequiredV2));
  REQUIRE(required.ok());
  mcp::ToolPrice offer;
  offer.accepts = required->accepts;
  return offer;
}

mcp::PaymentFacts facts(const std::string& transaction = "") {
  return {"eip155:84532", "0x857b06519E91e3A54538791bDbb0E22373e36b66", "1000", transaction};
}

json::object answer_with(const json::object& result) {
  return json::object{{"jsonrpc", "2.0"}, {"id", 1}, {"result", result}};
}

pay::PaidAnswer classify(const json::object& response) {
  return classify_paid_answer(&response, 200, "", "", "");
}

}  // namespace

TEST_CASE("a fresh offer without a failed receipt is a refusal at verification",
          "[payment_request_form][paid]") {
  for (bool extension : {false, true}) {
    INFO("extension binding: " << extension);
    auto response = answer_with(mcp::payment_required_answer(
        add_offer(), "add", "invalid_exact_evm_signature: bad signature", {extension, extension}));
    auto paid = classify(response);
    CHECK(paid.outcome == PaidOutcome::refused);
    CHECK(paid.reason == "invalid_exact_evm_signature: bad signature");
    REQUIRE(paid.fresh_request.has_value());
    CHECK(paid.fresh_request->required.accepts.size() == 1);
  }
}

TEST_CASE("serve's settlement failure with its failed receipt is a settlement failure",
          "[payment_request_form][paid]") {
  auto response = answer_with(
      mcp::settlement_failed_answer(add_offer(), "add", "insufficient_funds", facts(), {}));
  auto paid = classify(response);
  CHECK(paid.outcome == PaidOutcome::settlement_failed);
  CHECK(paid.reason == "insufficient_funds");
  CHECK_FALSE(paid.fresh_request.has_value());  // its offer must not be paid
  REQUIRE(paid.receipt.has_value());
  CHECK_FALSE(paid.receipt->success);
}

TEST_CASE("the @x402/mcp settlement failure text without a receipt is a settlement failure",
          "[payment_request_form][paid]") {
  auto response = answer_with(mcp::payment_required_answer(
      add_offer(), "add", "Payment settlement failed: transaction reverted", {}));
  auto paid = classify(response);
  CHECK(paid.outcome == PaidOutcome::settlement_failed);
  CHECK(paid.reason == "transaction reverted");
  CHECK_FALSE(paid.fresh_request.has_value());
}

TEST_CASE("settlement pending and payment in use say to retry, with the seller's delay",
          "[payment_request_form][paid]") {
  auto pending =
      classify(answer_with(mcp::settlement_pending_answer("add", facts("0xfeed"), 5, {})));
  CHECK(pending.outcome == PaidOutcome::pending);
  CHECK(pending.retry_after_seconds == std::optional<int>(5));
  REQUIRE(pending.receipt.has_value());
  CHECK(pending.receipt->transaction == "0xfeed");

  auto in_use = classify(answer_with(mcp::payment_in_use_answer("add", facts(), {})));
  CHECK(in_use.outcome == PaidOutcome::in_use);
  CHECK(in_use.retry_after_seconds == std::optional<int>(2));
}

TEST_CASE("settlement unproven is final", "[payment_request_form][paid]") {
  auto paid = classify(answer_with(mcp::settlement_unproven_answer("add", facts("0xfeed"), {})));
  CHECK(paid.outcome == PaidOutcome::unproven);
  CHECK(paid.reason == "settlement_unproven");
}

TEST_CASE("a result or a 'payment already used' with a success receipt is answered and paid",
          "[payment_request_form][paid]") {
  json::object result{{"content", json::array{{{"type", "text"}, {"text", "3"}}}}};
  mcp::attach_receipt(result, mcp::receipt_json(facts("0xabc")));
  auto delivered = classify(answer_with(result));
  CHECK(delivered.outcome == PaidOutcome::answered);
  REQUIRE(delivered.receipt.has_value());
  CHECK(delivered.receipt->success);
  CHECK(delivered.receipt->transaction == "0xabc");

  auto spent = classify(answer_with(mcp::payment_spent_answer("add", facts("0xabc"), {})));
  CHECK(spent.outcome == PaidOutcome::answered);
  REQUIRE(spent.receipt.has_value());
  CHECK(spent.receipt->success);
}

TEST_CASE("an ordinary tool error after payment is answered, not refused",
          "[payment_request_form][paid]") {
  auto paid = classify(response_with_result(
      R"({"isError":true,"content":[{"type":"text","text":"the tool failed"}]})"));
  CHECK(paid.outcome == PaidOutcome::answered);
  CHECK_FALSE(paid.receipt.has_value());
}

TEST_CASE(
    "an HTTP 402 with a failed PAYMENT-RESPONSE is a settlement failure, a plain one a "
    "refusal",
    "[payment_request_form][paid]") {
  const std::string required_header = x402::base64_encode(kRequiredV2);
  const std::string failed_receipt =
      x402::base64_encode(R"({"success":false,"errorReason":"insufficient_funds","transaction":"",)"
                          R"("network":"eip155:84532"})");
  auto failed = classify_paid_answer(nullptr, 402, required_header, failed_receipt, "");
  CHECK(failed.outcome == PaidOutcome::settlement_failed);
  CHECK(failed.reason == "insufficient_funds");

  auto refused = classify_paid_answer(nullptr, 402, required_header, "", "");
  CHECK(refused.outcome == PaidOutcome::refused);
  CHECK(refused.reason == "payment required");
  CHECK(refused.fresh_request.has_value());

  // Unreadable as an offer, still a refusal: the seller ran nothing.
  auto bare = classify_paid_answer(nullptr, 402, "", "", "Payment Required");
  CHECK(bare.outcome == PaidOutcome::refused);
  CHECK_FALSE(bare.fresh_request.has_value());
}

TEST_CASE("an unreadable failed receipt on a payment request is still a failure, not a refusal",
          "[payment_request_form][paid]") {
  auto response = answer_with(
      mcp::payment_required_answer(add_offer(), "add", "settlement could not complete", {}));
  response["result"].as_object()["_meta"] =
      json::object{{"x402/payment-response", {{"success", false}, {"errorReason", 7}}}};
  auto paid = classify(response);
  CHECK(paid.outcome == PaidOutcome::settlement_failed);
  CHECK_FALSE(paid.fresh_request.has_value());
}

TEST_CASE("a success receipt wins over a payment request in the same answer",
          "[payment_request_form][paid]") {
  auto response =
      answer_with(mcp::payment_required_answer(add_offer(), "add", "payment required", {}));
  response["result"].as_object()["_meta"] =
      json::object{{"x402/payment-response", mcp::receipt_json(facts("0xabc"))}};
  auto paid = classify(response);
  CHECK(paid.outcome == PaidOutcome::answered);
  REQUIRE(paid.receipt.has_value());
  CHECK(paid.receipt->transaction == "0xabc");
}
