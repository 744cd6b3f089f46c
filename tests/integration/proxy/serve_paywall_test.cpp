// serve: priced tools/call — payment required, paid, replayed, refused, facilitator and upstream
// failures, settlement failures — through the real binary over real sockets (what the tool's
// outcome means for the payment is serve_tool_outcome_test.cpp); the same outcomes one by one
// through the seams are tests/unit/proxy/paywall/paid_call_test.cpp.
#include <sqlite3.h>
#include <sys/stat.h>

#include <future>
#include <thread>

#include "tests/integration/proxy/paywall_test_helpers.h"
#include "tests/support/journal_v1.h"
#include "tests/support/serve_fixture.h"
#include "x402/base64.h"

using namespace x402proxy::testing;
namespace json = boost::json;

TEST_CASE("an unpaid priced call gets the payment requirements and the upstream sees nothing",
          "[serve][paywall]") {
  ServeFixture serve;
  auto result = payment_required(serve, "add");
  const json::object& required = result.at("structuredContent").as_object();
  CHECK(required.at("x402Version") == 2);
  CHECK(required.at("resource").at("url").as_string() == "mcp://tool/add");
  const json::object& offer = required.at("accepts").at(0).as_object();
  CHECK(offer.at("scheme").as_string() == "exact");
  CHECK(offer.at("network").as_string() == "eip155:84532");
  CHECK(offer.at("amount").as_string() == "1000");
  CHECK(offer.at("payTo").as_string() == kPayTo);
  CHECK(offer.at("extra").at("name").as_string() == "USDC");
  // content[0].text is the same object, JSON-encoded (x402 MCP transport, tool-result binding).
  CHECK(json::parse(result.at("content").at(0).at("text").as_string()) == required);
  CHECK(serve.upstream_tool_calls("add") == 0);
  CHECK(serve.facilitator.verify_calls() == 0);
}

TEST_CASE("a client advertising org.x402/payment gets the extension binding", "[serve][paywall]") {
  ServeFixture serve;
  auto reply = mcp_post(
      serve.port,
      tool_call(
          "add", "{}",
          R"({"io.modelcontextprotocol/protocolVersion":"2026-07-28",)"
          R"("io.modelcontextprotocol/clientCapabilities":{"extensions":{"org.x402/payment":{}}}})"),
      {{"MCP-Protocol-Version", "2026-07-28"}, {"Mcp-Method", "tools/call"}, {"Mcp-Name", "add"}});
  auto result = result_of(reply);
  CHECK(result.at("resultType").as_string() == "payment_required");
  CHECK(result.at("paymentRequired").at("accepts").as_array().size() == 1);
  CHECK_FALSE(result.contains("isError"));
}

TEST_CASE("on MCP 2026-07-28 the tool-result binding carries resultType complete",
          "[serve][paywall]") {
  ServeFixture serve;
  auto reply = mcp_post(
      serve.port, tool_call("add"),
      {{"MCP-Protocol-Version", "2026-07-28"}, {"Mcp-Method", "tools/call"}, {"Mcp-Name", "add"}});
  auto result = result_of(reply);
  CHECK(result.at("resultType").as_string() == "complete");
  CHECK(result.at("isError").as_bool());
}

TEST_CASE("a valid payment buys the call: result, receipt, the payment stripped, journal settled",
          "[serve][paywall]") {
  ServeFixture serve;
  auto offer = first_offer(payment_required(serve, "add"));
  auto reply = mcp_post(serve.port, tool_call("add", R"({"a":2,"b":3})",
                                              R"({"progressToken":9,"x402/payment":)" +
                                                  json::serialize(evm_payment(offer)) + "}"));
  auto result = result_of(reply);
  CHECK(result.at("content").at(0).at("text").as_string() == "5");
  const json::object& meta = result.at("_meta").as_object();
  CHECK(meta.at("upstream/own").as_string() == "kept");  // the tool's own _meta survives
  const json::object& receipt = meta.at("x402/payment-response").as_object();
  CHECK(receipt.at("success").as_bool());
  CHECK(receipt.at("network").as_string() == "eip155:84532");
  CHECK(receipt.at("transaction").as_string().size() == 66);
  // The upstream got the call without the payment but with the rest of _meta.
  auto seen = serve.upstream.requests().back();
  CHECK(seen.body.find("x402/payment") == std::string::npos);
  CHECK(seen.body.find("\"progressToken\":9") != std::string::npos);
  CHECK(serve.facilitator.verify_calls() == 1);
  CHECK(serve.facilitator.settle_calls() == 1);
  CHECK(journal_states(serve) == std::vector<std::string>{"settled"});
}

