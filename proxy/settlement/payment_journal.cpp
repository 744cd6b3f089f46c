#include "proxy/settlement/payment_journal.h"

#include <algorithm>
#include <array>
#include <limits>
#include <set>

#include "store/schema_migrations.h"
#include "store/sqlite_session.h"

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

    // 4: the replica that owns an open row and the lease it renews (several replicas on
    // PostgreSQL; a SQLite file has one owner, whatever the column says).
    "ALTER TABLE payments ADD COLUMN owner TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE payments ADD COLUMN lease_until_ms INTEGER NOT NULL DEFAULT 0;",
};

// The same table on PostgreSQL, born at the current version (x402_schema, component
// "journal").
constexpr const char* kPostgresMigrations[] = {
    "CREATE TABLE IF NOT EXISTS payments ("
    " id BIGSERIAL PRIMARY KEY, created_ms BIGINT NOT NULL, updated_ms BIGINT NOT NULL,"
    " tool TEXT NOT NULL, network TEXT NOT NULL, asset TEXT NOT NULL, amount TEXT NOT NULL,"
    " pay_to TEXT NOT NULL, payer TEXT NOT NULL, replay_key TEXT NOT NULL, state TEXT NOT NULL,"
    " transaction_id TEXT NOT NULL DEFAULT '', detail TEXT NOT NULL DEFAULT '',"
    " payment_json TEXT NOT NULL DEFAULT '', requirements_json TEXT NOT NULL DEFAULT '',"
    " flow TEXT NOT NULL DEFAULT 'after', valid_until BIGINT NOT NULL DEFAULT 0,"
    " forwarded_ms BIGINT NOT NULL DEFAULT 0, delivered_ms BIGINT NOT NULL DEFAULT 0,"
    " result_json TEXT NOT NULL DEFAULT '', result_expires_ms BIGINT NOT NULL DEFAULT 0,"
    " seen_transactions TEXT NOT NULL DEFAULT '', settle_sent INTEGER NOT NULL DEFAULT 0,"
    " attempts INTEGER NOT NULL DEFAULT 0, next_attempt_ms BIGINT NOT NULL DEFAULT 0,"
    " credit_account TEXT NOT NULL DEFAULT '', owner TEXT NOT NULL DEFAULT '',"
    " lease_until_ms BIGINT NOT NULL DEFAULT 0);"
    "CREATE INDEX IF NOT EXISTS payments_state ON payments(state);"
    "CREATE INDEX IF NOT EXISTS payments_replay_key ON payments(replay_key);",
};

constexpr const char* kSelectColumns =
    "SELECT id, created_ms, tool, network, asset, amount, pay_to, payer, replay_key, state,"
    " transaction_id, detail, payment_json, requirements_json, flow, valid_until, forwarded_ms,"
    " delivered_ms, result_json, result_expires_ms, seen_transactions, settle_sent, attempts,"
    " next_attempt_ms, credit_account, owner, lease_until_ms FROM payments ";
constexpr const char* kReturnColumns =
    " RETURNING id, created_ms, tool, network, asset, amount, pay_to, payer, replay_key, state,"
    " transaction_id, detail, payment_json, requirements_json, flow, valid_until, forwarded_ms,"
    " delivered_ms, result_json, result_expires_ms, seen_transactions, settle_sent, attempts,"
    " next_attempt_ms, credit_account, owner, lease_until_ms";

constexpr const char* kOpenStates = "('verified', 'forwarded', 'settling', 'settle_pending')";

JournalEntry read_row(const store::SqlRow& row) {
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
  entry.owner = row.text(25);
  entry.lease_until_ms = row.integer(26);
  return entry;
}

Error missing(std::int64_t id) {
  return make_error("journal.missing", "no journal row " + std::to_string(id));
}

std::int64_t now_millis() {
  return sqlite::unix_millis();
}

using store::SqlValue;

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
  store::StoreLocation location;
  location.sqlite_path = path;
  auto opened = store::Store::open(std::move(location));
  if (!opened.ok())
    return make_error("journal.open", opened.error().message);
  return open(std::move(opened).value());
}

