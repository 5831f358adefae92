# Shared by scripts/bootstrap.sh and scripts/build.sh (sourced, not run): set-up steps that
# keep their output and, when they fail, say which step failed, the command, its error output
# and what the user can do. Nothing here exits silently.

# step_log MESSAGE: one progress line on stderr, prefixed by the calling script's tag.
step_log() { printf '[%s] %s\n' "${step_tag:-setup}" "$*" >&2; }

# run_step NAME HINT CMD...: runs CMD with stdout and stderr kept in a temporary file. On
# success prints nothing; on failure prints NAME, the command, the last 40 lines of its
# output and HINT to stderr, and returns CMD's status.
run_step() {
  local name=$1 hint=$2 out rc=0
  shift 2
  out=$(mktemp "${TMPDIR:-/tmp}/lathe-step.XXXXXX")
  "$@" >"$out" 2>&1 || rc=$?
  if [ "$rc" -ne 0 ]; then
    {
      printf '[%s] FAILED step: %s (exit status %d)\n' "${step_tag:-setup}" "$name" "$rc"
      printf '  command: %s\n' "$*"
      printf '  its output (last 40 lines):\n'
      tail -n 40 "$out" | sed -e 's/^/    | /'
      printf '  what to do: %s\n' "$hint"
    } >&2
  fi
  rm -f "$out"
  return "$rc"
}

# source_versions PACKAGE: the versions of Debian source package PACKAGE that apt knows,
# newest first (dpkg's ordering), one per line.
source_versions() {
  local v sorted=() i inserted
  while read -r v; do
    [ -n "$v" ] || continue
    inserted=0
    for i in "${!sorted[@]}"; do
      if dpkg --compare-versions "$v" gt "${sorted[$i]}"; then
        sorted=("${sorted[@]:0:$i}" "$v" "${sorted[@]:$i}")
        inserted=1
        break
      fi
    done
    [ "$inserted" -eq 1 ] || sorted+=("$v")
  done < <(apt-cache showsrc "$1" 2>/dev/null | awk '$1 == "Version:" { print $2 }' | sort -u)
  [ "${#sorted[@]}" -eq 0 ] || printf '%s\n' "${sorted[@]}"
}

# fetch_source PACKAGE DEST FILE...: copies FILEs of Debian source package PACKAGE into DEST
# (replacing it). Tries every version `apt-cache showsrc` lists, newest first, until one
# downloads: an archive may list a security update whose source files it does not serve.
# On failure prints every attempt's error and returns 1.
fetch_source() {
  local package=$1 dest work src_dir version errors="" out rc
  dest=$(realpath -m "$2")
  shift 2
  local versions=()
  mapfile -t versions < <(source_versions "$package")
  if [ "${#versions[@]}" -eq 0 ]; then
    {
      printf '[%s] FAILED step: fetch the %s source package\n' "${step_tag:-setup}" "$package"
      printf '  command: apt-cache showsrc %s\n' "$package"
      printf '  its output: no Version lines (apt knows no source package %s)\n' "$package"
      printf '  what to do: add deb-src entries for the same archive as your deb entries, run apt-get update, and retry\n'
    } >&2
    return 1
  fi
  work=$(mktemp -d "${TMPDIR:-/tmp}/lathe-src.XXXXXX")
  # apt drops to the _apt user to download; let it write there instead of warning.
  if [ "$(id -u)" -eq 0 ] && id _apt >/dev/null 2>&1; then chown _apt "$work"; fi
  for version in "${versions[@]}"; do
    step_log "fetching $package $version source (Debian source package)"
    rc=0
    out=$(cd "$work" && apt-get source -qq --download-only "$package=$version" 2>&1) || rc=$?
    if [ "$rc" -eq 0 ]; then
      rc=0
      out=$(cd "$work" && dpkg-source --no-check -x ./*.dsc "$package-src" 2>&1) || rc=$?
    fi
    src_dir=$work/$package-src
    if [ "$rc" -eq 0 ] && [ -f "$src_dir/$1" ]; then
      rm -rf "$dest"
      mkdir -p "$dest"
      (cd "$src_dir" && cp "$@" "$dest/")
      rm -rf "$work"
      [ "$version" = "${versions[0]}" ] ||
        step_log "$package: used $version (the newer ${versions[0]} could not be fetched)"
      return 0
    fi
    errors+="  apt-get source $package=$version (exit status $rc):"$'\n'
    errors+=$(printf '%s\n' "$out" | tail -n 8 | sed -e 's/^/    | /')$'\n'
    rm -rf "${work:?}"/*
  done
  rm -rf "$work"
  {
    printf '[%s] FAILED step: fetch the %s source package (%d versions tried, newest first)\n' \
      "${step_tag:-setup}" "$package" "${#versions[@]}"
    printf '%s' "$errors"
    printf '  what to do: check that the archive in /etc/apt/sources.list.d serves source packages (deb-src), run apt-get update, or unpack the source of %s yourself and copy %s into %s\n' "$package" "$*" "$dest"
  } >&2
  return 1
}
