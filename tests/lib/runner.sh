# The runner contract of ./scripts/test.sh, for the bash suites (sourced, not run):
#   plan N        the first line on stdout, "TESTS N", before anything runs
#   pass NAME     "PASS NAME"
#   fail NAME WHY "FAIL NAME: WHY"
#   skip NAME WHY "SKIP NAME: WHY" (set-up data missing; a failure under CI=true)
#   finish        exits 0 only when nothing failed and all N tests reported
runner_planned=0
runner_reported=0
runner_failed=0
plan() { runner_planned=$1; echo "TESTS $1"; }
pass() { runner_reported=$((runner_reported + 1)); echo "PASS $1"; }
fail() { runner_reported=$((runner_reported + 1)); runner_failed=$((runner_failed + 1)); echo "FAIL $1: $2"; }
skip() { runner_reported=$((runner_reported + 1)); echo "SKIP $1: $2"; }
finish() {
  if [ "$runner_reported" -ne "$runner_planned" ]; then
    echo "runner: reported $runner_reported of the $runner_planned tests it declared" >&2
    exit 1
  fi
  [ "$runner_failed" -eq 0 ]
  exit $?
}
