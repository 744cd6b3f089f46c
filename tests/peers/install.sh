#!/usr/bin/env bash
# Installs the npm test peers (tests/peers: the reference MCP server and the conformance suite;
# tests/peers/chain-evm and chain-svm: a Hardhat chain with Circle USDC and LiteSVM, each behind
# the official x402 facilitator) and
# the independent vector checkers (tests/vectors: viem, @solana/kit, @x402/*), each pinned by its
# package-lock.json. Skipped when npm is absent: the tests that need them then skip with a message.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if ! command -v npm >/dev/null 2>&1; then
  echo "tests/peers: npm not found, node peers not installed"; exit 0
fi
for dir in "$root/peers" "$root/peers/chain-evm" "$root/peers/chain-svm" "$root/peers/x402-http" \
    "$root/peers/mcp-sse" "$root/vectors"; do
  [ -f "$dir/package-lock.json" ] || continue
  # Reinstall only when the lock file changed since the last install.
  if [ ! -f "$dir/node_modules/.package-lock.json" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
done
