// The money path on real chain software: serve in front of the test MCP upstream, paid through
// the official x402 facilitator (@x402/core + @x402/evm 2.27) settling on a Hardhat chain that runs
// Circle's FiatTokenV2_2 (tests/peers/chain-evm). Each test injects a fault real chains produce
// (slow confirmation, an RPC 429, a lost answer, a crash at each step, a cancelled authorization)
// and asserts that the chain, serve's journal and what the buyer got agree: charged once and
// given the result (or a pending answer it redeems), never charged without it.
#include "tests/support/chain_serve.h"

using namespace x402proxy::testing;
namespace json = boost::json;

namespace {

// The final JSON-RPC message of an answer (a JSON body, or the last event of an SSE stream).
json::object final_result(const HttpReply& reply) {
  INFO(reply.status << " " << reply.body << " " << reply.error);
  REQUIRE(reply.status == 200);
  std::string text = reply.body;
  if (reply.header("content-type").starts_with("text/event-stream")) {
    auto events = sse_events(reply);
    REQUIRE_FALSE(events.empty());
    text = events.back().data;
  }
  auto message = json::parse(text).as_object();
  REQUIRE(message.contains("result"));
  return message.at("result").as_object();
}

std::string text_of(const json::object& result) {
  return std::string(result.at("content").at(0).at("text").as_string());
}

json::object receipt_of(const json::object& result) {
  return result.at("_meta").at("x402/payment-response").as_object();
}

// The one transfer to the seller: its transaction hash.
std::string seller_transfer_tx(ChainServe& serve) {
  for (const auto& transfer : serve.chain.transfers()) {
    if (transfer.at("to").as_string() == serve.chain.str("payTo"))
      return std::string(transfer.at("tx").as_string());
  }
  return {};
}

}  // namespace

TEST_CASE("a paid call settles on chain: exactly the price moves, the receipt names the transfer",
          "[chain][evm]") {
  ChainServe serve;
  serve.start();
  const std::string payer = serve.chain.payer_address();
  const std::string before = serve.chain.balance(payer);
  auto result = final_result(serve.call("add", serve.payment(serve.offer())));
  INFO(json::serialize(result) << "\n" << serve.proxy->output());
  CHECK_FALSE(result.contains("isError"));
  CHECK(text_of(result) == "5");
  CHECK(serve.chain.balance(serve.chain.str("payTo")) == "1000");
  CHECK(std::stoull(before) - std::stoull(serve.chain.balance(payer)) == 1000);
  const std::string tx = seller_transfer_tx(serve);
  CHECK(receipt_of(result).at("transaction").as_string() == tx);
  auto rows = journal_rows(serve.journal_path());
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].state == "settled");
  CHECK(rows[0].transaction == tx);
}

TEST_CASE(
    "a confirmation slower than settle_timeout: pending, then the same payment redeems the "
    "result, one transfer",
    "[chain][evm][pending]") {
  ChainServe serve;
  serve.start();
  auto payment = serve.payment(serve.offer());
  serve.chain.fault(R"({"kind":"mining","mode":"manual"})");
  auto pending = final_result(serve.call("add", payment));
  INFO(json::serialize(pending) << "\n" << serve.proxy->output());
  CHECK(pending.at("isError").as_bool());
  CHECK(receipt_of(pending).at("errorReason").as_string() == "settlement_pending");
  CHECK(text_of(pending).find("\"5\"") == std::string::npos);
  CHECK(serve.transfers_to_seller() == 0);  // held in the mempool

  (void)serve.chain.control_post("/mine");
  REQUIRE(eventually(
      [&] {
        auto rows = journal_rows(serve.journal_path());
        return rows.size() == 1 && rows[0].state == "settled";
      },
      std::chrono::seconds(20)));
  auto redeemed = final_result(serve.call("add", payment));
  CHECK_FALSE(redeemed.contains("isError"));
  CHECK(text_of(redeemed) == "5");
  const std::string tx = seller_transfer_tx(serve);
  CHECK(receipt_of(redeemed).at("transaction").as_string() == tx);
  CHECK(journal_rows(serve.journal_path())[0].transaction == tx);
  CHECK(serve.transfers_to_seller() == 1);
  CHECK(serve.upstream_tool_calls("add") == 1);
}

