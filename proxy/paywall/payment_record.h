// One accepted payment as the paid call sees it: the replay lock on its identity, its journal row
// and the metrics of each transition, kept together so that no step can update one and forget
// another. Settlement outcomes themselves are written by the SettlementService (the only writer
// of those, whoever asks); this object covers the steps before and around them.
#pragma once

#include <cstdint>

#include <boost/asio/awaitable.hpp>
#include <string>

#include "proxy/serve_state.h"
#include "proxy/settlement/payment_journal.h"
#include "x402/types.h"

namespace x402proxy::proxy {

class PaymentRecord {
 public:
  PaymentRecord(const ServeState& state, std::string replay_key,
                const x402::PaymentRequirements& requirement);
  // A lock taken for a payment that was never journaled (refused before that) is given back.
  ~PaymentRecord();
  PaymentRecord(const PaymentRecord&) = delete;
  PaymentRecord& operator=(const PaymentRecord&) = delete;

  // Each step that touches the store is awaited (a PostgreSQL store runs it on its own threads).
  // Takes the replay lock; false when another call holds this payment, an error when the store
  // cannot say.
  boost::asio::awaitable<Result<bool>> lock();
  // The payment was verified: journal row `verified`.
  boost::asio::awaitable<Status> open(const JournalEntry& entry);
  // The request is going onto an established upstream connection.
  boost::asio::awaitable<Status> forwarded();
  // Settlement is about to be asked; `result_json` is kept for redemption.
  boost::asio::awaitable<Status> settling(const std::string& result_json);
  // The call did not consume the payment (upstream_failed, released): the lock is given back so
  // the buyer may use it again.
  boost::asio::awaitable<void> given_back(PaymentState state, const std::string& why);
  // After settlement (whatever its outcome) the payment stays locked while it could be valid
  // (written in the background: until then the lock is still held, in flight).
  void keep_locked_until(std::int64_t valid_until_unix);
  // Refused before it was journaled: the lock is given back now, before the refusal is written,
  // so that the buyer's immediate retry (on another I/O thread) does not find it in use.
  void release_unused();

  std::int64_t row() const { return row_; }
  const std::string& replay_key() const { return replay_key_; }

 private:
  const ServeState& state_;
  std::string replay_key_;
  const x402::PaymentRequirements& requirement_;
  bool locked_ = false;
  bool finished_ = false;  // given back or kept locked: the destructor leaves the lock alone
  std::int64_t row_ = 0;
};

}  // namespace x402proxy::proxy