TEST_CASE("a payment may also come in the PAYMENT-SIGNATURE header", "[serve][paywall]") {
  ServeFixture serve;
  auto offer = first_offer(payment_required(serve, "add"));
  std::string encoded;
  {
    std::string text = json::serialize(evm_payment(offer));
    static const char* table = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::size_t i = 0;
    for (; i + 2 < text.size(); i += 3) {
      unsigned v = (unsigned char)text[i] << 16 | (unsigned char)text[i + 1] << 8 |
                   (unsigned char)text[i + 2];
      for (int k = 18; k >= 0; k -= 6)
        encoded.push_back(table[(v >> k) & 63]);
    }
    if (i < text.size()) {
      unsigned v = (unsigned char)text[i] << 16 |
                   (i + 1 < text.size() ? (unsigned char)text[i + 1] << 8 : 0);
      encoded.push_back(table[(v >> 18) & 63]);
      encoded.push_back(table[(v >> 12) & 63]);
      encoded.push_back(i + 1 < text.size() ? table[(v >> 6) & 63] : '=');
      encoded.push_back('=');
    }
  }
  auto reply =
      mcp_post(serve.port, tool_call("add", R"({"a":1,"b":1})"), {{"PAYMENT-SIGNATURE", encoded}});
  auto result = result_of(reply);
  CHECK(result.at("content").at(0).at("text").as_string() == "2");
  CHECK(serve.upstream.requests().back().header("payment-signature").empty());
}

TEST_CASE("a payment is accepted once: a sequential replay is refused",
          "[serve][paywall][replay]") {
  ServeFixture serve;
  auto payment = evm_payment(first_offer(payment_required(serve, "add")));
  CHECK_FALSE(result_of(pay(serve, "add", payment)).contains("isError"));
  auto replay = result_of(pay(serve, "add", payment));
  CHECK(replay.at("isError").as_bool());
  CHECK_THAT(answer_text(replay), Catch::Contains("Payment already used"));
  // Not an offer: a paying client must not take it for a request to pay again.
  CHECK_FALSE(replay.contains("structuredContent"));
  CHECK(receipt_of(replay).at("transaction").as_string() == FakeFacilitator::kTransaction);
  CHECK(serve.upstream_tool_calls("add") == 1);
  CHECK(serve.facilitator.settle_calls() == 1);
  CHECK(serve.facilitator.verify_calls() == 1);
}

TEST_CASE("a payment is accepted once even when copies arrive at the same time",
          "[serve][paywall][replay]") {
  ServeOptionsForTest options;
  options.upstream.progress_interval = std::chrono::milliseconds(200);
  ServeFixture serve(options);
  auto payment = evm_payment(first_offer(payment_required(serve, "slow_progress")));
  std::vector<std::future<HttpReply>> copies;
  for (int i = 0; i < 6; ++i) {
    copies.push_back(std::async(std::launch::async, [&] {
      return mcp_post(serve.port, tool_call("slow_progress", "{}", meta_with_payment(payment)));
    }));
  }
  int served = 0, refused = 0;
  for (auto& copy : copies) {
    auto reply = copy.get();
    REQUIRE(reply.status == 200);
    INFO(reply.body);
    if (reply.body.find("payment_in_use") != std::string::npos ||
        reply.body.find("Payment already used") != std::string::npos) {
      ++refused;
    } else if (reply.body.find("\"done\"") != std::string::npos) {
      ++served;
    }
  }
  CHECK(served == 1);
  CHECK(refused == 5);
  CHECK(serve.upstream_tool_calls("slow_progress") == 1);
  CHECK(serve.facilitator.settle_calls() == 1);
}

