#include "proxy/settlement/payment_journal.h"

#include <array>
#include <set>

namespace x402proxy::proxy {
namespace {

constexpr std::array<PaymentState, 10> kStates = {
    PaymentState::verified,        PaymentState::forwarded,       PaymentState::settling,
    PaymentState::settled,         PaymentState::settle_pending,  PaymentState::settle_failed,
    PaymentState::settle_unproven, PaymentState::upstream_failed, PaymentState::released,
    PaymentState::abandoned};

// Schema versions (PRAGMA user_version). 1: the first release; 2: the settlement data; 3: the
// settlement outcome (kept results, reconciliation, settle-first flow).
constexpr const char* kMigrations[] = {
    "CREATE TABLE IF NOT EXISTS payments ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT, created_ms INTEGER NOT NULL,"
    " updated_ms INTEGER NOT NULL, tool TEXT NOT NULL, network TEXT NOT NULL,"
    " asset TEXT NOT NULL, amount TEXT NOT NULL, pay_to TEXT NOT NULL, payer TEXT NOT NULL,"
    " replay_key TEXT NOT NULL, state TEXT NOT NULL, transaction_id TEXT NOT NULL DEFAULT '',"
    " detail TEXT NOT NULL DEFAULT '');"
    "CREATE INDEX IF NOT EXISTS payments_state ON payments(state);",

    "ALTER TABLE payments ADD COLUMN payment_json TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE payments ADD COLUMN requirements_json TEXT NOT NULL DEFAULT '';",

    "ALTER TABLE payments ADD COLUMN flow TEXT NOT NULL DEFAULT 'after';"
    "ALTER TABLE payments ADD COLUMN valid_until INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE payments ADD COLUMN forwarded_ms INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE payments ADD COLUMN delivered_ms INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE payments ADD COLUMN result_json TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE payments ADD COLUMN result_expires_ms INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE payments ADD COLUMN seen_transactions TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE payments ADD COLUMN settle_sent INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE payments ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE payments ADD COLUMN next_attempt_ms INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE payments ADD COLUMN credit_account TEXT NOT NULL DEFAULT '';"
    "CREATE INDEX IF NOT EXISTS payments_replay_key ON payments(replay_key);"
    // Earlier releases booked every settle failure as settle_failed, also those that prove
    // nothing (a timeout, a 5xx, settlement_pending, an "already used" nonce): those are open
    // again, to be reconciled, with a validity bound longer than any authorization's.
    "UPDATE payments SET state = 'settle_pending', settle_sent = 1, next_attempt_ms = 0,"
    " valid_until = created_ms / 1000 + 86400"
    " WHERE state = 'settle_failed' AND NOT (detail LIKE 'insufficient_funds%' OR"
    " (detail LIKE 'invalid_exact_%' AND detail NOT LIKE 'invalid_exact_evm_nonce_already_used%'"
    " AND detail NOT LIKE '%transaction_failed%' AND detail NOT LIKE "
    "'%transfer_event_mismatch%'));",
};

constexpr const char* kSelectColumns =
    "SELECT id, created_ms, tool, network, asset, amount, pay_to, payer, replay_key, state,"
    " transaction_id, detail, payment_json, requirements_json, flow, valid_until, forwarded_ms,"
    " delivered_ms, result_json, result_expires_ms, seen_transactions, settle_sent, attempts,"
    " next_attempt_ms, credit_account FROM payments ";

constexpr const char* kOpenStates = "('verified', 'forwarded', 'settling', 'settle_pending')";

JournalEntry read_row(const sqlite::Statement& row) {
  JournalEntry entry;
  entry.id = row.integer(0);
  entry.created_ms = row.integer(1);
  entry.tool = row.text(2);
  entry.network = row.text(3);
  entry.asset = row.text(4);
  entry.amount = row.text(5);
  entry.pay_to = row.text(6);
  entry.payer = row.text(7);
  entry.replay_key = row.text(8);
  // An unknown state (a newer binary wrote it) is read as open so that nothing is lost.
  entry.state = payment_state_from(row.text(9)).value_or(PaymentState::settle_pending);
  entry.transaction = row.text(10);
  entry.detail = row.text(11);
  entry.payment_json = row.text(12);
  entry.requirements_json = row.text(13);
  entry.flow = row.text(14) == "before" ? SettleFlow::before : SettleFlow::after;
  entry.valid_until = row.integer(15);
  entry.forwarded_ms = row.integer(16);
  entry.delivered_ms = row.integer(17);
  entry.result_json = row.text(18);
  entry.result_expires_ms = row.integer(19);
  entry.seen_transactions = row.text(20);
  entry.settle_sent = row.integer(21) != 0;
  entry.attempts = static_cast<int>(row.integer(22));
  entry.next_attempt_ms = row.integer(23);
  entry.credit_account = row.text(24);
  return entry;
}

Error missing(std::int64_t id) {
  return make_error("journal.missing", "no journal row " + std::to_string(id));
}

}  // namespace

const char* to_string(PaymentState state) {
  switch (state) {
    case PaymentState::verified:
      return "verified";
    case PaymentState::forwarded:
      return "forwarded";
    case PaymentState::settling:
      return "settling";
    case PaymentState::settled:
      return "settled";
    case PaymentState::settle_pending:
      return "settle_pending";
    case PaymentState::settle_failed:
      return "settle_failed";
    case PaymentState::settle_unproven:
      return "settle_unproven";
    case PaymentState::upstream_failed:
      return "upstream_failed";
    case PaymentState::released:
      return "released";
    case PaymentState::abandoned:
      return "abandoned";
  }
  return "unknown";
}

std::optional<PaymentState> payment_state_from(std::string_view name) {
  for (PaymentState state : kStates) {
    if (name == to_string(state))
      return state;
  }
  return std::nullopt;
}

bool settlement_open(PaymentState state) {
  return state == PaymentState::verified || state == PaymentState::forwarded ||
         state == PaymentState::settling || state == PaymentState::settle_pending;
}

Result<std::unique_ptr<PaymentJournal>> PaymentJournal::open(const std::string& path) {
  auto db = sqlite::Database::open(path, "payment journal");
  if (!db.ok())
    return make_error("journal.open", db.error().message);
  std::unique_ptr<PaymentJournal> journal(new PaymentJournal(std::move(db).value()));
  if (auto s = journal->adopt_unversioned_file(); !s.ok())
    return s.error();
  if (auto s = journal->db_->migrate(kMigrations); !s.ok())
    return make_error("journal.open", s.error().message);
  return journal;
}

// Journals of the releases before schema versions carry user_version 0 whatever their columns:
// they get the version their columns show, so that migration adds only what is missing.
Status PaymentJournal::adopt_unversioned_file() {
  return db_->adopt_unversioned("payments", [](const std::set<std::string>& columns) {
    return columns.count("payment_json") != 0 ? 2 : 1;
  });
}

Result<std::int64_t> PaymentJournal::record_verified(const JournalEntry& entry) {
  std::lock_guard lock(mutex_);
  auto statement = db_->prepare(
      "INSERT INTO payments (created_ms, updated_ms, tool, network, asset, amount, pay_to, payer,"
      " replay_key, payment_json, requirements_json, flow, valid_until, credit_account, state)"
      " VALUES (?1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, 'verified')");
  if (!statement.ok())
    return statement.error();
  statement->bind(1, sqlite::unix_millis())
      .bind(2, entry.tool)
      .bind(3, entry.network)
      .bind(4, entry.asset)
      .bind(5, entry.amount)
      .bind(6, entry.pay_to)
      .bind(7, entry.payer)
      .bind(8, entry.replay_key)
      .bind(9, entry.payment_json)
      .bind(10, entry.requirements_json)
      .bind(11, entry.flow == SettleFlow::before ? "before" : "after")
      .bind(12, entry.valid_until)
      .bind(13, entry.credit_account);
  if (auto s = statement->run(); !s.ok())
    return s.error();
  return db_->last_insert_id();
}

Status PaymentJournal::update(std::int64_t id, PaymentState state, const std::string& transaction,
                              const std::string& detail) {
  std::lock_guard lock(mutex_);
  auto statement = db_->prepare(
      "UPDATE payments SET state = ?1, updated_ms = ?2, transaction_id = ?3, detail = ?4"
      " WHERE id = ?5");
  if (!statement.ok())
    return statement.error();
  statement->bind(1, to_string(state))
      .bind(2, sqlite::unix_millis())
      .bind(3, transaction)
      .bind(4, detail)
      .bind(5, id);
  if (auto s = statement->run(); !s.ok())
    return s;
  if (db_->changes() != 1)
    return missing(id);
  return ok_status();
}

Status PaymentJournal::mark_forwarded(std::int64_t id) {
  std::lock_guard lock(mutex_);
  auto statement = db_->prepare(
      "UPDATE payments SET state = CASE WHEN flow = 'after' AND state = 'verified'"
      " THEN 'forwarded' ELSE state END,"
      " forwarded_ms = ?1, updated_ms = ?1 WHERE id = ?2");
  if (!statement.ok())
    return statement.error();
  statement->bind(1, sqlite::unix_millis()).bind(2, id);
  if (auto s = statement->run(); !s.ok())
    return s;
  return db_->changes() == 1 ? ok_status() : Status(missing(id));
}

Status PaymentJournal::mark_settling(std::int64_t id, const std::string& result_json,
                                     std::int64_t result_expires_ms, std::int64_t next_attempt_ms) {
  std::lock_guard lock(mutex_);
  auto statement = db_->prepare(
      "UPDATE payments SET state = 'settling', result_json = ?1, result_expires_ms = ?2,"
      " updated_ms = ?3, next_attempt_ms = ?4 WHERE id = ?5");
  if (!statement.ok())
    return statement.error();
  statement->bind(1, result_json)
      .bind(2, result_expires_ms)
      .bind(3, sqlite::unix_millis())
      .bind(4, next_attempt_ms)
      .bind(5, id);
  if (auto s = statement->run(); !s.ok())
    return s;
  return db_->changes() == 1 ? ok_status() : Status(missing(id));
}

Status PaymentJournal::record_settlement(std::int64_t id, const SettlementRecord& settlement) {
  std::lock_guard lock(mutex_);
  // Every transaction a facilitator names is kept, proven or not: an operator (or a later proof)
  // needs them all.
  auto statement = db_->prepare(
      "UPDATE payments SET state = ?1, updated_ms = ?2,"
      " transaction_id = CASE WHEN ?1 = 'settled' THEN ?3 ELSE transaction_id END,"
      " seen_transactions = CASE WHEN ?3 = '' OR instr(' ' || seen_transactions || ' ',"
      "   ' ' || ?3 || ' ') > 0 THEN seen_transactions"
      "   WHEN seen_transactions = '' THEN ?3 ELSE seen_transactions || ' ' || ?3 END,"
      " detail = ?4, settle_sent = settle_sent OR ?5, attempts = attempts + 1,"
      " next_attempt_ms = ?6 WHERE id = ?7");
  if (!statement.ok())
    return statement.error();
  statement->bind(1, to_string(settlement.state))
      .bind(2, sqlite::unix_millis())
      .bind(3, settlement.transaction)
      .bind(4, settlement.detail)
      .bind(5, settlement.sent ? 1 : 0)
      .bind(6, settlement.next_attempt_ms)
      .bind(7, id);
  if (auto s = statement->run(); !s.ok())
    return s;
  return db_->changes() == 1 ? ok_status() : Status(missing(id));
}

Status PaymentJournal::mark_delivered(std::int64_t id) {
  std::lock_guard lock(mutex_);
  // Delivered: the kept result has done its job; the row no longer needs to hold it.
  auto statement = db_->prepare(
      "UPDATE payments SET delivered_ms = ?1, updated_ms = ?1, result_json = '' WHERE id = ?2");
  if (!statement.ok())
    return statement.error();
  statement->bind(1, sqlite::unix_millis()).bind(2, id);
  if (auto s = statement->run(); !s.ok())
    return s;
  return db_->changes() == 1 ? ok_status() : Status(missing(id));
}

Result<bool> PaymentJournal::claim_delivery(std::int64_t id) {
  std::lock_guard lock(mutex_);
  auto statement = db_->prepare(
      "UPDATE payments SET delivered_ms = ?1, updated_ms = ?1 WHERE id = ?2 AND delivered_ms = 0");
  if (!statement.ok())
    return statement.error();
  statement->bind(1, sqlite::unix_millis()).bind(2, id);
  if (auto s = statement->run(); !s.ok())
    return s.error();
  return db_->changes() == 1;
}

Status PaymentJournal::release_delivery(std::int64_t id) {
  std::lock_guard lock(mutex_);
  auto statement = db_->prepare("UPDATE payments SET delivered_ms = 0 WHERE id = ?1");
  if (!statement.ok())
    return statement.error();
  statement->bind(1, id);
  return statement->run();
}

Status PaymentJournal::keep_result(std::int64_t id, const std::string& result_json,
                                   std::int64_t result_expires_ms) {
  std::lock_guard lock(mutex_);
  auto statement = db_->prepare(
      "UPDATE payments SET result_json = ?1, result_expires_ms = ?2, updated_ms = ?3"
      " WHERE id = ?4");
  if (!statement.ok())
    return statement.error();
  statement->bind(1, result_json)
      .bind(2, result_expires_ms)
      .bind(3, sqlite::unix_millis())
      .bind(4, id);
  if (auto s = statement->run(); !s.ok())
    return s;
  return db_->changes() == 1 ? ok_status() : Status(missing(id));
}

Result<std::vector<JournalEntry>> PaymentJournal::select(const std::string& where,
                                                         std::int64_t parameter,
                                                         bool bind_parameter) {
  std::lock_guard lock(mutex_);
  auto statement = db_->prepare(std::string(kSelectColumns) + where);
  if (!statement.ok())
    return statement.error();
  if (bind_parameter)
    statement->bind(1, parameter);
  std::vector<JournalEntry> entries;
  for (;;) {
    auto row = statement->step();
    if (!row.ok())
      return row.error();
    if (!*row)
      break;
    entries.push_back(read_row(*statement));
  }
  return entries;
}

Result<JournalEntry> PaymentJournal::find(std::int64_t id) {
  auto rows = select("WHERE id = ?1", id, true);
  if (!rows.ok())
    return rows.error();
  if (rows->empty())
    return missing(id);
  return std::move(rows->front());
}

Result<std::optional<JournalEntry>> PaymentJournal::find_by_replay_key(
    const std::string& replay_key) {
  std::lock_guard lock(mutex_);
  auto statement =
      db_->prepare(std::string(kSelectColumns) + "WHERE replay_key = ?1 ORDER BY id DESC LIMIT 1");
  if (!statement.ok())
    return statement.error();
  statement->bind(1, replay_key);
  auto row = statement->step();
  if (!row.ok())
    return row.error();
  if (!*row)
    return std::optional<JournalEntry>();
  return std::optional<JournalEntry>(read_row(*statement));
}

Result<std::vector<JournalEntry>> PaymentJournal::open_payments() {
  return select(std::string("WHERE state IN ") + kOpenStates + " ORDER BY id", 0, false);
}

Result<std::vector<JournalEntry>> PaymentJournal::due_settlements(std::int64_t now_ms) {
  return select(
      "WHERE state IN ('settling', 'settle_pending') AND next_attempt_ms <= ?1"
      " ORDER BY next_attempt_ms, id LIMIT 256",
      now_ms, true);
}

Result<std::vector<JournalEntry>> PaymentJournal::locked_payments(std::int64_t now_unix) {
  return select(std::string("WHERE state IN ") + kOpenStates +
                    " OR (state IN ('settled', 'settle_failed', 'settle_unproven')"
                    " AND valid_until >= ?1) ORDER BY id",
                now_unix, true);
}

Result<int> PaymentJournal::expire_results(std::int64_t now_ms) {
  std::lock_guard lock(mutex_);
  auto statement = db_->prepare(
      "UPDATE payments SET result_json = '' WHERE result_json != '' AND result_expires_ms < ?1");
  if (!statement.ok())
    return statement.error();
  statement->bind(1, now_ms);
  if (auto s = statement->run(); !s.ok())
    return s.error();
  return db_->changes();
}

Result<std::size_t> PaymentJournal::open_count() {
  std::lock_guard lock(mutex_);
  auto statement =
      db_->prepare(std::string("SELECT count(*) FROM payments WHERE state IN ") + kOpenStates);
  if (!statement.ok())
    return statement.error();
  auto row = statement->step();
  if (!row.ok())
    return row.error();
  return static_cast<std::size_t>(*row ? statement->integer(0) : 0);
}

}  // namespace x402proxy::proxy
