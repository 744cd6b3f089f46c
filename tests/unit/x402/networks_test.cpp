#include "x402/networks.h"

#include <set>
#include <string>

#include <catch2/catch.hpp>

using namespace x402proxy::x402;

TEST_CASE("networks are found by CAIP-2 id and by v1 name", "[networks]") {
  const Network* by_caip2 = find_network("eip155:84532");
  const Network* by_name = find_network("base-sepolia");
  REQUIRE(by_caip2 != nullptr);
  CHECK(by_caip2 == by_name);
  CHECK(by_caip2->evm_chain_id == 84532);
  CHECK(by_caip2->family == NetworkFamily::evm);
  CHECK(by_caip2->testnet);

  const Network* solana = find_network("solana");
  REQUIRE(solana != nullptr);
  CHECK(solana->caip2 == "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp");
  CHECK(solana->family == NetworkFamily::solana);
  CHECK_FALSE(solana->testnet);

  CHECK(find_network("eip155:8453")->v1_name == "base");
  CHECK(find_network("eip155:42161")->v1_name.empty());
  CHECK(find_network("eip155:42161")->evm_chain_id == 42161);
}

TEST_CASE("unknown or differently spelled networks are not found", "[networks]") {
  CHECK(find_network("") == nullptr);
  CHECK(find_network("Base") == nullptr);  // names are case-sensitive on the wire
  CHECK(find_network("eip155:999999") == nullptr);
  CHECK(find_network("eip155") == nullptr);
  CHECK(find_network(":") == nullptr);  // must not match an empty v1 name
}

TEST_CASE("the research §1.6 name table converts both ways", "[networks]") {
  const std::pair<const char*, const char*> table[] = {
      {"base", "eip155:8453"},
      {"base-sepolia", "eip155:84532"},
      {"ethereum", "eip155:1"},
      {"sepolia", "eip155:11155111"},
      {"avalanche", "eip155:43114"},
      {"avalanche-fuji", "eip155:43113"},
      {"polygon", "eip155:137"},
      {"polygon-amoy", "eip155:80002"},
      {"iotex", "eip155:4689"},
      {"sei", "eip155:1329"},
      {"sei-testnet", "eip155:1328"},
      {"abstract", "eip155:2741"},
      {"abstract-testnet", "eip155:11124"},
      {"peaq", "eip155:3338"},
      {"story", "eip155:1514"},
      {"educhain", "eip155:41923"},
      {"skale-base-sepolia", "eip155:324705682"},
      {"megaeth", "eip155:4326"},
      {"monad", "eip155:143"},
      {"stable", "eip155:988"},
      {"stable-testnet", "eip155:2201"},
      {"solana", "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp"},
      {"solana-devnet", "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1"},
      {"solana-testnet", "solana:4uhcVJyU9pJkvQyS88uRDiswHXSCkY3z"},
  };
  for (const auto& [v1, caip2] : table) {
    INFO(v1);
    CHECK(to_caip2(v1) == caip2);
    CHECK(to_caip2(caip2) == caip2);
    CHECK(to_v1_name(caip2) == v1);
    CHECK(to_v1_name(v1) == v1);
  }
}

TEST_CASE("to_caip2 passes unknown CAIP-2 ids through and refuses unknown names", "[networks]") {
  CHECK(to_caip2("eip155:999999") == "eip155:999999");
  CHECK(to_caip2("unknown-chain") == "");
  CHECK(to_v1_name("eip155:999999") == "");
  CHECK(to_v1_name("eip155:421614") == "");  // Arbitrum Sepolia has no v1 name
}

TEST_CASE("EVM chain ids agree with their CAIP-2 references", "[networks]") {
  std::set<std::string_view> seen;
  for (const Network& network : known_networks()) {
    CHECK(seen.insert(network.caip2).second);
    if (network.family == NetworkFamily::evm) {
      CHECK(network.caip2 == "eip155:" + std::to_string(network.evm_chain_id));
    } else {
      CHECK(network.caip2.substr(0, 7) == "solana:");
      CHECK(network.caip2.size() == 7 + 32);
    }
  }
}

TEST_CASE("USDC carries the EIP-712 domain that differs between Base and Base Sepolia",
          "[networks]") {
  const Asset* base = find_asset("base", "USDC");
  REQUIRE(base != nullptr);
  CHECK(base->address == "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913");
  CHECK(base->eip712_name == "USD Coin");
  CHECK(base->eip712_version == "2");
  CHECK(base->decimals == 6);

  const Asset* sepolia = find_asset("eip155:84532", "usdc");
  REQUIRE(sepolia != nullptr);
  CHECK(sepolia->address == "0x036CbD53842c5426634e7929541eC2318f3dCF7e");
  CHECK(sepolia->eip712_name == "USDC");
  CHECK(sepolia->eip712_version == "2");
}

TEST_CASE("every network of the brief has USDC", "[networks]") {
  for (const char* network :
       {"base", "base-sepolia", "ethereum", "polygon", "polygon-amoy", "avalanche",
        "avalanche-fuji", "eip155:42161", "eip155:421614", "solana", "solana-devnet"}) {
    INFO(network);
    const Asset* usdc = find_asset(network, "USDC");
    REQUIRE(usdc != nullptr);
    CHECK(usdc->decimals == 6);
    CHECK(usdc->network == to_caip2(network));
  }
  CHECK(find_asset("solana", "USDC")->address == "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v");
  CHECK(find_asset("solana-devnet", "USDC")->address ==
        "4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU");
  CHECK(find_asset("solana", "USDC")->eip712_name.empty());
  CHECK(find_asset("ethereum", "USDC")->address == "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48");
}

TEST_CASE("EVM assets match by address in any hex case, Solana mints only exactly", "[networks]") {
  const Asset* lower = find_asset("base-sepolia", "0x036cbd53842c5426634e7929541ec2318f3dcf7e");
  const Asset* upper = find_asset("base-sepolia", "0x036CBD53842C5426634E7929541EC2318F3DCF7E");
  REQUIRE(lower != nullptr);
  CHECK(lower == upper);
  CHECK(lower->symbol == "USDC");

  CHECK(find_asset("solana", "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v") != nullptr);
  CHECK(find_asset("solana", "epjfwdd5aufqssqem2qn1xzybapc8g4wegGkzwytdt1v") == nullptr);
}

TEST_CASE("assets are not found on the wrong network or by unknown names", "[networks]") {
  CHECK(find_asset("base", "0x036CbD53842c5426634e7929541eC2318f3dCF7e") == nullptr);
  CHECK(find_asset("base", "USDT") == nullptr);
  CHECK(find_asset("base", "") == nullptr);
  CHECK(find_asset("nowhere", "USDC") == nullptr);
  CHECK(find_asset("eip155:999999", "USDC") == nullptr);
}
