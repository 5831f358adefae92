#!/usr/bin/env bash
# Benchmarks Lathe against its peers on this machine and writes build/bench/report.md
# (docs/benchmarks.md explains the method). Not a test: nothing fails on speed.
#
#   Lathe   native `lathe bench models` (build/bench-native) and its node twin (build/bench-wasm)
#   peers   TensorFlow.js 4.22 + tfjs-backend-wasm and onnxruntime-web 1.30 in node, installed
#           from npm into build/bench/node_modules (pinned in tests/bench/package.json);
#           PyTorch from Debian's python3-torch for the native figures, when installed (as
#           root the script installs it, with OpenBLAS; --no-install skips that), with and
#           without OPENBLAS_CORETYPE=SkylakeX.
#
# Every engine runs once per round, in a rotating order, in its own process (warm-up, then
# the median of --reps repetitions of >= --seconds each); the report takes the median over
# --rounds rounds. Then each engine's initialisation (fresh processes), one Fashion-MNIST
# epoch per engine (unless --no-epoch) and the page's gzipped download size.
#
# --baseline REV adds two engines built from this tree with core/src/kernels/ as it is in git
# revision REV (lathe-native-baseline, lathe-wasm-baseline): before/after figures of a kernel
# change from the same run. Reading REV changes no git state.
#
# usage: scripts/bench.sh [--rounds N] [--reps R] [--seconds S] [--only LIST] [--no-epoch]
#                         [--no-torch] [--no-install] [--baseline REV]
set -euo pipefail
cd "$(dirname "$0")/.."
export NODE_PATH=/usr/share/nodejs

rounds=5 reps=3 seconds=0.25 only="" epoch=1 torch=1 install=1 baseline=""
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --no-epoch) epoch=0; shift ;;
    --no-torch) torch=0; shift ;;
    --no-install) install=0; shift ;;
    --baseline) baseline=$2; shift 2 ;;
    -h|--help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
case "$rounds" in ''|*[!0-9]*) echo "bench.sh: --rounds needs a whole number" >&2; exit 2 ;; esac
[ "$rounds" -ge 1 ] || { echo "bench.sh: --rounds must be >= 1" >&2; exit 2; }

out=build/bench
node_run=(node --no-experimental-fetch)
log() { printf '[bench] %s\n' "$*" >&2; }
mkdir -p "$out"
rm -rf "$out/rounds" "$out/init" "$out/epoch" "$out/sizes.json" "$out/notes.txt" "$out/report.md"
mkdir -p "$out/rounds" "$out/init" "$out/epoch" "$out/logs"
note() { printf '%s\n' "$*" >>"$out/notes.txt"; log "note: $*"; }

# ---- build Lathe (own build directories) ----
log "build: build/bench-native and build/bench-wasm"
cmake -S . -B build/bench-native -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER=gcc >"$out/logs/configure-native.log"
cmake --build build/bench-native -j 2 --target lathe >"$out/logs/build-native.log"
cmake -S . -B build/bench-wasm -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_TOOLCHAIN_FILE=/usr/share/emscripten/cmake/Modules/Platform/Emscripten.cmake \
  -DCMAKE_CROSSCOMPILING_EMULATOR="/usr/bin/node;--no-experimental-fetch" >"$out/logs/configure-wasm.log"
cmake --build build/bench-wasm -j 2 --target lathe lathe_engine >"$out/logs/build-wasm.log"

# ---- the baseline: this tree with REV's kernels ----
if [ -n "$baseline" ]; then
  git rev-parse --verify --quiet "$baseline^{commit}" >/dev/null ||
    { echo "bench.sh: --baseline: '$baseline' is not a git revision" >&2; exit 2; }
  base=build/bench-baseline
  log "baseline: this tree with core/src/kernels/ of $baseline, in $base"
  rm -rf "$base/src"
  mkdir -p "$base/src"
  git ls-files -co --exclude-standard -z |
    tar --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -xf - -C "$base/src"
  rm -rf "$base/src/core/src/kernels"
  mkdir -p "$base/src/core/src/kernels"
  for f in $(git ls-tree --name-only "$baseline" core/src/kernels/); do
    git show "$baseline:$f" >"$base/src/$f"
  done
  cmake -S "$base/src" -B "$base/native" -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER=gcc \
    -DLATHE_THIRD_PARTY="$PWD/third_party" >"$out/logs/configure-baseline-native.log"
  cmake --build "$base/native" -j 2 --target lathe >"$out/logs/build-baseline-native.log"
  cmake -S "$base/src" -B "$base/wasm" -DCMAKE_BUILD_TYPE=Release -DLATHE_THIRD_PARTY="$PWD/third_party" \
    -DCMAKE_TOOLCHAIN_FILE=/usr/share/emscripten/cmake/Modules/Platform/Emscripten.cmake \
    -DCMAKE_CROSSCOMPILING_EMULATOR="/usr/bin/node;--no-experimental-fetch" >"$out/logs/configure-baseline-wasm.log"
  cmake --build "$base/wasm" -j 2 --target lathe >"$out/logs/build-baseline-wasm.log"
  note "Baseline: lathe-native-baseline and lathe-wasm-baseline are this tree with core/src/kernels/ of $baseline ($(git rev-parse --short "$baseline"))."
