// The embedded facilitator's ledger is its chain: a settlement it made is proven by its transfer
// record, so an embedded serve reconciles a lost answer from the ledger instead of taking an
// "already used" refusal on trust.
#pragma once

#include <memory>

#include "facilitator/embedded/embedded_facilitator.h"
#include "proxy/settlement/settlement_prover.h"

namespace x402proxy::proxy {

class LedgerProver final : public SettlementProver {
 public:
  explicit LedgerProver(std::shared_ptr<facilitator::EmbeddedFacilitator> facilitator)
      : facilitator_(std::move(facilitator)) {}

  bool covers(const std::string&) const override { return true; }
  boost::asio::awaitable<ChainProof> prove(const JournalEntry& row,
                                           const x402::PaymentPayload& payment,
                                           const x402::PaymentRequirements& requirements) override;

 private:
  std::shared_ptr<facilitator::EmbeddedFacilitator> facilitator_;
};

}  // namespace x402proxy::proxy
