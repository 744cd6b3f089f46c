#include "facilitator/embedded/ledger.h"

#include <sqlite3.h>

#include <chrono>
#include <filesystem>

namespace x402proxy::facilitator {
namespace {

struct StatementDeleter {
  void operator()(sqlite3_stmt* statement) const { sqlite3_finalize(statement); }
};
using Statement = std::unique_ptr<sqlite3_stmt, StatementDeleter>;

Error sql_error(sqlite3* db) {
  return make_error("ledger.sql", sqlite3_errmsg(db));
}

Result<Statement> prepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &raw, nullptr) != SQLITE_OK)
    return sql_error(db);
  return Statement(raw);
}

void bind_text(sqlite3_stmt* statement, int index, const std::string& text) {
  sqlite3_bind_text(statement, index, text.c_str(), static_cast<int>(text.size()),
                    SQLITE_TRANSIENT);
}

std::string column(sqlite3_stmt* statement, int index) {
  const unsigned char* text = sqlite3_column_text(statement, index);
  return text ? reinterpret_cast<const char*>(text) : "";
}

Status exec(sqlite3* db, const char* sql) {
  if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK)
    return sql_error(db);
  return ok_status();
}

// Rolls back unless committed: every early return inside a settlement undoes its partial writes.
class Transaction {
 public:
  explicit Transaction(sqlite3* db) : db_(db) {}
  ~Transaction() {
    if (!done_)
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  Status begin() { return exec(db_, "BEGIN IMMEDIATE"); }
  Status commit() {
    auto status = exec(db_, "COMMIT");
    done_ = status.ok();
    return status;
  }

 private:
  sqlite3* db_;
  bool done_ = false;
};

}  // namespace

Result<std::unique_ptr<Ledger>> Ledger::open(const std::string& path,
                                             x402::Amount starting_balance) {
  sqlite3* db = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return make_error("ledger.open", "cannot open ledger " + path + ": " + message);
  }
  std::unique_ptr<Ledger> ledger(new Ledger(db, starting_balance));
  sqlite3_busy_timeout(db, 5000);
  for (const char* sql : {
           "PRAGMA journal_mode=WAL",
           "PRAGMA synchronous=NORMAL",
           "CREATE TABLE IF NOT EXISTS balances (network TEXT NOT NULL, asset TEXT NOT NULL,"
           " account TEXT NOT NULL, amount TEXT NOT NULL, PRIMARY KEY (network, asset, account))",
           "CREATE TABLE IF NOT EXISTS transfers (id INTEGER PRIMARY KEY AUTOINCREMENT,"
           " settled_ms INTEGER NOT NULL, network TEXT NOT NULL, asset TEXT NOT NULL,"
           " payer TEXT NOT NULL, payee TEXT NOT NULL, amount TEXT NOT NULL,"
           " payment_id TEXT NOT NULL UNIQUE, resource TEXT NOT NULL, transaction_id TEXT NOT "
           "NULL)",
       }) {
    if (auto status = exec(db, sql); !status.ok())
      return status.error();
  }
  return ledger;
}

Result<std::unique_ptr<Ledger>> Ledger::open_existing_read_only(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    return make_error("ledger.missing", "no ledger at " + path);
  sqlite3* db = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return make_error("ledger.open", "cannot open ledger " + path + ": " + message);
  }
  // A running facilitator may hold the write lock for a moment.
  sqlite3_busy_timeout(db, 5000);
  return std::unique_ptr<Ledger>(new Ledger(db, 0));
}

Ledger::~Ledger() {
  sqlite3_close(db_);
}

Result<x402::Amount> Ledger::balance_locked(const std::string& network, const std::string& asset,
                                            const std::string& account,
                                            const x402::Amount& if_unseen) {
  auto statement = prepare(
      db_, "SELECT amount FROM balances WHERE network = ?1 AND asset = ?2 AND account = ?3");
  if (!statement.ok())
    return statement.error();
  bind_text(statement->get(), 1, network);
  bind_text(statement->get(), 2, asset);
  bind_text(statement->get(), 3, account);
  int rc = sqlite3_step(statement->get());
  if (rc == SQLITE_DONE)
    return if_unseen;
  if (rc != SQLITE_ROW)
    return sql_error(db_);
  auto amount = x402::parse_amount(column(statement->get(), 0));
  if (!amount.ok())
    return make_error("ledger.corrupt", "balance of " + account + " is not an amount");
  return *amount;
}

Status Ledger::set_balance_locked(const std::string& network, const std::string& asset,
                                  const std::string& account, const x402::Amount& value) {
  auto statement =
      prepare(db_,
              "INSERT INTO balances (network, asset, account, amount) VALUES (?1, ?2, ?3, ?4)"
              " ON CONFLICT (network, asset, account) DO UPDATE SET amount = ?4");
  if (!statement.ok())
    return statement.error();
  bind_text(statement->get(), 1, network);
  bind_text(statement->get(), 2, asset);
  bind_text(statement->get(), 3, account);
  bind_text(statement->get(), 4, x402::to_string(value));
  if (sqlite3_step(statement->get()) != SQLITE_DONE)
    return sql_error(db_);
  return ok_status();
}

