// The C source export against `lathe predict`: every example is trained by the native CLI,
// exported with `lathe export --format c`, compiled with gcc and clang (C99, -Wall -Wextra
// -Wpedantic -Werror -ffp-contract=off) beside tests/deploy/c_harness.c, and run on its rows
// (the builtin CSV, the synthetic set as the engine makes it, an IDX set's test images). The
// harness prints lathe predict's CSV, so equal text is equal bits (%.9g is one text per float).
// It must also compile with emcc and, for a Cortex-M4, with arm-none-eabi-gcc; the flash and
// RAM the M4 build takes are written to build/test-logs/c-export.json for docs/deploy.md.
// Runner contract of scripts/test.sh: "TESTS N", then a PASS or FAIL line per test.
// usage: node --no-experimental-fetch tests/deploy/c_export.mjs  (after scripts/build.sh)
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const cli = process.env.LATHE_CLI || path.join(root, 'build/native/lathe');
const logs = path.join(root, 'build/test-logs');
const exec = promisify(execFile);
const run = (cmd, args, opts = {}) => exec(cmd, args, { cwd: root, maxBuffer: 1 << 30, ...opts });
const require = createRequire(import.meta.url);

const examples = fs
  .readdirSync(path.join(root, 'examples'))
  .filter((f) => f.endsWith('.experiment.json'))
  .map((f) => f.replace(/\.experiment\.json$/, ''))
  .sort();
const WARN = ['-std=c99', '-Wall', '-Wextra', '-Wpedantic', '-Werror', '-ffp-contract=off'];
const tests = [
  ...examples.map((name) => [`${name}: the exported C (gcc, clang) predicts lathe predict's bits on its rows`, name]),
  ['every export compiles with emcc and for a Cortex-M4 (arm-none-eabi-gcc), warning-free', 'cross'],
  ['a bad name and an unknown format are refused with what to do', 'refusals'],
];
console.log(`TESTS ${tests.length}`);

