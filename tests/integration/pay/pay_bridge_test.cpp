// `pay` → `serve` → upstream with real binaries and the embedded facilitator: what an agent's MCP
// client sees, what was settled in the seller's ledger, what the wallet recorded.
#include <set>

#include "tests/integration/pay/pay_fixture.h"

using namespace x402proxy::testing;
namespace json = boost::json;

namespace {

std::string evm_signer(const std::string& dir, const std::string& key = kPayerKey,
                       const std::string& name = "evm.key") {
  return "  - { type: evm, key_file: " + write_key(dir, name, key) + " }\n";
}

const json::object& receipt_of(const json::object& response) {
  return response.at("result").at("_meta").at("x402/payment-response").as_object();
}

}  // namespace

TEST_CASE("pay passes a free call through and pays a priced one with an EVM key", "[pay]") {
  std::string dir = make_temp_dir("pay-evm");
  ServeFixture serve(embedded_serve_options(dir));
  PayBridge pay(dir, "http://127.0.0.1:" + std::to_string(serve.port) + "/mcp", evm_signer(dir),
                "limits: { per_call: \"$0.01\", per_day: \"$1\" }\n");
  REQUIRE(pay.client->initialize());

  auto free = pay.client->call_tool(1, "echo", {{"text", "hello"}});
  REQUIRE(free);
  CHECK(free->at("result").at("content").at(0).at("text").as_string() == "hello");
  CHECK(settled_transfers(dir + "/ledger.sqlite").empty());

  auto paid = pay.client->call_tool(2, "add", {{"a", 2}, {"b", 40}});
  REQUIRE(paid);
  INFO(json::serialize(*paid) << "\n" << pay.log());
  REQUIRE(paid->contains("result"));
  CHECK(paid->at("result").at("content").at(0).at("text").as_string() == "42");
  const auto& receipt = receipt_of(*paid);
  CHECK(receipt.at("success").as_bool());
  CHECK(receipt.at("payer").as_string() == kPayer);
  CHECK(receipt.at("network").as_string() == "eip155:84532");

  auto transfers = settled_transfers(dir + "/ledger.sqlite");
  REQUIRE(transfers.size() == 1);
  CHECK(transfers[0].payer == kPayer);
  CHECK(transfers[0].amount == 1000);
  CHECK(transfers[0].transaction == receipt.at("transaction").as_string());
  CHECK(serve.upstream_tool_calls("add") == 1);
  CHECK_THAT(pay.log(), Catch::Contains("tool-result binding"));

  pay.client->close_input();
  CHECK(pay.client->process().wait_for_exit(std::chrono::seconds(10)) == 0);
  auto report = run_and_capture(
      {proxy_binary(), "pay", "--config", dir + "/wallet.yaml", "--report"}, dir + "/report.txt");
  CHECK_THAT(report, Catch::Contains("$0.001 in 1 payment"));
}

TEST_CASE("pay pays with a Solana key, chain data from the simulated RPC", "[pay][solana]") {
  std::string dir = make_temp_dir("pay-solana");
  ServeFixture serve(embedded_serve_options(dir));
  TestHttpServer rpc(simulated_solana_rpc());
  std::string address;
  const std::string key = new_solana_key_file(dir, address);
  PayBridge pay(dir, "http://127.0.0.1:" + std::to_string(serve.port) + "/mcp",
                "  - { type: solana, key_file: " + key + ", rpc: " + rpc.url() + " }\n");
  REQUIRE(pay.client->initialize());
  auto paid = pay.client->call_tool(1, "add", {{"a", 4}, {"b", 5}});
  REQUIRE(paid);
  INFO(json::serialize(*paid) << "\n" << pay.log());
  REQUIRE(paid->contains("result"));
  CHECK(paid->at("result").at("content").at(0).at("text").as_string() == "9");
  CHECK(receipt_of(*paid).at("payer").as_string() == address);
  CHECK(receipt_of(*paid).at("network").as_string() == "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1");
  auto transfers = settled_transfers(dir + "/ledger.sqlite");
  REQUIRE(transfers.size() == 1);
  CHECK(transfers[0].payee == kSolanaPayTo);
}

