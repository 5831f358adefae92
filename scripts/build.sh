#!/usr/bin/env bash
# Sets up (scripts/bootstrap.sh) and builds everything: the native CLI (build/native/lathe),
# the wasm build (build/wasm: the CLI's node twin lathe.js and the browser engine), and the
# static site in build/web/. Pass --no-bootstrap to skip the set-up step.
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  "") ./scripts/bootstrap.sh ;;
  --no-bootstrap) ;;
  *) echo "usage: scripts/build.sh [--no-bootstrap]   (sets up, then builds everything)" >&2; exit 2 ;;
esac
export NODE_PATH=/usr/share/nodejs
jobs=$(nproc 2>/dev/null || echo 2)

step_tag=build
# shellcheck source=scripts/lib/setup_steps.sh
. scripts/lib/setup_steps.sh
log() { step_log "$@"; }
hint="the compiler's message is above; rerun the command by hand for its full output"
log "native"
run_step "configure the native build" "$hint" cmake --preset native
run_step "build the native CLI and tests" "$hint" cmake --build --preset native -j "$jobs"
log "wasm"
run_step "configure the wasm build" "$hint" cmake --preset wasm
run_step "build the wasm engine, CLI and tests" "$hint" cmake --build --preset wasm -j "$jobs"

log "site: build/web"
rm -rf build/web.tmp
mkdir -p build/web.tmp/data build/web.tmp/examples
# The HTML without its indentation (no <pre>; the one <textarea> starts empty).
for f in web/*.html; do sed -e "s/^[[:space:]]*//" "$f" >"build/web.tmp/$(basename "$f")"; done
# Our JS and CSS are served minified (esbuild, Debian's package), each with a source map
# beside it that a browser fetches only for its developer tools. The map is named by the
# server's SourceMap header (scripts/static_server.mjs), not by a comment in the file, so no
# visitor downloads the comment.
for f in web/*.js web/*.css wasm_bindings/lathe.js wasm_bindings/worker.js; do
  run_step "minify $f" "$hint" esbuild "$f" --minify --sourcemap=external --sources-content=true --log-level=warning \
    --outfile="build/web.tmp/$(basename "$f")"
done
# Emscripten's glue is minified too (its own output keeps whitespace and long names).
run_step "minify lathe_engine.js" "$hint" esbuild build/wasm/lathe_engine.js --minify --log-level=warning \
  --outfile=build/web.tmp/lathe_engine.js
cp build/wasm/lathe_engine.wasm build/web.tmp/
run_step "minify lathe_deploy.js" "$hint" esbuild build/wasm/lathe_deploy.js --minify --log-level=warning \
  --outfile=build/web.tmp/lathe_deploy.js
cp build/wasm/lathe_deploy.wasm build/web.tmp/
# The web export's runtime as `lathe export --format web` writes it (not minified: the Deploy
# step zips these bytes with the model file); the page fetches it only for that download.
mkdir -p build/web.tmp/web_runtime
for f in lathe_web.js lathe_infer.js lathe_infer.wasm index.html; do
  cp "build/wasm/web_runtime/$f" build/web.tmp/web_runtime/
done
cp examples/*.experiment.json build/web.tmp/examples/
if [ -f data/builtin/manifest.json ]; then
  cp data/builtin/manifest.json build/web.tmp/data/
  cp data/builtin/*.csv build/web.tmp/data/ 2>/dev/null || true
  # The IDX image sets, as their files (gzipped where they came so): the page fetches one
  # only when it is chosen. They are data, not code: the page's size budget leaves them out.
  for d in data/builtin/*/; do
    [ "$(basename "$d")" = .fetch ] || cp -r "$d" build/web.tmp/data/
  done
fi
rm -rf build/web
mv build/web.tmp build/web
log "done"
