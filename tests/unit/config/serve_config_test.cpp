#include "config/serve_config.h"
#include "config/price_table.h"

#include <catch2/catch.hpp>

using namespace x402proxy;
using config::parse_serve_config;

namespace {
const char* kValid = R"(listen: 127.0.0.1:0
upstream: { url: http://127.0.0.1:3001/mcp }
facilitator: { url: http://127.0.0.1:4020, verify_timeout: 500ms }
pay_to: { eip155: "0x209693Bc6afc0C5328bA36FaF03C514EF312287C" }
accept:
  - { network: base-sepolia, asset: USDC }
  - { network: eip155:8453, asset: "0x833589fcd6edb6e08f4c7c32d4f71b54bda02913" }
tools:
  echo: free
  add: "$0.001"
  slow: { price: "$0.05", description: "slow one" }
  exact: { amount: "2500", asset: USDC }
default: free
)";

std::string error_of(const std::string& yaml) {
  auto parsed = parse_serve_config(yaml, "proxy.yaml");
  REQUIRE_FALSE(parsed.ok());
  return parsed.error().message;
}
}  // namespace

TEST_CASE("a valid config yields the requirements each priced tool offers", "[config]") {
  auto parsed = parse_serve_config(kValid, "proxy.yaml");
  REQUIRE(parsed.ok());
  const config::ServeConfig& cfg = **parsed;
  CHECK(cfg.facilitator.verify_timeout == std::chrono::milliseconds(500));
  CHECK(cfg.facilitator.settle_timeout == std::chrono::seconds(60));
  REQUIRE(cfg.accept.size() == 2);
  auto table = config::build_price_table(cfg);
  REQUIRE(table.ok());
  CHECK(table->find("echo") == nullptr);
  CHECK(table->find("unlisted") == nullptr);
  const config::ToolPrice* add = table->find("add");
  REQUIRE(add != nullptr);
  REQUIRE(add->accepts.size() == 2);
  CHECK(add->accepts[0].network == "eip155:84532");
  CHECK(add->accepts[0].amount == "1000");
  CHECK(add->accepts[0].asset == "0x036CbD53842c5426634e7929541eC2318f3dCF7e");
  CHECK(add->accepts[0].extra.at("name").as_string() == "USDC");
  CHECK(add->accepts[1].extra.at("name").as_string() == "USD Coin");
  CHECK(add->accepts[1].max_timeout_seconds == 60);
  CHECK(table->find("slow")->description == "slow one");
  CHECK(table->find("slow")->accepts[0].amount == "50000");
  const config::ToolPrice* exact = table->find("exact");
  REQUIRE(exact->accepts.size() == 2);  // USDC exists on both accepted networks
  CHECK(exact->accepts[0].amount == "2500");
  auto text = config::format_price_table(cfg, *table);
  CHECK_THAT(text, Catch::Contains("add") && Catch::Contains("$0.001") &&
                       Catch::Contains("1000 USDC on base-sepolia"));
}

TEST_CASE("a default price applies to every unlisted tool but not to free ones", "[config]") {
  std::string yaml = kValid;
  yaml.replace(yaml.find("default: free"), 13, "default: \"$0.01\"");
  auto parsed = parse_serve_config(yaml, "proxy.yaml");
  REQUIRE(parsed.ok());
  auto table = config::build_price_table(**parsed);
  REQUIRE(table.ok());
  REQUIRE(table->find("unlisted") != nullptr);
  CHECK(table->find("unlisted")->accepts[0].amount == "10000");
  CHECK(table->find("echo") == nullptr);
}

TEST_CASE("errors name file, line, column and key, and what was expected", "[config]") {
  std::string bad_price = kValid;
  bad_price.replace(bad_price.find("\"$0.001\""), 8, "\"0.001$\"");
  CHECK_THAT(error_of(bad_price),
             Catch::StartsWith("proxy.yaml:10:8: tools.add: expected a price") &&
                 Catch::Contains("\"0.001$\""));

  std::string unknown_key = kValid;
  unknown_key.replace(unknown_key.find("default: free"), 13, "defualt: free");
  CHECK_THAT(error_of(unknown_key), Catch::StartsWith("proxy.yaml:13:1: defualt: unknown key") &&
                                        Catch::Contains("default"));

  std::string bad_network = kValid;
  bad_network.replace(bad_network.find("base-sepolia"), 12, "base-goerli");
  CHECK_THAT(
      error_of(bad_network),
      Catch::StartsWith("proxy.yaml:6:16: accept[0].network: unknown network \"base-goerli\""));

  std::string bad_address = kValid;
  bad_address.replace(bad_address.find("0x209693Bc"), 10, "0x209693Zc");
  CHECK_THAT(error_of(bad_address), Catch::Contains("proxy.yaml:4:19: pay_to.eip155: expected 0x"));

  std::string bad_timeout = kValid;
  bad_timeout.replace(bad_timeout.find("500ms"), 5, "5 sec");
  CHECK_THAT(
      error_of(bad_timeout),
      Catch::Contains(":3:") && Catch::Contains("facilitator.verify_timeout: expected a duration"));

  std::string too_precise = kValid;
  too_precise.replace(too_precise.find("\"$0.001\""), 8, "\"$0.0000001\"");
  CHECK_THAT(error_of(too_precise), Catch::Contains("more decimal places"));

  std::string solana_without_pay_to = kValid;
  solana_without_pay_to.replace(solana_without_pay_to.find("  - { network: eip155:8453"), 0,
                                "  - { network: solana-devnet, asset: USDC }\n");
  CHECK_THAT(error_of(solana_without_pay_to), Catch::Contains("accept[1]: no pay_to.solana"));

  CHECK_THAT(error_of("listen: [1, 2"), Catch::StartsWith("proxy.yaml:"));
  CHECK_THAT(error_of("listen: 127.0.0.1:1\n"), Catch::Contains("upstream: missing"));
}

TEST_CASE("the commented example config is valid", "[config]") {
  auto parsed = config::load_serve_config("examples/proxy.yaml");
  REQUIRE(parsed.ok());
  auto table = config::build_price_table(**parsed);
  REQUIRE(table.ok());
  CHECK(table->find("longRunningOperation") != nullptr);
}

TEST_CASE("store names a SQLite file or a PostgreSQL URL, never with its password", "[config]") {
  auto sqlite =
      parse_serve_config(std::string(kValid) + "store: /var/lib/x/payments.sqlite\n", "proxy.yaml");
  REQUIRE(sqlite.ok());
  CHECK((*sqlite)->journal == "/var/lib/x/payments.sqlite");
  CHECK_FALSE((*sqlite)->store.postgres());

  auto url = parse_serve_config(
      std::string(kValid) + "store: postgresql://x402@db:5432/x402?sslmode=require\n",
      "proxy.yaml");
  REQUIRE(url.ok());
  CHECK((*url)->store.postgres_url == "postgresql://x402@db:5432/x402?sslmode=require");
  CHECK((*url)->store.pool == 4);

  auto full = parse_serve_config(
      std::string(kValid) +
          "store: { url: \"postgres://x402@db/x402\", password_file: /run/secrets/pw, pool: 8,"
          " statement_timeout: 2s, connect_timeout: 1s, replica: serve-0, lease: 10s }\n",
      "proxy.yaml");
  REQUIRE(full.ok());
  const auto& store = (*full)->store;
  CHECK(store.password_file == "/run/secrets/pw");
  CHECK(store.pool == 8);
  CHECK(store.statement_timeout == std::chrono::seconds(2));
  CHECK(store.connect_timeout == std::chrono::seconds(1));
  CHECK(store.replica == "serve-0");
  CHECK(store.lease == std::chrono::seconds(10));

  auto from_env =
      parse_serve_config(std::string(kValid) + "store: { url_env: X402_STORE_URL }\n", "p.yaml");
  REQUIRE(from_env.ok());
  CHECK((*from_env)->store.postgres());
  CHECK((*from_env)->store.url_env == "X402_STORE_URL");

  CHECK_THAT(error_of(std::string(kValid) + "store: postgresql://x402:hunter2@db/x402\n"),
             Catch::Contains("store: the URL holds a password") && !Catch::Contains("hunter2"));
  CHECK_THAT(
      error_of(std::string(kValid) + "store: { url: \"postgresql://db/x402?password=hunter2\" }\n"),
      Catch::Contains("holds a password"));
  CHECK_THAT(error_of(std::string(kValid) + "store: mysql://db/x402\n"),
             Catch::Contains("expected a SQLite file path or a postgresql:// URL"));
  CHECK_THAT(error_of(std::string(kValid) + "store: { url: \"postgresql://db/x\", url_env: U }\n"),
             Catch::Contains("one of url or url_env"));
  CHECK_THAT(error_of(std::string(kValid) +
                      "store: { url: \"postgresql://db/x\", password_env: A, password_file: B }\n"),
             Catch::Contains("one of password_env or password_file"));
  CHECK_THAT(error_of(std::string(kValid) + "store: { url: \"postgresql://db/x\", lease: 1s }\n"),
             Catch::Contains("store.lease") && Catch::Contains("at least 3s"));
  CHECK_THAT(error_of(std::string(kValid) + "store: { url: \"postgresql://db/x\", pool: 0 }\n"),
             Catch::Contains("store.pool"));
  CHECK_THAT(error_of(std::string(kValid) + "store: { pool: 2 }\n"),
             Catch::Contains("store.url: missing"));
  CHECK_THAT(error_of(std::string(kValid) + "store: { url: \"postgresql://db/x\", size: 2 }\n"),
             Catch::Contains("size"));
  CHECK_THAT(error_of(std::string(kValid) + "store: a.sqlite\njournal: b.sqlite\n"),
             Catch::Contains("one of store or journal"));
  CHECK_THAT(error_of(std::string(kValid) +
                      "store: postgresql://db/x\naccounts: { ledger: accounts.sqlite }\n"),
             Catch::Contains("cannot be used with a PostgreSQL store"));
}

TEST_CASE("upstream.transport names the upstream's MCP transport, with url only", "[config]") {
  using Transport = config::UpstreamConfig::Transport;
  std::string yaml = kValid;
  const std::string plain = "upstream: { url: http://127.0.0.1:3001/mcp }";
  auto with = [&](const std::string& upstream) {
    std::string text = yaml;
    text.replace(text.find(plain), plain.size(), upstream);
    return text;
  };
  auto parsed = parse_serve_config(kValid, "proxy.yaml");
  REQUIRE(parsed.ok());
  CHECK((*parsed)->upstream.transport == Transport::streamable_http);
  auto sse = parse_serve_config(
      with("upstream: { url: http://127.0.0.1:3001/sse, transport: sse }"), "proxy.yaml");
  REQUIRE(sse.ok());
  CHECK((*sse)->upstream.transport == Transport::sse);
  auto detected = parse_serve_config(
      with("upstream: { url: http://127.0.0.1:3001/mcp, transport: auto }"), "proxy.yaml");
  REQUIRE(detected.ok());
  CHECK((*detected)->upstream.transport == Transport::automatic);
  CHECK_THAT(error_of(with("upstream: { url: http://127.0.0.1:3001/sse, transport: pigeon }")),
             Catch::Contains("upstream.transport") && Catch::Contains("pigeon"));
  CHECK_THAT(error_of(with("upstream: { command: [node, s.js], transport: sse }")),
             Catch::Contains("only applies with upstream.url"));
}
