// Proving a settlement's outcome from the chain itself (the optional `rpc:` per network in serve's
// config), for the payments whose facilitator answer was lost or ambiguous: on EVM the
// authorization's AuthorizationUsed event and its Transfer to payTo (or AuthorizationCanceled),
// on Solana the transaction signature's status. Without a prover, an "already used" answer stays
// unknown: it is never taken for payment.
#pragma once

#include <string>

#include <boost/asio/awaitable.hpp>

#include "proxy/settlement/payment_journal.h"
#include "x402/types.h"

namespace x402proxy::proxy {

struct ChainProof {
  enum class Kind {
    settled,     // the money moved to payTo: `transaction` is the proof
    refused,     // it never will: cancelled, or expired unused (`reason`)
    not_yet,     // nothing on chain yet, and the authorization may still settle
    unavailable  // the chain could not be asked (RPC down): no conclusion
  };
  Kind kind = Kind::unavailable;
  std::string transaction;
  std::string reason;
};

class SettlementProver {
 public:
  virtual ~SettlementProver() = default;
  // Whether this prover knows the row's network.
  virtual bool covers(const std::string& network) const = 0;
  // `row.seen_transactions` names the transactions a facilitator reported, if any.
  virtual boost::asio::awaitable<ChainProof> prove(
      const JournalEntry& row, const x402::PaymentPayload& payment,
      const x402::PaymentRequirements& requirements) = 0;
};

}  // namespace x402proxy::proxy