TEST_CASE(
    "RPC 429s during confirmation: settlement_pending with a transaction is retried to the "
    "same transaction",
    "[chain][evm][pending]") {
  ChainServeOptions options;
  options.settle_timeout = "20s";
  options.prove_with_rpc = false;  // the facilitator's own answer must carry it
  ChainServe serve(options);
  serve.start();
  auto payment = serve.payment(serve.offer());
  // viem retries a 429 three times per request: enough of them make the facilitator give up
  // waiting and answer settlement_pending with the broadcast hash.
  serve.chain.fault(
      R"({"kind":"rpc_status","method":"eth_getTransactionReceipt","status":429,"count":12})");
  auto result = final_result(serve.call("add", payment));
  INFO(json::serialize(result) << "\n" << serve.proxy->output());
  CHECK_FALSE(result.contains("isError"));
  CHECK(text_of(result) == "5");
  const std::string tx = seller_transfer_tx(serve);
  REQUIRE_FALSE(tx.empty());
  CHECK(receipt_of(result).at("transaction").as_string() == tx);
  auto rows = journal_rows(serve.journal_path());
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].state == "settled");
  CHECK(rows[0].seen_transactions.find(tx) != std::string::npos);
  CHECK(serve.transfers_to_seller() == 1);
}

TEST_CASE("a settle answer lost after the transfer landed is proven from the chain",
          "[chain][evm][lost]") {
  ChainServeOptions options;
  options.settle_timeout = "15s";
  ChainServe serve(options);
  serve.start();
  auto payment = serve.payment(serve.offer());
  // The facilitator settles, then hangs up; asked again it answers "nonce already used".
  serve.chain.fault(R"({"kind":"settle_hangup","count":1})");
  auto result = final_result(serve.call("add", payment));
  INFO(json::serialize(result) << "\n" << serve.proxy->output());
  CHECK_FALSE(result.contains("isError"));
  const std::string tx = seller_transfer_tx(serve);
  REQUIRE_FALSE(tx.empty());
  CHECK(receipt_of(result).at("transaction").as_string() == tx);
  auto rows = journal_rows(serve.journal_path());
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].state == "settled");
  CHECK(rows[0].transaction == tx);
  CHECK(serve.transfers_to_seller() == 1);
}

TEST_CASE("without a chain proof a lost settle answer is never booked as settled",
          "[chain][evm][lost]") {
  ChainServeOptions options;
  options.settle_timeout = "4s";
  options.prove_with_rpc = false;
  ChainServe serve(options);
  serve.start();
  auto payment = serve.payment(serve.offer());
  serve.chain.fault(R"({"kind":"settle_hangup","count":1})");
  auto result = final_result(serve.call("add", payment));
  INFO(json::serialize(result) << "\n" << serve.proxy->output());
  CHECK(result.at("isError").as_bool());
  CHECK(receipt_of(result).at("errorReason").as_string() == "settlement_pending");
  CHECK(serve.transfers_to_seller() == 1);  // the money did move...
  auto rows = journal_rows(serve.journal_path());
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].state == "settle_pending");  // ...but "already used" proves nothing by itself
  CHECK(rows[0].transaction.empty());
}

TEST_CASE("kill -9 during verify: nothing is journaled as owed and nothing moves",
          "[chain][evm][crash]") {
  ChainServe serve;
  serve.start();
  auto payment = serve.payment(serve.offer());
  serve.chain.fault(R"({"kind":"verify_delay","ms":8000})");
  std::thread caller(
      [&] { (void)serve.call("add", payment, R"({"a":2,"b":3})", std::chrono::seconds(15)); });
  std::this_thread::sleep_for(std::chrono::seconds(1));
  serve.kill_hard();
  caller.join();
  serve.chain.reset();
  serve.start();
  for (const auto& row : journal_rows(serve.journal_path()))
    CHECK(row.state != "settled");
  CHECK(serve.transfers_to_seller() == 0);
  // The payment was never used: it still buys the call, once.
  auto result = final_result(serve.call("add", payment));
  CHECK(text_of(result) == "5");
  CHECK(serve.transfers_to_seller() == 1);
}

TEST_CASE("kill -9 while connecting to the upstream: abandoned at restart, never settled",
          "[chain][evm][crash]") {
  BlackHole hole;
  ChainServe serve;
  serve.start("http://127.0.0.1:" + std::to_string(hole.port) + "/mcp");
  auto payment = serve.payment(serve.offer());
  std::thread caller(
      [&] { (void)serve.call("add", payment, R"({"a":2,"b":3})", std::chrono::seconds(15)); });
  REQUIRE(eventually(
      [&] {
        auto rows = journal_rows(serve.journal_path());
        return rows.size() == 1 && rows[0].state == "verified";
      },
      std::chrono::seconds(10)));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(journal_rows(serve.journal_path())[0].state == "verified");  // still connecting
  serve.kill_hard();
  caller.join();
  serve.start();  // now with the real upstream
  auto rows = journal_rows(serve.journal_path());
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].state == "abandoned");
  CHECK(rows[0].forwarded_ms == 0);
  CHECK(serve.transfers_to_seller() == 0);
  CHECK(serve.upstream_tool_calls("add") == 0);
  // Abandoned means unused: the same payment buys the call now.
  auto result = final_result(serve.call("add", payment));
  CHECK(text_of(result) == "5");
  CHECK(serve.transfers_to_seller() == 1);
}