TEST_CASE("pay falls back to the next signer when the first one fails", "[pay][fallback]") {
  std::string dir = make_temp_dir("pay-fallback");
  ServeFixture serve(embedded_serve_options(dir, "$1", /*solana_first=*/true));
  // The first signer's Solana node accepts the connection and never answers.
  TestHttpServer dead_rpc([](const RecordedRequest&) {
    TestResponse r;
    r.delay = std::chrono::seconds(20);
    return r;
  });
  std::string address;
  const std::string key = new_solana_key_file(dir, address);
  PayBridge pay(dir, "http://127.0.0.1:" + std::to_string(serve.port) + "/mcp",
                "  - { type: solana, key_file: " + key + ", rpc: " + dead_rpc.url() +
                    ", rpc_timeout: 1s }\n" + evm_signer(dir));
  REQUIRE(pay.client->initialize());
  auto paid = pay.client->call_tool(1, "add", {{"a", 1}, {"b", 1}});
  REQUIRE(paid);
  INFO(json::serialize(*paid) << "\n" << pay.log());
  REQUIRE(paid->contains("result"));
  CHECK(receipt_of(*paid).at("network").as_string() == "eip155:84532");
  CHECK(receipt_of(*paid).at("payer").as_string() == kPayer);
  CHECK_THAT(pay.log(), Catch::Contains("falling back to the next candidate"));
  CHECK(settled_transfers(dir + "/ledger.sqlite").size() == 1);
}

TEST_CASE("a call over the spending limit is refused before anything is signed", "[pay][limits]") {
  std::string dir = make_temp_dir("pay-limit");
  ServeFixture serve(embedded_serve_options(dir));
  PayBridge pay(dir, "http://127.0.0.1:" + std::to_string(serve.port) + "/mcp", evm_signer(dir),
                "limits: { per_call: \"$0.0005\" }\n");
  REQUIRE(pay.client->initialize());
  auto refused = pay.client->call_tool(1, "add", {{"a", 1}, {"b", 2}});
  REQUIRE(refused);
  INFO(json::serialize(*refused));
  CHECK(error_code(*refused) == -32051);
  CHECK_THAT(error_message(*refused), Catch::Contains("per_call is $0.0005") &&
                                          Catch::Contains("costs $0.001") &&
                                          Catch::Contains("nothing was signed"));
  CHECK(refused->at("error").at("data").at("reason").as_string() == "limit.per_call");
  CHECK(serve.upstream_tool_calls("add") == 0);
  CHECK(settled_transfers(dir + "/ledger.sqlite").empty());
  CHECK_THAT(pay.log(), !Catch::Contains("paying "));
}

TEST_CASE("concurrent paid calls each carry their own payment and all settle once",
          "[pay][concurrency]") {
  std::string dir = make_temp_dir("pay-concurrent");
  ServeFixture serve(embedded_serve_options(dir));
  PayBridge pay(dir, "http://127.0.0.1:" + std::to_string(serve.port) + "/mcp", evm_signer(dir));
  REQUIRE(pay.client->initialize());
  constexpr int kCalls = 6;
  for (int i = 0; i < kCalls; ++i) {
    pay.client->send(json::object{
        {"jsonrpc", "2.0"},
        {"id", 100 + i},
        {"method", "tools/call"},
        {"params", json::object{{"name", "add"}, {"arguments", {{"a", i}, {"b", 1}}}}}});
  }
  std::set<std::string> transactions;
  for (int i = 0; i < kCalls; ++i) {
    auto answer = pay.client->response(100 + i);
    REQUIRE(answer);
    INFO(json::serialize(*answer));
    REQUIRE(answer->contains("result"));
    CHECK(answer->at("result").at("content").at(0).at("text").as_string() == std::to_string(i + 1));
    transactions.insert(std::string(receipt_of(*answer).at("transaction").as_string()));
  }
  CHECK(transactions.size() == kCalls);
  CHECK(settled_transfers(dir + "/ledger.sqlite").size() == kCalls);
  CHECK(serve.upstream_tool_calls("add") == kCalls);
}

