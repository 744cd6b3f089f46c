#include "x402/networks.h"

namespace x402proxy::x402 {
namespace {

using enum NetworkFamily;

// research §1.6 (v1 names ↔ CAIP-2, from the x402 v2 spec §11.1 and the EVM/SVM mechanism
// packages).
constexpr Network kNetworks[] = {
    {"eip155:8453", "base", evm, 8453, false},
    {"eip155:84532", "base-sepolia", evm, 84532, true},
    {"eip155:1", "ethereum", evm, 1, false},
    {"eip155:11155111", "sepolia", evm, 11155111, true},
    {"eip155:43114", "avalanche", evm, 43114, false},
    {"eip155:43113", "avalanche-fuji", evm, 43113, true},
    {"eip155:137", "polygon", evm, 137, false},
    {"eip155:80002", "polygon-amoy", evm, 80002, true},
    {"eip155:42161", "", evm, 42161, false},   // Arbitrum One: CAIP-2 only
    {"eip155:421614", "", evm, 421614, true},  // Arbitrum Sepolia: CAIP-2 only
    {"eip155:4689", "iotex", evm, 4689, false},
    {"eip155:1329", "sei", evm, 1329, false},
    {"eip155:1328", "sei-testnet", evm, 1328, true},
    {"eip155:2741", "abstract", evm, 2741, false},
    {"eip155:11124", "abstract-testnet", evm, 11124, true},
    {"eip155:3338", "peaq", evm, 3338, false},
    {"eip155:1514", "story", evm, 1514, false},
    {"eip155:41923", "educhain", evm, 41923, false},
    {"eip155:324705682", "skale-base-sepolia", evm, 324705682, true},
    {"eip155:4326", "megaeth", evm, 4326, false},
    {"eip155:143", "monad", evm, 143, false},
    {"eip155:988", "stable", evm, 988, false},
    {"eip155:2201", "stable-testnet", evm, 2201, true},
    {"solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp", "solana", solana, 0, false},
    {"solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1", "solana-devnet", solana, 0, true},
    {"solana:4uhcVJyU9pJkvQyS88uRDiswHXSCkY3z", "solana-testnet", solana, 0, true},
};

// research §3.6 (EVM USDC: address, EIP-712 name/version, decimals) and §4.1 (Solana USDC mints).
// Polygon Amoy and Avalanche Fuji versions come from the legacy config, which did not record them;
// "2" is what every other USDC deployment here uses.
constexpr Asset kAssets[] = {
    {"eip155:8453", "USDC", "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913", 6, "USD Coin", "2"},
    {"eip155:84532", "USDC", "0x036CbD53842c5426634e7929541eC2318f3dCF7e", 6, "USDC", "2"},
    {"eip155:1", "USDC", "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48", 6, "USD Coin", "2"},
    {"eip155:137", "USDC", "0x3c499c542cEF5E3811e1192ce70d8cC03d5c3359", 6, "USD Coin", "2"},
    {"eip155:80002", "USDC", "0x41E94Eb019C0762f9Bfcf9Fb1E58725BfB0e7582", 6, "USDC", "2"},
    {"eip155:43114", "USDC", "0xB97EF9Ef8734C71904D8002F8b6Bc66Dd9c48a6E", 6, "USD Coin", "2"},
    {"eip155:43113", "USDC", "0x5425890298aed601595a70AB815c96711a31Bc65", 6, "USD Coin", "2"},
    {"eip155:42161", "USDC", "0xaf88d065e77c8cC2239327C5EDb3A432268e5831", 6, "USD Coin", "2"},
    {"eip155:421614", "USDC", "0x75faf114eafb1BDbe2F0316DF893fd58CE46AA4d", 6, "USD Coin", "2"},
    {"solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp", "USDC",
     "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v", 6, "", ""},
    {"solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1", "USDC",
     "4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU", 6, "", ""},
    {"solana:4uhcVJyU9pJkvQyS88uRDiswHXSCkY3z", "USDC",
     "4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU", 6, "", ""},
};

constexpr char ascii_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

constexpr bool equal_ignoring_ascii_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i]))
      return false;
  }
  return true;
}

}  // namespace

