#!/usr/bin/env bash
# A throw-away PostgreSQL 15 server for the tests (Debian's postgresql-15, installed by
# deploy/install-deps.sh): a fresh initdb cluster in its own temporary folder, listening on
# 127.0.0.1:PORT and on a Unix socket in that folder, durability off (fsync) because the tests
# never need it after the process ends. PostgreSQL refuses to run as root, and CI runs as root:
# then the cluster belongs to the unprivileged user `nobody` and the server runs as it.
#
#   usage: tests/peers/postgres/start.sh DIR [PORT]
# Prints "postgres ready postgresql://postgres@127.0.0.1:PORT/postgres" on stdout once it accepts
# connections, then stays in the foreground (the caller's pid is the server's, via exec): SIGTERM
# stops it ("smart" shutdown), SIGINT fast. Exit 77 when PostgreSQL is not installed.
set -euo pipefail
dir=${1:?usage: start.sh DIR [PORT]}
port=${2:-0}
bin=/usr/lib/postgresql/15/bin
[ -x "$bin/postgres" ] || { echo "postgresql-15 is not installed (deploy/install-deps.sh)" >&2; exit 77; }
if [ "$port" = 0 ]; then
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
fi
mkdir -p "$dir"
data="$dir/data"
as_user=()
if [ "$(id -u)" -eq 0 ]; then
  chown nobody:nogroup "$dir"
  # nobody must be able to reach DIR: let it through the test's own private parent folders.
  parent=$(dirname "$(realpath "$dir")")
  while [ "$parent" != / ] && [ "$(stat -c %u "$parent")" = 0 ] && [ "$parent" != /tmp ]; do
    chmod o+x "$parent"
    parent=$(dirname "$parent")
  done
  as_user=(runuser -u nobody --)
fi
if [ ! -f "$data/PG_VERSION" ]; then
  "${as_user[@]}" "$bin/initdb" -D "$data" -U postgres -A trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; exit 1; }
fi
# Announce readiness from the side: the server itself replaces this shell below.
(
  for _ in $(seq 1 200); do
    if "$bin/pg_isready" -h 127.0.0.1 -p "$port" -U postgres -q 2>/dev/null; then
      echo "postgres ready postgresql://postgres@127.0.0.1:$port/postgres"
      exit 0
    fi
    sleep 0.05
  done
  echo "postgres did not become ready on port $port" >&2
) &
exec "${as_user[@]}" "$bin/postgres" -D "$data" -p "$port" -k "$dir" \
  -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
  -c max_connections=200 -c log_min_messages=warning
