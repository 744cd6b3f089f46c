// Versioned schema migrations on PostgreSQL, applied at start and by `store migrate`. Each
// component (the journal, the replay locks) keeps its version in the table x402_schema; step i
// (0-based) moves version i to i+1 in one transaction with the version bump (PostgreSQL's DDL is
// transactional), under an advisory lock, so that replicas starting together migrate once and
// a crash never leaves half a step. A database newer than the binary knows is refused. SQLite
// files keep their PRAGMA user_version (sqlite/database.h).
#pragma once

#include <span>
#include <string_view>

#include "store/sql_session.h"

namespace x402proxy::store {

Result<Ok, SqlError> migrate_postgres(SqlSession& session, std::string_view component,
                                      std::span<const char* const> steps);
// The component's version (0: none yet).
Result<int, SqlError> postgres_schema_version(SqlSession& session, std::string_view component);

}  // namespace x402proxy::store
