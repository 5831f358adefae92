#!/usr/bin/env bash
# The set-up's own tests (scripts/lib/setup_steps.sh), under the runner contract of
# scripts/test.sh. The fallback is tested against the real archive: an `apt-get` placed
# first on PATH refuses the newest source version of zlib as an archive that lacks its files
# does (HTTP 404), and passes every other call to the real apt-get; fetch_source must then
# bring the files from the next version. Needs the deb-src entries scripts/bootstrap.sh adds.
set -uo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=tests/lib/runner.sh
. tests/lib/runner.sh
# shellcheck source=scripts/lib/setup_steps.sh
. scripts/lib/setup_steps.sh
step_tag=setup-test
work=$(mktemp -d "${TMPDIR:-/tmp}/lathe-setup-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
plan 4

# 1. dpkg's order, newest first: epochs, revisions and security updates.
mkdir -p "$work/order-bin"
cat >"$work/order-bin/apt-cache" <<'STUB'
#!/bin/sh
printf 'Package: demo\nVersion: 1.2-1\n\nPackage: demo\nVersion: 1:1.0-1\n\nPackage: demo\nVersion: 1:1.0-1+deb12u1\n\nPackage: demo\nVersion: 1.10-1\n\nPackage: demo\nVersion: 1:1.0~rc1-1\n'
STUB
chmod +x "$work/order-bin/apt-cache"
got=$(PATH="$work/order-bin:$PATH" source_versions demo | paste -sd' ')
want="1:1.0-1+deb12u1 1:1.0-1 1:1.0~rc1-1 1.10-1 1.2-1"
if [ "$got" = "$want" ]; then
  pass "setup: source versions in dpkg's order, newest first ($got)"
else
  fail "setup: source versions in dpkg's order" "got '$got', expected '$want'"
fi

# A real apt-get behind a stub that refuses one version of one package (HTTP 404).
real_apt_get=$(command -v apt-get)
mapfile -t zlib_versions < <(source_versions zlib)
mkdir -p "$work/bin"
cat >"$work/bin/apt-get" <<STUB
#!/bin/sh
for a in "\$@"; do
  case "\$a" in
    zlib=*)
      if [ -n "\${REFUSE:-}" ] && { [ "\$REFUSE" = all ] || [ "zlib=\$REFUSE" = "\$a" ]; }; then
        echo "E: Failed to fetch http://deb.debian.org/debian/pool/main/z/zlib/zlib_\${a#zlib=}.debian.tar.xz  404  Not Found" >&2
        exit 100
      fi ;;
  esac
done
exec "$real_apt_get" "\$@"
STUB
chmod +x "$work/bin/apt-get"

# 2. The newest version cannot be fetched: the next one is used, and the log says so.
if [ "${#zlib_versions[@]}" -lt 2 ]; then
  fail "setup: fallback to an older source version" \
    "apt-cache showsrc zlib lists ${#zlib_versions[@]} version(s); the test needs two (are the deb-src entries there? run scripts/bootstrap.sh)"
else
  PATH="$work/bin:$PATH" REFUSE="${zlib_versions[0]}" \
    fetch_source zlib "$work/zlib" inflate.c zlib.h LICENSE >"$work/fallback.log" 2>&1
  rc=$?
  if [ "$rc" -eq 0 ] && [ -s "$work/zlib/inflate.c" ] && [ -s "$work/zlib/LICENSE" ] &&
     grep -q "used ${zlib_versions[1]} (the newer ${zlib_versions[0]} could not be fetched)" "$work/fallback.log"; then
    pass "setup: the newest zlib source (${zlib_versions[0]}) refused, ${zlib_versions[1]} fetched instead"
  else
    fail "setup: fallback to an older source version" "exit $rc; $(tr '\n' ' ' <"$work/fallback.log" | head -c 600)"
  fi
fi

# 3. No version can be fetched: a failure that names the step, each command, its error and
#    what to do, and leaves the destination alone.
mkdir -p "$work/kept" && echo keep >"$work/kept/inflate.c"
PATH="$work/bin:$PATH" REFUSE=all fetch_source zlib "$work/kept" inflate.c >"$work/none.log" 2>&1
rc=$?
if [ "$rc" -ne 0 ] && grep -q "FAILED step: fetch the zlib source package (${#zlib_versions[@]} versions tried" "$work/none.log" &&
   grep -q "apt-get source zlib=${zlib_versions[0]}" "$work/none.log" && grep -q "404  Not Found" "$work/none.log" &&
   grep -q "what to do:" "$work/none.log" && [ "$(cat "$work/kept/inflate.c")" = keep ]; then
  pass "setup: when no source version downloads, the failure names the step, the commands, their errors and what to do"
else
  fail "setup: every version refused" "exit $rc; $(tr '\n' ' ' <"$work/none.log" | head -c 600)"
fi

# 4. A failing step is never silent: run_step prints the step, the command, its output, the hint.
run_step "a step that fails" "do the thing" sh -c 'echo partial output; echo the reason >&2; exit 3' \
  >"$work/step.log" 2>&1
rc=$?
if [ "$rc" -eq 3 ] && grep -q "FAILED step: a step that fails (exit status 3)" "$work/step.log" &&
   grep -q "command: sh -c" "$work/step.log" && grep -q "| the reason" "$work/step.log" &&
   grep -q "what to do: do the thing" "$work/step.log"; then
  pass "setup: a failing step prints its name, command, output and what to do, and keeps its exit status"
else
  fail "setup: a failing step" "exit $rc; $(tr '\n' ' ' <"$work/step.log" | head -c 400)"
fi
finish
