#!/usr/bin/env bash
# Free calls side by side, in one run, on this machine: wrk straight at a fixed-answer upstream
# (nginx returning one JSON-RPC result), through nginx as a plain keep-alive reverse proxy with one
# worker, and through `x402-mcp-proxy serve`. Prints requests/s and latency percentiles of each,
# averaged over --runs, and the ratios serve/nginx and serve/direct. Run by hand; never a test.
#
#   usage: bench/compare.sh [--build DIR] [--threads N] [--connections C] [--duration S]
#                           [--runs R] [--wrk-threads T] [--log-level L] [--body FILE.lua]
#   defaults: --build build --threads 1 --connections 32 --duration 6 --runs 3 --wrk-threads 1
#             --log-level warn
# Installs what it needs itself (wrk, nginx-light) with apt-get when they are missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=build threads=1 connections=32 duration=6 runs=3 wrk_threads=1 log_level=warn
script="$here/free_call.lua"
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --wrk-threads) wrk_threads=$2; shift 2 ;;
    --log-level) log_level=$2; shift 2 ;;
    --body) script=$2; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "compare.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
build=$(cd "$build" && pwd)
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
work=$(mktemp -d)
cleanup() { kill $(jobs -p) 2>/dev/null || true; [ -f "$work/up.pid" ] && kill "$(cat "$work/up.pid")" 2>/dev/null; [ -f "$work/rp.pid" ] && kill "$(cat "$work/rp.pid")" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
up=$(free_port); rp=$(free_port)
answer='{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"ok"}]}}'
nginx_conf() {  # name, worker count, server block
  cat >"$work/$1.conf" <<CONF
worker_processes $2;
pid $work/$1.pid;
error_log $work/$1.error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/$1-body;
  proxy_temp_path $work/$1-proxy;
  keepalive_requests 1000000;
  $3
}
CONF
}
nginx_conf up 1 "server { listen 127.0.0.1:$up; location / { default_type application/json; return 200 '$answer'; } }"
nginx_conf rp 1 "upstream mcp { server 127.0.0.1:$up; keepalive 64; }
  server { listen 127.0.0.1:$rp; location / { proxy_pass http://mcp; proxy_http_version 1.1;
    proxy_set_header Connection \"\"; proxy_buffering off; } }"
"$nginx_bin" -p "$work" -c "$work/up.conf"
"$nginx_bin" -p "$work" -c "$work/rp.conf"

cat >"$work/proxy.yaml" <<YAML
listen: 127.0.0.1:0
upstream: { url: http://127.0.0.1:$up/mcp }
facilitator: { url: http://127.0.0.1:1 }
pay_to: { eip155: "0x209693Bc6afc0C5328bA36FaF03C514EF312287C" }
accept: [ { network: base-sepolia, asset: USDC } ]
tools: { add: "\$0.001" }
journal: $work/payments.sqlite
threads: $threads
log_level: $log_level
YAML
"$build/bin/x402-mcp-proxy" serve --config "$work/proxy.yaml" 2>"$work/proxy.log" &
for _ in $(seq 1 200); do grep -q "listening on" "$work/proxy.log" 2>/dev/null && break; sleep 0.05; done
sp=$(grep -o 'listening on [0-9.]*:[0-9]*' "$work/proxy.log" | sed 's/.*://')
[ -n "$sp" ] || { echo "serve did not start:"; cat "$work/proxy.log"; exit 1; }

# One wrk run: requests/s p50 p99 (latencies in microseconds).
measure() {
  wrk -t"$wrk_threads" -c"$connections" -d"${duration}s" --latency -s "$script" "http://127.0.0.1:$1/mcp" |
    awk '
      function us(v) { if (v ~ /us$/) return v+0; if (v ~ /ms$/) return v*1000; if (v ~ /s$/) return v*1000000; return v }
      /Requests\/sec/ { rps=$2 } / 50%/ { p50=us($2) } / 99%/ { p99=us($2) }
      END { printf "%.0f %.0f %.0f\n", rps, p50, p99 }'
}
declare -A total_rps total_p50 total_p99
for target in direct nginx serve; do total_rps[$target]=0; total_p50[$target]=0; total_p99[$target]=0; done
for run in $(seq 1 "$runs"); do
  for target in direct nginx serve; do
    case $target in direct) port=$up ;; nginx) port=$rp ;; serve) port=$sp ;; esac
    read -r rps p50 p99 < <(measure "$port")
    total_rps[$target]=$((total_rps[$target] + rps))
    total_p50[$target]=$((total_p50[$target] + p50))
    total_p99[$target]=$((total_p99[$target] + p99))
    printf "run %d %-6s %9s req/s  p50 %6s us  p99 %7s us\n" "$run" "$target" "$rps" "$p50" "$p99"
  done
done
echo
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "settings: serve threads=$threads log_level=$log_level; nginx 1 worker; wrk -t$wrk_threads -c$connections -d${duration}s; $runs runs; body $(basename "$script")"
printf "%-8s %12s %10s %10s\n" target "req/s (avg)" "p50 us" "p99 us"
for target in direct nginx serve; do
  printf "%-8s %12d %10d %10d\n" "$target" $((total_rps[$target] / runs)) $((total_p50[$target] / runs)) $((total_p99[$target] / runs))
done
awk -v s="${total_rps[serve]}" -v n="${total_rps[nginx]}" -v d="${total_rps[direct]}" \
  'BEGIN { printf "serve/nginx %.2f   serve/direct %.2f\n", s / n, s / d }'
