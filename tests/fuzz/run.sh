#!/usr/bin/env bash
# Runs every libFuzzer target of a fuzzing build (`make fuzz`, X402PROXY_FUZZ=ON) for SECONDS each,
# one after the other. Each starts from a scratch copy of its checked-in seeds, so the repository's
# corpus never grows by itself; new crash inputs land in BUILD/fuzz-artifacts/<target>/ (copy one to
# tests/fuzz/crashes/<target>/ with its fix, and `make test` replays it from then on).
#   usage: tests/fuzz/run.sh BUILD SECONDS [target...]
set -euo pipefail

build=${1:?usage: run.sh BUILD SECONDS [target...]}
seconds=${2:?usage: run.sh BUILD SECONDS [target...]}
shift 2
here=$(cd "$(dirname "$0")" && pwd)
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(mcp_request strict_json x402_codec base64 sse_splitter payment_extraction config_yaml)
fi

status=0
for target in "${targets[@]}"; do
  scratch="$build/fuzz-corpus/$target"
  artifacts="$build/fuzz-artifacts/$target"
  mkdir -p "$scratch" "$artifacts"
  cp -n "$here/corpus/$target"/* "$scratch"/ 2>/dev/null || true
  echo "fuzz: $target for ${seconds}s (corpus $scratch, crashes $artifacts)"
  set +e
  "$build/tests/fuzz/fuzz_$target" -max_total_time="$seconds" -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "$scratch" >"$build/fuzz-$target.log" 2>&1
  rc=$?
  set -e
  grep -E '^(#[0-9]+[[:space:]]+(INITED|DONE)|stat::|==[0-9]+==ERROR|SUMMARY|fuzz property)' \
    "$build/fuzz-$target.log" || true
  echo "fuzz: $target corpus now $(find "$scratch" -type f | wc -l) files"
  if [ $rc -ne 0 ]; then
    echo "fuzz: $target FOUND A CRASH: see $build/fuzz-$target.log and $artifacts/"
    status=1
  fi
done
exit $status
