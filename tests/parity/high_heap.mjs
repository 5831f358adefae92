// The browser engine above 2 GiB: its heap may grow to wasm32's 4 GiB, and where a block's
// address has its top bit set the bindings (wasm_bindings/lathe.js) must still read and write
// the right bytes. In node, the engine of build/wasm holds a 2.2 GB block first, so that what
// the sessions allocate lies above 2 GiB; they must then train to the native CLI's weights, a
// checkpoint must restore, and a set too big for the whole heap is refused from its header.
// Runner contract of scripts/test.sh: "TESTS N", then a PASS or FAIL line per test.
// usage: node --no-experimental-fetch tests/parity/high_heap.mjs  (after scripts/build.sh)
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const cli = process.env.LATHE_CLI || path.join(root, 'build/native/lathe');
const run = promisify(execFile);
const require = createRequire(import.meta.url);
const TWO_GIB = 2 ** 31;

const tests = [
  ['the engine may grow its heap to 4 GiB (wasm32)', maxHeap],
  ['above 2 GiB, iris (CSV) trains to the native weights and its checkpoint restores', irisHigh],
  ['above 2 GiB, an MNIST-10k subset (gzipped IDX) trains to the native weights', mnistHigh],
  ['a set too big for 4 GiB is refused from its header, with the numbers', tooBig],
];
console.log(`TESTS ${tests.length}`);

class Failure extends Error {}
function assert(cond, message) {
  if (!cond) throw new Failure(message);
}

async function nativeHash(experimentText, name) {
  const file = path.join(scratch, `${name}.experiment.json`);
  fs.writeFileSync(file, experimentText);
  const { stdout } = await run(cli, ['run', file, '--json', '--quiet'], { cwd: root, maxBuffer: 64 << 20 });
  return JSON.parse(stdout).weights_sha256;
}

/** Steps a session to its end; its weights hash. */
function trainToEnd(session) {
  while (!session.progress().done) session.step(64);
  return session.weightsSha256();
}

let engine, filler;
const scratch = fs.mkdtempSync(path.join(process.env.TMPDIR || '/tmp', 'lathe-high-heap-'));
const example = (name) => fs.readFileSync(path.join(root, `examples/${name}.experiment.json`), 'utf8');

async function maxHeap() {
  const { max } = engine.heap();
  // wasm32's last page is left out (emscripten_get_heap_max: 4 GiB less 64 KiB)
  assert(max >= 2 ** 32 - 65536, `the heap may grow to ${max} bytes, not 4 GiB`);
}

/** A block from the engine's malloc, freed at once: where the next allocations go. */
function probe() {
  const m = engine.module;
  const p = m._malloc(1 << 20) >>> 0;
  m._free(p);
  return p;
}

async function irisHigh() {
  assert(probe() >= TWO_GIB, `a new block is at ${probe()}, below 2 GiB: the filler did not move the heap up`);
  const text = example('iris');
  const csv = fs.readFileSync(path.join(root, 'data/builtin/iris.csv'));
  const session = engine.createSession(text, csv);
  try {
    session.step(session.progress().batchesPerEpoch * 3);
    const ck = session.checkpoint();
    const page = trainToEnd(session);
    const native = await nativeHash(text, 'iris');
    assert(page === native, `above 2 GiB ${page} != native ${native}`);
    const again = engine.createSession(text, csv);
    try {
      again.restore(ck);
      const resumed = trainToEnd(again);
      assert(resumed === native, `resumed above 2 GiB ${resumed} != native ${native}`);
    } finally {
      again.free();
    }
  } finally {
    session.free();
  }
}

async function mnistHigh() {
  const x = JSON.parse(example('mnist10k_mlp'));
  x.data.limit = { train: 1000, validation: 200, test: 200 };
  x.train.epochs = 1;
  const text = JSON.stringify(x, null, 2);
  const dir = path.join(root, 'data/builtin/mnist-10k');
  const file = (name) => {
    const stored = fs.readFileSync(path.join(dir, name));
    return {
      name,
      stored: stored.buffer.slice(stored.byteOffset, stored.byteOffset + stored.length),
      bytes: zlib.gunzipSync(stored),
    };
  };
  const images = file('images-idx3-ubyte.gz');
  const labels = file('labels-idx1-ubyte.gz');
  const classes = Array.from({ length: 10 }, (_, i) => String(i));
  const set = engine.idxSet([{ images, labels, test: false }], classes);
  try {
    assert(set.ptr >>> 0 >= TWO_GIB, `the image set is at ${set.ptr >>> 0}, below 2 GiB`);
    const session = engine.createSession(text, set);
    try {
      const page = trainToEnd(session);
      const native = await nativeHash(text, 'mnist10k');
      assert(page === native, `above 2 GiB ${page} != native ${native}`);
    } finally {
      session.free();
    }
  } finally {
    set.free();
  }
}

async function tooBig() {
  const head = Buffer.alloc(20);
  head[2] = 8;
  head[3] = 4;
  [150000, 3, 64, 64].forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  let message = '';
  try {
    engine.imagesFit(head);
  } catch (e) {
    message = e.message;
  }
  assert(
    /^150000 images need 5274 MiB once read and prepared; this engine has \d+ MiB left for data \(use fewer or smaller images\)$/.test(
      message,
    ),
    `the refusal: "${message}"`,
  );
  const small = Buffer.from(head);
  small.writeUInt32BE(1000, 4);
  engine.imagesFit(small); // 1,000 of them fit
}

let failed = 0;
try {
  globalThis.createLatheEngine = require(path.join(root, 'build/wasm/lathe_engine.js'));
  const { LatheEngine } = require(path.join(root, 'wasm_bindings/lathe.js'));
  engine = await LatheEngine.load();
  filler = engine.module._malloc(2.2e9) >>> 0;
  if (!filler) throw new Error('the engine could not allocate 2.2 GB');
} catch (e) {
  for (const [name] of tests) console.log(`FAIL ${name}: the engine did not load: ${e.message}`);
  process.exit(1);
}
for (const [name, fn] of tests) {
  try {
    await fn();
    console.log(`PASS ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e.message}`);
  }
}
fs.rmSync(scratch, { recursive: true, force: true });
process.exit(failed ? 1 : 0);
