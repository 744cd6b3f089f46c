#include "store/schema_migrations.h"

#include <string>

namespace x402proxy::store {
namespace {

// Any fixed number: the one lock every replica's migration takes (pg_advisory_xact_lock).
constexpr const char* kMigrationLock = "SELECT pg_advisory_xact_lock(440202)";

constexpr const char* kSchemaTable =
    "CREATE TABLE IF NOT EXISTS x402_schema (component TEXT PRIMARY KEY,"
    " version INTEGER NOT NULL)";

}  // namespace

Result<int, SqlError> postgres_schema_version(SqlSession& session, std::string_view component) {
  auto exists = session.execute("SELECT to_regclass('x402_schema') IS NOT NULL");
  if (!exists.ok())
    return exists.error();
  if (exists->rows.empty() || exists->rows.front().integer(0) == 0)
    return 0;
  const SqlValue name = std::string(component);
  auto rows = session.execute("SELECT version FROM x402_schema WHERE component = $1", {&name, 1});
  if (!rows.ok())
    return rows.error();
  return rows->rows.empty() ? 0 : static_cast<int>(rows->rows.front().integer(0));
}

Result<Ok, SqlError> migrate_postgres(SqlSession& session, std::string_view component,
                                      std::span<const char* const> steps) {
  const int latest = static_cast<int>(steps.size());
  for (;;) {
    SqlTransaction transaction(session);
    if (auto begun = transaction.begin(); !begun.ok())
      return begun.error();
    if (auto locked = session.execute(kMigrationLock); !locked.ok())
      return locked.error();
    if (auto made = session.execute(kSchemaTable); !made.ok())
      return made.error();
    auto version = postgres_schema_version(session, component);
    if (!version.ok())
      return version.error();
    if (*version > latest)
      return SqlError(SqlFailure::failed,
                      "the " + std::string(component) + " schema in PostgreSQL is version " +
                          std::to_string(*version) + ", newer than this binary knows (" +
                          std::to_string(latest) + "): run a newer x402-mcp-proxy");
    if (*version == latest)
      return transaction.commit();
    if (auto step = session.execute_script(steps[static_cast<std::size_t>(*version)]); !step.ok())
      return SqlError(step.error().kind, "migrating " + std::string(component) + " to version " +
                                             std::to_string(*version + 1) + ": " +
                                             step.error().message);
    const SqlValue parameters[] = {std::string(component), std::int64_t{*version + 1}};
    if (auto bumped =
            session.execute("INSERT INTO x402_schema (component, version) VALUES ($1, $2)"
                            " ON CONFLICT (component) DO UPDATE SET version = excluded.version",
                            parameters);
        !bumped.ok())
      return bumped.error();
    if (auto done = transaction.commit(); !done.ok())
      return done.error();
  }
}

}  // namespace x402proxy::store