TEST_CASE("payments that do not match the offer are refused with the exact reason",
          "[serve][paywall][refusals]") {
  ServeFixture serve;
  auto offer = first_offer(payment_required(serve, "add"));

  SECTION("accepted terms changed by the client: no matching requirements") {
    auto cheaper = offer;
    cheaper["amount"] = "1";
    auto result = result_of(pay(serve, "add", evm_payment(cheaper)));
    CHECK_THAT(error_text(result), Catch::Contains("No matching payment requirements"));
  }
  SECTION("other network") {
    auto other = offer;
    other["network"] = "eip155:8453";
    CHECK_THAT(error_text(result_of(pay(serve, "add", evm_payment(other)))),
               Catch::Contains("No matching payment requirements"));
  }
  SECTION("other asset") {
    auto other = offer;
    other["asset"] = "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913";
    CHECK_THAT(error_text(result_of(pay(serve, "add", evm_payment(other)))),
               Catch::Contains("No matching payment requirements"));
  }
  SECTION("signed amount differs from the price") {
    auto payment = evm_payment(offer, {.signed_amount = "999"});
    CHECK_THAT(error_text(result_of(pay(serve, "add", payment))),
               Catch::Contains("invalid_exact_evm_payload_authorization_value_mismatch"));
  }
  SECTION("signed payee differs from payTo") {
    auto payment =
        evm_payment(offer, {.signed_pay_to = "0x0000000000000000000000000000000000000001"});
    CHECK_THAT(error_text(result_of(pay(serve, "add", payment))),
               Catch::Contains("invalid_exact_evm_recipient_mismatch"));
  }
  SECTION("expired authorization") {
    auto payment = evm_payment(offer, {.clock_offset = -120});
    CHECK_THAT(error_text(result_of(pay(serve, "add", payment))),
               Catch::Contains("invalid_exact_evm_payload_authorization_valid_before"));
  }
  SECTION("not yet valid authorization") {
    auto payment = evm_payment(offer, {.clock_offset = 1200});
    CHECK_THAT(error_text(result_of(pay(serve, "add", payment))),
               Catch::Contains("invalid_exact_evm_payload_authorization_valid_after"));
  }
  SECTION("forged signature") {
    auto payment = evm_payment(offer);
    auto& signature = payment["payload"].as_object()["signature"].as_string();
    signature[10] = signature[10] == 'a' ? 'b' : 'a';
    CHECK_THAT(error_text(result_of(pay(serve, "add", payment))),
               Catch::Contains("invalid_exact_evm_signature"));
  }
  SECTION("tampered amount after signing") {
    auto payment = evm_payment(offer);
    payment["payload"].as_object()["authorization"].as_object()["value"] = "1";
    CHECK_THAT(error_text(result_of(pay(serve, "add", payment))),
               Catch::Contains("invalid_exact_evm_signature"));
  }
  SECTION("garbage in the payment field") {
    auto result =
        result_of(mcp_post(serve.port, tool_call("add", "{}", R"({"x402/payment":"%%%"})")));
    CHECK_THAT(error_text(result), Catch::Contains("invalid_payload"));
    auto number = result_of(mcp_post(serve.port, tool_call("add", "{}", R"({"x402/payment":5})")));
    CHECK_THAT(error_text(number), Catch::Contains("invalid_payload"));
    auto shapeless = result_of(
        mcp_post(serve.port, tool_call("add", "{}", R"({"x402/payment":{"x402Version":2}})")));
    CHECK_THAT(error_text(shapeless), Catch::Contains("invalid_payload"));
  }
  SECTION("the facilitator says the payment is invalid") {
    serve.facilitator.set_mode(FakeFacilitator::Mode::invalid);
    serve.facilitator.set_invalid_reason("invalid_exact_evm_signature");
    auto result = result_of(pay(serve, "add", evm_payment(offer)));
    CHECK_THAT(error_text(result), Catch::Contains("invalid_exact_evm_signature"));
  }
  CHECK(serve.upstream_tool_calls("add") == 0);
  CHECK(serve.facilitator.settle_calls() == 0);
}

