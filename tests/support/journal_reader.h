// Reading serve's payment journal from a test, independently of the proxy's own code: plain
// SQLite, read-only, so that what a test asserts is what the file says.
#pragma once

#include <sqlite3.h>

#include <string>
#include <vector>

namespace x402proxy::testing {

struct JournalRow {
  std::string state;
  std::string transaction;
  std::string detail;
  std::string seen_transactions;
  long long delivered_ms = 0;
  long long forwarded_ms = 0;
};

inline std::vector<JournalRow> journal_rows(const std::string& path) {
  std::vector<JournalRow> rows;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return rows;
  }
  sqlite3_busy_timeout(db, 2000);
  sqlite3_stmt* statement = nullptr;
  if (sqlite3_prepare_v2(db,
                         "SELECT state, transaction_id, detail, seen_transactions, delivered_ms,"
                         " forwarded_ms FROM payments ORDER BY id",
                         -1, &statement, nullptr) == SQLITE_OK) {
    auto text = [&](int column) {
      const unsigned char* value = sqlite3_column_text(statement, column);
      return std::string(value ? reinterpret_cast<const char*>(value) : "");
    };
    while (sqlite3_step(statement) == SQLITE_ROW) {
      rows.push_back({text(0), text(1), text(2), text(3), sqlite3_column_int64(statement, 4),
                      sqlite3_column_int64(statement, 5)});
    }
  }
  sqlite3_finalize(statement);
  sqlite3_close(db);
  return rows;
}

}  // namespace x402proxy::testing
