// SQLite plumbing shared by the account store's files (internal to accounts/): statements that
// finalize themselves, errors as values, and the write transaction every change runs in.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>

#include "x402/amount.h"
#include "x402/result.h"

namespace x402proxy::accounts::sql {

struct StatementDeleter {
  void operator()(sqlite3_stmt* statement) const { sqlite3_finalize(statement); }
};
using Statement = std::unique_ptr<sqlite3_stmt, StatementDeleter>;

Error error(sqlite3* db);  // reason "ledger.sql" with SQLite's message
Result<Statement> prepare(sqlite3* db, const char* sql);
Status exec(sqlite3* db, const char* sql);
void bind_text(sqlite3_stmt* statement, int index, const std::string& text);
std::string column_text(sqlite3_stmt* statement, int column);
// A stored amount; "ledger.corrupt" naming `where` when it is not a canonical decimal, because an
// unreadable balance could hide any value and refusing is the safe failure.
Result<x402::Amount> column_amount(sqlite3_stmt* statement, int column, const std::string& where);
std::int64_t now_unix();

// Rolls back unless committed, so every early return releases the file's locks.
class Transaction {
 public:
  explicit Transaction(sqlite3* db) : db_(db) {}
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  // For every change. BEGIN IMMEDIATE takes the file's write lock before anything is read, so a
  // second process waits (busy timeout) and then reads what the first one wrote: a check and the
  // write it allows cannot interleave with another's. A deferred transaction would instead fail
  // with SQLITE_BUSY when its stale WAL snapshot tries to write.
  Status begin_write();
  // For several reads that must agree (one WAL snapshot); takes no write lock.
  Status begin_read();
  Status commit();

 private:
  sqlite3* db_;
  bool open_ = false;
};

}  // namespace x402proxy::accounts::sql