TEST_CASE("a facilitator that is down, failing or slow stops the call before the upstream",
          "[serve][paywall][facilitator]") {
  ServeFixture serve;
  auto offer = first_offer(payment_required(serve, "add"));
  // One payment, refused by every failing facilitator, then re-sent.
  const auto payment = evm_payment(offer);
  for (auto mode : {FakeFacilitator::Mode::slow, FakeFacilitator::Mode::http_500,
                    FakeFacilitator::Mode::malformed, FakeFacilitator::Mode::hang_up}) {
    serve.facilitator.set_mode(mode);
    serve.facilitator.set_slow_delay(std::chrono::milliseconds(2500));  // budget is 1 s
    auto reply = pay(serve, "add", payment);
    INFO("facilitator mode " << static_cast<int>(mode) << ": " << reply.body);
    REQUIRE(reply.status == 200);
    auto message = json::parse(reply.body).as_object();
    REQUIRE(message.contains("error"));
    CHECK(message.at("error").at("code") == -32001);
    CHECK_THAT(std::string(message.at("error").at("message").as_string()),
               Catch::Contains("payment could not be verified: facilitator unavailable"));
  }
  CHECK(serve.upstream_tool_calls("add") == 0);
  CHECK(serve.facilitator.settle_calls() == 0);
  // The same payment still works once the facilitator is back: a refusal reserved nothing.
  serve.facilitator.set_mode(FakeFacilitator::Mode::valid);
  auto resent = result_of(pay(serve, "add", payment));
  INFO(json::serialize(resent));
  CHECK_FALSE(resent.contains("isError"));
  CHECK(serve.upstream_tool_calls("add") == 1);
  CHECK(serve.facilitator.settle_calls() == 1);
}

TEST_CASE("a failed settlement withholds the tool's content and the journal keeps the record",
          "[serve][paywall][settle]") {
  ServeFixture serve;
  auto offer = first_offer(payment_required(serve, "add"));
  serve.facilitator.set_mode(FakeFacilitator::Mode::settle_fails);
  auto result = result_of(pay(serve, "add", evm_payment(offer)));
  CHECK(result.at("isError").as_bool());
  CHECK_THAT(error_text(result),
             Catch::Contains("settlement failed") && Catch::Contains("insufficient_funds"));
  CHECK(json::serialize(result).find("\"5\"") == std::string::npos);  // the sum never leaks
  CHECK(serve.upstream_tool_calls("add") == 1);
  CHECK(journal_states(serve) == std::vector<std::string>{"settle_failed"});

  // A retry with the same payment gets the settlement failure again, never the result.
  auto payment = evm_payment(offer);
  serve.facilitator.set_mode(FakeFacilitator::Mode::settle_fails);
  (void)result_of(pay(serve, "add", payment));
  serve.facilitator.set_mode(FakeFacilitator::Mode::valid);
  auto retried = result_of(pay(serve, "add", payment));
  CHECK(retried.at("isError").as_bool());
  CHECK_THAT(error_text(retried), Catch::Contains("settlement failed"));
  CHECK(serve.upstream_tool_calls("add") == 2);
  CHECK(serve.facilitator.settle_calls() == 2);
}

TEST_CASE("a settlement that outlives settle_timeout is pending and its result is redeemed once",
          "[serve][paywall][settle][pending]") {
  ServeFixture serve;
  auto offer = first_offer(payment_required(serve, "add"));
  serve.facilitator.set_mode(FakeFacilitator::Mode::slow_settle);
  serve.facilitator.set_slow_delay(std::chrono::milliseconds(3000));  // settle_timeout is 2 s
  auto payment = evm_payment(offer);
  auto pending = result_of(pay(serve, "add", payment, R"({"a":2,"b":3})"));
  INFO(json::serialize(pending));
  CHECK(pending.at("isError").as_bool());
  CHECK_THAT(answer_text(pending),
             Catch::Contains("settlement pending") && Catch::Contains("same payment"));
  CHECK_FALSE(pending.contains("structuredContent"));  // no offer: nothing to pay again
  CHECK(receipt_of(pending).at("errorReason").as_string() == "settlement_pending");
  CHECK(json::serialize(pending).find("\"5\"") == std::string::npos);  // the sum is withheld
  CHECK(journal_states(serve) == std::vector<std::string>{"settling"});

  // The settle request was not abandoned: its late answer is booked.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  CHECK(journal_states(serve) == std::vector<std::string>{"settled"});
  auto redeemed = result_of(pay(serve, "add", payment, R"({"a":2,"b":3})"));
  INFO(json::serialize(redeemed));
  CHECK_FALSE(redeemed.contains("isError"));
  CHECK(redeemed.at("content").at(0).at("text").as_string() == "5");
  CHECK(receipt_of(redeemed).at("transaction").as_string() == FakeFacilitator::kTransaction);
  // Once delivered, the payment buys nothing more.
  auto again = result_of(pay(serve, "add", payment, R"({"a":2,"b":3})"));
  CHECK_THAT(answer_text(again), Catch::Contains("Payment already used"));
  CHECK(serve.upstream_tool_calls("add") == 1);
  CHECK(serve.facilitator.settle_calls() == 1);
  CHECK(serve.facilitator.verify_calls() == 1);
}

