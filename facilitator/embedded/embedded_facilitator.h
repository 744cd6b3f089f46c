// The embedded facilitator: verifies x402 "exact" payments itself (the shared rules in
// facilitator/rules/) and settles them into a local SQLite ledger. It moves no money on any chain:
// it is for development, tests and closed deployments where both sides trust this ledger. It
// implements the same Facilitator seam as the remote HTTP client, so the paywall cannot tell them
// apart.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "facilitator/embedded/ledger.h"
#include "facilitator/facilitator.h"

namespace x402proxy::facilitator {

struct EmbeddedOptions {
  std::string ledger_path = "ledger.sqlite";
  x402::Amount starting_balance = 0;  // what a payer the ledger has never seen holds
  std::chrono::seconds clock_skew{5};
  // Solana fee payers this facilitator manages (base58); offered in /supported as extra.feePayer.
  std::vector<std::string> solana_fee_payers;
  // EVM addresses named as this facilitator's signers in /supported "signers" ("eip155:*").
  std::vector<std::string> evm_signers;
  // The networks it accepts (CAIP-2); empty means every network of the registry.
  std::vector<std::string> networks;
};

class EmbeddedFacilitator final : public Facilitator {
 public:
  using Clock = std::function<std::int64_t()>;  // unix seconds; injectable for tests

  static Result<std::shared_ptr<EmbeddedFacilitator>> create(EmbeddedOptions options,
                                                             Clock clock = {});

  boost::asio::awaitable<FacilitatorResult<x402::VerifyResponse>> verify(
      const x402::PaymentPayload& payment, const x402::PaymentRequirements& requirements) override;
  boost::asio::awaitable<FacilitatorResult<x402::SettleResponse>> settle(
      const x402::PaymentPayload& payment, const x402::PaymentRequirements& requirements,
      std::chrono::steady_clock::time_point deadline =
          std::chrono::steady_clock::time_point::max()) override;
  boost::asio::awaitable<FacilitatorResult<x402::SupportedResponse>> supported() override;

  // The synchronous core, also used by the HTTP service and tests.
  FacilitatorResult<x402::VerifyResponse> verify_now(const x402::PaymentPayload& payment,
                                                     const x402::PaymentRequirements& requirements);
  FacilitatorResult<x402::SettleResponse> settle_now(const x402::PaymentPayload& payment,
                                                     const x402::PaymentRequirements& requirements);
  x402::SupportedResponse supported_now() const;

  Ledger& ledger() { return *ledger_; }

 private:
  EmbeddedFacilitator(EmbeddedOptions options, std::unique_ptr<Ledger> ledger, Clock clock)
      : options_(std::move(options)), ledger_(std::move(ledger)), clock_(std::move(clock)) {}

  // What the rules established about a payment that passed them.
  struct Checked {
    std::string payer;
    std::string payee;
    x402::Amount amount = 0;
    std::string payment_id;
    bool solana = false;
  };
  FacilitatorResult<Checked> check(const x402::PaymentPayload& payment,
                                   const x402::PaymentRequirements& requirements);

  EmbeddedOptions options_;
  std::unique_ptr<Ledger> ledger_;
  Clock clock_;
};

}  // namespace x402proxy::facilitator
