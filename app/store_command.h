// `x402-mcp-proxy store status|migrate --config FILE`: the schema of serve's shared store (a
// SQLite journal file or PostgreSQL) for operators. `status` reads the version of each part
// (journal, and on PostgreSQL the replay locks) and the number of open payments without changing
// anything; exit 0 when current, 3 when a migration is due, 1 when the store cannot be read.
// `migrate` applies what is due (serve also does at start) and prints the result.
#pragma once

#include <string>

namespace x402proxy::app {
int run_store_command(const std::string& action, const std::string& config_path);
}
