#!/usr/bin/env bash
# Parity: for every experiment in examples/, the native CLI and its node twin (the same C
# compiled to wasm) must print identical weights_sha256, prepared_sha256 and metrics. One
# line per check: "PASS name" or "FAIL name: why". Both builds must already exist.
set -uo pipefail
cd "$(dirname "$0")/../.."
native=build/native/lathe
node_cli=(node --no-experimental-fetch build/wasm/lathe.js)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# shellcheck source=tests/lib/runner.sh
. tests/lib/runner.sh
examples=(examples/*.experiment.json)
plan "${#examples[@]}"

for exp in "${examples[@]}"; do
  name=$(basename "$exp" .experiment.json)
  if ! "$native" run "$exp" --json --quiet >"$out/$name.native.json" 2>"$out/$name.native.err"; then
    fail "parity $name" "native run failed: $(head -c 400 "$out/$name.native.err")"
    continue
  fi
  if ! "${node_cli[@]}" run "$exp" --json --quiet >"$out/$name.node.json" 2>"$out/$name.node.err"; then
    fail "parity $name" "node run failed: $(head -c 400 "$out/$name.node.err")"
    continue
  fi
  if cmp -s "$out/$name.native.json" "$out/$name.node.json"; then
    hash=$(grep -o '"weights_sha256":[^,}]*' "$out/$name.native.json")
    pass "parity $name ($hash)"
  else
    fail "parity $name" "native and node outputs differ:"
    diff "$out/$name.native.json" "$out/$name.node.json" | head -n 20
  fi
done
finish
