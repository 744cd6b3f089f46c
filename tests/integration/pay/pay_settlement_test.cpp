// One client call moves at most one payment: `pay` → `serve` (the fake facilitator behind it,
// whose settle is slow or fails on demand) → the test upstream, with real binaries. A pending
// settlement is redeemed with the same payment, a failed one is never paid again, and a payment
// still pending when the call gives up is sent again by the next identical call.
#include "tests/integration/pay/pay_fixture.h"

using namespace x402proxy::testing;
namespace json = boost::json;

namespace {

// Two keys that can both pay the offer: a second signature would have a signer to come from.
std::string two_evm_signers(const std::string& dir) {
  return "  - { type: evm, key_file: " + write_key(dir, "evm.key", kPayerKey) + " }\n" +
         "  - { type: evm, key_file: " + write_key(dir, "second.key", kSecondPayerKey) + " }\n";
}

std::string remote_of(const ServeFixture& serve) {
  return "http://127.0.0.1:" + std::to_string(serve.port) + "/mcp";
}

json::object add_call(int id, int a, int b) {
  return json::object{
      {"jsonrpc", "2.0"},
      {"id", id},
      {"method", "tools/call"},
      {"params", json::object{{"name", "add"}, {"arguments", {{"a", a}, {"b", b}}}}}};
}

std::optional<json::object> call(PayBridge& pay, int id, int a, int b) {
  pay.client->send(add_call(id, a, b));
  return pay.client->response(id, std::chrono::seconds(40));
}

const json::object& receipt_of(const json::object& response) {
  return response.at("result").at("_meta").at("x402/payment-response").as_object();
}

std::string report_of(const std::string& dir) {
  return run_and_capture({proxy_binary(), "pay", "--config", dir + "/wallet.yaml", "--report"},
                         dir + "/report.txt");
}

}  // namespace

TEST_CASE("a pending settlement is redeemed with the same payment and paid once",
          "[pay][settlement][pending]") {
  std::string dir = make_temp_dir("pay-pending");
  ServeFixture serve;
  serve.facilitator.set_mode(FakeFacilitator::Mode::slow_settle);
  serve.facilitator.set_slow_delay(std::chrono::milliseconds(3000));  // settle_timeout is 2 s
  PayBridge pay(dir, remote_of(serve), two_evm_signers(dir));
  REQUIRE(pay.client->initialize());

  auto answer = call(pay, 1, 2, 3);
  REQUIRE(answer);
  INFO(json::serialize(*answer) << "\n" << pay.log());
  REQUIRE(answer->contains("result"));
  CHECK_FALSE(answer->at("result").as_object().contains("isError"));
  CHECK(answer->at("result").at("content").at(0).at("text").as_string() == "5");
  CHECK(receipt_of(*answer).at("success").as_bool());
  CHECK(receipt_of(*answer).at("transaction").as_string() == FakeFacilitator::kTransaction);
  CHECK_THAT(pay.log(), Catch::Contains("settlement pending; asking again with the same payment"));

  CHECK(serve.facilitator.verify_calls() == 1);
  CHECK(serve.facilitator.settle_calls() == 1);
  CHECK(serve.upstream_tool_calls("add") == 1);
  auto rows = spending_rows(pay.ledger);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].state == "paid");
  CHECK(rows[0].transaction == FakeFacilitator::kTransaction);
  CHECK(rows[0].payment_json.empty());  // it bought its call: nothing left to redeem
  // The signed payment never reaches the log.
  CHECK_THAT(pay.log(), !Catch::Contains("\"signature\"") && !Catch::Contains("x402Version"));
}

TEST_CASE("a failed settlement is not paid again and still counts against per_day",
          "[pay][settlement][failed][limits]") {
  std::string dir = make_temp_dir("pay-settle-failed");
  ServeFixture serve;
  serve.facilitator.set_mode(FakeFacilitator::Mode::settle_fails);
  PayBridge pay(dir, remote_of(serve), two_evm_signers(dir), "limits: { per_day: \"$0.0015\" }\n");
  REQUIRE(pay.client->initialize());

  auto failed = call(pay, 1, 2, 3);
  REQUIRE(failed);
  INFO(json::serialize(*failed) << "\n" << pay.log());
  CHECK(error_code(*failed) == -32055);
  CHECK_THAT(error_message(*failed), Catch::Contains("could not settle") &&
                                         Catch::Contains("insufficient_funds") &&
                                         Catch::Contains("nothing more was paid"));
  CHECK(failed->at("error").at("data").at("reason").as_string() == "settlement_failed");
  CHECK(serve.facilitator.verify_calls() == 1);  // no second signature reached the seller
  CHECK(serve.upstream_tool_calls("add") == 1);
  auto rows = spending_rows(pay.ledger);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].state == "unconfirmed");
  CHECK_THAT(rows[0].detail, Catch::Contains("insufficient_funds"));

  // The unconfirmed $0.001 counts: another $0.001 would pass per_day, so nothing is signed.
  serve.facilitator.set_mode(FakeFacilitator::Mode::valid);
  auto refused = call(pay, 2, 4, 5);
  REQUIRE(refused);
  INFO(json::serialize(*refused));
  CHECK(error_code(*refused) == -32051);
  CHECK_THAT(error_message(*refused),
             Catch::Contains("per_day is $0.0015") && Catch::Contains("nothing was signed"));
  CHECK(serve.facilitator.verify_calls() == 1);
  CHECK(spending_rows(pay.ledger).size() == 1);

  pay.client->close_input();
  CHECK(pay.client->process().wait_for_exit(std::chrono::seconds(10)) == 0);
  const std::string report = report_of(dir);
  INFO(report);
  CHECK_THAT(report,
             Catch::Contains("unconfirmed: 1 payment, $0.001, pending settlement or failed") &&
                 Catch::Contains("tool add") && Catch::Contains("insufficient_funds"));
  CHECK_THAT(report, Catch::Contains("no payments confirmed paid"));
}