TEST_CASE("a seller that refuses the payment gets no second try with the same offer",
          "[pay][rejected]") {
  std::string dir = make_temp_dir("pay-rejected");
  ServeFixture serve(embedded_serve_options(dir, "$0"));  // the payer holds nothing
  PayBridge pay(dir, "http://127.0.0.1:" + std::to_string(serve.port) + "/mcp", evm_signer(dir));
  REQUIRE(pay.client->initialize());
  auto refused = pay.client->call_tool(1, "add", {{"a", 1}, {"b", 2}});
  REQUIRE(refused);
  INFO(json::serialize(*refused) << "\n" << pay.log());
  CHECK(error_code(*refused) == -32052);
  CHECK_THAT(error_message(*refused),
             Catch::Contains("the seller refused it") &&
                 Catch::Contains("invalid_exact_evm_insufficient_balance"));
  CHECK(settled_transfers(dir + "/ledger.sqlite").empty());
  pay.client->close_input();
  CHECK(pay.client->process().wait_for_exit(std::chrono::seconds(10)) == 0);
  auto report = run_and_capture(
      {proxy_binary(), "pay", "--config", dir + "/wallet.yaml", "--report"}, dir + "/report.txt");
  CHECK_THAT(report, Catch::Contains("no payments recorded"));
}

TEST_CASE("an unreachable seller is a clear error and nothing is paid", "[pay][unreachable]") {
  std::string dir = make_temp_dir("pay-unreachable");
  unsigned short closed_port = 0;
  {
    TestHttpServer gone([](const RecordedRequest&) { return TestResponse{}; });
    closed_port = gone.port();
  }
  PayBridge pay(dir, "http://127.0.0.1:" + std::to_string(closed_port) + "/mcp", evm_signer(dir));
  pay.client->send(json::object{{"jsonrpc", "2.0"},
                                {"id", 1},
                                {"method", "tools/call"},
                                {"params", json::object{{"name", "add"}}}});
  auto answer = pay.client->response(1);
  REQUIRE(answer);
  INFO(json::serialize(*answer));
  CHECK(error_code(*answer) == -32603);
  CHECK_THAT(error_message(*answer),
             Catch::Contains("unreachable") && Catch::Contains(std::to_string(closed_port)));
}

TEST_CASE("pay answers a line that is not JSON with a parse error and keeps going", "[pay]") {
  std::string dir = make_temp_dir("pay-parse");
  ServeFixture serve(embedded_serve_options(dir));
  PayBridge pay(dir, "http://127.0.0.1:" + std::to_string(serve.port) + "/mcp", evm_signer(dir));
  pay.client->send_raw("{not json");
  REQUIRE(pay.client->initialize());
  auto messages = pay.client->messages();
  REQUIRE_FALSE(messages.empty());
  CHECK(messages.front().at("error").at("code").as_int64() == -32700);
}

TEST_CASE("progress notifications of a paid call reach the client before its result",
          "[pay][stream]") {
  std::string dir = make_temp_dir("pay-progress");
  ServeFixture serve(embedded_serve_options(dir));
  PayBridge pay(dir, "http://127.0.0.1:" + std::to_string(serve.port) + "/mcp", evm_signer(dir));
  REQUIRE(pay.client->initialize());
  pay.client->send(
      json::object{{"jsonrpc", "2.0"},
                   {"id", 5},
                   {"method", "tools/call"},
                   {"params", json::object{{"name", "slow_progress"},
                                           {"arguments", {{"steps", 3}, {"interval_ms", 50}}},
                                           {"_meta", {{"progressToken", "p-1"}}}}}});
  auto answer = pay.client->response(5);
  REQUIRE(answer);
  INFO(json::serialize(*answer) << "\n" << pay.log());
  REQUIRE(answer->contains("result"));
  CHECK(receipt_of(*answer).at("success").as_bool());
  std::vector<double> progress;
  bool result_seen = false;
  for (const auto& m : pay.client->messages()) {
    if (m.contains("method") && m.at("method") == "notifications/progress") {
      CHECK_FALSE(result_seen);
      CHECK(m.at("params").at("progressToken") == "p-1");
      progress.push_back(m.at("params").at("progress").to_number<double>());
    }
    result_seen = result_seen || (m.contains("id") && m.at("id") == 5);
  }
  CHECK(progress.size() == 3);
}
