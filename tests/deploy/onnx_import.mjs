// ONNX import against outside truth:
// - ONNX's own conformance cases (Debian's libonnx-testdata, node/ and pytorch-converted/)
//   whose operators Lathe imports run through the importer (tests/deploy/onnx_conformance.c,
//   natively and as the node build: the same output bits) within ONNX's tolerance; each case
//   is in scope (it must pass) or out of scope (it must be refused, for the reason listed) as
//   tests/deploy/onnx_conformance_cases.tsv records;
// - a PyTorch MLP (the weights of the PyTorch reference vectors mlp_train_steps.json, laid out
//   as torch.onnx.export writes nn.Sequential(Linear, ReLU, Linear)) imports, predicts
//   PyTorch's softmax(logits), and fine-tunes with `lathe train --init` to PyTorch's weights
//   after its 3 Adam steps; PyTorch's own exports in libonnx-testdata import too;
// - every example exported to ONNX imports back to the same model file (the metrics aside),
//   and an imported model exported again runs in onnxruntime-node as `lathe predict` predicts;
// - bad files are refused with the reason and exit status 2.
// Runner contract of scripts/test.sh: "TESTS N", then a PASS or FAIL line per test.
// usage: node --no-experimental-fetch tests/deploy/onnx_import.mjs  (after scripts/build.sh)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { Failure, assert, cases, cli, root, run, trainExample } from './examples.mjs';

const require = createRequire(import.meta.url);
const DATA = '/usr/share/libonnx-testdata/data';
const nodeCli = ['--no-experimental-fetch', path.join(root, 'build/wasm/lathe.js')];
const harness = path.join(root, 'build/native/onnx_conformance');
const harnessNode = ['--no-experimental-fetch', path.join(root, 'build/wasm/onnx_conformance.js')];
const vectors = path.join(root, '../shared/reference/vectors');
const scopeFile = path.join(root, 'tests/deploy/onnx_conformance_cases.tsv');

/** The recorded cases: name → 'pass' | 'out of scope'. */
const scope = new Map(
  fs
    .readFileSync(scopeFile, 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split('\t')),
);

const tests = [
  ...[...scope].map(([name, want]) => [
    `conformance ${name}: ${want === 'pass' ? 'passes within ONNX tolerance, the same bits in wasm' : 'is refused'}`,
    'case',
    name,
  ]),
  ['conformance: every case of the imported operators is recorded in onnx_conformance_cases.tsv', 'listed'],
  [
    "a PyTorch MLP imports, predicts PyTorch's softmax(logits) and fine-tunes to PyTorch's weights after 3 Adam steps",
    'mlp',
  ],
  [
    "PyTorch's exports in libonnx-testdata (Linear, Linear without bias) import and predict what PyTorch computed",
    'pytorch',
  ],
  [
    "a small CNN in torch.onnx.export's layout imports, predicts the digits as onnxruntime runs the file, and fine-tunes on them from chance to over 90% test accuracy",
    'cnn',
  ],
  [
    'every example: ONNX export then import gives the same model file (metrics aside), natively and in wasm',
    'roundtrip',
  ],
  ['an imported model exported again runs in onnxruntime-node as lathe predict predicts', 'reexport'],
  ['bad files are refused with their reason and exit status 2', 'refusals'],
];
console.log(`TESTS ${tests.length}`);

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'lathe-onnx-import-'));
let outcomes = null; // name → {native: [outcome, detail], node: [...]} of the cases of Lathe's operators

