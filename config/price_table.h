// The effective price table: for each priced tool, the full x402 PaymentRequirements it offers, one
// per accepted (network, asset) in the operator's preference order. Built once from the config; the
// paywall only looks things up.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "config/serve_config.h"
#include "x402/types.h"

namespace x402proxy::config {

struct ToolPrice {
  std::string tool;
  std::string description;
  std::string usd;  // as written, for display ("" for an atomic price)
  std::vector<x402::PaymentRequirements> accepts;
  std::vector<x402::AssetInfo> assets;  // the token of each requirement, in the same order
  bool settle_before = false;
  bool charge_tool_errors = true;  // see PriceSpec
};

class PriceTable {
 public:
  // A priced tool's offer (falling back to the default price), or nullptr when it is free.
  const ToolPrice* find(std::string_view tool) const;
  const std::map<std::string, ToolPrice, std::less<>>& tools() const { return tools_; }
  const ToolPrice* default_price() const { return default_ ? &*default_ : nullptr; }

 private:
  friend Result<PriceTable> build_price_table(const ServeConfig&, const std::string&);
  std::map<std::string, ToolPrice, std::less<>> tools_;
  std::optional<ToolPrice> default_;
  std::map<std::string, bool, std::less<>> free_;  // tools listed as free (override the default)
};

// `solana_fee_payer`: the facilitator's fee payer, required in every Solana requirement
// (extra.feePayer); empty when no Solana network is accepted.
Result<PriceTable> build_price_table(const ServeConfig& config,
                                     const std::string& solana_fee_payer = {});

// A readable table for `check`: tool, price, and the atomic amount on each network.
std::string format_price_table(const ServeConfig& config, const PriceTable& table);

}  // namespace x402proxy::config
