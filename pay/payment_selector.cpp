#include "pay/payment_selector.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <tuple>

#include "x402/amount.h"
#include "x402/price.h"

namespace x402proxy::pay {
namespace {

const char* family_name(x402::NetworkFamily family) {
  return family == x402::NetworkFamily::evm ? "evm" : "solana";
}

bool same_text(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// The token an offer names (by address: what gets signed): the wallet's own list first, then the
// registry.
std::optional<x402::AssetInfo> asset_for(const std::string& network, const std::string& address,
                                         const std::vector<x402::AssetInfo>& wallet) {
  for (const auto& asset : wallet) {
    if (asset.network == network && same_text(asset.address, address))
      return asset;
  }
  return x402::builtin_asset(network, address);
}

std::string offer_label(const x402::PaymentRequirements& offer,
                        const std::optional<x402::AssetInfo>& asset) {
  return x402::to_caip2(offer.network) + " " + (asset ? asset->symbol : offer.asset);
}

// Position of the asset in the token priority list; 0 for every asset when the list is empty
// (they rank equal) and npos when the list excludes it.
std::size_t token_rank(const std::vector<std::string>& tokens, const x402::AssetInfo& asset) {
  if (tokens.empty())
    return 0;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    if (same_text(tokens[i], asset.symbol) || same_text(tokens[i], asset.address))
      return i;
  }
  return std::string::npos;
}

}  // namespace

Selection select_payment_candidates(const std::vector<x402::PaymentRequirements>& offers,
                                    const SelectionPolicy& policy) {
  Selection selection;
  struct Ranked {
    std::size_t signer, token, offer;
    x402::AssetInfo asset;
  };
  std::vector<Ranked> ranked;
  for (std::size_t i = 0; i < offers.size(); ++i) {
    const x402::PaymentRequirements& offer = offers[i];
    const std::string network = x402::to_caip2(offer.network);
    const auto known = x402::describe_network(network);
    const auto asset = asset_for(network, offer.asset, policy.assets);
    auto skip = [&](std::string why) {
      selection.skipped.push_back({i, offer_label(offer, asset) + ": " + std::move(why)});
    };
    if (offer.scheme != "exact") {
      skip("scheme \"" + offer.scheme + "\" is not supported (only \"exact\")");
      continue;
    }
    if (!known) {
      skip("unknown network");
      continue;
    }
    // The registry also finds assets by symbol; an offer must name the contract or mint, which
    // is what gets signed.
    if (asset && same_text(offer.asset, asset->symbol) && !same_text(offer.asset, asset->address)) {
      skip("asset \"" + offer.asset + "\" is a symbol, not a token address");
      continue;
    }
    if (!asset) {
      skip("unknown asset " + offer.asset +
           " (only registry stablecoins and the wallet's assets can be valued)");
      continue;
    }
    if (!policy.networks.empty() && std::find(policy.networks.begin(), policy.networks.end(),
                                              network) == policy.networks.end()) {
      skip("network not in limits.networks");
      continue;
    }
    const std::size_t token = token_rank(policy.tokens, *asset);
    if (token == std::string::npos) {
      skip("token not in the wallet's tokens list");
      continue;
    }
    bool any_signer = false;
    for (std::size_t s = 0; s < policy.signers.size(); ++s) {
      if (policy.signers[s] != known->family)
        continue;
      any_signer = true;
      ranked.push_back({s, token, i, *asset});
    }
    if (!any_signer)
      skip(std::string("no ") + family_name(known->family) + " signer configured");
  }
  std::stable_sort(ranked.begin(), ranked.end(), [](const Ranked& a, const Ranked& b) {
    return std::tie(a.signer, a.token, a.offer) < std::tie(b.signer, b.token, b.offer);
  });
  for (const Ranked& r : ranked)
    selection.candidates.push_back({r.offer, r.signer, r.asset});
  return selection;
}

std::string describe_offer(const x402::PaymentRequirements& offer) {
  const std::string network = x402::to_caip2(offer.network);
  const auto asset = x402::builtin_asset(network, offer.asset);
  std::string price = offer.amount + " atomic units";
  if (asset) {
    if (auto amount = x402::parse_amount(offer.amount); amount.ok())
      price = x402::format_usd(*amount, asset->decimals);
  }
  return offer_label(offer, asset) + " " + price + " to " + offer.pay_to;
}

}  // namespace x402proxy::pay
