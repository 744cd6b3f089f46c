#include "config/pay_config.h"

#include <string>

#include <catch2/catch.hpp>

using namespace x402proxy;
using config::parse_pay_config;

namespace {

// Line numbers matter: the error tests below name them.
const char* kWallet = R"(remote: https://mcp.example.com/mcp
listen: stdio
request_timeout: 90s
signers:
  - { type: evm, key_file: ./buyer.key }
  - type: solana
    key_env: SOLANA_BUYER_KEY
    rpc: https://api.devnet.solana.com
    rpc_timeout: 3s
tokens: [USDC]
limits:
  per_call: "$0.05"
  per_day: "$2"
  per_tool:
    search: "$0.5"
  payees: ["0x209693Bc6afc0C5328bA36FaF03C514EF312287C"]
  networks: [base-sepolia, "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1"]
ledger: /tmp/wallet-spending.sqlite
)";

std::string error_of(const std::string& yaml) {
  auto parsed = parse_pay_config(yaml, "wallet.yaml");
  REQUIRE_FALSE(parsed.ok());
  return parsed.error().message;
}

std::string with(std::string yaml, const std::string& from, const std::string& to) {
  const auto at = yaml.find(from);
  REQUIRE(at != std::string::npos);
  yaml.replace(at, from.size(), to);
  return yaml;
}

}  // namespace

TEST_CASE("a full wallet config is parsed into signers, tokens and dollar limits", "[pay_config]") {
  auto parsed = parse_pay_config(kWallet, "wallet.yaml");
  REQUIRE(parsed.ok());
  const config::PayConfig& cfg = **parsed;
  CHECK(cfg.source == "wallet.yaml");
  CHECK(cfg.remote == "https://mcp.example.com/mcp");
  CHECK(cfg.listen == "stdio");
  CHECK(cfg.tls_verify);
  CHECK(cfg.request_timeout == std::chrono::seconds(90));
  CHECK(cfg.ledger == "/tmp/wallet-spending.sqlite");
  CHECK(cfg.log_level == "info");

  REQUIRE(cfg.signers.size() == 2);
  CHECK(cfg.signers[0].family == x402::NetworkFamily::evm);
  CHECK(cfg.signers[0].key_file == "./buyer.key");
  CHECK(cfg.signers[0].key_env.empty());
  CHECK(cfg.signers[0].rpc_timeout == std::chrono::milliseconds(2000));
  CHECK(cfg.signers[0].line == 5);
  CHECK(cfg.signers[1].family == x402::NetworkFamily::solana);
  CHECK(cfg.signers[1].key_file.empty());
  CHECK(cfg.signers[1].key_env == "SOLANA_BUYER_KEY");
  CHECK(cfg.signers[1].rpc == "https://api.devnet.solana.com");
  CHECK(cfg.signers[1].rpc_timeout == std::chrono::seconds(3));
  CHECK(cfg.signers[1].line == 6);

  CHECK(cfg.tokens == std::vector<std::string>{"USDC"});

  const config::PayLimitsConfig& limits = cfg.limits;
  REQUIRE(limits.per_call.has_value());
  CHECK(*limits.per_call == x402::Amount(50000));
  REQUIRE(limits.per_day.has_value());
  CHECK(*limits.per_day == x402::Amount(2000000));
  REQUIRE(limits.per_tool.size() == 1);
  CHECK(limits.per_tool.at("search") == x402::Amount(500000));
  CHECK(limits.payees == std::vector<std::string>{"0x209693Bc6afc0C5328bA36FaF03C514EF312287C"});
  // The v1 name is stored as its CAIP-2 id, the form offers are compared in.
  CHECK(limits.networks ==
        std::vector<std::string>{"eip155:84532", "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1"});
}

TEST_CASE("a minimal wallet config takes the defaults", "[pay_config]") {
  auto parsed = parse_pay_config(
      "remote: http://127.0.0.1:3001/mcp\nsigners: [{type: evm, key_env: BUYER_KEY}]\n",
      "wallet.yaml");
  REQUIRE(parsed.ok());
  const config::PayConfig& cfg = **parsed;
  CHECK(cfg.listen == "stdio");
  CHECK(cfg.request_timeout == std::chrono::seconds(120));
  CHECK(cfg.tokens.empty());
  CHECK_FALSE(cfg.limits.per_call.has_value());
  CHECK_FALSE(cfg.limits.per_day.has_value());
  CHECK(cfg.limits.networks.empty());
  CHECK(cfg.ledger == "spending.sqlite");
}

TEST_CASE("a loopback listen address is accepted", "[pay_config]") {
  for (const char* listen : {"127.0.0.1:8403", "localhost:8403", "\"[::1]:8403\""}) {
    auto parsed = parse_pay_config(with(kWallet, "listen: stdio", std::string("listen: ") + listen),
                                   "wallet.yaml");
    REQUIRE(parsed.ok());
    CHECK((*parsed)->listen != "stdio");
  }
}

TEST_CASE("a wallet config without remote is refused at the top level", "[pay_config]") {
  CHECK_THAT(error_of(with(kWallet, "remote: https://mcp.example.com/mcp\n", "")),
             Catch::StartsWith("wallet.yaml:1:1: remote: is required"));
}

TEST_CASE("a remote that is not an http URL is refused with its line", "[pay_config]") {
  CHECK_THAT(error_of(with(kWallet, "https://mcp.example.com/mcp", "ws://mcp.example.com/mcp")),
             Catch::StartsWith("wallet.yaml:1:9: remote: expected an http:// or https:// URL") &&
                 Catch::Contains("ws://mcp.example.com/mcp"));
}