Status Ledger::record(const LedgerTransfer& transfer) {
  std::lock_guard lock(mutex_);
  Transaction transaction(db_);
  if (auto s = transaction.begin(); !s.ok())
    return s;
  auto insert =
      prepare(db_,
              "INSERT INTO transfers (settled_ms, network, asset, payer, payee, amount,"
              " payment_id, resource, transaction_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
  if (!insert.ok())
    return insert.error();
  sqlite3_bind_int64(insert->get(), 1,
                     std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count());
  bind_text(insert->get(), 2, transfer.network);
  bind_text(insert->get(), 3, transfer.asset);
  bind_text(insert->get(), 4, transfer.payer);
  bind_text(insert->get(), 5, transfer.payee);
  bind_text(insert->get(), 6, x402::to_string(transfer.amount));
  bind_text(insert->get(), 7, transfer.payment_id);
  bind_text(insert->get(), 8, transfer.resource);
  bind_text(insert->get(), 9, transfer.transaction);
  int rc = sqlite3_step(insert->get());
  if (rc == SQLITE_CONSTRAINT && sqlite3_extended_errcode(db_) == SQLITE_CONSTRAINT_UNIQUE) {
    return make_error("duplicate_settlement", "this payment has already been settled");
  }
  if (rc != SQLITE_DONE)
    return sql_error(db_);

  // The starting balance is a gift to new payers (so demos can pay); a payee the ledger has
  // never seen starts from nothing, so its balance is exactly what it was paid.
  auto payer_balance =
      balance_locked(transfer.network, transfer.asset, transfer.payer, starting_balance_);
  if (!payer_balance.ok())
    return payer_balance.error();
  if (*payer_balance < transfer.amount) {
    return make_error("insufficient_funds", "payer " + transfer.payer + " holds " +
                                                x402::to_string(*payer_balance) + ", needs " +
                                                x402::to_string(transfer.amount));
  }
  auto payee_balance = balance_locked(transfer.network, transfer.asset, transfer.payee, 0);
  if (!payee_balance.ok())
    return payee_balance.error();
  if (auto s = set_balance_locked(transfer.network, transfer.asset, transfer.payer,
                                  *payer_balance - transfer.amount);
      !s.ok()) {
    return s;
  }
  if (auto s = set_balance_locked(transfer.network, transfer.asset, transfer.payee,
                                  *payee_balance + transfer.amount);
      !s.ok()) {
    return s;
  }
  return transaction.commit();
}

Result<bool> Ledger::was_settled(const std::string& payment_id) {
  std::lock_guard lock(mutex_);
  auto statement = prepare(db_, "SELECT 1 FROM transfers WHERE payment_id = ?1");
  if (!statement.ok())
    return statement.error();
  bind_text(statement->get(), 1, payment_id);
  int rc = sqlite3_step(statement->get());
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return sql_error(db_);
  return rc == SQLITE_ROW;
}

Result<std::optional<std::string>> Ledger::settled_transaction(const std::string& payment_id) {
  std::lock_guard lock(mutex_);
  auto statement = prepare(db_, "SELECT transaction_id FROM transfers WHERE payment_id = ?1");
  if (!statement.ok())
    return statement.error();
  bind_text(statement->get(), 1, payment_id);
  int rc = sqlite3_step(statement->get());
  if (rc == SQLITE_ROW)
    return std::optional<std::string>(column(statement->get(), 0));
  if (rc != SQLITE_DONE)
    return sql_error(db_);
  return std::optional<std::string>();
}

Result<x402::Amount> Ledger::balance(const std::string& network, const std::string& asset,
                                     const std::string& account) {
  std::lock_guard lock(mutex_);
  return balance_locked(network, asset, account, starting_balance_);
}

Result<std::vector<LedgerTransfer>> Ledger::transfers() {
  std::lock_guard lock(mutex_);
  auto statement = prepare(db_,
                           "SELECT network, asset, payer, payee, amount, payment_id, resource,"
                           " transaction_id FROM transfers ORDER BY id");
  if (!statement.ok())
    return statement.error();
  std::vector<LedgerTransfer> out;
  while (sqlite3_step(statement->get()) == SQLITE_ROW) {
    LedgerTransfer transfer;
    transfer.network = column(statement->get(), 0);
    transfer.asset = column(statement->get(), 1);
    transfer.payer = column(statement->get(), 2);
    transfer.payee = column(statement->get(), 3);
    transfer.amount = x402::parse_amount(column(statement->get(), 4)).ok()
                          ? *x402::parse_amount(column(statement->get(), 4))
                          : x402::Amount(0);
    transfer.payment_id = column(statement->get(), 5);
    transfer.resource = column(statement->get(), 6);
    transfer.transaction = column(statement->get(), 7);
    out.push_back(std::move(transfer));
  }
  return out;
}

Result<std::vector<LedgerBalance>> Ledger::balances() {
  std::lock_guard lock(mutex_);
  auto statement = prepare(db_,
                           "SELECT network, asset, account, amount FROM balances"
                           " ORDER BY network, asset, account");
  if (!statement.ok())
    return statement.error();
  std::vector<LedgerBalance> out;
  int rc = SQLITE_ROW;
  while ((rc = sqlite3_step(statement->get())) == SQLITE_ROW) {
    LedgerBalance balance;
    balance.network = column(statement->get(), 0);
    balance.asset = column(statement->get(), 1);
    balance.account = column(statement->get(), 2);
    auto amount = x402::parse_amount(column(statement->get(), 3));
    if (!amount.ok())
      return make_error("ledger.corrupt", "balance of " + balance.account + " is not an amount");
    balance.amount = *amount;
    out.push_back(std::move(balance));
  }
  if (rc != SQLITE_DONE)
    return sql_error(db_);
  return out;
}

}  // namespace x402proxy::facilitator
