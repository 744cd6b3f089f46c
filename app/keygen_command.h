// `x402-mcp-proxy keygen evm --out F`: a new private key in a 0600 file; prints only the address.
#pragma once

#include <string>

namespace x402proxy::app {
int run_keygen_command(const std::string& family, const std::string& out_path);
}
