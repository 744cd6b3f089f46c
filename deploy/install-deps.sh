#!/usr/bin/env bash
# Installs every Debian 12 package the build, the tests and the demo need. Idempotent: packages that
# are already present are skipped, so a warm machine pays only for one dpkg query.
set -euo pipefail

packages=(
  g++ cmake make pkg-config ninja-build
  libboost1.81-dev libboost-json1.81-dev libssl-dev
  libsecp256k1-dev libsodium-dev libcrypto++-dev
  libyaml-cpp-dev libspdlog-dev catch2 libsqlite3-dev
  postgresql-15 libpq-dev
  nodejs npm ca-certificates curl
)
# --fuzz (make fuzz): clang and its libFuzzer and sanitizer runtimes, only for the fuzzing build,
# so that the image's build stage (deploy/Dockerfile) stays without them.
if [ "${1:-}" = "--fuzz" ]; then
  packages+=(clang-14 libclang-rt-14-dev)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# nodejs may come from another source than Debian (as on the build machines): a working node and npm
# count as installed.
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
  missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
filtered=()
for p in "${missing[@]}"; do [ -n "$p" ] && filtered+=("$p"); done

if [ ${#filtered[@]} -eq 0 ]; then
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "install-deps: installing ${filtered[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${filtered[@]}"
