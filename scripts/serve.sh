#!/usr/bin/env bash
# Sets up, builds everything and serves the workbench on http://127.0.0.1:8080 (loopback
# only, cross-origin isolated). PORT=… chooses another port.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh
exec node scripts/static_server.mjs build/web "${PORT:-8080}"