TEST_CASE("listening on every interface is refused since the bridge holds the wallet",
          "[pay_config]") {
  CHECK_THAT(error_of(with(kWallet, "listen: stdio", "listen: 0.0.0.0:8403")),
             Catch::StartsWith("wallet.yaml:2:9: listen: expected stdio or a loopback address") &&
                 Catch::Contains("0.0.0.0:8403"));
  CHECK_THAT(error_of(with(kWallet, "listen: stdio", "listen: 127.0.0.1")),
             Catch::StartsWith("wallet.yaml:2:9: listen:"));
}

TEST_CASE("an unknown key is refused with its path and the keys allowed", "[pay_config]") {
  CHECK_THAT(error_of(with(kWallet, "  per_day:", "  per_week:")),
             Catch::StartsWith("wallet.yaml:13:3: limits.per_week: unknown key") &&
                 Catch::Contains("per_day"));
  CHECK_THAT(error_of(std::string(kWallet) + "wallet_key: 0xabc\n"),
             Catch::StartsWith("wallet.yaml:19:1: wallet_key: unknown key"));
  CHECK_THAT(error_of(with(kWallet, "    rpc_timeout: 3s", "    timeout: 3s")),
             Catch::StartsWith("wallet.yaml:9:5: signers[1].timeout: unknown key"));
}

TEST_CASE("a signer needs exactly one of key_file and key_env", "[pay_config]") {
  CHECK_THAT(error_of(with(kWallet, "{ type: evm, key_file: ./buyer.key }", "{ type: evm }")),
             Catch::StartsWith("wallet.yaml:5:5: signers[0]: expected exactly one of key_file"));
  CHECK_THAT(error_of(with(kWallet, "    key_env: SOLANA_BUYER_KEY",
                           "    key_env: SOLANA_BUYER_KEY\n    key_file: ./solana.key")),
             Catch::StartsWith("wallet.yaml:6:5: signers[1]: expected exactly one of key_file"));
}

TEST_CASE("a solana signer without rpc is refused naming signers[1].rpc", "[pay_config]") {
  const std::string message =
      error_of(with(kWallet, "    rpc: https://api.devnet.solana.com\n", ""));
  CHECK_THAT(message, Catch::StartsWith("wallet.yaml:6:") &&
                          Catch::Contains("signers[1].rpc: is required for a solana signer"));
}

TEST_CASE("a signer of an unknown type is refused with the types allowed", "[pay_config]") {
  CHECK_THAT(error_of(with(kWallet, "type: solana", "type: bitcoin")),
             Catch::StartsWith("wallet.yaml:6:11: signers[1].type: expected evm or solana") &&
                 Catch::Contains("bitcoin"));
}

TEST_CASE("a limit that is not a dollar amount is refused with what came", "[pay_config]") {
  CHECK_THAT(error_of(with(kWallet, "per_call: \"$0.05\"", "per_call: 5 dollars")),
             Catch::StartsWith("wallet.yaml:12:13: limits.per_call: expected a dollar amount") &&
                 Catch::Contains("5 dollars"));
  CHECK_THAT(error_of(with(kWallet, "search: \"$0.5\"", "search: lots")),
             Catch::StartsWith("wallet.yaml:15:13: limits.per_tool.search: expected a dollar"));
}

TEST_CASE("an unknown network in limits.networks is refused", "[pay_config]") {
  CHECK_THAT(error_of(with(kWallet, "networks: [base-sepolia,", "networks: [base-goerli,")),
             Catch::StartsWith("wallet.yaml:17:14: limits.networks: unknown network") &&
                 Catch::Contains("base-goerli"));
}

TEST_CASE("a YAML syntax error names the file and line", "[pay_config]") {
  auto parsed = parse_pay_config("remote: [unclosed\n", "wallet.yaml");
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.error().reason == "config.syntax");
  CHECK_THAT(parsed.error().message, Catch::StartsWith("wallet.yaml:"));
}

TEST_CASE("a per_tool entry whose key is not a tool name is refused, not thrown", "[pay_config]") {
  CHECK_THAT(
      error_of(with(kWallet, "    search: \"$0.5\"", "    ? [search, fetch]\n    : \"$0.5\"")),
      Catch::StartsWith("wallet.yaml:15:7: limits.per_tool: expected a tool name"));
}

TEST_CASE(
    "transport: sse points pay at a seller's HTTP+SSE endpoint, auto detects it, and anything "
    "else is refused",
    "[pay_config]") {
  auto plain = parse_pay_config(kWallet, "wallet.yaml");
  REQUIRE(plain.ok());
  CHECK_FALSE((*plain)->remote_sse);
  auto sse = parse_pay_config(with(kWallet, "listen: stdio", "transport: sse"), "wallet.yaml");
  REQUIRE(sse.ok());
  CHECK((*sse)->remote_sse);
  CHECK_FALSE((*sse)->remote_auto);
  auto detect = parse_pay_config(with(kWallet, "listen: stdio", "transport: auto"), "wallet.yaml");
  REQUIRE(detect.ok());
  CHECK((*detect)->remote_auto);
  CHECK_FALSE((*detect)->remote_sse);
  CHECK_THAT(error_of(with(kWallet, "listen: stdio", "transport: websocket")),
             Catch::Contains("transport") && Catch::Contains("websocket"));
}
