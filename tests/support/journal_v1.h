// The payment journal as the first release wrote it (user_version 0, no settlement data), for
// the tests that check such a file still opens, is migrated and is recovered.
#pragma once

#include <sqlite3.h>

#include <string>

namespace x402proxy::testing {

inline constexpr const char* kJournalV1Schema =
    "CREATE TABLE payments ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT, created_ms INTEGER NOT NULL,"
    " updated_ms INTEGER NOT NULL, tool TEXT NOT NULL, network TEXT NOT NULL,"
    " asset TEXT NOT NULL, amount TEXT NOT NULL, pay_to TEXT NOT NULL, payer TEXT NOT NULL,"
    " replay_key TEXT NOT NULL, state TEXT NOT NULL, transaction_id TEXT NOT NULL DEFAULT '',"
    " detail TEXT NOT NULL DEFAULT '');"
    "CREATE INDEX payments_state ON payments(state);";

// Writes a first-release journal at `path` holding the rows `inserts` (SQL INSERT statements)
// adds. Returns "" or SQLite's message.
inline std::string write_v1_journal(const std::string& path, const std::string& inserts) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
    std::string failed = db ? sqlite3_errmsg(db) : "cannot open " + path;
    sqlite3_close(db);
    return failed;
  }
  const std::string sql = std::string("PRAGMA journal_mode=WAL;") + kJournalV1Schema + inserts;
  char* message = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message);
  std::string failed = rc == SQLITE_OK ? "" : (message ? message : "sqlite error");
  sqlite3_free(message);
  sqlite3_close(db);
  return failed;
}

}  // namespace x402proxy::testing
