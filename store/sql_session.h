// One connection to the shared store, whatever engine holds it: the embedded SQLite file (one
// replica) or a PostgreSQL server (several). The journal, the replay locks and the migrations
// speak to it in one SQL dialect, the common part of both: `$1`-style parameters, `RETURNING`,
// `INSERT ... ON CONFLICT ... DO UPDATE`, `CAST(x AS TEXT)`; each engine's own DDL stays in its
// migration list. Every value travels as text or a 64-bit integer, every column comes back as
// text (PostgreSQL's text format, SQLite's text conversion), so no caller sees an engine type.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "x402/result.h"

namespace x402proxy::store {

enum class Engine { sqlite, postgresql };
const char* to_string(Engine engine);

// A parameter: NULL, an integer or a text.
using SqlValue = std::variant<std::monostate, std::int64_t, std::string>;

class SqlRow {
 public:
  explicit SqlRow(std::vector<std::optional<std::string>> columns) : columns_(std::move(columns)) {}
  std::size_t size() const { return columns_.size(); }
  bool is_null(std::size_t column) const { return !columns_.at(column).has_value(); }
  // "" for NULL.
  const std::string& text(std::size_t column) const;
  // 0 for NULL or a text that is not a whole number (booleans: 0 or 1, 't' or 'f').
  std::int64_t integer(std::size_t column) const;

 private:
  std::vector<std::optional<std::string>> columns_;
};

struct SqlRows {
  std::vector<SqlRow> rows;
  std::int64_t affected = 0;  // rows an INSERT, UPDATE or DELETE changed
};

// What callers branch on when a statement fails. `unavailable`: the engine could not be reached
// or the connection broke (fail closed and try again later); `conflict`: a UNIQUE or PRIMARY KEY
// constraint refused the row; `failed`: anything else (a bug or a schema the binary does not
// know).
enum class SqlFailure { unavailable, conflict, failed };
const char* to_string(SqlFailure failure);
using SqlError = Failure<SqlFailure>;

class SqlSession {
 public:
  virtual ~SqlSession() = default;
  virtual Engine engine() const = 0;
  // One statement with `$1`..`$n` parameters.
  virtual Result<SqlRows, SqlError> execute(std::string_view sql,
                                            std::span<const SqlValue> parameters) = 0;
  Result<SqlRows, SqlError> execute(std::string_view sql) { return execute(sql, {}); }
  // Several statements without parameters (a migration step).
  virtual Result<Ok, SqlError> execute_script(std::string_view sql) = 0;
  // SQLite: BEGIN IMMEDIATE (the write lock before anything is read). PostgreSQL: BEGIN (read
  // committed; the statements themselves lock the rows they change, or take an advisory lock).
  virtual Result<Ok, SqlError> begin() = 0;
  virtual Result<Ok, SqlError> commit() = 0;
  virtual void rollback() = 0;
};

// Rolls back unless committed.
class SqlTransaction {
 public:
  explicit SqlTransaction(SqlSession& session) : session_(session) {}
  ~SqlTransaction() {
    if (open_)
      session_.rollback();
  }
  SqlTransaction(const SqlTransaction&) = delete;
  SqlTransaction& operator=(const SqlTransaction&) = delete;
  Result<Ok, SqlError> begin() {
    auto begun = session_.begin();
    open_ = begun.ok();
    return begun;
  }
  Result<Ok, SqlError> commit() {
    auto done = session_.commit();
    open_ = false;
    return done;
  }

 private:
  SqlSession& session_;
  bool open_ = false;
};

}  // namespace x402proxy::store