TEST_CASE(
    "kill -9 during the upstream call: settled at restart, and the buyer's retry gets the "
    "result once",
    "[chain][evm][crash]") {
  ChainServe serve;
  serve.start();
  auto payment = serve.payment(serve.offer("slow_progress"));
  const std::string slow = R"({"steps":20,"interval_ms":200})";
  std::thread caller(
      [&] { (void)serve.call("slow_progress", payment, slow, std::chrono::seconds(15)); });
  REQUIRE(eventually(
      [&] {
        auto rows = journal_rows(serve.journal_path());
        return rows.size() == 1 && rows[0].state == "forwarded" &&
               serve.upstream_tool_calls("slow_progress") == 1;
      },
      std::chrono::seconds(10)));
  serve.kill_hard();
  caller.join();
  serve.start();  // recovery settles: the call reached the tool
  auto rows = journal_rows(serve.journal_path());
  INFO(serve.proxy->output());
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].state == "settled");
  const std::string tx = seller_transfer_tx(serve);
  CHECK(rows[0].transaction == tx);
  CHECK(serve.transfers_to_seller() == 1);
  // The result died with the crashed run: the buyer's retry runs the call again, charged once.
  auto result =
      final_result(serve.call("slow_progress", payment, R"({"steps":1,"interval_ms":10})"));
  CHECK_FALSE(result.contains("isError"));
  CHECK(receipt_of(result).at("transaction").as_string() == tx);
  CHECK(serve.transfers_to_seller() == 1);
  // Marked once the answer's write has returned, which may be just after the client read it.
  CHECK(eventually([&] { return journal_rows(serve.journal_path())[0].delivered_ms != 0; },
                   std::chrono::seconds(2)));
}

TEST_CASE(
    "kill -9 during settle: the restart proves the transfer and the kept result is "
    "redeemed",
    "[chain][evm][crash]") {
  ChainServe serve;
  serve.start();
  auto payment = serve.payment(serve.offer());
  // The facilitator settles at once but holds its answer: serve dies waiting for it.
  serve.chain.fault(R"({"kind":"settle_delay","ms":10000})");
  std::thread caller(
      [&] { (void)serve.call("add", payment, R"({"a":2,"b":3})", std::chrono::seconds(15)); });
  REQUIRE(eventually([&] { return serve.transfers_to_seller() == 1; }, std::chrono::seconds(10)));
  REQUIRE(journal_rows(serve.journal_path()).at(0).state == "settling");
  serve.kill_hard();
  caller.join();
  serve.chain.reset();
  serve.start();
  auto rows = journal_rows(serve.journal_path());
  INFO(serve.proxy->output());
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].state == "settled");
  CHECK(rows[0].transaction == seller_transfer_tx(serve));
  auto redeemed = final_result(serve.call("add", payment));
  CHECK_FALSE(redeemed.contains("isError"));
  CHECK(text_of(redeemed) == "5");
  CHECK(serve.upstream_tool_calls("add") == 1);  // the kept result, not a second run
  CHECK(serve.transfers_to_seller() == 1);
}

TEST_CASE("an authorization cancelled while serve was down is a proven refusal, not a settlement",
          "[chain][evm][crash]") {
  ChainServe serve;
  serve.start();
  auto payment = serve.payment(serve.offer("slow_progress"));
  const std::string slow = R"({"steps":20,"interval_ms":200})";
  std::thread caller(
      [&] { (void)serve.call("slow_progress", payment, slow, std::chrono::seconds(15)); });
  REQUIRE(eventually(
      [&] {
        auto rows = journal_rows(serve.journal_path());
        return rows.size() == 1 && rows[0].state == "forwarded";
      },
      std::chrono::seconds(10)));
  serve.kill_hard();
  caller.join();
  // The payer cancels the authorization on chain (EIP-3009 cancelAuthorization).
  const auto& authorization = payment.at("payload").at("authorization").as_object();
  (void)serve.chain.control_post(
      "/cancel", json::serialize(json::object{{"authorizer", authorization.at("from")},
                                              {"nonce", authorization.at("nonce")}}));
  serve.start();
  auto rows = journal_rows(serve.journal_path());
  INFO(serve.proxy->output());
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].state == "settle_failed");
  CHECK(rows[0].transaction.empty());
  CHECK_THAT(rows[0].detail, Catch::Contains("authorization_canceled"));
  CHECK(serve.transfers_to_seller() == 0);
}
