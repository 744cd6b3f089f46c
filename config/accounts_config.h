// The `accounts:` block of a serve config: prepaid credit for known callers (API keys, JWT users)
// beside per-call x402 payment. Absent: serve has no accounts and every priced call pays with x402.
#pragma once

#include <chrono>
#include <string>

#include <yaml-cpp/yaml.h>

#include "config/yaml_fields.h"
#include "x402/result.h"

namespace x402proxy::config {

struct JwtConfig {
  std::string hs256_secret_env;  // environment variable holding the HS256 secret
  std::string public_key_pem;    // RS256 / ES256 public key file
  std::string jwks_file;
  std::string jwks_url;
  std::string issuer;
  std::string audience;
  std::string account_claim = "sub";
  std::chrono::seconds clock_skew{60};
  bool enabled() const {
    return !hs256_secret_env.empty() || !public_key_pem.empty() || !jwks_file.empty() ||
           !jwks_url.empty();
  }
};

struct AccountsConfig {
  bool enabled = false;
  std::string ledger = "accounts.sqlite";
  std::string asset = "USDC";  // balances and prices in this asset's atomic units
  JwtConfig jwt;
  std::string balance_tool = "billing_balance";
  std::string topup_tool = "billing_topup";
  std::string history_tool = "billing_history";
  bool describe_prices = true;  // append "(price: $0.001)" to priced tools in tools/list
};

Status read_accounts_config(const YamlFields& fields, const YAML::Node& root, AccountsConfig& out);

}  // namespace x402proxy::config
