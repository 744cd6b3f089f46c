// The payment journal: one SQLite row per payment the proxy accepted, moved through
// verified → forwarded → settled | settle_failed | upstream_failed (| released). Each state is
// written before the step it names takes effect, so after a crash every payment is either finished
// or visible as open (DESIGN, paywall pipeline step 7); a row keeps the payment and the requirement
// exactly as the facilitator is given them, so that a restart can settle it
// (proxy/journal_recovery.h) or mark it abandoned. WAL mode: a process crash loses no committed
// row.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "x402/result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace x402proxy::proxy {

// abandoned: left in verified by a run that stopped before forwarding the call; never settled.
enum class PaymentState {
  verified,
  forwarded,
  settled,
  settle_failed,
  upstream_failed,
  released,
  abandoned
};
const char* to_string(PaymentState state);

struct JournalEntry {
  std::int64_t id = 0;
  std::string tool;
  std::string network;
  std::string asset;
  std::string amount;
  std::string pay_to;
  std::string payer;
  std::string replay_key;
  PaymentState state = PaymentState::verified;
  std::string transaction;  // set when settled
  std::string detail;       // failure reason, when one
  // What settle needs, as the facilitator is called with it: the PaymentPayload JSON and the
  // requirement JSON in the payment's x402 version. Empty in rows written before these columns.
  std::string payment_json;
  std::string requirements_json;
};

class PaymentJournal {
 public:
  // Opens (creating if needed) the journal at `path` (":memory:" for tests).
  // A journal written by an older version gains the columns it lacks.
  static Result<std::unique_ptr<PaymentJournal>> open(const std::string& path);
  ~PaymentJournal();
  PaymentJournal(const PaymentJournal&) = delete;
  PaymentJournal& operator=(const PaymentJournal&) = delete;

  // Records a verified payment; returns its row id.
  Result<std::int64_t> record_verified(const JournalEntry& entry);
  Status update(std::int64_t id, PaymentState state, const std::string& transaction = {},
                const std::string& detail = {});

  // Rows left in verified/forwarded: payments a previous run did not finish.
  Result<std::vector<JournalEntry>> open_payments();
  Result<JournalEntry> find(std::int64_t id);

 private:
  explicit PaymentJournal(sqlite3* db) : db_(db) {}
  Status exec(const char* sql);
  Status add_missing_columns();

  sqlite3* db_;
  std::mutex mutex_;  // one connection, shared by the I/O threads; each write is short
};

}  // namespace x402proxy::proxy
