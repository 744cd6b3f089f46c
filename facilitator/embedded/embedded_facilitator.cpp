#include "facilitator/embedded/embedded_facilitator.h"

#include <chrono>

#include <openssl/sha.h>

#include "facilitator/rules/evm_exact_rules.h"
#include "facilitator/rules/payer_recovery.h"
#include "facilitator/rules/svm_exact_rules.h"
#include "signers/evm/hex.h"
#include "signers/solana/base58.h"
#include "x402/networks.h"

namespace x402proxy::facilitator {
namespace {

std::int64_t system_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

FacilitatorError rejected(const Error& error, const std::string& payer = {}) {
  return FacilitatorError{FailureKind::payment_rejected, error.reason, error.message, 0, payer};
}

// The id a settlement reports. No chain is involved, so it is a hash of the payment's identity,
// shaped like the chain's own ids (EVM: 0x + 32-byte hash; Solana: base58 64-byte signature); it is
// stable, so a client can look the transfer up again.
std::string ledger_transaction_id(const std::string& payment_id, bool solana) {
  std::array<std::uint8_t, SHA512_DIGEST_LENGTH> digest{};
  const auto* bytes = reinterpret_cast<const unsigned char*>(payment_id.data());
  if (solana) {
    SHA512(bytes, payment_id.size(), digest.data());
    return signers::solana::base58_encode(digest);
  }
  SHA256(bytes, payment_id.size(), digest.data());
  return signers::evm::to_hex(std::span(digest.data(), SHA256_DIGEST_LENGTH));
}

// A payer short of the amount. @x402/evm 2.27 names it invalid_exact_evm_insufficient_balance
// (eip3009-utils.ts diagnoseEip3009SimulationFailure) where the v2 spec §9 says
// insufficient_funds: the library wins. @x402/svm has no name of its own (only a failed
// simulation), so Solana keeps the spec's.
const char* insufficient_funds_reason(bool solana) {
  return solana ? "insufficient_funds" : "invalid_exact_evm_insufficient_balance";
}

}  // namespace

Result<std::shared_ptr<EmbeddedFacilitator>> EmbeddedFacilitator::create(EmbeddedOptions options,
                                                                         Clock clock) {
  auto ledger = Ledger::open(options.ledger_path, options.starting_balance);
  if (!ledger.ok())
    return ledger.error();
  if (!clock)
    clock = system_now;
  return std::shared_ptr<EmbeddedFacilitator>(
      new EmbeddedFacilitator(std::move(options), std::move(ledger).value(), std::move(clock)));
}

FacilitatorResult<EmbeddedFacilitator::Checked> EmbeddedFacilitator::check(
    const x402::PaymentPayload& payment, const x402::PaymentRequirements& requirements) {
  // Every refusal names the payer when the payload does (rules/payer_recovery.h).
  const std::string claimed_payer = recover_payer(payment);
  auto network = x402::describe_network(requirements.network);
  if (!network) {
    return rejected(make_error("invalid_network", "unknown network " + requirements.network),
                    claimed_payer);
  }
  if (!options_.networks.empty() && std::find(options_.networks.begin(), options_.networks.end(),
                                              network->caip2) == options_.networks.end()) {
    return rejected(make_error("invalid_network",
                               "this facilitator does not serve " + std::string(network->caip2)),
                    claimed_payer);
  }
  Checked checked;
  if (network->family == x402::NetworkFamily::evm) {
    auto verified = verify_exact_evm(payment, requirements, clock_(), options_.clock_skew.count());
    if (!verified.ok())
      return rejected(verified.error(), claimed_payer);
    checked =
        Checked{verified->payer, verified->pay_to, verified->amount, verified->payment_id, false};
  } else {
    auto verified = verify_exact_svm(payment, requirements, options_.solana_fee_payers);
    if (!verified.ok())
      return rejected(verified.error(), claimed_payer);
    // The ledger credits the payee's wallet (payTo), not its token account.
    checked =
        Checked{verified->payer, requirements.pay_to, verified->amount, verified->payment_id, true};
  }
  auto settled = ledger_->was_settled(checked.payment_id);
  if (!settled.ok()) {
    return FacilitatorError{FailureKind::unreachable, "ledger", settled.error().message};
  }
  if (*settled) {
    // Spent: on chain the EIP-3009 nonce is used, or Solana de-duplicates the transaction.
    return rejected(checked.solana ? make_error("duplicate_settlement",
                                                "this transaction has already been settled")
                                   : make_error("invalid_exact_evm_nonce_already_used",
                                                "this authorization's nonce has already been used"),
                    checked.payer);
  }
  return checked;
}

FacilitatorResult<x402::VerifyResponse> EmbeddedFacilitator::verify_now(
    const x402::PaymentPayload& payment, const x402::PaymentRequirements& requirements) {
  auto checked = check(payment, requirements);
  if (!checked.ok())
    return checked.error();
  auto balance =
      ledger_->balance(x402::to_caip2(requirements.network), requirements.asset, checked->payer);
  if (!balance.ok())
    return FacilitatorError{FailureKind::unreachable, "ledger", balance.error().message};
  if (*balance < checked->amount) {
    return rejected(make_error(insufficient_funds_reason(checked->solana),
                               checked->payer + " holds " + x402::to_string(*balance) + ", needs " +
                                   x402::to_string(checked->amount)),
                    checked->payer);
  }
  x402::VerifyResponse response;
  response.is_valid = true;
  response.payer = checked->payer;
  return response;
}

FacilitatorResult<x402::SettleResponse> EmbeddedFacilitator::settle_now(
    const x402::PaymentPayload& payment, const x402::PaymentRequirements& requirements) {
  auto checked = check(payment, requirements);  // settle re-verifies, as the reference does
  if (!checked.ok())
    return checked.error();
  LedgerTransfer transfer;
  transfer.network = x402::to_caip2(requirements.network);
  transfer.asset = requirements.asset;
  transfer.payer = checked->payer;
  transfer.payee = checked->payee;
  transfer.amount = checked->amount;
  transfer.payment_id = checked->payment_id;
  transfer.resource = payment.resource ? payment.resource->url : "";
  transfer.transaction = ledger_transaction_id(checked->payment_id, checked->solana);
  if (auto recorded = ledger_->record(transfer); !recorded.ok()) {
    const LedgerError& refusal = recorded.error();
    if (refusal.kind == LedgerFailure::duplicate_settlement) {
      return rejected(checked->solana
                          ? Error(refusal)
                          : make_error("invalid_exact_evm_nonce_already_used", refusal.message),
                      checked->payer);
    }
    if (refusal.kind == LedgerFailure::insufficient_funds) {
      return rejected(make_error(insufficient_funds_reason(checked->solana), refusal.message),
                      checked->payer);
    }
    return FacilitatorError{FailureKind::unreachable, "ledger", recorded.error().message};
  }
  x402::SettleResponse response;
  response.success = true;
  response.transaction = transfer.transaction;
  response.network = requirements.network;
  response.payer = checked->payer;
  response.amount = x402::to_string(checked->amount);
  return response;
}

x402::SupportedResponse EmbeddedFacilitator::supported_now() const {
  x402::SupportedResponse supported;
  for (const x402::Network& network : x402::known_networks()) {
    const bool solana = network.family == x402::NetworkFamily::solana;
    if (solana && options_.solana_fee_payers.empty())
      continue;
    if (!options_.networks.empty() && std::find(options_.networks.begin(), options_.networks.end(),
                                                network.caip2) == options_.networks.end()) {
      continue;
    }
    // x402 SVM: the fee payer the requirement must name comes from here (extra.feePayer).
    std::optional<boost::json::object> extra;
    if (solana)
      extra = boost::json::object{{"feePayer", options_.solana_fee_payers.front()}};
    supported.kinds.push_back({2, "exact", std::string(network.caip2), extra});
    if (!network.v1_name.empty()) {
      supported.kinds.push_back({1, "exact", std::string(network.v1_name), extra});
    }
  }
  // x402 v2 §7.3.1: `signers` maps CAIP-2 patterns to the facilitator's signing addresses. As
  // @x402/core's getSupported does, one key per scheme family ("eip155:*", "solana:*"), listed
  // only when a kind of that family is offered and it has addresses: Solana's fee payers, and the
  // EVM addresses the operator names as its settling accounts (this ledger signs nothing on an EVM
  // chain, so there are none unless configured).
  auto offers = [&](x402::NetworkFamily family) {
    return std::any_of(supported.kinds.begin(), supported.kinds.end(), [&](const auto& kind) {
      const x402::Network* network = x402::find_network(kind.network);
      return network != nullptr && network->family == family;
    });
  };
  if (!options_.evm_signers.empty() && offers(x402::NetworkFamily::evm))
    supported.signers.emplace_back("eip155:*", options_.evm_signers);
  if (!options_.solana_fee_payers.empty() && offers(x402::NetworkFamily::solana))
    supported.signers.emplace_back("solana:*", options_.solana_fee_payers);
  return supported;
}

boost::asio::awaitable<FacilitatorResult<x402::VerifyResponse>> EmbeddedFacilitator::verify(
    const x402::PaymentPayload& payment, const x402::PaymentRequirements& requirements) {
  co_return verify_now(payment, requirements);
}

boost::asio::awaitable<FacilitatorResult<x402::SettleResponse>> EmbeddedFacilitator::settle(
    const x402::PaymentPayload& payment, const x402::PaymentRequirements& requirements,
    std::chrono::steady_clock::time_point) {
  co_return settle_now(payment, requirements);
}

boost::asio::awaitable<FacilitatorResult<x402::SupportedResponse>>
EmbeddedFacilitator::supported() {
  co_return supported_now();
}

}  // namespace x402proxy::facilitator
