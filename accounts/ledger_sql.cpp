#include "accounts/ledger_sql.h"

#include <chrono>

namespace x402proxy::accounts::sql {

Error error(sqlite3* db) {
  return make_error("ledger.sql", sqlite3_errmsg(db));
}

Result<Statement> prepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &raw, nullptr) != SQLITE_OK)
    return error(db);
  return Statement(raw);
}

Status exec(sqlite3* db, const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    std::string text = message ? message : sqlite3_errmsg(db);
    sqlite3_free(message);
    return make_error("ledger.sql", std::move(text));
  }
  return ok_status();
}

void bind_text(sqlite3_stmt* statement, int index, const std::string& text) {
  sqlite3_bind_text(statement, index, text.c_str(), static_cast<int>(text.size()),
                    SQLITE_TRANSIENT);
}

std::string column_text(sqlite3_stmt* statement, int column) {
  const unsigned char* text = sqlite3_column_text(statement, column);
  return text ? reinterpret_cast<const char*>(text) : "";
}

Result<x402::Amount> column_amount(sqlite3_stmt* statement, int column, const std::string& where) {
  auto amount = x402::parse_amount(column_text(statement, column));
  if (!amount) {
    return make_error("ledger.corrupt", "accounts ledger: unreadable amount in " + where + ": " +
                                            amount.error().message);
  }
  return amount;
}

std::int64_t now_unix() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Transaction::~Transaction() {
  if (open_)
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

Status Transaction::begin_write() {
  auto status = exec(db_, "BEGIN IMMEDIATE");
  open_ = status.ok();
  return status;
}

Status Transaction::begin_read() {
  auto status = exec(db_, "BEGIN DEFERRED");
  open_ = status.ok();
  return status;
}

Status Transaction::commit() {
  auto status = exec(db_, "COMMIT");
  open_ = !status.ok();
  return status;
}

}  // namespace x402proxy::accounts::sql