TEST_CASE("a payment still pending when the call gives up is redeemed by the next identical call",
          "[pay][settlement][pending][redeem]") {
  std::string dir = make_temp_dir("pay-redeem-later");
  ServeFixture serve;
  serve.facilitator.set_mode(FakeFacilitator::Mode::slow_settle);
  serve.facilitator.set_slow_delay(std::chrono::milliseconds(7000));
  PayBridge pay(dir, remote_of(serve), two_evm_signers(dir), "redeem_timeout: 2s\n");
  REQUIRE(pay.client->initialize());

  auto pending = call(pay, 1, 2, 3);
  REQUIRE(pending);
  INFO(json::serialize(*pending) << "\n" << pay.log());
  CHECK(error_code(*pending) == -32054);
  CHECK_THAT(error_message(*pending),
             Catch::Contains("pending settlement") &&
                 Catch::Contains("next identical call sends this same payment again"));
  CHECK(pending->at("error").at("data").at("reason").as_string() == "settlement_pending");
  auto rows = spending_rows(pay.ledger);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].state == "unconfirmed");
  CHECK_FALSE(rows[0].payment_json.empty());
  const std::string report = report_of(dir);
  CHECK_THAT(report, Catch::Contains("unconfirmed: 1 payment, $0.001, pending settlement"));

  // The settle request outlives the call; serve books its late answer.
  REQUIRE(
      eventually([&] { return serve_journal_states(serve) == std::vector<std::string>{"settled"}; },
                 std::chrono::seconds(20)));

  auto redeemed = call(pay, 2, 2, 3);
  REQUIRE(redeemed);
  INFO(json::serialize(*redeemed) << "\n" << pay.log());
  REQUIRE(redeemed->contains("result"));
  CHECK(redeemed->at("result").at("content").at(0).at("text").as_string() == "5");
  CHECK(receipt_of(*redeemed).at("transaction").as_string() == FakeFacilitator::kTransaction);
  CHECK_THAT(pay.log(), Catch::Contains("sending it again instead of paying anew"));
  CHECK(serve.facilitator.verify_calls() == 1);  // the same payment: nothing new verified
  CHECK(serve.facilitator.settle_calls() == 1);
  CHECK(serve.upstream_tool_calls("add") == 1);
  rows = spending_rows(pay.ledger);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].state == "paid");
  CHECK(rows[0].transaction == FakeFacilitator::kTransaction);

  // Redeemed and delivered: a third identical call is a new call with a new payment.
  serve.facilitator.set_mode(FakeFacilitator::Mode::valid);
  auto fresh = call(pay, 3, 2, 3);
  REQUIRE(fresh);
  INFO(json::serialize(*fresh) << "\n" << pay.log());
  REQUIRE(fresh->contains("result"));
  CHECK(serve.facilitator.verify_calls() == 2);
  CHECK(serve.upstream_tool_calls("add") == 2);
  CHECK(spending_rows(pay.ledger).size() == 2);
}

TEST_CASE("a call with other arguments does not take over a pending payment",
          "[pay][settlement][redeem]") {
  std::string dir = make_temp_dir("pay-redeem-other");
  ServeFixture serve;
  serve.facilitator.set_mode(FakeFacilitator::Mode::slow_settle);
  serve.facilitator.set_slow_delay(std::chrono::milliseconds(4000));
  PayBridge pay(dir, remote_of(serve), two_evm_signers(dir), "redeem_timeout: 0s\n");
  REQUIRE(pay.client->initialize());
  auto pending = call(pay, 1, 2, 3);
  REQUIRE(pending);
  CHECK(error_code(*pending) == -32054);
  serve.facilitator.set_mode(FakeFacilitator::Mode::valid);
  auto other = call(pay, 2, 3, 4);
  REQUIRE(other);
  INFO(json::serialize(*other) << "\n" << pay.log());
  REQUIRE(other->contains("result"));
  CHECK(other->at("result").at("content").at(0).at("text").as_string() == "7");
  CHECK(serve.facilitator.verify_calls() == 2);
  auto rows = spending_rows(pay.ledger);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].state == "unconfirmed");
  CHECK(rows[1].state == "paid");
}