/** Runs the harness (natively and in node) over every case folder. */
async function conformance() {
  if (outcomes) return outcomes;
  const dirs = ['node', 'pytorch-converted'].flatMap((d) =>
    fs
      .readdirSync(path.join(DATA, d))
      .filter((n) => n.startsWith('test_'))
      .sort()
      .map((n) => path.join(DATA, d, n)),
  );
  const parse = (stdout) =>
    new Map(
      stdout
        .trim()
        .split('\n')
        .map((l) => l.split('\t'))
        .filter((f) => f[1] !== 'not ours')
        .map(([name, outcome, detail]) => [name, [outcome, detail]]),
    );
  const native = parse((await run(harness, dirs)).stdout);
  const wasm = parse((await run('node', [...harnessNode, ...dirs])).stdout);
  outcomes = { native, wasm };
  return outcomes;
}

async function oneCase(name) {
  const { native, wasm } = await conformance();
  const got = native.get(name);
  assert(got, `${name} is not a case of the imported operators any more`);
  const want = scope.get(name);
  assert(got[0] === want, `${name}: ${got[0]} (${got[1]}), recorded as ${want}`);
  assert(wasm.get(name) && wasm.get(name)[0] === got[0], `${name}: the node build says ${wasm.get(name)?.join(': ')}`);
  if (want === 'pass') assert(wasm.get(name)[1] === got[1], `${name}: the node build's output bits differ`);
  else assert(/^(node |graph input )/.test(got[1]), `${name}: the refusal names no node or input: ${got[1]}`);
}

async function listed() {
  const { native } = await conformance();
  const missing = [...native.keys()].filter((n) => !scope.has(n));
  assert(missing.length === 0, `cases not recorded: ${missing.join(', ')}`);
  const counts = { pass: 0, 'out of scope': 0 };
  for (const [outcome] of native.values()) counts[outcome] = (counts[outcome] || 0) + 1;
  console.log(
    `# ${native.size} cases of the imported operators: ${counts.pass} pass, ${counts['out of scope']} out of scope`,
  );
}

/** The little-endian float32 values of a model file's base64 tensor. */
function tensor(b64) {
  const b = Buffer.from(b64, 'base64');
  return Array.from({ length: b.length / 4 }, (_, i) => b.readFloatLE(4 * i));
}

const close = (a, b, rtol, atol) => Math.abs(a - b) <= atol + rtol * Math.abs(b);

function softmax(row) {
  const m = Math.max(...row);
  const e = row.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/** `lathe predict`'s probabilities (rows of floats) for a model on a CSV. */
async function predict(model, csv, exe = [cli]) {
  const [cmd, ...pre] = exe;
  const { stdout } = await run(cmd, [...pre, 'predict', model, csv, '--quiet']);
  return stdout
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split(',').slice(2).map(Number));
}

/** Writes a CSV of x:(rows, F) (columns x1…) and optional labels. */
function writeCsv(file, x, F, labels) {
  const head = [...Array.from({ length: F }, (_, k) => `x${k + 1}`), ...(labels ? ['label'] : [])];
  const lines = [head.join(',')];
  for (let r = 0; r < x.length / F; r++) {
    const cells = Array.from(x.slice(r * F, (r + 1) * F), (v) => String(v));
    if (labels) cells.push(String(labels[r]));
    lines.push(cells.join(','));
  }
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
}