class Failure extends Error {}
function assert(cond, message) {
  if (!cond) throw new Failure(message);
}

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'lathe-c-export-'));
const csvField = (t) => (/[",\r\n]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t);

/** An IDX file's values and dims (gzip undone). */
function idx(file) {
  const b = zlib.gunzipSync(fs.readFileSync(file));
  const nd = b[3];
  const dims = Array.from({ length: nd }, (_, i) => b.readUInt32BE(4 + 4 * i));
  return { dims, values: b.subarray(4 + 4 * nd) };
}

let engine = null;
async function loadEngine() {
  if (engine) return engine;
  globalThis.createLatheEngine = require(path.join(root, 'build/wasm/lathe_engine.js'));
  const { LatheEngine } = require(path.join(root, 'wasm_bindings/lathe.js'));
  engine = await LatheEngine.load();
  return engine;
}

/** A CSV of the example's rows: the builtin CSV; an IDX set's test images (or all of them)
 * with px0… and label; a synthetic set as the engine generates it from the experiment. */
async function rowsCsv(name, x) {
  const manifest = JSON.parse(fs.readFileSync(path.join(root, 'data/builtin/manifest.json'), 'utf8'));
  if (x.data.builtin) {
    const set = manifest.datasets.find((d) => d.name === x.data.builtin);
    if (set.format === 'csv') return path.join(root, 'data/builtin', set.files[0]);
    const files = set.files.map((f) => path.join(root, 'data/builtin', f));
    const [images, labels] = files.length === 4 ? files.slice(2) : files;
    const im = idx(images),
      lb = idx(labels);
    const pixels = im.values.length / im.dims[0];
    const out = path.join(scratch, `${name}.csv`);
    const lines = [[...Array.from({ length: pixels }, (_, i) => `px${i}`), 'label'].join(',')];
    for (let r = 0; r < im.dims[0]; r++) {
      const row = Array.from(im.values.subarray(r * pixels, (r + 1) * pixels));
      lines.push(`${row.join(',')},${csvField(set.classes ? set.classes[lb.values[r]] : String(lb.values[r]))}`);
    }
    fs.writeFileSync(out, `${lines.join('\n')}\n`);
    return out;
  }
  const e = await loadEngine();
  const table = e.createTable(x, null);
  try {
    const info = table.info();
    const cols = info.columns.map((_, j) => table.column(j));
    const lines = [info.columns.map((c) => csvField(c.name)).join(',')];
    for (let r = 0; r < info.rows; r++)
      lines.push(
        info.columns
          .map((c, j) => {
            const v = cols[j][r];
            return Number.isNaN(v) ? '' : c.type === 'categorical' ? csvField(c.categories[v]) : String(v);
          })
          .join(','),
      );
    const out = path.join(scratch, `${name}.csv`);
    fs.writeFileSync(out, `${lines.join('\n')}\n`);
    return out;
  } finally {
    table.free();
  }
}

const exported = []; // [{name, dir}] for the cross builds

async function example(name) {
  const text = fs.readFileSync(path.join(root, `examples/${name}.experiment.json`), 'utf8');
  const x = JSON.parse(text);
  const model = path.join(scratch, `${name}.lathe.json`);
  await run(cli, ['run', `examples/${name}.experiment.json`, '--out', model, '--quiet']);
  const dir = path.join(scratch, `${name}_c`);
  await run(cli, ['export', model, '--format', 'c', '--out', dir, '--name', name, '--quiet']);
  exported.push({ name, dir });
  const csv = await rowsCsv(name, x);
  const { stdout: predicted } = await run(cli, ['predict', model, csv, '--quiet']);
  const want = predicted.slice(predicted.indexOf('\n') + 1);
  for (const cc of ['gcc', 'clang']) {
    const bin = path.join(dir, `harness-${cc}`);
    await run(cc, [
      ...WARN,
      '-O2',
      `-DMODEL=${name}`,
      `-I${dir}`,
      'tests/deploy/c_harness.c',
      path.join(dir, `${name}.c`),
      '-o',
      bin,
    ]).catch((e) => {
      throw new Failure(
        `${cc} does not build it: ${String(e.stderr || e.message)
          .split('\n')
          .slice(0, 3)
          .join(' | ')}`,
      );
    });
    const { stdout: got } = await run(bin, [csv]);
    if (got !== want) {
      const a = got.split('\n'),
        b = want.split('\n');
      const i = a.findIndex((l, k) => l !== b[k]);
      throw new Failure(`${cc}: row ${i + 1} differs: C "${a[i]}", lathe predict "${b[i]}" (${b.length - 1} rows)`);
    }
  }
  const rows = want.trim().split('\n').length;
  return rows;
}

async function cross() {
  assert(exported.length === examples.length, `only ${exported.length} of ${examples.length} examples exported`);
  const report = [];
  for (const { name, dir } of exported) {
    const src = path.join(dir, `${name}.c`);
    await run('emcc', [...WARN, '-O2', '-c', src, '-o', path.join(dir, `${name}.wasm.o`)]).catch((e) => {
      throw new Failure(
        `emcc does not build ${name}: ${String(e.stderr || e.message)
          .split('\n')
          .slice(0, 3)
          .join(' | ')}`,
      );
    });
    const obj = path.join(dir, `${name}.m4.o`);
    await run('arm-none-eabi-gcc', [
      ...WARN,
      '-O2',
      '-mcpu=cortex-m4',
      '-mthumb',
      '-mfloat-abi=hard',
      '-mfpu=fpv4-sp-d16',
      '-c',
      src,
      '-o',
      obj,
    ]).catch((e) => {
      throw new Failure(
        `arm-none-eabi-gcc does not build ${name}: ${String(e.stderr || e.message)
          .split('\n')
          .slice(0, 3)
          .join(' | ')}`,
      );
    });
    const { stdout } = await run('arm-none-eabi-size', [obj]);
    const [text, data, bss] = stdout.trim().split('\n')[1].trim().split(/\s+/).map(Number);
    const modelFile = fs.statSync(path.join(scratch, `${name}.lathe.json`)).size;
    report.push({ name, flash: text + data, ram: data + bss, model_file: modelFile });
  }
  fs.mkdirSync(logs, { recursive: true });
  fs.writeFileSync(path.join(logs, 'c-export.json'), `${JSON.stringify(report, null, 2)}\n`);
  for (const r of report) assert(r.flash > 0 && r.ram > 0, `${r.name}: flash ${r.flash}, RAM ${r.ram}`);
}

async function refusals() {
  const model = path.join(scratch, 'iris.lathe.json');
  const attempt = (args) =>
    run(cli, args).then(
      () => null,
      (e) => ({ code: e.code, stderr: String(e.stderr) }),
    );
  const bad = await attempt(['export', model, '--format', 'c', '--out', scratch, '--name', '9lives']);
  assert(
    bad && bad.code === 2 && /--name '9lives' is not a C name/.test(bad.stderr),
    `a bad name: ${JSON.stringify(bad)}`,
  );
  const fmt = await attempt(['export', model, '--format', 'tflite', '--out', scratch]);
  assert(
    fmt && fmt.code === 2 && /unknown format 'tflite' \(known: c\)/.test(fmt.stderr),
    `a bad format: ${JSON.stringify(fmt)}`,
  );
  const missing = await attempt([
    'export',
    path.join(scratch, 'nothere.lathe.json'),
    '--format',
    'c',
    '--out',
    scratch,
  ]);
  assert(
    missing && missing.code !== 0 && /nothere\.lathe\.json/.test(missing.stderr),
    `a missing model: ${JSON.stringify(missing)}`,
  );
}

let failed = 0;
for (const [title, what] of tests) {
  try {
    const detail = what === 'cross' ? await cross() : what === 'refusals' ? await refusals() : await example(what);
    console.log(`PASS ${title}${typeof detail === 'number' ? ` (${detail} rows)` : ''}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${title}: ${String(e.message).split('\n').slice(0, 3).join(' | ')}`);
  }
}
fs.rmSync(scratch, { recursive: true, force: true });
process.exit(failed ? 1 : 0);
