#include "pay/payment_selector.h"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

using namespace x402proxy;
using pay::select_payment_candidates;
using pay::SelectionPolicy;
using x402::NetworkFamily;

namespace {

constexpr const char* kPayTo = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C";
constexpr const char* kBaseSepoliaUsdc = "0x036CbD53842c5426634e7929541eC2318f3dCF7e";
constexpr const char* kSolanaDevnet = "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1";
constexpr const char* kSolanaDevnetUsdc = "4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU";

x402::PaymentRequirements offer(std::string network, std::string asset,
                                std::string amount = "1000") {
  x402::PaymentRequirements requirements;
  requirements.scheme = "exact";
  requirements.network = std::move(network);
  requirements.amount = std::move(amount);
  requirements.asset = std::move(asset);
  requirements.pay_to = kPayTo;
  requirements.max_timeout_seconds = 60;
  return requirements;
}

x402::PaymentRequirements evm_offer() {
  return offer("eip155:84532", kBaseSepoliaUsdc);
}
x402::PaymentRequirements solana_offer() {
  return offer(kSolanaDevnet, kSolanaDevnetUsdc);
}

std::vector<std::size_t> offers_of(const pay::Selection& selection) {
  std::vector<std::size_t> order;
  for (const auto& candidate : selection.candidates)
    order.push_back(candidate.offer);
  return order;
}

std::vector<std::size_t> signers_of(const pay::Selection& selection) {
  std::vector<std::size_t> order;
  for (const auto& candidate : selection.candidates)
    order.push_back(candidate.signer);
  return order;
}

// The single skip reason of a selection that skipped exactly one offer.
std::string only_skip_reason(const std::vector<x402::PaymentRequirements>& offers,
                             const SelectionPolicy& policy) {
  const pay::Selection selection = select_payment_candidates(offers, policy);
  REQUIRE(selection.skipped.size() == 1);
  CHECK(selection.candidates.empty());
  return selection.skipped[0].reason;
}

}  // namespace

TEST_CASE("signer priority comes before the seller's order", "[payment_selector]") {
  SelectionPolicy policy;
  policy.signers = {NetworkFamily::solana, NetworkFamily::evm};
  const auto selection = select_payment_candidates({evm_offer(), solana_offer()}, policy);
  CHECK(selection.skipped.empty());
  CHECK(offers_of(selection) == std::vector<std::size_t>{1, 0});
  CHECK(signers_of(selection) == std::vector<std::size_t>{0, 1});
  REQUIRE(selection.candidates.size() == 2);
  CHECK(selection.candidates[0].asset.address == kSolanaDevnetUsdc);
  CHECK(selection.candidates[1].asset.decimals == 6);
}

TEST_CASE("with equal signer priority the seller's order is kept", "[payment_selector]") {
  SelectionPolicy policy;
  policy.signers = {NetworkFamily::evm};
  const auto selection = select_payment_candidates(
      {offer("eip155:84532", kBaseSepoliaUsdc, "2000"), evm_offer(),
       offer("eip155:8453", "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913")},
      policy);
  CHECK(offers_of(selection) == std::vector<std::size_t>{0, 1, 2});
}

TEST_CASE("token priority orders offers of the same signer before the seller's order",
          "[payment_selector]") {
  SelectionPolicy policy;
  policy.signers = {NetworkFamily::evm};
  // Tokens given by address rank by their position in the list.
  policy.tokens = {"0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913", kBaseSepoliaUsdc};
  const auto selection = select_payment_candidates(
      {evm_offer(), offer("eip155:8453", "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913")}, policy);
  CHECK(selection.skipped.empty());
  CHECK(offers_of(selection) == std::vector<std::size_t>{1, 0});
}

TEST_CASE("signer priority outranks token priority", "[payment_selector]") {
  SelectionPolicy policy;
  policy.signers = {NetworkFamily::evm, NetworkFamily::solana};
  policy.tokens = {kSolanaDevnetUsdc, kBaseSepoliaUsdc};
  const auto selection = select_payment_candidates({solana_offer(), evm_offer()}, policy);
  CHECK(offers_of(selection) == std::vector<std::size_t>{1, 0});
  CHECK(signers_of(selection) == std::vector<std::size_t>{0, 1});
}

TEST_CASE("two signers of the same family both become candidates in signer order",
          "[payment_selector]") {
  SelectionPolicy policy;
  policy.signers = {NetworkFamily::evm, NetworkFamily::solana, NetworkFamily::evm};
  const auto selection = select_payment_candidates({evm_offer()}, policy);
  CHECK(offers_of(selection) == std::vector<std::size_t>{0, 0});
  CHECK(signers_of(selection) == std::vector<std::size_t>{0, 2});
}

TEST_CASE("an offer in a scheme other than exact is skipped with the scheme named",
          "[payment_selector]") {
  SelectionPolicy policy;
  policy.signers = {NetworkFamily::evm};
  auto upto = evm_offer();
  upto.scheme = "upto";
  CHECK_THAT(only_skip_reason({upto}, policy),
             Catch::StartsWith("eip155:84532 USDC: ") && Catch::Contains("\"upto\""));
}

