// serve: what the tool's outcome means for a verified payment — a tool error is settled (or, with
// charge_tool_errors false, released), input_required and a transport failure are not paid for —
// through the real binary over real sockets.
#include "tests/integration/proxy/paywall_test_helpers.h"

using namespace x402proxy::testing;
namespace json = boost::json;

TEST_CASE("a tool error result is still settled: payment covers the attempt", "[serve][paywall]") {
  ServeFixture serve;
  auto required = payment_required(serve, "fail");
  // The buyer is told before paying (charge_tool_errors defaults to true).
  CHECK(required.at("structuredContent").at("resource").at("description").as_string() ==
        "tool fail; charged even when the tool reports an error");
  auto offer = first_offer(required);
  auto result = result_of(pay(serve, "fail", evm_payment(offer), "{}"));
  CHECK(result.at("isError").as_bool());
  CHECK(result.at("content").at(0).at("text").as_string() == "the tool failed");
  CHECK(result.at("_meta").at("x402/payment-response").at("success").as_bool());
  CHECK(serve.facilitator.settle_calls() == 1);
  CHECK(journal_states(serve) == std::vector<std::string>{"settled"});
}

TEST_CASE("with charge_tool_errors false a tool error is delivered unsettled and released",
          "[serve][paywall]") {
  ServeOptionsForTest options;
  options.tools =
      "tools:\n  add: { price: \"$0.001\", charge_tool_errors: false }\n"
      "  fail: { price: \"$0.001\", description: \"always fails\", charge_tool_errors: false "
      "}\n";
  ServeFixture serve(options);
  auto required = payment_required(serve, "fail");
  CHECK(required.at("structuredContent").at("resource").at("description").as_string() ==
        "always fails; not charged when the tool reports an error");
  auto payment = evm_payment(first_offer(required));
  auto result = result_of(pay(serve, "fail", payment, "{}"));
  CHECK(result.at("isError").as_bool());
  CHECK(result.at("content").at(0).at("text").as_string() == "the tool failed");
  // No receipt: nothing was settled, and the buyer keeps its money.
  CHECK_FALSE((result.contains("_meta") &&
               result.at("_meta").as_object().contains("x402/payment-response")));
  CHECK(serve.facilitator.verify_calls() == 1);
  CHECK(serve.facilitator.settle_calls() == 0);
  CHECK(journal_states(serve) == std::vector<std::string>{"released"});
  CHECK_THAT(journal_states(serve, "detail").at(0), Catch::StartsWith("tool_error"));
  // A result without isError is still charged on such a tool.
  auto add_offer = first_offer(payment_required(serve, "add"));
  auto paid = result_of(pay(serve, "add", evm_payment(add_offer)));
  CHECK(paid.at("content").at(0).at("text").as_string() == "5");
  CHECK(paid.at("_meta").at("x402/payment-response").at("success").as_bool());
  CHECK(serve.facilitator.settle_calls() == 1);
  CHECK(journal_states(serve) == std::vector<std::string>{"released", "settled"});
}

TEST_CASE("input_required is not settled and the same payment can be sent again",
          "[serve][paywall]") {
  ServeFixture serve;
  auto payment = evm_payment(first_offer(payment_required(serve, "input_needed")));
  auto first = result_of(pay(serve, "input_needed", payment, "{}"));
  CHECK(first.at("resultType").as_string() == "input_required");
  auto second = result_of(pay(serve, "input_needed", payment, "{}"));
  CHECK(second.at("resultType").as_string() == "input_required");
  CHECK(serve.facilitator.settle_calls() == 0);
  CHECK(serve.upstream_tool_calls("input_needed") == 2);
}

TEST_CASE("an upstream that fails at the transport level is not paid for", "[serve][paywall]") {
  ServeFixture serve;
  auto payment = evm_payment(first_offer(payment_required(serve, "cut_stream")));
  auto reply = pay(serve, "cut_stream", payment, "{}");
  REQUIRE(reply.status == 200);
  CHECK_THAT(reply.body, Catch::Contains("payment not settled"));
  CHECK(serve.facilitator.settle_calls() == 0);
  // The client saw the stream end before serve recorded why: wait for the record.
  auto states = journal_states(serve);
  for (int i = 0; i < 100 && states != std::vector<std::string>{"upstream_failed"}; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    states = journal_states(serve);
  }
  CHECK(states == std::vector<std::string>{"upstream_failed"});
  // The reservation was released: the same payment can be retried.
  auto retry = pay(serve, "cut_stream", payment, "{}");
  CHECK(retry.body.find("payment_already_used") == std::string::npos);
}
