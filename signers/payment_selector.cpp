#include "signers/payment_selector.h"

#include <algorithm>
#include <cctype>
#include <tuple>

#include "x402/amount.h"
#include "x402/price.h"

namespace x402proxy::signers {
namespace {

const char* family_name(x402::NetworkFamily family) {
  return family == x402::NetworkFamily::evm ? "evm" : "solana";
}

std::string offer_label(const x402::PaymentRequirements& offer, const x402::Asset* asset) {
  return x402::to_caip2(offer.network) + " " +
         (asset != nullptr ? std::string(asset->symbol) : offer.asset);
}

// Position of the asset in the token priority list; 0 for every asset when the list is empty
// (they rank equal) and npos when the list excludes it.
std::size_t token_rank(const std::vector<std::string>& tokens, const x402::Asset& asset,
                       const std::string& network) {
  if (tokens.empty())
    return 0;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    if (x402::find_asset(network, tokens[i]) == &asset)
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
    const x402::Asset* asset;
  };
  std::vector<Ranked> ranked;
  for (std::size_t i = 0; i < offers.size(); ++i) {
    const x402::PaymentRequirements& offer = offers[i];
    const std::string network = x402::to_caip2(offer.network);
    const x402::Network* known = x402::find_network(network);
    const x402::Asset* asset = x402::find_asset(network, offer.asset);
    auto skip = [&](std::string why) {
      selection.skipped.push_back({i, offer_label(offer, asset) + ": " + std::move(why)});
    };
    if (offer.scheme != "exact") {
      skip("scheme \"" + offer.scheme + "\" is not supported (only \"exact\")");
      continue;
    }
    if (known == nullptr) {
      skip("unknown network");
      continue;
    }
    if (asset == nullptr) {
      skip("unknown asset " + offer.asset + " (only registry stablecoins can be valued)");
      continue;
    }
    // The registry also finds assets by symbol; an offer must name the contract or mint, which
    // is what gets signed.
    if (offer.asset.size() == asset->symbol.size() &&
        std::equal(offer.asset.begin(), offer.asset.end(), asset->symbol.begin(),
                   [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
      skip("asset \"" + offer.asset + "\" is a symbol, not a token address");
      continue;
    }
    if (!policy.networks.empty() && std::find(policy.networks.begin(), policy.networks.end(),
                                              network) == policy.networks.end()) {
      skip("network not in limits.networks");
      continue;
    }
    const std::size_t token = token_rank(policy.tokens, *asset, network);
    if (token == std::string::npos) {
      skip("token not in the wallet's tokens list");
      continue;
    }
    bool any_signer = false;
    for (std::size_t s = 0; s < policy.signers.size(); ++s) {
      if (policy.signers[s] != known->family)
        continue;
      any_signer = true;
      ranked.push_back({s, token, i, asset});
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
  const x402::Asset* asset = x402::find_asset(network, offer.asset);
  std::string price = offer.amount + " atomic units";
  if (asset != nullptr) {
    if (auto amount = x402::parse_amount(offer.amount); amount.ok())
      price = x402::format_usd(*amount, asset->decimals);
  }
  return offer_label(offer, asset) + " " + price + " to " + offer.pay_to;
}

}  // namespace x402proxy::signers
