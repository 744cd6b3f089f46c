// The `serve` configuration (DESIGN "Config (serve)"): parsed once from YAML into immutable
// structs, validated up front, and shared as std::shared_ptr<const ServeConfig> (STYLE rule 7).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/accounts_config.h"
#include "config/operations_config.h"
#include "config/store_config.h"
#include "x402/amount.h"
#include "x402/networks.h"
#include "x402/result.h"

namespace x402proxy::config {

struct UpstreamConfig {
  // How serve speaks to upstream.url: Streamable HTTP (MCP 2025-03-26 on), the HTTP+SSE
  // transport of MCP 2024-11-05 (url is its GET /sse endpoint), or auto: Streamable HTTP, and
  // SSE when the upstream refuses an initialize POST with a 4xx (MCP 2025-03-26 basic/transports,
  // "Backwards Compatibility").
  enum class Transport { streamable_http, sse, automatic };
  Transport transport = Transport::streamable_http;
  std::string url;                   // Streamable HTTP endpoint, e.g. http://127.0.0.1:3001/mcp
  std::vector<std::string> command;  // or a stdio server to spawn (argv)
  std::map<std::string, std::string> env;  // with command: set over serve's own environment
  std::string cwd;                         // with command: its working directory (empty: serve's)
};

struct FacilitatorConfig {
  enum class Kind { remote, embedded };
  Kind kind = Kind::remote;
  std::string url;  // remote
  std::chrono::milliseconds verify_timeout{5000};
  // How long a paid call waits for its settlement before answering "settlement pending".
  std::chrono::milliseconds settle_timeout{60000};
  // How long one settle request may run (it is never abandoned when the call stops waiting:
  // its answer is booked when it comes). At least settle_timeout.
  std::chrono::milliseconds settle_request_timeout{180000};
  bool tls_verify = true;
  std::string ledger = "ledger.sqlite";  // embedded
  std::string starting_balance = "0";    // embedded: "$10" or atomic units, per payer
  std::string solana_fee_payer;          // embedded: fee payer address it manages
};

// One (network, asset) buyers may pay with: from the built-in registry, or configured (any EVM
// chain by CAIP-2 id and any EIP-3009 token; any Solana cluster and SPL mint).
struct AcceptedAsset {
  x402::NetworkInfo network;
  x402::AssetInfo asset;
  std::string pay_to;
};

// A tool's price as written: free, a USD price, or an exact atomic amount of one asset.
struct PriceSpec {
  bool free = true;
  std::string usd;                     // "$0.001"
  std::optional<x402::Amount> atomic;  // {amount: "1000", asset: …}
  std::string asset;                   // with `atomic`: symbol or address it applies to
  std::string description;
  // settle: before — settle first and forward only a settled payment (x402 paymentFlow
  // "upfront"): for slow tools, and for Solana, whose blockhash lives about a minute.
  bool settle_before = false;
  // charge_tool_errors: false — a result with isError true is not settled and the verified
  // payment is released (the official x402 MCP server wrapper's behaviour); true (the default):
  // the payment covers the attempt, as the buyer-seller spec this project follows says.
  bool charge_tool_errors = true;
  int line = 0;  // where it was written, for messages
};

struct ServeConfig {
  std::string source;  // file name, for messages
  std::string listen = "127.0.0.1:8402";
  UpstreamConfig upstream;
  FacilitatorConfig facilitator;
  std::map<std::string, std::string> pay_to;  // "eip155" / "solana" → address
  std::vector<AcceptedAsset> accept;          // preference order
  // Optional JSON-RPC node per network (CAIP-2 → URL): serve proves a settlement whose outcome
  // the facilitator left unknown from the chain itself.
  std::map<std::string, std::string> rpc;
  std::map<std::string, PriceSpec> tools;
  PriceSpec default_price;  // free unless set
  std::size_t body_limit = 4 * 1024 * 1024;
  std::chrono::milliseconds read_timeout{30000};  // a whole request must arrive within this
  std::uint64_t max_timeout_seconds = 60;
  std::chrono::seconds clock_skew{5};
  std::string journal = "payments.sqlite";  // the SQLite store (also `store: FILE`)
  StoreConfig store;                        // `store: postgresql://...` for several replicas
  std::string log_level = "info";
  unsigned threads = 0;         // 0: one per hardware thread
  OperationsConfig operations;  // admin endpoints, connection limits, shutdown grace
  AccountsConfig accounts;      // prepaid credit for API-key and JWT callers (off when absent)
};

// Whether `symbol_or_address` names this accepted asset (symbol case-insensitive; EVM address
// case-insensitive, Solana mint exact).
bool accepted_asset_named(const AcceptedAsset& accepted, std::string_view symbol_or_address);

// Errors name the file, line, column and key, and say what was expected:
//   proxy.yaml:7:9: tools.add: expected a price like "$0.001", …, got "0.001$"
Result<std::shared_ptr<const ServeConfig>> load_serve_config(const std::string& path);
Result<std::shared_ptr<const ServeConfig>> parse_serve_config(const std::string& yaml_text,
                                                              const std::string& source_name);

}  // namespace x402proxy::config