TEST_CASE("an offer on an unknown network is skipped", "[payment_selector]") {
  SelectionPolicy policy;
  policy.signers = {NetworkFamily::evm};
  CHECK(only_skip_reason({offer("cosmos:cosmoshub-4", kBaseSepoliaUsdc)}, policy) ==
        std::string("cosmos:cosmoshub-4 ") + kBaseSepoliaUsdc + ": unknown network");
  // Any EVM chain is a network; what it cannot value is a token nobody listed.
  CHECK_THAT(only_skip_reason({offer("eip155:999999", kBaseSepoliaUsdc)}, policy),
             Catch::Contains("unknown asset"));
}

TEST_CASE("an offer in an asset the registry cannot value is skipped", "[payment_selector]") {
  SelectionPolicy policy;
  policy.signers = {NetworkFamily::evm};
  const std::string weth = "0x4200000000000000000000000000000000000006";
  CHECK_THAT(only_skip_reason({offer("eip155:84532", weth)}, policy),
             Catch::Contains("unknown asset " + weth));
}

TEST_CASE("an offer naming its asset by symbol instead of address is skipped",
          "[payment_selector]") {
  SelectionPolicy policy;
  policy.signers = {NetworkFamily::evm};
  CHECK_THAT(only_skip_reason({offer("eip155:84532", "USDC")}, policy),
             Catch::Contains("is a symbol, not a token address"));
}

TEST_CASE("an offer on a network outside the allow-list is skipped", "[payment_selector]") {
  SelectionPolicy policy;
  policy.signers = {NetworkFamily::evm};
  policy.networks = {"eip155:8453"};
  CHECK(only_skip_reason({evm_offer()}, policy) ==
        "eip155:84532 USDC: network not in limits.networks");
}

TEST_CASE("an offer in a token not in the tokens list is skipped", "[payment_selector]") {
  SelectionPolicy policy;
  policy.signers = {NetworkFamily::evm};
  policy.tokens = {"EURC"};
  CHECK(only_skip_reason({evm_offer()}, policy) ==
        "eip155:84532 USDC: token not in the wallet's tokens list");
}

TEST_CASE("an offer no configured signer can pay is skipped naming the family",
          "[payment_selector]") {
  SelectionPolicy policy;
  policy.signers = {NetworkFamily::evm};
  const auto selection = select_payment_candidates({solana_offer(), evm_offer()}, policy);
  CHECK(offers_of(selection) == std::vector<std::size_t>{1});
  REQUIRE(selection.skipped.size() == 1);
  CHECK(selection.skipped[0].offer == 0);
  CHECK(selection.skipped[0].reason ==
        std::string(kSolanaDevnet) + " USDC: no solana signer configured");
}

TEST_CASE("x402 v1 network names are paid like their CAIP-2 ids", "[payment_selector]") {
  SelectionPolicy policy;
  policy.signers = {NetworkFamily::evm};
  policy.networks = {"eip155:84532"};
  policy.tokens = {"usdc"};
  const auto selection =
      select_payment_candidates({offer("base-sepolia", kBaseSepoliaUsdc)}, policy);
  CHECK(selection.skipped.empty());
  REQUIRE(selection.candidates.size() == 1);
  CHECK(selection.candidates[0].asset.network == "eip155:84532");
}

TEST_CASE("a token the wallet lists in assets is paid on a chain the registry does not know",
          "[payment_selector]") {
  const std::string token = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
  SelectionPolicy policy;
  policy.signers = {x402::NetworkFamily::evm};
  auto unknown = select_payment_candidates({offer("eip155:31337", token)}, policy);
  CHECK(unknown.candidates.empty());
  REQUIRE(unknown.skipped.size() == 1);
  CHECK_THAT(unknown.skipped[0].reason, Catch::Contains("unknown asset"));
  policy.assets = {x402::AssetInfo{"eip155:31337", "USDC", token, 6, "", ""}};
  policy.tokens = {"USDC"};
  auto known = select_payment_candidates({offer("eip155:31337", token)}, policy);
  REQUIRE(known.candidates.size() == 1);
  CHECK(known.candidates[0].asset.symbol == "USDC");
  CHECK(known.candidates[0].asset.decimals == 6);
}

TEST_CASE("describe_offer names network, token, dollar price and payee", "[payment_selector]") {
  CHECK(pay::describe_offer(evm_offer()) == std::string("eip155:84532 USDC $0.001 to ") + kPayTo);
  CHECK(pay::describe_offer(offer("base-sepolia", kBaseSepoliaUsdc, "1500000")) ==
        std::string("eip155:84532 USDC $1.5 to ") + kPayTo);
  const std::string weth = "0x4200000000000000000000000000000000000006";
  CHECK(pay::describe_offer(offer("eip155:84532", weth, "7")) ==
        "eip155:84532 " + weth + " 7 atomic units to " + kPayTo);
}