async function mlp() {
  const ref = JSON.parse(fs.readFileSync(path.join(vectors, 'mlp_train_steps.json'), 'utf8'));
  const inp = ref.inputs;
  const onnxFile = path.join(scratch, 'torch_mlp.onnx');
  // torch.onnx.export's layout for nn.Sequential(Linear(4, 6), ReLU(), Linear(6, 3)) (tests/deploy/torch_mlp.py)
  await run('/usr/bin/python3', [
    path.join(root, 'tests/deploy/torch_mlp.py'),
    path.join(vectors, 'mlp_train_steps.json'),
    onnxFile,
  ]);
  const model = path.join(scratch, 'torch_mlp.lathe.json');
  const { stderr } = await run(cli, ['import', onnxFile, '--out', model]);
  assert(/read as logits/.test(stderr), `the import does not say the outputs are logits: ${stderr}`);
  const csv = path.join(scratch, 'steps.csv');
  writeCsv(csv, inp.x.data, 4, inp.targets.data);
  const logits = ref.cases[0].history[0].logits.data; // PyTorch's, before the first step
  const got = await predict(model, csv);
  got.forEach((row, r) => {
    const want = softmax(logits.slice(3 * r, 3 * r + 3));
    row.forEach((v, c) => assert(close(v, want[c], 1e-5, 1e-6), `row ${r} class ${c}: ${v}, PyTorch ${want[c]}`));
  });
  // fine-tuning: PyTorch's 3 full-batch Adam steps (lr 0.01) from the same weights
  const adam = ref.cases.find((c) => c.optimizer === 'adam_lr0.01');
  assert(adam, 'mlp_train_steps.json has no adam_lr0.01 case');
  const exp = {
    format: 'lathe-experiment',
    version: 1,
    name: 'fine-tune an imported PyTorch MLP',
    seed: 1,
    data: { file: 'steps.csv', target: 'label', task: 'classification' },
    prepare: [{ op: 'split', test: 0, validation: 0 }],
    model: { layers: [{ type: 'dense', units: 6 }, { type: 'relu' }, { type: 'dense' }] },
    train: { optimizer: 'adam', learning_rate: 0.01, batch_size: 8, epochs: 3, shuffle: false },
  };
  const expFile = path.join(scratch, 'tune.experiment.json');
  fs.writeFileSync(expFile, JSON.stringify(exp));
  const tuned = path.join(scratch, 'tuned.lathe.json');
  await run(cli, ['train', expFile, '--init', model, '--out', tuned, '--quiet']);
  const layers = JSON.parse(fs.readFileSync(tuned, 'utf8')).layers;
  const after = adam.params_after_3_steps;
  const pairs = [
    [layers[0].weights, after.W1 ?? after['0.weight']],
    [layers[0].bias, after.b1 ?? after['0.bias']],
    [layers[2].weights, after.W2 ?? after['2.weight']],
    [layers[2].bias, after.b2 ?? after['2.bias']],
  ];
  pairs.forEach(([b64, want], i) => {
    assert(want, `params_after_3_steps lacks tensor ${i}`);
    const w = tensor(b64);
    const ref = want.data ?? want;
    assert(w.length === ref.length, `tensor ${i}: ${w.length} values, PyTorch ${ref.length}`);
    w.forEach((v, k) => assert(close(v, ref[k], 1e-4, 1e-5), `tensor ${i}[${k}]: ${v}, PyTorch ${ref[k]}`));
  });
}

/** A .pb TensorProto's float values, through python3-onnx. */
async function pbFloats(file) {
  const { stdout } = await run('/usr/bin/python3', [
    '-c',
    'import sys, json, onnx; from onnx import numpy_helper; t = onnx.TensorProto(); t.ParseFromString(open(sys.argv[1], "rb").read()); a = numpy_helper.to_array(t); print(json.dumps({"shape": list(a.shape), "data": a.astype("float64").ravel().tolist()}))',
    file,
  ]);
  return JSON.parse(stdout);
}

async function pytorch() {
  for (const name of ['test_Linear', 'test_Linear_no_bias']) {
    const dir = path.join(DATA, 'pytorch-converted', name);
    const model = path.join(scratch, `${name}.lathe.json`);
    await run(cli, ['import', path.join(dir, 'model.onnx'), '--out', model, '--quiet']);
    const x = await pbFloats(path.join(dir, 'test_data_set_0/input_0.pb'));
    const y = await pbFloats(path.join(dir, 'test_data_set_0/output_0.pb'));
    const F = x.shape[1],
      C = y.shape[1];
    const csv = path.join(scratch, `${name}.csv`);
    writeCsv(csv, x.data.map(Math.fround), F);
    const got = await predict(model, csv);
    assert(got.length === x.shape[0], `${name}: ${got.length} rows predicted of ${x.shape[0]}`);
    got.forEach((row, r) => {
      const want = softmax(y.data.slice(C * r, C * r + C));
      row.forEach((v, c) =>
        assert(close(v, want[c], 1e-4, 1e-6), `${name} row ${r} class ${c}: ${v}, PyTorch ${want[c]}`),
      );
    });
  }
}

