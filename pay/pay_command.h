// `x402-mcp-proxy pay --config wallet.yaml`: the buyer's bridge. A local MCP client talks to it
// over stdio; it forwards to the paid server and pays within the wallet's limits. Its stdout
// carries only MCP messages; logs go to stderr.
// `x402-mcp-proxy pay --config wallet.yaml --report`: spending per day and per seller.
#pragma once

#include <string>

namespace x402proxy::pay {

int run_pay_command(const std::string& config_path, bool report);

}  // namespace x402proxy::pay