TEST_CASE("progress events of a paid call pass at once, the final answer waits for settlement",
          "[serve][paywall][sse]") {
  ServeOptionsForTest options;
  options.upstream.progress_interval = std::chrono::milliseconds(300);
  ServeFixture serve(options);
  auto offer = first_offer(payment_required(serve, "slow_progress"));
  auto reply = mcp_post(serve.port, tool_call("slow_progress", "{}",
                                              R"({"progressToken":"t","x402/payment":)" +
                                                  json::serialize(evm_payment(offer)) + "}"));
  REQUIRE(reply.status == 200);
  CHECK(reply.header("content-type") == "text/event-stream");
  REQUIRE(reply.pieces.size() >= 3);
  CHECK(reply.pieces.back().first - reply.pieces.front().first > std::chrono::milliseconds(500));
  CHECK_THAT(reply.pieces.front().second, Catch::Contains("notifications/progress"));
  const std::string& last = reply.body.substr(reply.body.rfind("data: "));
  CHECK_THAT(last, Catch::Contains("x402/payment-response") && Catch::Contains("\"done\""));
  CHECK_THAT(reply.body, Catch::Contains("id: final-1"));  // other SSE fields of the event kept
}

TEST_CASE("an x402 v1 payment in the X-PAYMENT header is understood", "[serve][paywall][v1]") {
  ServeFixture serve;
  auto v2 = evm_payment(first_offer(payment_required(serve, "add")));
  json::object v1{{"x402Version", 1},
                  {"scheme", "exact"},
                  {"network", "base-sepolia"},
                  {"payload", v2.at("payload")}};
  auto reply = mcp_post(serve.port, tool_call("add", R"({"a":3,"b":4})"),
                        {{"X-PAYMENT", x402proxy::x402::base64_encode(json::serialize(v1))}});
  auto result = result_of(reply);
  CHECK(result.at("content").at(0).at("text").as_string() == "7");
  // The facilitator was asked in v1 terms: maxAmountRequired and the v1 network name.
  std::string verify_body;
  for (const auto& request : serve.facilitator.requests()) {
    if (request.target == "/verify" && verify_body.empty())
      verify_body = request.body;
  }
  REQUIRE_FALSE(verify_body.empty());
  auto verify = json::parse(verify_body).as_object();
  CHECK(verify.at("x402Version") == 1);
  CHECK(verify.at("paymentRequirements").at("maxAmountRequired").as_string() == "1000");
  CHECK(verify.at("paymentRequirements").at("network").as_string() == "base-sepolia");
}

TEST_CASE("payments a previous run left open are reported at start-up", "[serve][journal]") {
  std::string dir = make_temp_dir("journal-restart");
  REQUIRE(write_v1_journal(
              dir + "/payments.sqlite",
              "INSERT INTO payments (created_ms, updated_ms, tool, network, asset, amount, pay_to, "
              "payer, replay_key, state) VALUES (1, 1, 'add', 'eip155:84532', '0xA', '1000', "
              "'0xB', '0xPayer', 'k', 'forwarded');") == "");
  // The fixture's upstream and fake facilitator serve a second proxy started on the seeded journal.
  ServeFixture serve;
  std::ofstream(dir + "/proxy.yaml")
      << "listen: 127.0.0.1:0\nupstream: { url: " << serve.upstream.url("/mcp")
      << " }\nfacilitator: { url: " << serve.facilitator.url() << " }\npay_to: { eip155: \""
      << kPayTo << "\" }\naccept: [ { network: base-sepolia, asset: USDC } ]\n"
      << "journal: " << dir << "/payments.sqlite\n";
  ChildProcess restarted({proxy_binary(), "serve", "--config", dir + "/proxy.yaml"},
                         dir + "/proxy.log");
  REQUIRE(restarted.wait_for_line("listening on", std::chrono::seconds(10)));
  CHECK_THAT(restarted.output(),
             Catch::Contains("row 1 for tool add") && Catch::Contains("forwarded"));
}

