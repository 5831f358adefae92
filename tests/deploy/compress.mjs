// lathe quantize and lathe compress-report from the outside: int8 files are the same natively
// and in the node (wasm) build, and predict the same bits; the calibration is seeded; the
// --max-drop gate exits 1 and writes nothing; bad arguments are refused with what to do; the
// report's rows agree with lathe quantize's own measurements and refuse a variant of other data.
// Runner contract of scripts/test.sh: "TESTS N", then a PASS or FAIL line per test.
// usage: node --no-experimental-fetch tests/deploy/compress.mjs  (after scripts/build.sh)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Failure, assert, cli, experimentOf, root, rowsCsv, run, trainExample } from './examples.mjs';

const nodeCli = ['--no-experimental-fetch', process.env.LATHE_NODE_CLI || path.join(root, 'build/wasm/lathe.js')];
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'lathe-compress-'));
const parityCases = ['digits', 'digits_cnn', 'digits_pruned', 'breast_cancer_binary', 'diabetes'];

const tests = [
  ...parityCases.map((name) => [
    `${name}: native and node write the same int8 file (producer aside) and predict its bits`,
    () => parity(name),
  ]),
  ['the calibration is seeded: the same rows give the same file, other counts other scales', seeded],
  ['--percentile narrows the ranges of the inputs (scales never larger than min/max)', percentile],
  ['--max-drop: over the limit exit 1 and no file; under it the file', gate],
  ['bad arguments and inputs are refused with what to do, exit 2, nothing written', refusals],
  ["compress-report: one row per model, agreeing with lathe quantize's report", report],
  ['compress-report: --max-drop exits 1; a variant of other data is refused', reportRefusals],
];
console.log(`TESTS ${tests.length}`);

const models = {};
async function model(name) {
  if (!models[name]) models[name] = await trainExample(name, scratch);
  return models[name];
}
const failing = (cmd, args) =>
  run(cmd, args).then(
    () => null,
    (e) => ({ code: e.code, stderr: String(e.stderr) }),
  );
const withoutProducer = (file) =>
  fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => !l.includes('"producer"'))
    .join('\n');

async function parity(name) {
  const m = await model(name);
  const a = path.join(scratch, `${name}.int8.native.lathe.json`);
  const b = path.join(scratch, `${name}.int8.node.lathe.json`);
  await run(cli, ['quantize', m, '--out', a, '--quiet']);
  await run('node', [...nodeCli, 'quantize', m, '--out', b, '--quiet']);
  const fa = JSON.parse(fs.readFileSync(a, 'utf8'));
  assert(fa.version === 4 && fa.layers.some((l) => l.int8), `${a} has no int8 layer`);
  assert(withoutProducer(a) === withoutProducer(b), 'the native and node int8 files differ');
  const x = JSON.parse(fs.readFileSync(experimentOf(name, scratch), 'utf8'));
  const csv = await rowsCsv(name, x, scratch);
  const { stdout: pa } = await run(cli, ['predict', a, csv, '--quiet']);
  const { stdout: pb } = await run('node', [...nodeCli, 'predict', a, csv, '--quiet']);
  assert(pa === pb, 'native and node predict the int8 model differently');
  return pa.trim().split('\n').length - 1;
}

async function seeded() {
  const m = await model('digits');
  const out = (n) => path.join(scratch, `digits.calib${n}.lathe.json`);
  await run(cli, ['quantize', m, '--calib', '64', '--out', out('64a'), '--quiet']);
  await run(cli, ['quantize', m, '--calib', '64', '--out', out('64b'), '--quiet']);
  await run(cli, ['quantize', m, '--calib', '8', '--out', out('8'), '--quiet']);
  assert(fs.readFileSync(out('64a'), 'utf8') === fs.readFileSync(out('64b'), 'utf8'), 'two runs of --calib 64 differ');
  const scales = (f) =>
    JSON.parse(fs.readFileSync(f, 'utf8'))
      .layers.filter((l) => l.int8)
      .map((l) => l.int8.input_scale);
  assert(
    JSON.stringify(scales(out('64a'))) !== JSON.stringify(scales(out('8'))),
    '--calib 8 and 64 gave the same scales',
  );
}

async function percentile() {
  const m = await model('digits_cnn');
  const { stdout: full } = await run(cli, [
    'quantize',
    m,
    '--out',
    path.join(scratch, 'p100.lathe.json'),
    '--json',
    '--quiet',
  ]);
  const { stdout: cut } = await run(cli, [
    'quantize',
    m,
    '--percentile',
    '99',
    '--out',
    path.join(scratch, 'p99.lathe.json'),
    '--json',
    '--quiet',
  ]);
  const a = JSON.parse(full).layers,
    b = JSON.parse(cut).layers;
  assert(a.length === b.length && a.length > 0, 'the reports list different layers');
  assert(
    a.every((l, i) => b[i].input_scale <= l.input_scale),
    'a percentile range is wider than min/max',
  );
  assert(
    a.some((l, i) => b[i].input_scale < l.input_scale),
    '--percentile 99 changed no range',
  );
}

async function gate() {
  const m = await model('diabetes');
  const out = path.join(scratch, 'diabetes.gate.lathe.json');
  const { stdout } = await run(cli, [
    'quantize',
    m,
    '--out',
    path.join(scratch, 'diabetes.int8.lathe.json'),
    '--json',
    '--quiet',
  ]);
  const drop = JSON.parse(stdout).drop_points;
  assert(drop > 0, `diabetes's int8 R^2 did not drop (${drop}); the gate case needs a drop`);
  const bad = await failing(cli, ['quantize', m, '--out', out, '--max-drop', String(drop / 2), '--quiet']);
  assert(
    bad && bad.code === 1 && /more than --max-drop/.test(bad.stderr) && !fs.existsSync(out),
    `over the limit: ${JSON.stringify(bad)}`,
  );
  await run(cli, ['quantize', m, '--out', out, '--max-drop', String(drop * 2 + 0.01), '--quiet']);
  assert(fs.existsSync(out), 'under the limit: no file');
}