std::span<const Network> known_networks() {
  return kNetworks;
}
std::span<const Asset> known_assets() {
  return kAssets;
}

const Network* find_network(std::string_view caip2_or_v1_name) {
  if (caip2_or_v1_name.empty())
    return nullptr;
  const bool is_caip2 = caip2_or_v1_name.find(':') != std::string_view::npos;
  for (const Network& network : kNetworks) {
    if ((is_caip2 ? network.caip2 : network.v1_name) == caip2_or_v1_name)
      return &network;
  }
  return nullptr;
}

std::string to_caip2(std::string_view caip2_or_v1_name) {
  if (const Network* network = find_network(caip2_or_v1_name))
    return std::string(network->caip2);
  if (caip2_or_v1_name.find(':') != std::string_view::npos)
    return std::string(caip2_or_v1_name);
  return {};
}

std::string to_v1_name(std::string_view caip2_or_v1_name) {
  if (const Network* network = find_network(caip2_or_v1_name))
    return std::string(network->v1_name);
  return {};
}

std::optional<NetworkInfo> describe_network(std::string_view caip2_or_v1_name) {
  if (const Network* known = find_network(caip2_or_v1_name)) {
    return NetworkInfo{std::string(known->caip2),
                       std::string(known->v1_name),
                       known->family,
                       known->evm_chain_id,
                       known->testnet,
                       true};
  }
  // CAIP-2: namespace ":" reference. eip155 references are decimal chain ids (CAIP-3);
  // solana references are the first 32 characters of the genesis hash, in base58 (CAIP-30).
  constexpr std::string_view evm_prefix = "eip155:";
  constexpr std::string_view solana_prefix = "solana:";
  if (caip2_or_v1_name.starts_with(evm_prefix)) {
    std::string_view digits = caip2_or_v1_name.substr(evm_prefix.size());
    if (digits.empty() || digits.size() > 19 || (digits.size() > 1 && digits.front() == '0') ||
        digits.find_first_not_of("0123456789") != std::string_view::npos) {
      return std::nullopt;
    }
    std::uint64_t id = 0;
    for (char c : digits)
      id = id * 10 + static_cast<std::uint64_t>(c - '0');
    if (id == 0)
      return std::nullopt;
    return NetworkInfo{std::string(caip2_or_v1_name), "", NetworkFamily::evm, id, false, false};
  }
  if (caip2_or_v1_name.starts_with(solana_prefix)) {
    std::string_view reference = caip2_or_v1_name.substr(solana_prefix.size());
    constexpr std::string_view base58 =
        "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    if (reference.size() != 32 || reference.find_first_not_of(base58) != std::string_view::npos)
      return std::nullopt;
    return NetworkInfo{std::string(caip2_or_v1_name), "", NetworkFamily::solana, 0, false, false};
  }
  return std::nullopt;
}

std::optional<AssetInfo> builtin_asset(std::string_view network,
                                       std::string_view symbol_or_address) {
  const Asset* known = find_asset(network, symbol_or_address);
  if (known == nullptr)
    return std::nullopt;
  return AssetInfo{std::string(known->network),     std::string(known->symbol),
                   std::string(known->address),     known->decimals,
                   std::string(known->eip712_name), std::string(known->eip712_version)};
}

const Asset* find_asset(std::string_view network_id, std::string_view symbol_or_address) {
  const Network* network = find_network(network_id);
  if (network == nullptr || symbol_or_address.empty())
    return nullptr;
  for (const Asset& asset : kAssets) {
    if (asset.network != network->caip2)
      continue;
    if (equal_ignoring_ascii_case(asset.symbol, symbol_or_address))
      return &asset;
    const bool same_address = network->family == NetworkFamily::evm
                                  ? equal_ignoring_ascii_case(asset.address, symbol_or_address)
                                  : asset.address == symbol_or_address;
    if (same_address)
      return &asset;
  }
  return nullptr;
}

}  // namespace x402proxy::x402
