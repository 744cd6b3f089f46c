// The price list as the paywall reads it: each priced tool's offer (or the default price's), built
// from the validated price table. Immutable once built; a reload builds a new book and swaps the
// shared pointer, so a call in progress keeps the book it started with (STYLE rule 7).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/price_table.h"
#include "mcp/paid_answers.h"
#include "x402/types.h"

namespace x402proxy::proxy {

// What one priced tool costs: the requirements offered in the operator's preference order.
struct ToolOffer {
  std::string tool;
  std::string description;
  std::string usd;  // as written ("$0.001"), for logs; "" for an atomic price
  std::vector<x402::PaymentRequirements> accepts;
  std::vector<x402::AssetInfo> assets;  // the token of each requirement, in the same order
  // settle: before (x402 paymentFlow "upfront"): settle first, forward only a settled payment.
  bool settle_before = false;
  // Whether a result with isError true is settled (true) or its payment released (false).
  bool charge_tool_errors = true;

  // What the answers about a payment for this tool name (mcp/paid_answers.h).
  mcp::ToolPrice price() const { return {description, accepts, charge_tool_errors}; }
};

class PriceBook {
 public:
  explicit PriceBook(const config::PriceTable& table);
  // The offer for a priced tool (the default price's for an unlisted one), nullptr when free.
  const ToolOffer* find(std::string_view tool) const;
  std::size_t priced_tools() const { return offers_.size(); }
  bool has_default() const { return default_offer_.has_value(); }

 private:
  config::PriceTable table_;
  std::map<std::string, ToolOffer, std::less<>> offers_;
  std::optional<ToolOffer> default_offer_;
};

}  // namespace x402proxy::proxy
