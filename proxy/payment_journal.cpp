#include "proxy/payment_journal.h"

#include <sqlite3.h>

#include <chrono>
#include <memory>
#include <set>

namespace x402proxy::proxy {
namespace {

struct StatementDeleter {
  void operator()(sqlite3_stmt* statement) const { sqlite3_finalize(statement); }
};
using Statement = std::unique_ptr<sqlite3_stmt, StatementDeleter>;

std::int64_t unix_millis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string column_text(sqlite3_stmt* statement, int column) {
  const unsigned char* text = sqlite3_column_text(statement, column);
  return text ? reinterpret_cast<const char*>(text) : "";
}

PaymentState state_from(const std::string& name) {
  for (auto state : {PaymentState::verified, PaymentState::forwarded, PaymentState::settled,
                     PaymentState::settle_failed, PaymentState::upstream_failed,
                     PaymentState::released, PaymentState::abandoned}) {
    if (name == to_string(state))
      return state;
  }
  return PaymentState::verified;
}

constexpr const char* kSelectColumns =
    "SELECT id, tool, network, asset, amount, pay_to, payer, replay_key, state, transaction_id, "
    "detail, payment_json, requirements_json FROM payments ";

JournalEntry read_row(sqlite3_stmt* statement) {
  JournalEntry entry;
  entry.id = sqlite3_column_int64(statement, 0);
  entry.tool = column_text(statement, 1);
  entry.network = column_text(statement, 2);
  entry.asset = column_text(statement, 3);
  entry.amount = column_text(statement, 4);
  entry.pay_to = column_text(statement, 5);
  entry.payer = column_text(statement, 6);
  entry.replay_key = column_text(statement, 7);
  entry.state = state_from(column_text(statement, 8));
  entry.transaction = column_text(statement, 9);
  entry.detail = column_text(statement, 10);
  entry.payment_json = column_text(statement, 11);
  entry.requirements_json = column_text(statement, 12);
  return entry;
}

}  // namespace

const char* to_string(PaymentState state) {
  switch (state) {
    case PaymentState::verified:
      return "verified";
    case PaymentState::forwarded:
      return "forwarded";
    case PaymentState::settled:
      return "settled";
    case PaymentState::settle_failed:
      return "settle_failed";
    case PaymentState::upstream_failed:
      return "upstream_failed";
    case PaymentState::released:
      return "released";
    case PaymentState::abandoned:
      return "abandoned";
  }
  return "unknown";
}

Result<std::unique_ptr<PaymentJournal>> PaymentJournal::open(const std::string& path) {
  sqlite3* db = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return make_error("journal.open", "cannot open payment journal " + path + ": " + message);
  }
  std::unique_ptr<PaymentJournal> journal(new PaymentJournal(db));
  sqlite3_busy_timeout(db, 5000);
  for (const char* sql : {
           "PRAGMA journal_mode=WAL",
           // NORMAL in WAL mode survives a process crash; only a power loss can drop the last
           // commits.
           "PRAGMA synchronous=NORMAL",
           "CREATE TABLE IF NOT EXISTS payments ("
           " id INTEGER PRIMARY KEY AUTOINCREMENT, created_ms INTEGER NOT NULL,"
           " updated_ms INTEGER NOT NULL, tool TEXT NOT NULL, network TEXT NOT NULL,"
           " asset TEXT NOT NULL, amount TEXT NOT NULL, pay_to TEXT NOT NULL, payer TEXT NOT NULL,"
           " replay_key TEXT NOT NULL, state TEXT NOT NULL, transaction_id TEXT NOT NULL DEFAULT "
           "'',"
           " detail TEXT NOT NULL DEFAULT '', payment_json TEXT NOT NULL DEFAULT '',"
           " requirements_json TEXT NOT NULL DEFAULT '')",
           "CREATE INDEX IF NOT EXISTS payments_state ON payments(state)",
       }) {
    if (auto status = journal->exec(sql); !status.ok())
      return status.error();
  }
  if (auto status = journal->add_missing_columns(); !status.ok())
    return status.error();
  return journal;
}

// A file written before the settlement data was kept: add its columns (empty in the old rows,
// which recovery then leaves for a manual check).
Status PaymentJournal::add_missing_columns() {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db_, "PRAGMA table_info(payments)", -1, &raw, nullptr) != SQLITE_OK) {
    return make_error("journal.sql", sqlite3_errmsg(db_));
  }
  Statement statement(raw);
  std::set<std::string> columns;
  while (sqlite3_step(raw) == SQLITE_ROW)
    columns.insert(column_text(raw, 1));  // table_info: cid, name, type, ...
  statement.reset();
  for (const char* column : {"payment_json", "requirements_json"}) {
    if (columns.count(column) != 0)
      continue;
    std::string sql =
        std::string("ALTER TABLE payments ADD COLUMN ") + column + " TEXT NOT NULL DEFAULT ''";
    if (auto status = exec(sql.c_str()); !status.ok())
      return status.error();
  }
  return ok_status();
}

