// `x402-mcp-proxy facilitator --config F`: the embedded facilitator as a standalone HTTP service.
// With --balances it only prints the ledger's transfers and balances, and exits.
#pragma once

#include <string>

namespace x402proxy::app {
int run_facilitator_command(const std::string& config_path);
// Reads the configured ledger without creating or changing it (a running service may share it).
int print_facilitator_balances(const std::string& config_path);
}  // namespace x402proxy::app