fi

# ---- peers ----
cp tests/bench/package.json "$out/package.json"
want_ok() { # the pinned versions are installed
  node -e '
    const p = require(process.argv[1] + "/package.json").dependencies;
    for (const [n, v] of Object.entries(p))
      if (require(process.argv[1] + "/node_modules/" + n + "/package.json").version !== v) process.exit(1);' \
    "$PWD/$out" 2>/dev/null
}
if ! want_ok; then
  log "npm: installing the peers into $out/node_modules"
  npm install --prefix "$out" --no-audit --no-fund --no-save >"$out/logs/npm.log" 2>&1 ||
    { echo "bench.sh: npm install failed; see $out/logs/npm.log" >&2; exit 1; }
fi

py=/usr/bin/python3
have_torch() { "$py" -c 'import torch' 2>/dev/null; }
if [ "$torch" = 1 ] && ! have_torch; then
  if [ "$install" = 1 ] && [ "$(id -u)" = 0 ]; then
    log "apt: installing python3-torch and OpenBLAS (Debian's BLAS for it)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-torch \
      libopenblas0-pthread >"$out/logs/apt.log" 2>&1 || true
  fi
fi
if [ "$torch" = 1 ] && ! have_torch; then
  torch=0
  note "PyTorch: no column — Debian's python3-torch is not installed (run as root, or apt-get install python3-torch libopenblas0-pthread)."
fi

# ---- rounds ----
[ -n "${OPENBLAS_CORETYPE:-}${OPENBLAS_L2_SIZE:-}" ] &&
  note "The environment sets OPENBLAS_CORETYPE='${OPENBLAS_CORETYPE:-}' OPENBLAS_L2_SIZE='${OPENBLAS_L2_SIZE:-}'; the pytorch column runs without both (OpenBLAS as Debian ships it), pytorch-skylakex with OPENBLAS_CORETYPE=SkylakeX only."