PaymentJournal::~PaymentJournal() {
  sqlite3_close(db_);
}

Status PaymentJournal::exec(const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    std::string text = message ? message : "unknown error";
    sqlite3_free(message);
    return make_error("journal.sql", text);
  }
  return ok_status();
}

Result<std::int64_t> PaymentJournal::record_verified(const JournalEntry& entry) {
  std::lock_guard lock(mutex_);
  sqlite3_stmt* raw = nullptr;
  const char* sql =
      "INSERT INTO payments (created_ms, updated_ms, tool, network, asset, amount, pay_to, payer,"
      " replay_key, payment_json, requirements_json, state)"
      " VALUES (?1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'verified')";
  if (sqlite3_prepare_v2(db_, sql, -1, &raw, nullptr) != SQLITE_OK) {
    return make_error("journal.sql", sqlite3_errmsg(db_));
  }
  Statement statement(raw);
  sqlite3_bind_int64(raw, 1, unix_millis());
  const std::string* texts[] = {&entry.tool,       &entry.network,      &entry.asset,
                                &entry.amount,     &entry.pay_to,       &entry.payer,
                                &entry.replay_key, &entry.payment_json, &entry.requirements_json};
  for (int i = 0; i < 9; ++i) {
    sqlite3_bind_text(raw, i + 2, texts[i]->c_str(), static_cast<int>(texts[i]->size()),
                      SQLITE_TRANSIENT);
  }
  if (sqlite3_step(raw) != SQLITE_DONE)
    return make_error("journal.sql", sqlite3_errmsg(db_));
  return static_cast<std::int64_t>(sqlite3_last_insert_rowid(db_));
}

Status PaymentJournal::update(std::int64_t id, PaymentState state, const std::string& transaction,
                              const std::string& detail) {
  std::lock_guard lock(mutex_);
  sqlite3_stmt* raw = nullptr;
  const char* sql =
      "UPDATE payments SET state = ?1, updated_ms = ?2, transaction_id = ?3, detail = ?4"
      " WHERE id = ?5";
  if (sqlite3_prepare_v2(db_, sql, -1, &raw, nullptr) != SQLITE_OK) {
    return make_error("journal.sql", sqlite3_errmsg(db_));
  }
  Statement statement(raw);
  sqlite3_bind_text(raw, 1, to_string(state), -1, SQLITE_STATIC);
  sqlite3_bind_int64(raw, 2, unix_millis());
  sqlite3_bind_text(raw, 3, transaction.c_str(), static_cast<int>(transaction.size()),
                    SQLITE_TRANSIENT);
  sqlite3_bind_text(raw, 4, detail.c_str(), static_cast<int>(detail.size()), SQLITE_TRANSIENT);
  sqlite3_bind_int64(raw, 5, id);
  if (sqlite3_step(raw) != SQLITE_DONE)
    return make_error("journal.sql", sqlite3_errmsg(db_));
  if (sqlite3_changes(db_) != 1) {
    return make_error("journal.missing", "no journal row " + std::to_string(id));
  }
  return ok_status();
}

Result<std::vector<JournalEntry>> PaymentJournal::open_payments() {
  std::lock_guard lock(mutex_);
  sqlite3_stmt* raw = nullptr;
  std::string sql =
      std::string(kSelectColumns) + "WHERE state IN ('verified', 'forwarded') ORDER BY id";
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &raw, nullptr) != SQLITE_OK) {
    return make_error("journal.sql", sqlite3_errmsg(db_));
  }
  Statement statement(raw);
  std::vector<JournalEntry> entries;
  while (sqlite3_step(raw) == SQLITE_ROW)
    entries.push_back(read_row(raw));
  return entries;
}

Result<JournalEntry> PaymentJournal::find(std::int64_t id) {
  std::lock_guard lock(mutex_);
  sqlite3_stmt* raw = nullptr;
  std::string sql = std::string(kSelectColumns) + "WHERE id = ?1";
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &raw, nullptr) != SQLITE_OK) {
    return make_error("journal.sql", sqlite3_errmsg(db_));
  }
  Statement statement(raw);
  sqlite3_bind_int64(raw, 1, id);
  if (sqlite3_step(raw) != SQLITE_ROW) {
    return make_error("journal.missing", "no journal row " + std::to_string(id));
  }
  return read_row(raw);
}

}  // namespace x402proxy::proxy
