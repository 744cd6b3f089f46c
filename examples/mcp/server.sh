#!/usr/bin/env bash
# Server mode: the example upstream MCP server on :3001, the embedded facilitator on :4020 and
# x402-mcp-proxy serve on :8402, until Ctrl-C. State (ledger, journal) in examples/mcp/.state.
#   usage: examples/mcp/server.sh [BUILD_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=$(cd "${1:-$here/../../build}" && pwd)/bin
state="$here/.state"
mkdir -p "$state" && cd "$state"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true' EXIT INT TERM
"$bin/example-upstream" 3001 & pids+=($!)
"$bin/x402-mcp-proxy" facilitator --config "$here/server/facilitator.yaml" & pids+=($!)
sleep 0.5
"$bin/x402-mcp-proxy" serve --config "$here/server/proxy.yaml" & pids+=($!)
echo "paid MCP server: http://127.0.0.1:8402/mcp (Ctrl-C to stop)"
wait
