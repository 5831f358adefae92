#!/usr/bin/env bash
# Long fuzzing runs of the libFuzzer targets in tests/fuzz (ASan + UBSan, clang).
#
#   ./scripts/fuzz.sh TARGET SECONDS   fuzz one target (csv, idx, image, experiment, pipeline,
#                                      ... = tests/fuzz/fuzz_TARGET.c) or `all`, one after another
#   ./scripts/fuzz.sh build            only configure and build build/fuzz
#   ./scripts/fuzz.sh list             the target names
#
# Seeds: tests/fuzz/corpus/TARGET (read, never written). New inputs go to
# build/fuzz/corpus/TARGET; a crash, leak or timeout goes to tests/fuzz/crashes/TARGET/
# (ignored by git): fix it, then copy the input into tests/fuzz/corpus/TARGET as a regression
# input. Dictionaries: tests/fuzz/TARGET.dict. Extra libFuzzer flags: LATHE_FUZZ_FLAGS;
# LATHE_FUZZ_NO_BUILD=1 skips the build (tests/fuzz/run_all.sh builds once).
# Exit status: 0 when every run ended without a finding, 1 otherwise, 2 on bad usage.
set -uo pipefail
cd "$(dirname "$0")/.."
build=build/fuzz
cc=${LATHE_FUZZ_CC:-clang}

usage() {
  sed -n '2,/^set /{/^#/p}' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

targets() {
  local f
  for f in tests/fuzz/fuzz_*.c; do
    f=${f##*/fuzz_}
    echo "${f%.c}"
  done
}

# Inputs larger than this are not generated (each target's format is small by nature).
max_len() {
  case "$1" in
    csv) echo 16384 ;;
    idx | image) echo 8192 ;;
    experiment) echo 16384 ;;
    model | onnx_export | onnx_import) echo 40000 ;;
    *) echo 8192 ;;
  esac
}

build_targets() {
  if ! command -v "$cc" >/dev/null 2>&1; then
    echo "fuzz: $cc not found (Debian packages: clang libclang-rt-14-dev)" >&2
    return 1
  fi
  if [ ! -f "$build/CMakeCache.txt" ]; then
    cmake -S . -B "$build" -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g" -DLATHE_SANITIZE=ON -DLATHE_FUZZ=ON >/dev/null ||
      return 1
  fi
  local names=() t
  for t in $(targets); do names+=(--target "fuzz_$t"); done
  cmake --build "$build" -j 2 "${names[@]}"
}

# fuzz_one TARGET SECONDS: prints libFuzzer's output; returns its status.
fuzz_one() {
  local t=$1 seconds=$2 dict=()
  local bin=$build/fuzz_$t seeds=tests/fuzz/corpus/$t work=$build/corpus/$t crashes=tests/fuzz/crashes/$t/
  if [ ! -x "$bin" ]; then
    echo "fuzz: no target '$t' (targets: $(targets | tr '\n' ' '))" >&2
    return 2
  fi
  mkdir -p "$work" "$crashes" "$seeds"
  [ -f "tests/fuzz/$t.dict" ] && dict=(-dict="tests/fuzz/$t.dict")
  # shellcheck disable=SC2086
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1} \
    UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
    "$bin" "${dict[@]}" -max_total_time="$seconds" -max_len="$(max_len "$t")" -timeout=20 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$crashes" \
    ${LATHE_FUZZ_FLAGS:-} "$work" "$seeds"
}

[ $# -ge 1 ] || usage
case "$1" in
  -h | --help) usage ;;
  list) targets; exit 0 ;;
  build) build_targets; exit $? ;;
esac
[ $# -eq 2 ] || usage
case "$2" in '' | *[!0-9]*) echo "fuzz: SECONDS must be a whole number" >&2; exit 2 ;; esac
if [ "${LATHE_FUZZ_NO_BUILD:-0}" != 1 ]; then build_targets || exit 1; fi
if [ "$1" = all ]; then
  list=$(targets)
else
  list=$1
fi
status=0
for t in $list; do
  echo "== fuzz $t for $2 s"
  fuzz_one "$t" "$2" || status=1
done
exit "$status"