Result<std::unique_ptr<PaymentJournal>> PaymentJournal::open(std::shared_ptr<store::Store> store) {
  std::unique_ptr<PaymentJournal> journal(new PaymentJournal(std::move(store)));
  auto session = journal->store_->session();
  if (journal->store_->engine() == store::Engine::sqlite) {
    auto& db = static_cast<store::SqliteSession&>(*session).database();
    // Journals of the releases before schema versions carry user_version 0 whatever their
    // columns: they get the version their columns show, so that migration adds only what is
    // missing.
    if (auto s = db.adopt_unversioned("payments",
                                      [](const std::set<std::string>& columns) {
                                        return columns.count("payment_json") != 0 ? 2 : 1;
                                      });
        !s.ok())
      return s.error();
    if (auto s = db.migrate(kMigrations); !s.ok())
      return make_error("journal.open", s.error().message);
    return journal;
  }
  if (auto s = store::migrate_postgres(*session, "journal", kPostgresMigrations); !s.ok())
    return make_error("journal.open", s.error().message);
  return journal;
}

int PaymentJournal::latest_schema_version(store::Engine engine) {
  return static_cast<int>(engine == store::Engine::sqlite ? std::size(kMigrations)
                                                          : std::size(kPostgresMigrations));
}

Result<store::SqlRows> PaymentJournal::execute(std::string_view sql,
                                               std::span<const store::SqlValue> parameters) {
  auto session = store_->session();
  auto rows = session->execute(sql, parameters);
  if (!rows.ok())
    return Error(rows.error());
  return std::move(rows).value();
}

Status PaymentJournal::change_one(std::int64_t id, std::string_view sql,
                                  std::span<const store::SqlValue> parameters) {
  auto rows = execute(sql, parameters);
  if (!rows.ok())
    return rows.error();
  return rows->affected == 1 ? ok_status() : Status(missing(id));
}

Result<std::int64_t> PaymentJournal::record_verified(const JournalEntry& entry) {
  const std::int64_t now = now_millis();
  const SqlValue parameters[] = {now,
                                 entry.tool,
                                 entry.network,
                                 entry.asset,
                                 entry.amount,
                                 entry.pay_to,
                                 entry.payer,
                                 entry.replay_key,
                                 entry.payment_json,
                                 entry.requirements_json,
                                 std::string(entry.flow == SettleFlow::before ? "before" : "after"),
                                 entry.valid_until,
                                 entry.credit_account,
                                 store_->replica(),
                                 now + store_->location().lease.count()};
  auto rows = execute(
      "INSERT INTO payments (created_ms, updated_ms, tool, network, asset, amount, pay_to, payer,"
      " replay_key, payment_json, requirements_json, flow, valid_until, credit_account, owner,"
      " lease_until_ms, state)"
      " VALUES ($1, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 'verified')"
      " RETURNING id",
      parameters);
  if (!rows.ok())
    return rows.error();
  if (rows->rows.empty())
    return make_error("journal.sql", "the new journal row gave no id");
  return rows->rows.front().integer(0);
}

Status PaymentJournal::update(std::int64_t id, PaymentState state, const std::string& transaction,
                              const std::string& detail) {
  const SqlValue parameters[] = {std::string(to_string(state)), now_millis(), transaction, detail,
                                 id};
  return change_one(id,
                    "UPDATE payments SET state = $1, updated_ms = $2, transaction_id = $3,"
                    " detail = $4 WHERE id = $5",
                    parameters);
}

Status PaymentJournal::mark_forwarded(std::int64_t id) {
  const SqlValue parameters[] = {now_millis(), id};
  return change_one(id,
                    "UPDATE payments SET state = CASE WHEN flow = 'after' AND state = 'verified'"
                    " THEN 'forwarded' ELSE state END,"
                    " forwarded_ms = $1, updated_ms = $1 WHERE id = $2",
                    parameters);
}

Status PaymentJournal::mark_settling(std::int64_t id, const std::string& result_json,
                                     std::int64_t result_expires_ms, std::int64_t next_attempt_ms) {
  const SqlValue parameters[] = {result_json, result_expires_ms, now_millis(), next_attempt_ms, id};
  return change_one(id,
                    "UPDATE payments SET state = 'settling', result_json = $1,"
                    " result_expires_ms = $2, updated_ms = $3, next_attempt_ms = $4 WHERE id = $5",
                    parameters);
}

