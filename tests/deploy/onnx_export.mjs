// The ONNX export against outside truth: every example is trained by the native CLI and
// exported with `lathe export --format onnx` natively and by the CLI's node twin (the same
// bytes); onnxruntime-node runs it on all the example's rows, whose outputs must equal
// `lathe predict`'s within 1e-5·max(1, |y|), with the same argmax on every row; and Debian's
// python3-onnx checker (onnx.checker.check_model, full_check) accepts every file.
// Runner contract of scripts/test.sh: "TESTS N", then a PASS or FAIL line per test.
// usage: node --no-experimental-fetch tests/deploy/onnx_export.mjs  (after scripts/build.sh)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { Failure, assert, cases, cli, experimentOf, root, rowsCsv, run, trainExample } from './examples.mjs';

const require = createRequire(import.meta.url);
const nodeCli = ['--no-experimental-fetch', path.join(root, 'build/wasm/lathe.js')];
const tests = [
  ...cases.map((name) => [
    `${name}: the ONNX file (the same bytes natively and in wasm) runs in onnxruntime as lathe predict predicts`,
    name,
  ]),
  ["python3-onnx's checker (full_check) accepts every export; IR 8, opset 17, the metadata", 'checker'],
  ['an ONNX export is refused with a clear message when the model file is damaged', 'damaged'],
];
console.log(`TESTS ${tests.length}`);

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'lathe-onnx-export-'));
const exported = []; // ONNX files for the checker
let ort = null;

/** Parses a plain CSV (no quoted fields) into its header and rows of cells. */
function readCsv(file) {
  const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
  return { header: lines[0].split(','), rows: lines.slice(1).map((l) => l.split(',')) };
}

const MISSING = /^\s*(|na|n\/a|nan|null|\?)\s*$/i;

/** The ONNX input (N, F) of a CSV's rows, as its metadata lathe.inputs describes them. */
function features(csv, inputs, F) {
  const x = new Float32Array(csv.rows.length * F);
  const column = inputs.map((inp) => {
    const c = csv.header.indexOf(inp.column);
    assert(c >= 0, `the rows have no column ${inp.column}`);
    return c;
  });
  csv.rows.forEach((cells, r) => {
    inputs.forEach((inp, j) => {
      const [first, width] = inp.features;
      const t = cells[column[j]] ?? '';
      if (MISSING.test(t)) for (let k = 0; k < width; k++) x[r * F + first + k] = NaN;
      else if (inp.type === 'categorical')
        for (let k = 0; k < width; k++) x[r * F + first + k] = inp.categories[k] === t ? 1 : 0;
      else if (inp.type === 'boolean') x[r * F + first] = /^(true|yes)$/i.test(t.trim()) ? 1 : 0;
      else x[r * F + first] = Math.fround(parseFloat(t)); // strtod, then float, as the core reads it
    });
  });
  return x;
}

