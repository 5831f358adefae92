/* Engine initialisation of Lathe in node, in this fresh process: the time to compile and
 * instantiate the browser engine's wasm module and start its runtime (createLatheEngine),
 * as the page's worker does, after the glue script is loaded. Compare with peers.js ENGINE init.
 * usage: node --no-experimental-fetch tests/bench/lathe_init.js BUILD_DIR
 * (BUILD_DIR holds lathe_engine.js and lathe_engine.wasm). Prints one JSON object. */
'use strict';

const path = require('node:path');
const fs = require('node:fs');
const { performance } = require('node:perf_hooks');

async function main() {
  const dir = path.resolve(process.argv[2] || 'build/wasm');
  const glue = path.join(dir, 'lathe_engine.js');
  const wasm = path.join(dir, 'lathe_engine.wasm');
  if (!fs.existsSync(glue) || !fs.existsSync(wasm))
    throw new Error(`${dir}: no lathe_engine.js and .wasm (build the wasm preset)`);
  const t0 = performance.now();
  const createLatheEngine = require(glue);
  const t1 = performance.now();
  const module = await createLatheEngine();
  const t2 = performance.now();
  /* a call through the instance proves it is live */
  const err = module._lathe_engine_error_create();
  if (!err) throw new Error('the engine did not answer');
  module._lathe_engine_error_destroy(err);
  return { engine: 'lathe-wasm', require_ms: t1 - t0, init_ms: t2 - t1, wasm_bytes: fs.statSync(wasm).size };
}

main().then(
  (r) => process.stdout.write(`${JSON.stringify(r)}\n`),
  (e) => {
    process.stderr.write(`lathe_init.js: ${e.stack || e}\n`);
    process.exit(1);
  },
);