Status PaymentJournal::record_settlement(std::int64_t id, const SettlementRecord& settlement) {
  // Every transaction a facilitator names is kept, proven or not: an operator (or a later proof)
  // needs them all.
  const SqlValue parameters[] = {std::string(to_string(settlement.state)),
                                 now_millis(),
                                 settlement.transaction,
                                 settlement.detail,
                                 std::int64_t{settlement.sent ? 1 : 0},
                                 settlement.next_attempt_ms,
                                 id};
  return change_one(
      id,
      "UPDATE payments SET state = CAST($1 AS TEXT), updated_ms = $2,"
      " transaction_id = CASE WHEN CAST($1 AS TEXT) = 'settled' THEN CAST($3 AS TEXT)"
      "   ELSE transaction_id END,"
      " seen_transactions = CASE WHEN CAST($3 AS TEXT) = '' OR"
      "   (' ' || seen_transactions || ' ') LIKE ('% ' || CAST($3 AS TEXT) || ' %')"
      "   THEN seen_transactions"
      "   WHEN seen_transactions = '' THEN CAST($3 AS TEXT)"
      "   ELSE seen_transactions || ' ' || CAST($3 AS TEXT) END,"
      " detail = $4, settle_sent = CASE WHEN CAST($5 AS INTEGER) = 1 THEN 1 ELSE settle_sent END,"
      " attempts = attempts + 1, next_attempt_ms = $6 WHERE id = $7",
      parameters);
}

Status PaymentJournal::mark_delivered(std::int64_t id) {
  // Delivered: the kept result has done its job; the row no longer needs to hold it.
  const SqlValue parameters[] = {now_millis(), id};
  return change_one(id,
                    "UPDATE payments SET delivered_ms = $1, updated_ms = $1, result_json = ''"
                    " WHERE id = $2",
                    parameters);
}

Result<bool> PaymentJournal::claim_delivery(std::int64_t id) {
  const SqlValue parameters[] = {now_millis(), id};
  auto rows = execute(
      "UPDATE payments SET delivered_ms = $1, updated_ms = $1 WHERE id = $2 AND delivered_ms = 0",
      parameters);
  if (!rows.ok())
    return rows.error();
  return rows->affected == 1;
}

Status PaymentJournal::release_delivery(std::int64_t id) {
  const SqlValue parameters[] = {id};
  auto rows = execute("UPDATE payments SET delivered_ms = 0 WHERE id = $1", parameters);
  if (!rows.ok())
    return rows.error();
  return ok_status();
}

Status PaymentJournal::keep_result(std::int64_t id, const std::string& result_json,
                                   std::int64_t result_expires_ms) {
  const SqlValue parameters[] = {result_json, result_expires_ms, now_millis(), id};
  return change_one(id,
                    "UPDATE payments SET result_json = $1, result_expires_ms = $2, updated_ms = $3"
                    " WHERE id = $4",
                    parameters);
}

Result<std::vector<JournalEntry>> PaymentJournal::select(std::string_view sql,
                                                         std::span<const SqlValue> parameters) {
  auto rows = execute(sql, parameters);
  if (!rows.ok())
    return rows.error();
  std::vector<JournalEntry> entries;
  entries.reserve(rows->rows.size());
  for (const auto& row : rows->rows)
    entries.push_back(read_row(row));
  return entries;
}

Result<JournalEntry> PaymentJournal::find(std::int64_t id) {
  const SqlValue parameters[] = {id};
  auto rows = select(std::string(kSelectColumns) + "WHERE id = $1", parameters);
  if (!rows.ok())
    return rows.error();
  if (rows->empty())
    return missing(id);
  return std::move(rows->front());
}

Result<std::optional<JournalEntry>> PaymentJournal::find_by_replay_key(
    const std::string& replay_key) {
  const SqlValue parameters[] = {replay_key};
  auto rows = select(std::string(kSelectColumns) + "WHERE replay_key = $1 ORDER BY id DESC LIMIT 1",
                     parameters);
  if (!rows.ok())
    return rows.error();
  if (rows->empty())
    return std::optional<JournalEntry>();
  return std::optional<JournalEntry>(std::move(rows->front()));
}

Result<std::vector<JournalEntry>> PaymentJournal::open_payments() {
  return select(std::string(kSelectColumns) + "WHERE state IN " + kOpenStates + " ORDER BY id", {});
}

// A row is this replica's to act on when it owns it, or when its owner's lease ran out (the
// owner crashed or lost the database); on a SQLite file every row is (one process).
std::int64_t PaymentJournal::claimable_before(std::int64_t now_ms) const {
  return store_->single_replica() ? std::numeric_limits<std::int64_t>::max() : now_ms;
}

