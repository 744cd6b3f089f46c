#!/usr/bin/env bash
# Free-call overhead of `serve`: wrk against a fast upstream directly, then through the proxy.
# Prints both runs' throughput and latency. Run by hand (needs wrk: apt-get install wrk).
#   usage: bench/free_call.sh BUILD_DIR [seconds] [connections]
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
seconds=${2:-10}
connections=${3:-32}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
"$build/bench/bench_upstream" "$work/port" &
for _ in $(seq 1 100); do [ -s "$work/port" ] && break; sleep 0.05; done
upstream=$(cat "$work/port")
cat >"$work/proxy.yaml" <<YAML
listen: 127.0.0.1:0
upstream: { url: http://127.0.0.1:$upstream/mcp }
facilitator: { url: http://127.0.0.1:1 }
pay_to: { eip155: "0x209693Bc6afc0C5328bA36FaF03C514EF312287C" }
accept: [ { network: base-sepolia, asset: USDC } ]
tools: { add: "\$0.001" }
journal: $work/payments.sqlite
log_level: warn
YAML
"$build/bin/x402-mcp-proxy" serve --config "$work/proxy.yaml" 2>"$work/proxy.log" &
for _ in $(seq 1 100); do grep -q "listening on" "$work/proxy.log" && break; sleep 0.05; done
proxy=$(grep -o 'listening on [0-9.]*:[0-9]*' "$work/proxy.log" | sed 's/.*://')
echo "== direct to the upstream (127.0.0.1:$upstream), ${seconds}s, $connections connections"
wrk -t2 -c"$connections" -d"${seconds}s" --latency -s "$here/free_call.lua" "http://127.0.0.1:$upstream/mcp"
echo
echo "== through x402-mcp-proxy serve (127.0.0.1:$proxy)"
wrk -t2 -c"$connections" -d"${seconds}s" --latency -s "$here/free_call.lua" "http://127.0.0.1:$proxy/mcp"
echo
echo "== one connection, sequential (added latency per call)"
wrk -t1 -c1 -d"${seconds}s" --latency -s "$here/free_call.lua" "http://127.0.0.1:$upstream/mcp" | grep -E "Latency|50%|99%|Requests/sec"
wrk -t1 -c1 -d"${seconds}s" --latency -s "$here/free_call.lua" "http://127.0.0.1:$proxy/mcp" | grep -E "Latency|50%|99%|Requests/sec"
