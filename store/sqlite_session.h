// The SQL session over the embedded SQLite file (sqlite/database.h opens it: 0600, WAL, busy
// timeout). `$n` parameters become SQLite's `?n`.
#pragma once

#include <memory>
#include <string>

#include "sqlite/database.h"
#include "store/sql_session.h"

namespace x402proxy::store {

class SqliteSession final : public SqlSession {
 public:
  explicit SqliteSession(std::unique_ptr<sqlite::Database> db) : db_(std::move(db)) {}
  Engine engine() const override { return Engine::sqlite; }
  Result<SqlRows, SqlError> execute(std::string_view sql,
                                    std::span<const SqlValue> parameters) override;
  using SqlSession::execute;
  Result<Ok, SqlError> execute_script(std::string_view sql) override;
  Result<Ok, SqlError> begin() override;
  Result<Ok, SqlError> commit() override;
  void rollback() override;

  sqlite::Database& database() { return *db_; }

 private:
  SqlError failure(std::string_view doing) const;
  std::unique_ptr<sqlite::Database> db_;
};

// `$1` → `?1` outside quoted text and identifiers.
std::string sqlite_parameters(std::string_view sql);

}  // namespace x402proxy::store