Result<std::vector<JournalEntry>> PaymentJournal::claim_open_payments(std::int64_t now_ms) {
  // One UPDATE takes the rows: a replica racing for the same row re-checks the owner and the
  // lease on the row it waited for (PostgreSQL's read committed re-evaluates the WHERE of an
  // UPDATE), so exactly one of them gets it.
  const SqlValue parameters[] = {store_->replica(), now_ms + store_->location().lease.count(),
                                 claimable_before(now_ms)};
  auto rows = select(std::string("UPDATE payments SET owner = $1, lease_until_ms = $2"
                                 " WHERE state IN ") +
                         kOpenStates + " AND (owner = $1 OR lease_until_ms < $3)" + kReturnColumns,
                     parameters);
  if (rows.ok())
    std::sort(rows->begin(), rows->end(),
              [](const JournalEntry& a, const JournalEntry& b) { return a.id < b.id; });
  return rows;
}

Result<std::vector<JournalEntry>> PaymentJournal::claim_orphaned_payments(std::int64_t now_ms) {
  const SqlValue parameters[] = {store_->replica(), now_ms + store_->location().lease.count(),
                                 now_ms};
  auto rows = select(std::string("UPDATE payments SET owner = $1, lease_until_ms = $2"
                                 " WHERE state IN ") +
                         kOpenStates + " AND owner != $1 AND lease_until_ms < $3" + kReturnColumns,
                     parameters);
  if (rows.ok())
    std::sort(rows->begin(), rows->end(),
              [](const JournalEntry& a, const JournalEntry& b) { return a.id < b.id; });
  return rows;
}

Result<std::vector<JournalEntry>> PaymentJournal::due_settlements(std::int64_t now_ms) {
  // Due: this replica's rows once their next attempt is due, and (several replicas) rows whose
  // owner's lease ran out, at once: a call that held its row back from the reconciler died with
  // its replica. On a SQLite file every row is this process's.
  const char* due = store_->single_replica()
                        ? "next_attempt_ms <= $3"
                        : "((owner = $1 AND next_attempt_ms <= $3) OR lease_until_ms < $3)";
  const SqlValue parameters[] = {store_->replica(), now_ms + store_->location().lease.count(),
                                 now_ms};
  auto rows =
      select(std::string("UPDATE payments SET owner = $1, lease_until_ms = $2 WHERE id IN"
                         " (SELECT id FROM payments WHERE state IN ('settling',"
                         " 'settle_pending') AND ") +
                 due + " ORDER BY next_attempt_ms, id LIMIT 256) AND " + due + kReturnColumns,
             parameters);
  if (rows.ok())
    std::sort(rows->begin(), rows->end(), [](const JournalEntry& a, const JournalEntry& b) {
      return a.next_attempt_ms != b.next_attempt_ms ? a.next_attempt_ms < b.next_attempt_ms
                                                    : a.id < b.id;
    });
  return rows;
}

Result<std::size_t> PaymentJournal::renew_leases(std::int64_t now_ms) {
  const SqlValue parameters[] = {now_ms + store_->location().lease.count(), store_->replica()};
  auto rows = execute(std::string("UPDATE payments SET lease_until_ms = $1 WHERE owner = $2"
                                  " AND state IN ") +
                          kOpenStates,
                      parameters);
  if (!rows.ok())
    return rows.error();
  return static_cast<std::size_t>(rows->affected);
}

Result<std::vector<JournalEntry>> PaymentJournal::locked_payments(std::int64_t now_unix) {
  const SqlValue parameters[] = {now_unix};
  return select(std::string(kSelectColumns) + "WHERE state IN " + kOpenStates +
                    " OR (state IN ('settled', 'settle_failed', 'settle_unproven')"
                    " AND valid_until >= $1) ORDER BY id",
                parameters);
}

Result<int> PaymentJournal::expire_results(std::int64_t now_ms) {
  const SqlValue parameters[] = {now_ms};
  auto rows = execute(
      "UPDATE payments SET result_json = '' WHERE result_json != '' AND result_expires_ms < $1",
      parameters);
  if (!rows.ok())
    return rows.error();
  return static_cast<int>(rows->affected);
}

Result<std::size_t> PaymentJournal::open_count() {
  auto rows =
      execute(std::string("SELECT count(*) FROM payments WHERE state IN ") + kOpenStates, {});
  if (!rows.ok())
    return rows.error();
  return static_cast<std::size_t>(rows->rows.empty() ? 0 : rows->rows.front().integer(0));
}

}  // namespace x402proxy::proxy
