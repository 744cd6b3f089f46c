// Settling payments and reconciling every settlement whose outcome is not known (DESIGN, paywall
// pipeline step 6). The paid call asks `settle()`, which tries until the outcome is proven or the
// call's wait ends; the reconciler keeps trying every open row in the background (at start-up and
// on a timer) until it is proven or the authorization can no longer settle; a buyer's retry with
// the same payment asks `reconcile()` for one more look. In every case only the task that made a
// settle attempt writes its outcome to the journal, so a late answer is never overwritten by a
// waiter that gave up.
//
// A settle request is never abandoned when a waiter stops waiting: it runs to its own budget
// (`request_timeout`, longer than the call's wait) and records what the facilitator answered, so
// a transaction that lands after the buyer was told "pending" is still booked with its hash.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "facilitator/facilitator.h"
#include "facilitator/settlement.h"
#include "proxy/operations/metrics.h"
#include "proxy/settlement/payment_journal.h"
#include "proxy/settlement/settlement_prover.h"

namespace x402proxy::proxy {

struct SettlementOptions {
  std::chrono::milliseconds call_wait{std::chrono::seconds(60)};  // facilitator.settle_timeout
  std::chrono::milliseconds request_timeout{std::chrono::seconds(180)};  // one settle request
  std::chrono::milliseconds first_retry{std::chrono::milliseconds(500)};
  std::chrono::milliseconds max_retry{std::chrono::seconds(60)};
  std::chrono::milliseconds tick{std::chrono::seconds(1)};  // how often the reconciler looks
  // After the authorization's validity ends, how long a row without proof is still tried (a
  // facilitator may still answer a request in flight) before it is settle_unproven.
  std::chrono::seconds expiry_grace{std::chrono::seconds(300)};
};

// One payment to settle, as the facilitator is called with it.
struct SettlementJob {
  std::int64_t row = 0;
  x402::PaymentPayload payment;
  x402::PaymentRequirements requirements;
  std::int64_t valid_until = 0;  // unix s; 0: unknown
  bool may_have_landed = false;  // an earlier attempt may have reached the facilitator
  int attempts = 0;
  std::string replay_key;
  std::string credit_account;  // a prepaid top-up: credited once its settlement is proven
};

// The payment and requirement a journal row keeps, as the facilitator was called with them.
Result<SettlementJob> settlement_job_from(const JournalEntry& entry);

class SettlementService : public std::enable_shared_from_this<SettlementService> {
 public:
  SettlementService(boost::asio::any_io_executor executor,
                    std::shared_ptr<facilitator::Facilitator> facilitator,
                    std::shared_ptr<PaymentJournal> journal, std::shared_ptr<ServeMetrics> metrics,
                    SettlementOptions options, std::shared_ptr<SettlementProver> prover = {});

  // Settles `job` (its row already `settling`), retrying an unknown outcome with backoff while
  // `wait` lasts. Returns the last outcome known when it ends (unknown if the request is still
  // running: it records its answer itself when it comes).
  boost::asio::awaitable<facilitator::Settlement> settle(SettlementJob job,
                                                         std::chrono::milliseconds wait);

  // One more look at open row `row` now, bounded by `wait`: a proof from the chain when a prover
  // is configured, else a settle attempt. Returns the row as it stands afterwards.
  boost::asio::awaitable<Result<JournalEntry>> reconcile(std::int64_t row,
                                                         std::chrono::milliseconds wait);

  // Start-up: rows left verified are abandoned (never settled); rows left forwarded are settled
  // (the payment covers the attempt); rows left settling or pending are reconciled. Runs one pass
  // bounded by `budget`; what is left, the background reconciler finishes.
  struct RecoveryReport {
    std::size_t settled = 0;
    std::size_t settle_failed = 0;
    std::size_t abandoned = 0;
    std::size_t pending = 0;    // still open after the pass
    std::size_t left_open = 0;  // no settlement data: for a person to check
  };
  // `orphans_only` (several replicas, from the reconciler): only the open rows of other
  // replicas whose lease ran out, taken over as a start-up recovery would.
  boost::asio::awaitable<RecoveryReport> recover(std::chrono::milliseconds budget,
                                                 bool orphans_only = false);

  // The background reconciler: every `tick`, each due open row gets an attempt.
  void start();
  void stop();

  const SettlementOptions& options() const { return options_; }

  // Called once for each settlement proven for a row that credits a prepaid account (a top-up),
  // whoever proved it: the call, the reconciler or recovery. The credit must be idempotent on
  // `job.replay_key`.
  std::function<void(const SettlementJob& job)> on_credit_settled;
  // Several replicas: renews what else this replica holds in the store (its in-flight replay
  // locks) with the journal's leases; runs on a store thread.
  std::function<void()> renew_claims;

 private:
  struct Attempt;
  // Runs one settle attempt as its own task and waits for it until `deadline`.
  boost::asio::awaitable<std::optional<facilitator::Settlement>> attempt(
      const SettlementJob& job, std::chrono::steady_clock::time_point deadline);
  // What an attempt's answer means for the row, written to the journal.
  boost::asio::awaitable<facilitator::Settlement> conclude(
      const SettlementJob& job, facilitator::FacilitatorResult<x402::SettleResponse> answer);
  // A proof from the chain (the configured prover), recorded; nullopt when there is none.
  boost::asio::awaitable<std::optional<facilitator::Settlement>> prove(const SettlementJob& job,
                                                                       bool sent);
  boost::asio::awaitable<facilitator::Settlement> reconcile_job(
      SettlementJob job, std::chrono::steady_clock::time_point deadline);
  boost::asio::awaitable<void> record(const SettlementJob& job,
                                      const facilitator::Settlement& settlement, PaymentState state,
                                      std::int64_t next_attempt_ms);
  std::int64_t next_attempt_ms(int attempts) const;
  bool claim(std::int64_t row);
  void unclaim(std::int64_t row);
  boost::asio::awaitable<void> run_reconciler();

  boost::asio::any_io_executor executor_;
  std::shared_ptr<facilitator::Facilitator> facilitator_;
  std::shared_ptr<PaymentJournal> journal_;
  std::shared_ptr<ServeMetrics> metrics_;
  SettlementOptions options_;
  std::shared_ptr<SettlementProver> prover_;
  std::mutex mutex_;
  std::set<std::int64_t> in_flight_;  // rows with a settle attempt or proof running
  std::shared_ptr<boost::asio::steady_timer> timer_;
  bool stopped_ = false;
};

}  // namespace x402proxy::proxy
