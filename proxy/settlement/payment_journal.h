// The payment journal: one row per payment the proxy accepted, in the shared store (a SQLite file,
// or PostgreSQL for several replicas). Each state is written
// before the step it names takes effect, so after a crash every payment is either finished or
// visible as open (DESIGN, paywall pipeline step 7), and a row keeps what a later run needs to
// finish it: the payment and the requirement exactly as the facilitator is given them, and, once
// the tool has answered, its result, so that a buyer whose settlement outcome was not known in
// time can redeem it with the same payment.
//
// Settle after the tool (the default flow):
//   verified → forwarded → settling → settled | settle_pending | settle_failed | settle_unproven
// Settle first (`settle: before`, x402 paymentFlow "upfront"):
//   verified → settling → settled | settle_pending | settle_failed | settle_unproven, and only a
//   settled payment is forwarded (forwarded_ms marks when).
// A payment the call did not consume: upstream_failed, released (input_required) or abandoned
// (left verified by a run that stopped before forwarding; never settled).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "store/store.h"
#include "x402/result.h"

namespace x402proxy::proxy {

enum class PaymentState {
  verified,         // verified and locked; nothing has happened yet
  forwarded,        // the request went onto an upstream connection (settle-after flow)
  settling,         // settle asked; outcome not known yet (a crash here leaves it to reconcile)
  settled,          // proven: a transaction moved the money
  settle_pending,   // the outcome is unknown; being reconciled
  settle_failed,    // proven: nothing moved and nothing will (the reason says why)
  settle_unproven,  // reconciliation gave up without proof either way: for a person to check
  upstream_failed,  // the call did not reach the tool or the tool did not answer: not charged
  released,         // given back unused (input_required): the same payment may come again
  abandoned         // left verified by a run that stopped before forwarding: never settled
};
const char* to_string(PaymentState state);
std::optional<PaymentState> payment_state_from(std::string_view name);
// Settlement not finished: a later run, or the reconciler, must still act on it.
bool settlement_open(PaymentState state);

enum class SettleFlow { after, before };

struct JournalEntry {
  std::int64_t id = 0;
  std::int64_t created_ms = 0;
  std::string tool;
  std::string network;
  std::string asset;
  std::string amount;
  std::string pay_to;
  std::string payer;
  std::string replay_key;
  PaymentState state = PaymentState::verified;
  std::string transaction;  // the proven settlement transaction
  std::string detail;       // reason code and a short message (never a secret)
  // What settle needs, as the facilitator is called with it: the PaymentPayload JSON and the
  // requirement JSON in the payment's x402 version. Empty in rows written before these columns.
  std::string payment_json;
  std::string requirements_json;
  SettleFlow flow = SettleFlow::after;
  std::int64_t valid_until = 0;   // unix s after which the authorization cannot settle any more
  std::int64_t forwarded_ms = 0;  // when the request went onto an upstream connection (0: never)
  std::int64_t delivered_ms = 0;  // when the result (with its receipt) reached the buyer
  std::string result_json;        // the tool's result object, kept until delivered or expired
  std::int64_t result_expires_ms = 0;
  std::string seen_transactions;     // every transaction id a facilitator named, space-separated
  bool settle_sent = false;          // a settle request may have reached the facilitator
  int attempts = 0;                  // settle attempts so far
  std::int64_t next_attempt_ms = 0;  // when the reconciler looks at it again
  std::string credit_account;        // a prepaid top-up: the account its settlement credits
  std::string owner;                 // the replica acting on the row (store.h)
  std::int64_t lease_until_ms = 0;   // until when its claim holds without renewal
};

// What one settle attempt established, as the journal records it.
struct SettlementRecord {
  PaymentState state = PaymentState::settle_pending;  // settled, settle_pending, settle_failed
                                                      // or settle_unproven
  std::string transaction;  // proven (settled) or named by the facilitator (pending)
  std::string detail;
  bool sent = false;  // this attempt may have reached the facilitator
  std::int64_t next_attempt_ms = 0;
};

class PaymentJournal {
 public:
  // Opens (creating 0600 if needed) the journal at `path` (":memory:" for tests); a journal
  // written by an older version is migrated to the current schema.
  static Result<std::unique_ptr<PaymentJournal>> open(const std::string& path);
  // The journal in a shared store (SQLite or PostgreSQL), migrated to the current schema. Every
  // method below blocks on the store: on an I/O thread, call them inside store().run(...).
  static Result<std::unique_ptr<PaymentJournal>> open(std::shared_ptr<store::Store> store);
  static int latest_schema_version(store::Engine engine);
  store::Store& store() const { return *store_; }
  // Runs `work(journal)` where blocking on the store is allowed (inline on SQLite, a store thread
  // on PostgreSQL) and resumes the caller on its own executor.
  template <class Work>
  boost::asio::awaitable<std::invoke_result_t<Work&, PaymentJournal&>> run(Work work) {
    auto bound = [this, work = std::move(work)]() mutable { return work(*this); };
    co_return co_await store_->run(std::move(bound));
  }
  PaymentJournal(const PaymentJournal&) = delete;
  PaymentJournal& operator=(const PaymentJournal&) = delete;

