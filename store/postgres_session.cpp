#include "store/postgres_session.h"

#include <libpq-fe.h>

#include <cstring>
#include <vector>

namespace x402proxy::store {
namespace {

// SQLSTATE classes (PostgreSQL manual, appendix A) after which the same statement may succeed
// later: the connection, the server's shutdown, a statement timeout, a serialization conflict.
SqlFailure classify(const char* sqlstate) {
  if (sqlstate == nullptr)
    return SqlFailure::unavailable;
  const std::string state(sqlstate);
  if (state == "23505")  // unique_violation
    return SqlFailure::conflict;
  if (state.rfind("08", 0) == 0 || state.rfind("57", 0) == 0 || state.rfind("53", 0) == 0 ||
      state == "40001" || state == "40P01")
    return SqlFailure::unavailable;
  return SqlFailure::failed;
}

std::string first_line(const char* text) {
  std::string message = text == nullptr ? "" : text;
  if (auto end = message.find('\n'); end != std::string::npos)
    message.resize(end);
  return message;
}

}  // namespace

std::string redacted_url(const std::string& url) {
  // scheme://user:password@host → scheme://user:***@host
  const auto scheme = url.find("://");
  if (scheme == std::string::npos)
    return url;
  const auto at = url.find('@', scheme + 3);
  if (at == std::string::npos)
    return url;
  const auto colon = url.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at)
    return url;
  return url.substr(0, colon + 1) + "***" + url.substr(at);
}

PostgresSession::PostgresSession(PostgresTarget target) : target_(std::move(target)) {
  connect();
}

PostgresSession::~PostgresSession() {
  if (connection_ != nullptr)
    PQfinish(connection_);
}

void PostgresSession::connect() {
  if (connection_ != nullptr)
    PQfinish(connection_);
  const std::string timeout = std::to_string(target_.connect_timeout_seconds);
  // NOTICEs ("relation ... already exists, skipping") are not for the operator's log.
  const std::string options =
      "-c statement_timeout=" + std::to_string(target_.statement_timeout_ms) +
      " -c client_min_messages=warning";
  // The URL first (expand_dbname), then what overrides it: later keywords win (libpq, "Database
  // Connection Control Functions", PQconnectdbParams).
  std::vector<const char*> keys = {"dbname", "connect_timeout", "options", "application_name"};
  std::vector<const char*> values = {target_.url.c_str(), timeout.c_str(), options.c_str(),
                                     target_.application_name.c_str()};
  if (!target_.password.empty()) {
    keys.push_back("password");
    values.push_back(target_.password.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  connection_ = PQconnectdbParams(keys.data(), values.data(), 1);
}

Result<Ok, SqlError> PostgresSession::usable() {
  if (connection_ == nullptr || PQstatus(connection_) != CONNECTION_OK) {
    if (connection_ == nullptr)
      connect();
    else
      PQreset(connection_);
    if (PQstatus(connection_) != CONNECTION_OK)
      return SqlError(SqlFailure::unavailable,
                      "PostgreSQL at " + redacted_url(target_.url) +
                          " is unavailable: " + first_line(PQerrorMessage(connection_)));
  }
  return Ok{};
}

Result<SqlRows, SqlError> PostgresSession::execute(std::string_view sql,
                                                   std::span<const SqlValue> parameters) {
  if (auto ready = usable(); !ready.ok())
    return ready.error();
  std::vector<std::string> texts(parameters.size());
  std::vector<const char*> values(parameters.size(), nullptr);
  for (std::size_t i = 0; i < parameters.size(); ++i) {
    if (std::holds_alternative<std::int64_t>(parameters[i])) {
      texts[i] = std::to_string(std::get<std::int64_t>(parameters[i]));
      values[i] = texts[i].c_str();
    } else if (std::holds_alternative<std::string>(parameters[i])) {
      values[i] = std::get<std::string>(parameters[i]).c_str();
    }
  }
  const std::string text(sql);
  PGresult* result = PQexecParams(connection_, text.c_str(), static_cast<int>(parameters.size()),
                                  nullptr, values.data(), nullptr, nullptr, 0);
  const ExecStatusType status = PQresultStatus(result);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    SqlFailure kind = PQstatus(connection_) != CONNECTION_OK
                          ? SqlFailure::unavailable
                          : classify(PQresultErrorField(result, PG_DIAG_SQLSTATE));
    std::string message =
        first_line(result != nullptr ? PQresultErrorMessage(result) : PQerrorMessage(connection_));
    PQclear(result);
    return SqlError(kind, "PostgreSQL: " + message);
  }
  SqlRows rows;
  const int count = PQntuples(result);
  const int columns = PQnfields(result);
  rows.rows.reserve(static_cast<std::size_t>(count));
  for (int r = 0; r < count; ++r) {
    std::vector<std::optional<std::string>> row;
    row.reserve(static_cast<std::size_t>(columns));
    for (int c = 0; c < columns; ++c) {
      if (PQgetisnull(result, r, c))
        row.emplace_back(std::nullopt);
      else
        row.emplace_back(std::string(PQgetvalue(result, r, c),
                                     static_cast<std::size_t>(PQgetlength(result, r, c))));
    }
    rows.rows.emplace_back(std::move(row));
  }
  const char* affected = PQcmdTuples(result);
  if (affected != nullptr && *affected != '\0')
    rows.affected = std::strtoll(affected, nullptr, 10);
  PQclear(result);
  return rows;
}

Result<Ok, SqlError> PostgresSession::execute_script(std::string_view sql) {
  if (auto ready = usable(); !ready.ok())
    return ready.error();
  const std::string text(sql);
  PGresult* result = PQexec(connection_, text.c_str());
  const ExecStatusType status = PQresultStatus(result);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    SqlFailure kind = PQstatus(connection_) != CONNECTION_OK
                          ? SqlFailure::unavailable
                          : classify(PQresultErrorField(result, PG_DIAG_SQLSTATE));
    std::string message = first_line(PQresultErrorMessage(result));
    PQclear(result);
    return SqlError(kind, "PostgreSQL: " + message);
  }
  PQclear(result);
  return Ok{};
}

Result<Ok, SqlError> PostgresSession::begin() {
  return execute_script("BEGIN");
}

Result<Ok, SqlError> PostgresSession::commit() {
  return execute_script("COMMIT");
}

void PostgresSession::rollback() {
  if (connection_ != nullptr && PQstatus(connection_) == CONNECTION_OK)
    PQclear(PQexec(connection_, "ROLLBACK"));
}

}  // namespace x402proxy::store
