// `x402-mcp-proxy serve --config F`: builds the server from a validated config and runs it until
// SIGINT/SIGTERM. Prints "listening on HOST:PORT" on stderr once it accepts connections.
#pragma once

#include <string>

namespace x402proxy::proxy {

int run_serve_command(const std::string& config_path);

}  // namespace x402proxy::proxy