/** The rows of a plain CSV without its header, as numbers. */
function csvRows(file) {
  return fs
    .readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split(',').map(Number));
}

async function cnn() {
  const ort = require('onnxruntime-node');
  const onnxFile = path.join(scratch, 'torch_cnn.onnx');
  await run('/usr/bin/python3', [path.join(root, 'tests/deploy/torch_cnn.py'), onnxFile]);
  const model = path.join(scratch, 'torch_cnn.lathe.json');
  await run(cli, ['import', onnxFile, '--out', model, '--target', 'digit', '--quiet']);
  const digits = path.join(root, 'data/builtin/digits.csv');
  const rows = csvRows(digits); // px0 … px63, digit
  const got = await predict(model, digits);
  const session = await ort.InferenceSession.create(onnxFile);
  const x = Float32Array.from(rows.flatMap((r) => r.slice(0, 64)));
  const logits = (await session.run({ input: new ort.Tensor('float32', x, [rows.length, 1, 8, 8]) })).output.data;
  got.forEach((row, r) => {
    const want = softmax(Array.from(logits.slice(10 * r, 10 * r + 10)));
    row.forEach((v, c) =>
      assert(
        Math.abs(v - want[c]) <= 1e-5 * Math.max(1, Math.abs(want[c])),
        `row ${r} class ${c}: ${v}, onnxruntime ${want[c]}`,
      ),
    );
  });
  const before = JSON.parse((await run(cli, ['eval', model, digits, '--json'])).stdout).accuracy;
  const exp = {
    format: 'lathe-experiment',
    version: 1,
    name: 'fine-tune an imported CNN on the digits',
    seed: 5,
    data: { builtin: 'digits', target: 'digit', task: 'classification', image: [1, 8, 8] },
    prepare: [{ op: 'split', test: 0.2, validation: 0.1, stratify: true }],
    model: JSON.parse(fs.readFileSync(model, 'utf8')).experiment.model,
    train: { optimizer: 'adam', learning_rate: 0.01, batch_size: 32, epochs: 5 },
  };
  const expFile = path.join(scratch, 'cnn_tune.experiment.json');
  fs.writeFileSync(expFile, JSON.stringify(exp));
  const out = JSON.parse((await run(cli, ['train', expFile, '--init', model, '--json', '--quiet'])).stdout);
  const after = out.metrics.test.accuracy;
  assert(before < 0.2, `the imported (untrained) CNN already has accuracy ${before}`);
  assert(after > 0.9, `fine-tuning reached test accuracy ${after} (from ${before})`);
}

const withoutMetrics = (file) => {
  const m = JSON.parse(fs.readFileSync(file, 'utf8'));
  delete m.metrics;
  delete m.producer;
  return JSON.stringify(m);
};

async function roundtrip() {
  for (const name of cases) {
    const model = await trainExample(name, scratch);
    const onnxFile = path.join(scratch, `${name}.onnx`);
    const back = path.join(scratch, `${name}.back.lathe.json`);
    const backNode = path.join(scratch, `${name}.back.node.lathe.json`);
    await run(cli, ['export', model, '--format', 'onnx', '--out', onnxFile, '--quiet']);
    await run(cli, ['import', onnxFile, '--out', back, '--quiet']);
    await run('node', [...nodeCli, 'import', onnxFile, '--out', backNode, '--quiet']);
    assert(
      withoutMetrics(back) === withoutMetrics(model),
      `${name}: the imported model file differs from the trained one`,
    );
    assert(withoutMetrics(backNode) === withoutMetrics(back), `${name}: the node build imports a different file`);
  }
}

