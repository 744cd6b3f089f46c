// The `pay` configuration (wallet.yaml): where the paid MCP server is, how the local client
// connects, which keys may pay in which order, and the spending limits. Parsed once into an
// immutable struct; errors name file, line, column and key like every other config here.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "x402/amount.h"
#include "x402/networks.h"
#include "x402/result.h"

namespace x402proxy::config {

// One wallet key. The key itself is never in the config: a file path or an environment variable.
struct SignerConfig {
  x402::NetworkFamily family = x402::NetworkFamily::evm;
  std::string key_file;
  std::string key_env;
  std::string rpc;  // solana: JSON-RPC URL for the recent blockhash and the mint's decimals
  std::chrono::milliseconds rpc_timeout{2000};
  int line = 0;
};

// Limits in micro-dollars (USD with 6 decimals, the unit of USDC).
struct PayLimitsConfig {
  std::optional<x402::Amount> per_call;
  std::map<std::string, x402::Amount> per_tool;  // per tool, over the rolling 24 h
  std::optional<x402::Amount> per_day;           // everything, over the rolling 24 h
  std::vector<std::string> payees;               // allow-list; empty: any
  std::vector<std::string> networks;             // allow-list (CAIP-2); empty: any
};

struct PayConfig {
  std::string source;
  std::string remote;  // the paid MCP server's Streamable HTTP URL
  // `transport: sse`: `remote` is the GET /sse endpoint of a seller on the HTTP+SSE transport of
  // MCP 2024-11-05 (the default, streamable-http, is Streamable HTTP).
  bool remote_sse = false;
  // `transport: auto`: Streamable HTTP, and HTTP+SSE when the seller refuses the initialize POST
  // with a 4xx (MCP 2025-03-26 basic/transports, "Backwards Compatibility").
  bool remote_auto = false;
  std::string listen = "stdio";  // "stdio" or a loopback host:port
  bool tls_verify = true;
  std::chrono::milliseconds request_timeout{120000};  // one call, payment and retry included
  // How long one call keeps retrying a payment whose settlement the seller reports pending
  // before it answers "pending" (within request_timeout); the next identical call resumes it.
  std::chrono::milliseconds redeem_timeout{60000};
  std::vector<SignerConfig> signers;  // priority order
  std::vector<std::string> tokens;    // token priority: symbols or addresses
  // USD stablecoins the registry does not know (any EVM chain's EIP-3009 token, any SPL mint),
  // which this wallet may pay with and values at one dollar per unit.
  std::vector<x402::AssetInfo> assets;
  PayLimitsConfig limits;
  std::string ledger = "spending.sqlite";
  std::string log_level = "info";
};

Result<std::shared_ptr<const PayConfig>> load_pay_config(const std::string& path);
Result<std::shared_ptr<const PayConfig>> parse_pay_config(const std::string& yaml_text,
                                                          const std::string& source_name);

}  // namespace x402proxy::config
