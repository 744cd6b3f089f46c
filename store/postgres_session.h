// The SQL session over one PostgreSQL connection (libpq). Blocking by design: it runs only on the
// store's own threads (store.h), never on an I/O thread. A broken connection is reset before the
// next statement, so a database that comes back is used again without a restart.
#pragma once

#include <memory>
#include <string>

#include "store/sql_session.h"

struct pg_conn;

namespace x402proxy::store {

struct PostgresTarget {
  std::string url;       // postgresql://user@host:port/db?sslmode=... (libpq's URL form)
  std::string password;  // from the environment or a file; never in the URL or the YAML
  int connect_timeout_seconds = 5;
  int statement_timeout_ms = 5000;
  std::string application_name = "x402-mcp-proxy";
};

class PostgresSession final : public SqlSession {
 public:
  // Connects; a server that cannot be reached now is not an error here (the first statement
  // says so, and the next one tries again).
  explicit PostgresSession(PostgresTarget target);
  ~PostgresSession() override;
  PostgresSession(const PostgresSession&) = delete;
  PostgresSession& operator=(const PostgresSession&) = delete;

  Engine engine() const override { return Engine::postgresql; }
  Result<SqlRows, SqlError> execute(std::string_view sql,
                                    std::span<const SqlValue> parameters) override;
  using SqlSession::execute;
  Result<Ok, SqlError> execute_script(std::string_view sql) override;
  Result<Ok, SqlError> begin() override;
  Result<Ok, SqlError> commit() override;
  void rollback() override;

 private:
  void connect();
  Result<Ok, SqlError> usable();
  PostgresTarget target_;
  pg_conn* connection_ = nullptr;
};

// The URL with its password (if any) cut out: for logs and errors.
std::string redacted_url(const std::string& url);

}  // namespace x402proxy::store
