#!/usr/bin/env bash
# Sets up, builds every preset and runs every test: unit tests natively, under ASan+UBSan and
# as wasm under node (ctest), the reference check against PyTorch vectors, native-vs-node
# parity of every example, and the browser test in Debian's Chromium. Ends with one line
# "N passed, N failed" and exits non-zero when anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."
export NODE_PATH=/usr/share/nodejs
jobs=$(nproc 2>/dev/null || echo 2)
logs=build/test-logs
passed=0
failed=0
skipped=0

log() { printf '\n[test] %s\n' "$*"; }
tally() { # tally NAME STATUS: one test that passed (0) or failed
  if [ "$2" -eq 0 ]; then passed=$((passed + 1)); echo "PASS $1"; else failed=$((failed + 1)); echo "FAIL $1"; fi
}

if ! ./scripts/build.sh; then
  echo "FAIL build"
  echo "0 passed, 1 failed"
  exit 1
fi
mkdir -p "$logs"

log "native-asan build"
if ! { cmake --preset native-asan >/dev/null && cmake --build --preset native-asan -j "$jobs" >/dev/null; }; then
  tally "native-asan build" 1
fi

for preset in native native-asan wasm; do
  log "ctest --preset $preset"
  ctest --preset "$preset" -j "$jobs" --timeout 600 >"$logs/ctest-$preset.log" 2>&1
  grep -E '^ *[0-9]+/[0-9]+ Test' "$logs/ctest-$preset.log" | sed -e "s/^/[$preset] /"
  summary=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$logs/ctest-$preset.log" | tail -n 1)
  if [ -z "$summary" ]; then
    tally "ctest $preset (no summary; see $logs/ctest-$preset.log)" 1
    tail -n 30 "$logs/ctest-$preset.log"
    continue
  fi
  echo "[$preset] $summary"
  total=$(sed -E 's/.*out of ([0-9]+).*/\1/' <<<"$summary")
  bad=$(sed -E 's/.*passed, ([0-9]+) tests? failed.*/\1/' <<<"$summary")
  skip=$(grep -cE '^ *[0-9]+/[0-9]+ Test.*\*\*\*Skipped' "$logs/ctest-$preset.log" || true)
  passed=$((passed + total - bad - skip))
  failed=$((failed + bad))
  skipped=$((skipped + skip))
  [ "$bad" -eq 0 ] || grep -B2 -A20 -E 'FAIL|Failed|\*\*\*' "$logs/ctest-$preset.log" | head -n 80
done

log "fuzz: libFuzzer targets (ASan + UBSan), corpus replay + 20 s each"
while read -r line; do
  case "$line" in
    PASS*) passed=$((passed + 1)); echo "$line" ;;
    FAIL*) failed=$((failed + 1)); echo "$line" ;;
    *) echo "$line" ;;
  esac
done < <(./tests/fuzz/run_all.sh 2>&1)

log "parity: native CLI vs node build, every example"
while read -r line; do
  case "$line" in
    PASS*) passed=$((passed + 1)); echo "$line" ;;
    FAIL*) failed=$((failed + 1)); echo "$line" ;;
    *) echo "$line" ;;
  esac
done < <(./tests/parity/cli_parity.sh 2>&1)

log "lifecycle: checkpoints, model files, predict, eval, fine-tune, refusals (native and node)"
while read -r line; do
  case "$line" in
    PASS*) passed=$((passed + 1)); echo "$line" ;;
    FAIL*) failed=$((failed + 1)); echo "$line" ;;
    *) echo "$line" ;;
  esac
done < <(./tests/parity/lifecycle.sh 2>&1)

log "browser: Debian's Chromium via playwright-core"
while read -r line; do
  case "$line" in
    PASS*) passed=$((passed + 1)); echo "$line" ;;
    FAIL*) failed=$((failed + 1)); echo "$line" ;;
    *) echo "$line" ;;
  esac
done < <(node tests/e2e/run.mjs 2>&1)

echo
if [ "$skipped" -gt 0 ]; then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