async function refusals() {
  const m = await model('iris');
  const out = path.join(scratch, 'iris.refused.lathe.json');
  const cases = [
    [['--calib', '0'], /--calib 0: must be 1 to 4096 rows/],
    [['--calib', '5000'], /--calib 5000: must be 1 to 4096 rows/],
    [['--calib', '200'], /200 calibration rows asked for, the training split has 120/],
    [['--calib', 'many'], /--calib 'many': expected a whole number/],
    [['--percentile', '40'], /--percentile 40: must be in \[50, 100\]/],
    [['--max-drop', '-1'], /--max-drop -1: must be 0 or more points/],
    [['--calibrate', '10'], /unexpected argument '--calibrate'/],
  ];
  for (const [args, want] of cases) {
    const r = await failing(cli, ['quantize', m, '--out', out, ...args]);
    assert(r && r.code === 2 && want.test(r.stderr), `${args.join(' ')}: ${JSON.stringify(r)}`);
    assert(!fs.existsSync(out), `${args.join(' ')} wrote ${out}`);
  }
  const noOut = await failing(cli, ['quantize', m]);
  assert(noOut && noOut.code === 2 && /--out FILE is missing/.test(noOut.stderr), `no --out: ${JSON.stringify(noOut)}`);
  const q = path.join(scratch, 'iris.int8.lathe.json');
  await run(cli, ['quantize', m, '--out', q, '--quiet']);
  const again = await failing(cli, ['quantize', q, '--out', out]);
  assert(again && again.code === 2 && /int8 already/.test(again.stderr), `an int8 model: ${JSON.stringify(again)}`);
  const typo = await failing(cli, ['quantize', path.join(scratch, 'iirs.lathe.json'), '--out', out]);
  assert(typo && typo.code !== 0 && /iirs\.lathe\.json/.test(typo.stderr), `a missing file: ${JSON.stringify(typo)}`);
}

async function report() {
  const m = await model('digits');
  const pruned = await model('digits_pruned');
  const q = path.join(scratch, 'digits.report.int8.lathe.json');
  const { stdout: qs } = await run(cli, ['quantize', m, '--out', q, '--json', '--quiet']);
  const qr = JSON.parse(qs);
  const { stdout } = await run(cli, ['compress-report', m, q, '--json']);
  const rows = JSON.parse(stdout);
  assert(rows.length === 2 && rows[1].int8 && !rows[0].int8, `rows: ${stdout}`);
  assert(
    Math.abs(rows[0].test - qr.float.test) < 1e-7 && Math.abs(rows[1].test - qr.int8.test) < 1e-7,
    `the report's accuracies ${rows[0].test}, ${rows[1].test}; quantize's ${qr.float.test}, ${qr.int8.test}`,
  );
  assert(rows[1].model_bytes === fs.statSync(q).size && rows[0].model_bytes === fs.statSync(m).size, 'model bytes');
  assert(
    rows[1].c_flash_data_bytes < rows[0].c_flash_data_bytes / 2,
    `int8 C data ${rows[1].c_flash_data_bytes}, float ${rows[0].c_flash_data_bytes}`,
  );
  assert(
    rows.every((r) => r.ms_1 > 0 && r.ms_256 > 0 && r.rows_256 > 0),
    'timings',
  );
  // a pruned model's C export stores its rows compressed: the report sees it smaller
  const { stdout: ps } = await run(cli, ['compress-report', pruned, '--json']);
  // a distilled model is measured without its teacher
  const { stdout: ds } = await run(cli, ['compress-report', await model('digits_distilled'), '--json']);
  assert(JSON.parse(ds)[0].test > 0.9, `the distilled digits model: ${ds}`);
  const p = JSON.parse(ps)[0];
  assert(
    p.c_flash_data_bytes < rows[0].c_flash_data_bytes,
    `pruned C data ${p.c_flash_data_bytes}, float ${rows[0].c_flash_data_bytes}`,
  );
  const { stdout: text } = await run(cli, ['compress-report', m, q]);
  assert(/variant/.test(text) && /\(int8\)/.test(text), `the table: ${text}`);
}

async function reportRefusals() {
  const m = await model('diabetes');
  const q = path.join(scratch, 'diabetes.int8.lathe.json');
  if (!fs.existsSync(q)) await run(cli, ['quantize', m, '--out', q, '--quiet']);
  const over = await failing(cli, ['compress-report', m, q, '--max-drop', '0']);
  assert(over && over.code === 1 && /more than --max-drop/.test(over.stderr), `--max-drop 0: ${JSON.stringify(over)}`);
  await run(cli, ['compress-report', m, q, '--max-drop', '50']);
  const other = await failing(cli, ['compress-report', m, await model('iris')]);
  assert(
    other && other.code === 2 && /not measured on .*test split/.test(other.stderr),
    `other data: ${JSON.stringify(other)}`,
  );
}

let failed = 0;
for (const [title, fn] of tests) {
  try {
    const detail = await fn();
    console.log(`PASS ${title}${typeof detail === 'number' ? ` (${detail} rows)` : ''}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${title}: ${String(e.message).split('\n').slice(0, 3).join(' | ')}`);
    if (!(e instanceof Failure)) console.log(String(e.stack).split('\n').slice(0, 4).join(' | '));
  }
}
fs.rmSync(scratch, { recursive: true, force: true });
process.exit(failed ? 1 : 0);