note "Load average before the rounds: $(cut -d' ' -f1-3 /proc/loadavg) (on $(nproc) cores); other work on the machine slows every engine alike, as the rounds interleave."
engines=(lathe-native lathe-wasm tfjs-wasm onnxruntime-web)
[ "$torch" = 1 ] && engines+=(pytorch pytorch-skylakex)
[ -n "$baseline" ] && engines+=(lathe-native-baseline lathe-wasm-baseline)
only_arg=()
[ -n "$only" ] && only_arg=(--only "$only")
run_engine() { # run_engine ENGINE: its models JSON on stdout
  local timing=(--seconds "$seconds" --reps "$reps" "${only_arg[@]}")
  case "$1" in
    lathe-native) build/bench-native/lathe bench models --json "${timing[@]}" ;;
    lathe-wasm) "${node_run[@]}" build/bench-wasm/lathe.js bench models --json "${timing[@]}" ;;
    lathe-native-baseline) "$base/native/lathe" bench models --json "${timing[@]}" ;;
    lathe-wasm-baseline) "${node_run[@]}" "$base/wasm/lathe.js" bench models --json "${timing[@]}" ;;
    tfjs-wasm) "${node_run[@]}" tests/bench/peers.js tfjs models --modules "$out/node_modules" "${timing[@]}" ;;
    onnxruntime-web) "${node_run[@]}" tests/bench/peers.js ort models --modules "$out/node_modules" "${timing[@]}" ;;
    pytorch) env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$py" tests/bench/peer_torch.py models "${timing[@]}" ;;
    pytorch-skylakex) env -u OPENBLAS_L2_SIZE OPENBLAS_CORETYPE=SkylakeX "$py" tests/bench/peer_torch.py models --label pytorch-skylakex "${timing[@]}" ;;
  esac
}
n=${#engines[@]}
for ((r = 1; r <= rounds; r++)); do
  for ((i = 0; i < n; i++)); do
    e=${engines[$(((i + r - 1) % n))]}
    log "round $r/$rounds: $e"
    if ! run_engine "$e" >"$out/rounds/r$r-$e.json" 2>>"$out/logs/$e.log"; then
      rm -f "$out/rounds/r$r-$e.json"
      note "$e failed in round $r (see $out/logs/$e.log): $(tail -n 1 "$out/logs/$e.log")"
    fi
  done
done

# ---- engine initialisation: fresh processes, interleaved ----
for ((r = 1; r <= rounds; r++)); do
  "${node_run[@]}" tests/bench/lathe_init.js build/bench-wasm >"$out/init/lathe-wasm-$r.json"
  "${node_run[@]}" tests/bench/peers.js tfjs init --modules "$out/node_modules" >"$out/init/tfjs-wasm-$r.json" 2>>"$out/logs/tfjs-wasm.log"
  "${node_run[@]}" tests/bench/peers.js ort init --modules "$out/node_modules" >"$out/init/onnxruntime-web-$r.json" 2>>"$out/logs/onnxruntime-web.log"
done

# ---- one Fashion-MNIST epoch per engine ----
if [ "$epoch" = 1 ]; then
  log "epochs: one Fashion-MNIST epoch per engine (minutes)"
  epoch_engine() { # epoch_engine ENGINE COMMAND...: its JSON into $out/epoch/ENGINE.json
    local e=$1
    shift
    log "epoch: $e"
    "$@" >"$out/epoch/$e.json" 2>>"$out/logs/$e.log" ||
      { note "Fashion-MNIST epoch: $e failed (see $out/logs/$e.log)"; rm -f "$out/epoch/$e.json"; }
  }
  epoch_engine lathe-native build/bench-native/lathe bench epoch --json "${only_arg[@]}"
  epoch_engine lathe-wasm "${node_run[@]}" build/bench-wasm/lathe.js bench epoch --json "${only_arg[@]}"
  epoch_engine tfjs-wasm "${node_run[@]}" tests/bench/peers.js tfjs epoch --modules "$out/node_modules" "${only_arg[@]}"
  if [ "$torch" = 1 ]; then
    epoch_engine pytorch env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$py" tests/bench/peer_torch.py epoch "${only_arg[@]}"
  fi
else
  note "Fashion-MNIST epochs: not run (--no-epoch)."
fi

# ---- download sizes: gzip -9 of each file ----
# Always rebuilt (incremental): a build/web left by an older tree would be measured instead.
log "site: ./scripts/build.sh --no-bootstrap"
./scripts/build.sh --no-bootstrap >"$out/logs/build-site.log" 2>&1 ||
  { echo "bench.sh: building the site failed; see $out/logs/build-site.log" >&2; exit 1; }
sizes_json() { # sizes_json KEY FILE...: "KEY_files": [...], "KEY_bytes": total
  local key=$1 total=0 first=1 f raw gz name
  shift
  printf '"%s_files": [' "$key"
  for f in "$@"; do
    raw=$(wc -c <"$f")
    gz=$(gzip -9 -c <"$f" | wc -c)
    total=$((total + gz))
    [ $first = 1 ] || printf ', '
    first=0
    name=${f#build/web/}
    name=${name#"$out"/node_modules/}
    printf '{"file": "%s", "bytes": %d, "gzip": %d}' "$name" "$raw" "$gz"
  done
  printf '], "%s_bytes": %d' "$key" "$total"
}
mapfile -t page_files < <(find build/web -type f ! -path 'build/web/data/*' ! -path 'build/web/examples/*' ! -name '*.map' | sort)
examples_gz=$(cat build/web/examples/*.json | gzip -9 | wc -c)
tf=$out/node_modules/@tensorflow
ort=$out/node_modules/onnxruntime-web/dist
{
  printf '{'
  sizes_json page "${page_files[@]}"
  printf ', '
  sizes_json tfjs "$tf/tfjs/dist/tf.min.js" "$tf/tfjs-backend-wasm/dist/tf-backend-wasm.min.js" \
    "$tf/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm"
  printf ', '
  sizes_json ort "$ort/ort.wasm.min.js" "$ort/ort-wasm-simd-threaded.wasm"
  printf '}\n'
} >"$out/sizes.json"
note "The page's size counts every file of build/web (HTML, CSS, JS, wasm, the chart library) as built by scripts/build.sh, except data/ (the data sets), examples/ (the example experiments, each fetched only when chosen: $((examples_gz / 1024)) KB gzipped together) and the source maps (fetched only by developer tools); TensorFlow.js's counts tf.min.js, the wasm backend's script and its SIMD wasm."

note "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
node tests/bench/report.js "$out"
