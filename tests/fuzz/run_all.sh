#!/usr/bin/env bash
# The fuzz block of ./scripts/test.sh: builds the libFuzzer targets (build/fuzz, clang with
# ASan + UBSan), then runs each for a fixed time (LATHE_FUZZ_SECONDS, 20 by default) after
# replaying its whole corpus (seeds and regression inputs in tests/fuzz/corpus/TARGET).
# Prints "TESTS N", then one line per target: "PASS fuzz TARGET (N runs)" or
# "FAIL fuzz TARGET: why; log" (tests/lib/runner.sh).
# A finding is saved in tests/fuzz/crashes/TARGET/. Exits non-zero when anything failed.
set -uo pipefail
cd "$(dirname "$0")/../.."
seconds=${LATHE_FUZZ_SECONDS:-20}
logs=build/test-logs
mkdir -p "$logs"
# shellcheck source=tests/lib/runner.sh
. tests/lib/runner.sh
targets=$(./scripts/fuzz.sh list)
plan "$(wc -w <<<"$targets")"

if ! command -v "${LATHE_FUZZ_CC:-clang}" >/dev/null 2>&1; then
  for t in $targets; do
    fail "fuzz $t" "clang missing: install the Debian packages clang and libclang-rt-14-dev"
  done
  finish
fi
if ! ./scripts/fuzz.sh build >"$logs/fuzz-build.log" 2>&1; then
  why="build failed; see $logs/fuzz-build.log"
  grep -q -e 'libclang_rt.fuzzer' -e 'fsanitize=fuzzer' "$logs/fuzz-build.log" &&
    why="libFuzzer missing: install the Debian package libclang-rt-14-dev; see $logs/fuzz-build.log"
  for t in $targets; do fail "fuzz $t" "$why"; done
  finish
fi

for t in $targets; do
  log=$logs/fuzz-$t.log
  LATHE_FUZZ_NO_BUILD=1 ./scripts/fuzz.sh "$t" "$seconds" >"$log" 2>&1
  rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  if [ "$rc" -eq 0 ] && grep -q 'INITED' "$log"; then
    pass "fuzz $t (${runs:-?} runs in ${seconds} s, corpus replayed)"
  else
    what=$(grep -m1 -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error|fuzz contract broken' "$log" |
      sed -E 's/^==[0-9]+==//' | cut -c1-160)
    artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
    fail "fuzz $t" "${what:-exit status $rc}; input ${artifact:-none}; log $log"
  fi
done
finish
