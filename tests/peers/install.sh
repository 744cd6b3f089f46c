#!/usr/bin/env bash
# Installs the npm test peers (pinned by tests/peers/package-lock.json). Skipped when node is absent:
# the tests that need a peer then skip themselves with a message.
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v npm >/dev/null 2>&1; then
  echo "tests/peers: npm not found, node peers not installed"; exit 0
fi
if [ -f package.json ] && { [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; }; then
  npm ci --no-audit --no-fund --loglevel=error
fi
