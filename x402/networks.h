// The networks and assets the proxy knows by name: CAIP-2 ids (x402 v2) and v1 names, EVM chain
// ids, and the USDC deployments with the EIP-712 domain data an EIP-3009 signature needs.
// Immutable tables compiled into the binary (research §1.6, §3.6, §4.1); nothing here changes at
// run time.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace x402proxy::x402 {

enum class NetworkFamily { evm, solana };

struct Network {
  std::string_view caip2;    // "eip155:8453", "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp"
  std::string_view v1_name;  // "base"; empty where x402 v1 has no name (Arbitrum)
  NetworkFamily family;
  std::uint64_t evm_chain_id;  // 0 for Solana
  bool testnet;
};

struct Asset {
  std::string_view network;  // CAIP-2 id of its network
  std::string_view symbol;   // "USDC"
  std::string_view address;  // EVM: checksummed contract address; Solana: mint (base58)
  unsigned decimals;
  std::string_view eip712_name;     // EVM EIP-712 domain name ("USD Coin" on Base, "USDC" on
                                    // Base Sepolia); empty for Solana
  std::string_view eip712_version;  // EVM EIP-712 domain version ("2"); empty for Solana
};

// A network as the seller side uses it: a built-in one, or any EVM chain named by its CAIP-2 id
// ("eip155:31337") or Solana cluster ("solana:" + the first 32 characters of its genesis hash),
// so that operators can accept chains the registry does not list.
struct NetworkInfo {
  std::string caip2;
  std::string v1_name;  // empty when x402 v1 has no name for it
  NetworkFamily family = NetworkFamily::evm;
  std::uint64_t evm_chain_id = 0;
  bool testnet = false;
  bool builtin = false;
};
std::optional<NetworkInfo> describe_network(std::string_view caip2_or_v1_name);

// A token as an offer needs it: a built-in one, or one the operator configured.
struct AssetInfo {
  std::string network;  // CAIP-2
  std::string symbol;
  std::string address;
  unsigned decimals = 0;
  std::string eip712_name;
  std::string eip712_version;
};
std::optional<AssetInfo> builtin_asset(std::string_view network,
                                       std::string_view symbol_or_address);

std::span<const Network> known_networks();
std::span<const Asset> known_assets();

// By CAIP-2 id ("eip155:84532") or v1 name ("base-sepolia"), exact and case-sensitive as on the
// wire; nullptr if unknown.
const Network* find_network(std::string_view caip2_or_v1_name);

// The CAIP-2 id for a known network given either way. An unknown string that already has CAIP-2
// form (contains ':') is returned unchanged, so x402 v2 networks we have no table entry for pass
// through; an unknown v1-style name gives "".
std::string to_caip2(std::string_view caip2_or_v1_name);

// The x402 v1 name for a known network given either way; "" if unknown or it has no v1 name.
std::string to_v1_name(std::string_view caip2_or_v1_name);

// An asset on a network (CAIP-2 or v1 name), by symbol (case-insensitive: "USDC", "usdc") or by
// address (EVM: case-insensitive hex, so checksummed and lower-case forms both match; Solana: the
// exact base58 mint). nullptr if unknown.
const Asset* find_asset(std::string_view network, std::string_view symbol_or_address);

}  // namespace x402proxy::x402