  // Records a verified payment; returns its row id.
  Result<std::int64_t> record_verified(const JournalEntry& entry);
  // A plain state change (kept for the given-back states and tests).
  Status update(std::int64_t id, PaymentState state, const std::string& transaction = {},
                const std::string& detail = {});
  // The request is going onto an established upstream connection. A settle-after row still
  // verified moves to forwarded; any other keeps its state (a settled payment whose result was
  // lost runs again for its buyer).
  Status mark_forwarded(std::int64_t id);
  // Settlement is about to be asked; `result_json` (may be empty) is the tool's result, kept so
  // that a buyer can redeem it if the outcome is not known in time. The reconciler leaves the row
  // to its caller until `next_attempt_ms`.
  Status mark_settling(std::int64_t id, const std::string& result_json,
                       std::int64_t result_expires_ms, std::int64_t next_attempt_ms = 0);
  // The outcome of a settle attempt (by the call, at recovery or by the reconciler).
  Status record_settlement(std::int64_t id, const SettlementRecord& settlement);
  Status mark_delivered(std::int64_t id);
  // Claims the delivery of a kept result before it is written: true for the one caller that
  // finds the row undelivered, so that two redemptions of one payment cannot both deliver (a
  // buyer's next retry can arrive before the first answer's write has returned). A claim whose
  // write failed is given back with release_delivery.
  Result<bool> claim_delivery(std::int64_t id);
  Status release_delivery(std::int64_t id);
  // Keeps (or replaces) the result of a settle-first call whose tool ran after settlement.
  Status keep_result(std::int64_t id, const std::string& result_json,
                     std::int64_t result_expires_ms);

  Result<JournalEntry> find(std::int64_t id);
  // The newest row for a payment's replay identity (a buyer retrying with the same payment).
  Result<std::optional<JournalEntry>> find_by_replay_key(const std::string& replay_key);
  // Rows whose settlement is not finished (verified, forwarded, settling, settle_pending).
  Result<std::vector<JournalEntry>> open_payments();
  // At start: the open rows this replica takes on, its own and those whose owner's lease ran out
  // (every open row of a SQLite file), now owned by this replica with a fresh lease.
  Result<std::vector<JournalEntry>> claim_open_payments(std::int64_t now_ms);
  // Open rows the reconciler should look at now (next_attempt_ms ≤ now), claimed as above: two
  // replicas never get the same row.
  Result<std::vector<JournalEntry>> due_settlements(std::int64_t now_ms);
  // While running: the open rows of other replicas whose lease ran out (they crashed or lost the
  // database), claimed as above.
  Result<std::vector<JournalEntry>> claim_orphaned_payments(std::int64_t now_ms);
  // Extends the lease of every open row this replica owns; returns how many.
  Result<std::size_t> renew_leases(std::int64_t now_ms);
  // Rows whose payment must stay locked against replay (for seeding the replay guard): every row
  // not given back whose authorization may still be valid at `now_unix`, or whose settlement is
  // open.
  Result<std::vector<JournalEntry>> locked_payments(std::int64_t now_unix);
  // Drops kept results past their lifetime; returns how many.
  Result<int> expire_results(std::int64_t now_ms);
  // How many rows are in each open state, for the journal-backlog metric.
  Result<std::size_t> open_count();

 private:
  explicit PaymentJournal(std::shared_ptr<store::Store> store) : store_(std::move(store)) {}
  Result<store::SqlRows> execute(std::string_view sql, std::span<const store::SqlValue> parameters);
  // An UPDATE of row `id`: "journal.missing" unless exactly that row changed.
  Status change_one(std::int64_t id, std::string_view sql,
                    std::span<const store::SqlValue> parameters);
  Result<std::vector<JournalEntry>> select(std::string_view sql,
                                           std::span<const store::SqlValue> parameters);
  std::int64_t claimable_before(std::int64_t now_ms) const;

  std::shared_ptr<store::Store> store_;
};

}  // namespace x402proxy::proxy
