#include "store/sqlite_session.h"

#include <sqlite3.h>

namespace x402proxy::store {

std::string sqlite_parameters(std::string_view sql) {
  std::string out;
  out.reserve(sql.size());
  char quote = 0;
  for (std::size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (quote != 0) {
      if (c == quote)
        quote = 0;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '$' && i + 1 < sql.size() && sql[i + 1] >= '0' && sql[i + 1] <= '9') {
      out += '?';
      continue;
    }
    out += c;
  }
  return out;
}

SqlError SqliteSession::failure(std::string_view doing) const {
  const int code = sqlite3_extended_errcode(db_->handle());
  const int primary = code & 0xff;
  SqlFailure kind = SqlFailure::failed;
  if (primary == SQLITE_CONSTRAINT &&
      (code == SQLITE_CONSTRAINT_UNIQUE || code == SQLITE_CONSTRAINT_PRIMARYKEY))
    kind = SqlFailure::conflict;
  else if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED || primary == SQLITE_IOERR ||
           primary == SQLITE_FULL || primary == SQLITE_CANTOPEN || primary == SQLITE_READONLY)
    kind = SqlFailure::unavailable;
  return SqlError(kind,
                  db_->what() + ": " + std::string(doing) + ": " + sqlite3_errmsg(db_->handle()));
}

Result<SqlRows, SqlError> SqliteSession::execute(std::string_view sql,
                                                 std::span<const SqlValue> parameters) {
  const std::string translated = sqlite_parameters(sql);
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db_->handle(), translated.c_str(), static_cast<int>(translated.size()),
                         &raw, nullptr) != SQLITE_OK)
    return failure("prepare");
  sqlite::Statement statement(raw);
  for (std::size_t i = 0; i < parameters.size(); ++i) {
    const int index = static_cast<int>(i) + 1;
    const auto& value = parameters[i];
    if (std::holds_alternative<std::int64_t>(value))
      statement.bind(index, std::get<std::int64_t>(value));
    else if (std::holds_alternative<std::string>(value))
      statement.bind(index, std::get<std::string>(value));
    else
      statement.bind_null(index);
  }
  SqlRows result;
  const int columns = sqlite3_column_count(raw);
  for (;;) {
    const int stepped = sqlite3_step(raw);
    if (stepped == SQLITE_DONE)
      break;
    if (stepped != SQLITE_ROW)
      return failure("step");
    std::vector<std::optional<std::string>> row;
    row.reserve(static_cast<std::size_t>(columns));
    for (int c = 0; c < columns; ++c) {
      if (sqlite3_column_type(raw, c) == SQLITE_NULL) {
        row.emplace_back(std::nullopt);
        continue;
      }
      const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(raw, c));
      row.emplace_back(std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(raw, c))));
    }
    result.rows.emplace_back(std::move(row));
  }
  if (sqlite3_stmt_readonly(raw) == 0)
    result.affected = sqlite3_changes(db_->handle());
  return result;
}

Result<Ok, SqlError> SqliteSession::execute_script(std::string_view sql) {
  const std::string text(sql);
  if (sqlite3_exec(db_->handle(), text.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK)
    return failure("exec");
  return Ok{};
}

Result<Ok, SqlError> SqliteSession::begin() {
  return execute_script("BEGIN IMMEDIATE");
}

Result<Ok, SqlError> SqliteSession::commit() {
  return execute_script("COMMIT");
}

void SqliteSession::rollback() {
  sqlite3_exec(db_->handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

}  // namespace x402proxy::store