TEST_CASE("a facilitator's refusal text never brings the signature into an answer or the log",
          "[serve][paywall][secrets]") {
  ServeFixture serve;
  auto offer = first_offer(payment_required(serve, "add"));
  serve.facilitator.set_refusal_message(
      "authorization {signature} rejected; calldata "
      "0xe3ee160e00000000000000000000000070997970c51812dc3a010c7d01b50e0d17dc79c8");
  auto payment = evm_payment(offer);
  const std::string signature(payment.at("payload").at("signature").as_string());
  const std::string signature_hex = signature.substr(2);

  serve.facilitator.set_mode(FakeFacilitator::Mode::invalid);
  auto refused = pay(serve, "add", payment);
  CHECK(refused.status == 200);
  CHECK(refused.body.find(signature_hex) == std::string::npos);
  CHECK(refused.body.find("e3ee160e00000000") == std::string::npos);
  CHECK_THAT(refused.body, Catch::Contains("invalid_exact_evm_signature"));

  serve.facilitator.set_mode(FakeFacilitator::Mode::settle_fails);
  auto failed = pay(serve, "add", evm_payment(offer));
  CHECK(failed.body.find("e3ee160e00000000") == std::string::npos);
  CHECK_THAT(failed.body, Catch::Contains("insufficient_funds"));

  serve.facilitator.set_mode(FakeFacilitator::Mode::valid);
  (void)pay(serve, "add", evm_payment(offer));
  const std::string log = serve.proxy->output();
  CHECK(log.find(signature_hex) == std::string::npos);
  CHECK(log.find("e3ee160e00000000") == std::string::npos);
}

TEST_CASE("the payment journal is created readable by its owner only",
          "[serve][journal][secrets]") {
  ServeFixture serve;
  auto offer = first_offer(payment_required(serve, "add"));
  (void)pay(serve, "add", evm_payment(offer));
  for (const char* suffix : {"", "-wal", "-shm"}) {
    struct stat info {};
    const std::string path = serve.dir + "/payments.sqlite" + suffix;
    if (::stat(path.c_str(), &info) != 0)
      continue;  // -shm and -wal come and go with checkpoints
    INFO(path);
    CHECK((info.st_mode & 0777) == 0600);
  }
}

TEST_CASE("every unknown settlement answer is retried within the call's wait, never refused",
          "[serve][paywall][settle][faults]") {
  using Answer = FakeFacilitator::SettleAnswer;
  ServeFixture serve;  // settle_timeout 2 s
  auto offer = first_offer(payment_required(serve, "add"));

  SECTION("settlement_pending with a transaction, then success") {
    serve.facilitator.script_settle({Answer::pending, Answer::success});
  }
  SECTION("HTTP 429, then success") {
    serve.facilitator.script_settle({Answer::too_many_requests, Answer::success});
  }
  SECTION("HTTP 503 twice, then success") {
    serve.facilitator.script_settle({Answer::unavailable, Answer::unavailable, Answer::success});
  }
  auto result = result_of(pay(serve, "add", evm_payment(offer)));
  INFO(json::serialize(result));
  CHECK_FALSE(result.contains("isError"));
  CHECK(result.at("content").at(0).at("text").as_string() == "5");
  CHECK(receipt_of(result).at("transaction").as_string() == FakeFacilitator::kTransaction);
  CHECK(serve.upstream_tool_calls("add") == 1);
  CHECK(serve.facilitator.settle_calls() >= 2);
  CHECK(journal_states(serve) == std::vector<std::string>{"settled"});
}

TEST_CASE(
    "a settle answer lost on the connection is pending, 'already used' afterwards proves "
    "nothing",
    "[serve][paywall][settle][faults]") {
  using Answer = FakeFacilitator::SettleAnswer;
  ServeFixture serve;
  auto offer = first_offer(payment_required(serve, "add"));
  serve.facilitator.script_settle({Answer::hang_up, Answer::already_used, Answer::already_used,
                                   Answer::already_used, Answer::already_used, Answer::already_used,
                                   Answer::already_used, Answer::already_used});
  auto payment = evm_payment(offer);
  auto pending = result_of(pay(serve, "add", payment));
  INFO(json::serialize(pending));
  CHECK(pending.at("isError").as_bool());
  CHECK(receipt_of(pending).at("errorReason").as_string() == "settlement_pending");
  CHECK(json::serialize(pending).find("\"5\"") == std::string::npos);
  CHECK(journal_states(serve) == std::vector<std::string>{"settle_pending"});
  // The buyer retries with the same payment: still pending (nothing proves it either way), and
  // the tool does not run again.
  auto again = result_of(pay(serve, "add", payment));
  CHECK(receipt_of(again).at("errorReason").as_string() == "settlement_pending");
  CHECK(serve.upstream_tool_calls("add") == 1);
}
