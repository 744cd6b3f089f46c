// The default payment selector of `pay`: which of a seller's offers to pay, with which key, and in
// what order to fall back. Among the offers a configured signer can pay, candidates are ordered by
// signer priority (the order of `signers` in the wallet config), then token priority (the order of
// `tokens`), then the seller's own order (x402: `accepts` is listed in the seller's preference).
// Offers nobody can pay are reported with the reason, so that "cannot pay" is never a mystery.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "x402/networks.h"
#include "x402/types.h"

namespace x402proxy::pay {

struct SelectionPolicy {
  std::vector<x402::NetworkFamily> signers;  // one entry per configured signer, priority order
  std::vector<std::string> tokens;           // symbols or addresses; empty: any known stablecoin
  std::vector<std::string> networks;         // CAIP-2 allow-list; empty: any
  std::vector<x402::AssetInfo> assets;       // stablecoins the wallet adds to the registry's
};

struct PaymentCandidate {
  std::size_t offer = 0;   // index into the seller's accepts
  std::size_t signer = 0;  // index into SelectionPolicy::signers
  x402::AssetInfo asset;   // the token (decimals, for valuing it in dollars)
};

struct SkippedOffer {
  std::size_t offer = 0;
  std::string reason;  // e.g. "eip155:8453 USDC: no evm signer configured"
};

struct Selection {
  std::vector<PaymentCandidate> candidates;  // in the order to try
  std::vector<SkippedOffer> skipped;
};

// Only the "exact" scheme is paid; the asset must be one the registry or the wallet's `assets`
// knows (limits are in dollars, so an asset we cannot value is never paid).
Selection select_payment_candidates(const std::vector<x402::PaymentRequirements>& offers,
                                    const SelectionPolicy& policy);

// "eip155:84532 USDC $0.001 to 0x…" for messages and the transcript.
std::string describe_offer(const x402::PaymentRequirements& offer);

}  // namespace x402proxy::pay