async function reexport() {
  const ort = require('onnxruntime-node');
  const dir = path.join(DATA, 'pytorch-converted', 'test_Linear');
  const model = path.join(scratch, 'linear.lathe.json');
  const again = path.join(scratch, 'linear.again.onnx');
  await run(cli, ['import', path.join(dir, 'model.onnx'), '--out', model, '--quiet']);
  await run(cli, ['export', model, '--format', 'onnx', '--out', again, '--quiet']);
  const x = await pbFloats(path.join(dir, 'test_data_set_0/input_0.pb'));
  const csv = path.join(scratch, 'linear.csv');
  writeCsv(csv, x.data.map(Math.fround), x.shape[1]);
  const want = await predict(model, csv);
  const session = await ort.InferenceSession.create(again);
  const input = new ort.Tensor('float32', Float32Array.from(x.data), x.shape);
  const out = (await session.run({ input })).probabilities.data;
  const C = want[0].length;
  want.forEach((row, r) =>
    row.forEach((v, c) => {
      const o = out[r * C + c];
      assert(Math.abs(o - v) <= 1e-5 * Math.max(1, Math.abs(v)), `row ${r} class ${c}: onnxruntime ${o}, lathe ${v}`);
    }),
  );
}

async function refusals() {
  const expectRefusal = async (args, pattern) => {
    try {
      await run(cli, args);
    } catch (e) {
      assert(e.code === 2, `${args.join(' ')}: exit status ${e.code}, expected 2`);
      assert(pattern.test(e.stderr), `${args.join(' ')}: ${e.stderr.trim()} does not match ${pattern}`);
      return;
    }
    throw new Failure(`${args.join(' ')} was accepted`);
  };
  const out = path.join(scratch, 'refused.lathe.json');
  await expectRefusal(
    ['import', path.join(DATA, 'pytorch-converted/test_PixelShuffle/model.onnx'), '--out', out],
    /node #1 \(Reshape\): shape \[1, 1, 3, 3, 4, 4\]/,
  );
  await expectRefusal(
    ['import', path.join(DATA, 'pytorch-converted/test_Conv2d_dilated/model.onnx'), '--out', out],
    /\(Conv\): dilations \[2, 2\]; Lathe's conv2d has none/,
  );
  await expectRefusal(
    ['import', path.join(DATA, 'node/test_elu/model.onnx'), '--out', out],
    /\(Elu\): Lathe has no such layer/,
  );
  await expectRefusal(
    ['import', path.join(DATA, 'pytorch-converted/test_Softmax/model.onnx'), '--out', out],
    /ends with no layer; a Lathe model ends with a dense layer/,
  );
  const bytes = fs.readFileSync(path.join(DATA, 'pytorch-converted/test_Linear/model.onnx'));
  const cut = path.join(scratch, 'cut.onnx');
  fs.writeFileSync(cut, bytes.subarray(0, bytes.length - 7));
  await expectRefusal(['import', cut, '--out', out], /not an ONNX model|holds \d+ values/);
  await expectRefusal(['import', path.join(root, 'examples/iris.experiment.json'), '--out', out], /not an ONNX model/);
  await expectRefusal(
    ['import', path.join(DATA, 'pytorch-converted/test_Linear/model.onnx'), '--out', out, '--classes', 'a,b'],
    /--classes: 2 names for a model of 8 classes/,
  );
  assert(!fs.existsSync(out), 'a refused import wrote its output');
}

const runners = { case: oneCase, listed, mlp, pytorch, cnn, roundtrip, reexport, refusals };
let failed = 0;
for (const [name, kind, arg] of tests) {
  try {
    await runners[kind](arg);
    console.log(`PASS ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e instanceof Failure ? e.message : e.stack || e}`);
  }
}
fs.rmSync(scratch, { recursive: true, force: true });
process.exit(failed ? 1 : 0);