async function example(name) {
  const x = JSON.parse(fs.readFileSync(experimentOf(name, scratch), 'utf8'));
  const model = await trainExample(name, scratch);
  const file = path.join(scratch, `${name}.onnx`);
  const twin = path.join(scratch, `${name}.node.onnx`);
  await run(cli, ['export', model, '--format', 'onnx', '--out', file, '--quiet']);
  await run('node', [...nodeCli, 'export', model, '--format', 'onnx', '--out', twin, '--quiet']);
  assert(fs.readFileSync(file).equals(fs.readFileSync(twin)), 'the native and wasm builds write different bytes');
  exported.push(file);
  const csvFile = await rowsCsv(name, x, scratch);
  const { stdout } = await run(cli, ['predict', model, csvFile, '--quiet']);
  const want = stdout
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split(','));
  ort = ort || require('onnxruntime-node');
  const session = await ort.InferenceSession.create(file);
  const inputs = JSON.parse(
    (
      await run('/usr/bin/python3', [
        '-c',
        'import onnx, sys; m = onnx.load(sys.argv[1]); print({p.key: p.value for p in m.metadata_props}["lathe.inputs"])',
        file,
      ])
    ).stdout,
  );
  const F = inputs.reduce((n, inp) => Math.max(n, inp.features[0] + inp.features[1]), 0);
  const csv = readCsv(csvFile);
  const input = features(csv, inputs, F);
  const out = await session.run({ input: new ort.Tensor('float32', input, [csv.rows.length, F]) });
  const name0 = session.outputNames[0];
  const got = out[name0].data;
  const C = got.length / csv.rows.length;
  const classify = name0 === 'probabilities';
  assert(want.length === csv.rows.length, `lathe predict gave ${want.length} rows for ${csv.rows.length}`);
  let worst = 0;
  for (let r = 0; r < want.length; r++) {
    const expected = classify ? want[r].slice(2).map(Number) : [Number(want[r][1])];
    assert(expected.length === C, `row ${r + 1}: ${C} outputs, lathe predict has ${expected.length}`);
    let best = 0,
      bestWant = 0;
    for (let c = 0; c < C; c++) {
      const y = got[r * C + c],
        e = expected[c];
      const tol = 1e-5 * Math.max(1, Math.abs(e));
      worst = Math.max(worst, Math.abs(y - e) / Math.max(1, Math.abs(e)));
      assert(Math.abs(y - e) <= tol, `row ${r + 1}, output ${c}: onnxruntime ${y}, lathe predict ${e}`);
      if (y > got[r * C + best]) best = c;
      if (e > expected[bestWant]) bestWant = c;
    }
    if (classify) assert(best === bestWant, `row ${r + 1}: onnxruntime picks class ${best}, lathe predict ${bestWant}`);
  }
  return `${want.length} rows, largest difference ${worst.toExponential(1)}·max(1, |y|)`;
}

async function checker() {
  assert(exported.length === cases.length, `only ${exported.length} of ${cases.length} exported`);
  const script = [
    'import json, sys, onnx',
    'for f in sys.argv[1:]:',
    '    m = onnx.load(f)',
    '    onnx.checker.check_model(m, full_check=True)',
    '    meta = {p.key: p.value for p in m.metadata_props}',
    '    assert m.ir_version == 8 and [(o.domain, o.version) for o in m.opset_import] == [("", 17)], f',
    '    assert len(meta["lathe.weights_sha256"]) == 64 and meta["lathe.task"] in ("classification", "regression"), f',
    '    json.loads(meta["lathe.inputs"]); json.loads(meta["lathe.features"])',
    'print(len(sys.argv) - 1)',
  ].join('\n');
  const { stdout } = await run('/usr/bin/python3', ['-c', script, ...exported]).catch((e) => {
    throw new Failure(
      String(e.stderr || e.message)
        .trim()
        .split('\n')
        .slice(-2)
        .join(' | '),
    );
  });
  assert(Number(stdout) === cases.length, `the checker read ${stdout.trim()} files`);
}

async function damaged() {
  const bad = path.join(scratch, 'damaged.lathe.json');
  const text = fs.readFileSync(path.join(scratch, 'iris.lathe.json'), 'utf8');
  // one hex digit of the weights hash changed: the loader checks it against the weights
  const damagedText = text.replace(/("weights_sha256":\s*")([0-9a-f])/, (_, key, c) => key + (c === '0' ? '1' : '0'));
  assert(damagedText !== text, 'the model file has no weights_sha256 to damage');
  fs.writeFileSync(bad, damagedText);
  const r = await run(cli, ['export', bad, '--format', 'onnx', '--out', path.join(scratch, 'x.onnx')]).then(
    () => null,
    (e) => ({ code: e.code, stderr: String(e.stderr) }),
  );
  assert(r && r.code === 2 && /weights_sha256/.test(r.stderr), `a damaged model: ${JSON.stringify(r)}`);
  assert(!fs.existsSync(path.join(scratch, 'x.onnx')), 'a file was written for a damaged model');
}

let failed = 0;
for (const [title, what] of tests) {
  try {
    const detail = what === 'checker' ? await checker() : what === 'damaged' ? await damaged() : await example(what);
    console.log(`PASS ${title}${detail ? ` (${detail})` : ''}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${title}: ${String(e.message).split('\n').slice(0, 3).join(' | ')}`);
  }
}
fs.rmSync(scratch, { recursive: true, force: true });
process.exit(failed ? 1 : 0);
