// `x402-mcp-proxy accounts ...`: the operator's tool for the prepaid-credit ledger (API keys and
// balances of known callers). No key is ever printed except by add-key, once.
#pragma once

namespace x402proxy::app {

// `argv` as main received it: argv[1] is "accounts", argv[2] the subcommand. Returns the process
// exit status: 0, or 2 with a message on stderr.
int run_accounts_command(int argc, char** argv);

}  // namespace x402proxy::app
