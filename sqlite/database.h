// The one SQLite module: opening a file the way every store of the project needs it (created
// 0600 because the files hold payments and keys, WAL so a process crash loses no committed row,
// a busy timeout so two processes sharing a file wait instead of failing), statements that
// finalize themselves, write transactions, versioned schema migrations (PRAGMA user_version) and
// the adoption of files written before versions, amounts as decimal TEXT (uint256 does not fit
// SQLite's 64-bit integers). The payment journal, the embedded facilitator's ledger, the accounts
// ledger and the buyer's spending ledger all open their files here.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>

#include "x402/amount.h"
#include "x402/result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace x402proxy::sqlite {

// A prepared statement. Binds are 1-based as in SQLite; columns 0-based.
class Statement {
 public:
  Statement() = default;
  explicit Statement(sqlite3_stmt* statement) : statement_(statement) {}
  Statement(Statement&& other) noexcept : statement_(other.statement_) {
    other.statement_ = nullptr;
  }
  Statement& operator=(Statement&& other) noexcept;
  ~Statement();

  Statement& bind(int index, std::string_view text);
  Statement& bind(int index, const char* text) { return bind(index, std::string_view(text)); }
  Statement& bind(int index, const std::string& text) {
    return bind(index, std::string_view(text));
  }
  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, int value) { return bind(index, static_cast<std::int64_t>(value)); }
  Statement& bind_null(int index);
  Statement& bind_blob(int index, std::span<const unsigned char> bytes);
  Statement& bind_amount(int index, const x402::Amount& amount);  // as its decimal text
  // NULL for nullopt (with COALESCE in the SQL: keep the column as it is).
  Statement& bind_optional(int index, const std::optional<std::string>& text);

  // One step: true while a row is available, false when done; an error as a value.
  Result<bool> step();
  // Runs a statement that returns no rows.
  Status run();
  // Runs an INSERT: false, with nothing written, when a UNIQUE or PRIMARY KEY constraint refused
  // the row; any other failure is an error.
  Result<bool> try_insert();
  void reset();  // to step the statement again from its first row

  std::string text(int column) const;
  std::int64_t integer(int column) const;
  bool is_null(int column) const;
  std::span<const unsigned char> blob(int column) const;  // valid until the next step
  // A stored amount; nullopt when the text is not a canonical decimal (an unreadable amount could
  // hide any value: callers refuse rather than guess).
  std::optional<x402::Amount> amount(int column) const;

  sqlite3_stmt* raw() const { return statement_; }

 private:
  sqlite3_stmt* statement_ = nullptr;
  sqlite3* db() const;
};

class Database {
 public:
  // Opens (creating if needed) the database at `path` (":memory:" for tests). A new file is
  // created with mode 0600; an existing file readable by others is tightened to 0600 with a
  // warning in `notes`. `what` names the store in errors ("payment journal").
  static Result<std::unique_ptr<Database>> open(const std::string& path, std::string what);
  // An existing file, for reports while another process may write it: read-only, never creates
  // the file, never changes its mode.
  static Result<std::unique_ptr<Database>> open_read_only(const std::string& path,
                                                          std::string what);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  Result<Statement> prepare(std::string_view sql);
  Status exec(const char* sql);  // one or more statements, no rows
  std::int64_t last_insert_id() const;
  int changes() const;

  // Brings the schema to `steps.size()`: step i (0-based) moves user_version i to i+1. Each step
  // runs in its own write transaction with the version bump, so a crash never leaves half a step.
  // A file newer than this binary knows is refused.
  Status migrate(std::span<const char* const> steps);
  Result<int> schema_version();
  // Files of the releases before schema versions carry user_version 0 whatever their columns:
  // `version_of` names the version the columns of `table` show, so that migrate() adds only what
  // is missing. Nothing happens to a versioned file, or to a new one (no such table).
  Status adopt_unversioned(
      std::string_view table,
      const std::function<int(const std::set<std::string>& columns)>& version_of);
  // The column names of `table`; empty when there is no such table.
  Result<std::set<std::string>> columns(std::string_view table);

  // An error with SQLite's last message, reason `reason`.
  Error error(std::string_view reason = "sql") const;
  const std::string& what() const { return what_; }
  const std::string& path() const { return path_; }
  // Set when open() had to tighten the file's permissions (for the caller's log).
  const std::string& permission_note() const { return permission_note_; }

  sqlite3* handle() const { return db_; }

 private:
  Database(sqlite3* db, std::string path, std::string what)
      : db_(db), path_(std::move(path)), what_(std::move(what)) {}
  sqlite3* db_;
  std::string path_;
  std::string what_;
  std::string permission_note_;
};

// Rolls back unless committed, so every early return releases the file's locks.
class Transaction {
 public:
  explicit Transaction(Database& db) : db_(db) {}
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  // BEGIN IMMEDIATE takes the write lock before anything is read, so a check and the write it
  // allows cannot interleave with another process's; a deferred transaction would instead fail
  // with SQLITE_BUSY when its stale WAL snapshot tries to write.
  Status begin_write();
  Status begin_read();  // several reads that must agree (one WAL snapshot)
  Status commit();

 private:
  Database& db_;
  bool open_ = false;
};

std::int64_t unix_millis();
std::int64_t unix_seconds();

}  // namespace x402proxy::sqlite
