// `x402-mcp-proxy facilitator --config F`: the embedded facilitator as a standalone HTTP service.
#pragma once

#include <string>

namespace x402proxy::app {
int run_facilitator_command(const std::string& config_path);
}
