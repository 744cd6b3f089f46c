// The buyer and the seller on real chain software: an MCP client drives `pay`, which pays
// `serve` with the chain's payer key; serve settles through the official @x402/evm facilitator
// on the Hardhat chain with Circle's FiatTokenV2_2 (tests/peers/chain-evm). Each test asserts
// that the chain, serve's journal and pay's spending ledger tell the same story: one transfer,
// booked with its transaction on both sides, and the result delivered.
#include "tests/integration/pay/pay_fixture.h"
#include "tests/support/chain_serve.h"

using namespace x402proxy::testing;
namespace json = boost::json;

namespace {

std::string transfer_to_seller(ChainServe& serve) {
  std::string tx;
  for (const auto& transfer : serve.chain.transfers()) {
    if (transfer.at("to").as_string() == serve.chain.str("payTo"))
      tx = std::string(transfer.at("tx").as_string());
  }
  return tx;
}

// pay with the chain payer's key, knowing the chain's USDC (the registry does not).
std::unique_ptr<PayBridge> pay_for(ChainServe& serve, const std::string& dir,
                                   const std::string& extra = "") {
  const std::string signers =
      "  - { type: evm, key_file: " + write_key(dir, "evm.key", serve.chain.payer_key()) + " }\n";
  const std::string assets = "tokens: [USDC]\nassets: [ { network: \"" + serve.chain.network() +
                             "\", address: \"" + serve.chain.str("usdc") +
                             "\", symbol: USDC, decimals: 6 } ]\n";
  auto bridge =
      std::make_unique<PayBridge>(dir, "http://127.0.0.1:" + std::to_string(serve.port) + "/mcp",
                                  signers, assets + "request_timeout: 90s\n" + extra);
  REQUIRE(bridge->client->initialize());
  return bridge;
}

json::object call(PayBridge& pay, int id, const std::string& tool, json::object arguments) {
  pay.client->send(
      json::object{{"jsonrpc", "2.0"},
                   {"id", id},
                   {"method", "tools/call"},
                   {"params", json::object{{"name", tool}, {"arguments", arguments}}}});
  auto answer = pay.client->response(id, std::chrono::seconds(90));
  INFO(pay.log());
  REQUIRE(answer);
  return *answer;
}

}  // namespace

TEST_CASE("pay pays serve on chain: one transfer, booked with its transaction on both sides",
          "[chain][evm][pay]") {
  ChainServe serve;
  serve.start();
  const std::string dir = make_temp_dir("pay-chain");
  auto pay = pay_for(serve, dir);
  auto answer = call(*pay, 1, "add", json::object{{"a", 2}, {"b", 3}});
  INFO(json::serialize(answer) << "\n" << pay->log() << "\n" << serve.proxy->output());
  REQUIRE(answer.contains("result"));
  CHECK(answer.at("result").at("content").at(0).at("text").as_string() == "5");
  const std::string tx = transfer_to_seller(serve);
  REQUIRE_FALSE(tx.empty());
  CHECK(serve.chain.balance(serve.chain.str("payTo")) == "1000");
  auto journal = journal_rows(serve.journal_path());
  REQUIRE(journal.size() == 1);
  CHECK(journal[0].state == "settled");
  CHECK(journal[0].transaction == tx);
  auto spent = spending_rows(pay->ledger);
  REQUIRE(spent.size() == 1);
  CHECK(spent[0].state == "paid");
  CHECK(spent[0].transaction == tx);
}

TEST_CASE("a confirmation slower than serve's settle_timeout: pay redeems with the same payment",
          "[chain][evm][pay][pending]") {
  ChainServeOptions options;
  options.settle_timeout = "1s";
  ChainServe serve(options);
  serve.start();
  serve.chain.fault(R"({"kind":"mining","mode":"interval","ms":3000})");
  const std::string dir = make_temp_dir("pay-chain-pending");
  auto pay = pay_for(serve, dir);
  auto answer = call(*pay, 1, "add", json::object{{"a", 2}, {"b", 3}});
  INFO(json::serialize(answer) << "\n" << pay->log() << "\n" << serve.proxy->output());
  REQUIRE(answer.contains("result"));
  CHECK(answer.at("result").at("content").at(0).at("text").as_string() == "5");
  CHECK_THAT(pay->log(), Catch::Contains("settlement pending"));
  const std::string tx = transfer_to_seller(serve);
  REQUIRE_FALSE(tx.empty());
  CHECK(serve.transfers_to_seller() == 1);  // signed once, moved once
  CHECK(journal_rows(serve.journal_path()).at(0).transaction == tx);
  auto spent = spending_rows(pay->ledger);
  REQUIRE(spent.size() == 1);
  CHECK(spent[0].state == "paid");
  CHECK(spent[0].transaction == tx);
  CHECK(serve.upstream_tool_calls("add") == 1);
}

TEST_CASE(
    "serve killed during the tool call and restarted: the buyer's next identical call gets "
    "the result, charged once",
    "[chain][evm][pay][crash]") {
  ChainServe serve;
  serve.start();
  const std::string dir = make_temp_dir("pay-chain-crash");
  auto pay = pay_for(serve, dir, "redeem_timeout: 3s\n");
  const json::object slow{{"steps", 20}, {"interval_ms", 200}};
  pay->client->send(
      json::object{{"jsonrpc", "2.0"},
                   {"id", 1},
                   {"method", "tools/call"},
                   {"params", json::object{{"name", "slow_progress"}, {"arguments", slow}}}});
  REQUIRE(eventually(
      [&] {
        auto rows = journal_rows(serve.journal_path());
        return rows.size() == 1 && rows[0].state == "forwarded";
      },
      std::chrono::seconds(20)));
  const unsigned short port = serve.port;
  serve.kill_hard();
  auto lost = pay->client->response(1, std::chrono::seconds(40));
  REQUIRE(lost);
  INFO(json::serialize(*lost) << "\n" << pay->log());
  CHECK(lost->contains("error"));  // the answer was lost with serve; the payment stays booked
  // serve comes back on the same address and settles what it had forwarded.
  serve.start({}, port);
  auto& again = pay;
  auto answer = call(*again, 2, "slow_progress", slow);
  INFO(json::serialize(answer) << "\n" << again->log() << "\n" << serve.proxy->output());
  REQUIRE(answer.contains("result"));
  CHECK_FALSE(answer.at("result").as_object().contains("isError"));
  const std::string tx = transfer_to_seller(serve);
  REQUIRE_FALSE(tx.empty());
  CHECK(serve.transfers_to_seller() == 1);
  auto journal = journal_rows(serve.journal_path());
  REQUIRE(journal.size() == 1);
  CHECK(journal[0].state == "settled");
  CHECK(journal[0].transaction == tx);
  // Marked once the answer's write has returned, which may be just after the client read it.
  CHECK(eventually([&] { return journal_rows(serve.journal_path())[0].delivered_ms != 0; },
                   std::chrono::seconds(2)));
  auto spent = spending_rows(again->ledger);
  REQUIRE(spent.size() == 1);
  CHECK(spent[0].state == "paid");
  CHECK(spent[0].transaction == tx);
}
