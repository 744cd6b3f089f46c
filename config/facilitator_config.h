// The `facilitator` command's configuration: the embedded facilitator as a standalone service.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "x402/result.h"

namespace x402proxy::config {

struct FacilitatorServiceConfig {
  std::string source;
  std::string listen = "127.0.0.1:4020";
  std::string ledger = "ledger.sqlite";
  std::string starting_balance =
      "0";                            // per new payer: "$5" (6-decimal stablecoins) or atomic units
  std::vector<std::string> networks;  // CAIP-2 ids or v1 names it serves; empty: every known one
  std::string solana_fee_payer;       // the fee payer address Solana payments must name (base58)
  // An EVM address /supported lists as the facilitator's signer ("signers": {"eip155:*": [...]},
  // x402 v2 §7.3.1); "" = none (the ledger signs nothing on an EVM chain).
  std::string evm_signer;
  std::chrono::seconds clock_skew{5};
  std::string log_level = "info";
  // Also answer POST /solana-rpc with simulated chain data (a fresh random blockhash, the known
  // mints' decimals), so that a demo buyer needs no real Solana node.
  bool solana_rpc = false;
};

Result<std::shared_ptr<const FacilitatorServiceConfig>> load_facilitator_config(
    const std::string& path);
Result<std::shared_ptr<const FacilitatorServiceConfig>> parse_facilitator_config(
    const std::string& yaml_text, const std::string& source_name);

// "$5" (a 6-decimal stablecoin amount) or atomic units, as a decimal string of atomic units.
Result<std::string> starting_balance_atomic(const std::string& text);

}  // namespace x402proxy::config
