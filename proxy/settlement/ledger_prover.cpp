#include "proxy/settlement/ledger_prover.h"

#include <ctime>

namespace x402proxy::proxy {

boost::asio::awaitable<ChainProof> LedgerProver::prove(const JournalEntry& row,
                                                       const x402::PaymentPayload&,
                                                       const x402::PaymentRequirements&) {
  ChainProof proof;
  // The journal's replay key is the ledger's payment id (facilitator/rules/payment_identity.h).
  auto settled = facilitator_->ledger().settled_transaction(row.replay_key);
  if (!settled.ok()) {
    proof.kind = ChainProof::Kind::unavailable;
    proof.reason = settled.error().message;
    co_return proof;
  }
  if (settled->has_value()) {
    proof.kind = ChainProof::Kind::settled;
    proof.transaction = **settled;
    co_return proof;
  }
  // Not in the ledger. Once the authorization can no longer settle, it never will.
  if (row.valid_until != 0 && static_cast<std::int64_t>(std::time(nullptr)) > row.valid_until) {
    proof.kind = ChainProof::Kind::refused;
    proof.reason = "authorization_expired_unsettled";
    co_return proof;
  }
  proof.kind = ChainProof::Kind::not_yet;
  co_return proof;
}

}  // namespace x402proxy::proxy
