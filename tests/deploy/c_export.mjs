// The C source export against `lathe predict`: every example is trained by the native CLI,
// exported with `lathe export --format c`, compiled with gcc and clang (C99, -Wall -Wextra
// -Wpedantic -Werror -ffp-contract=off) beside tests/deploy/c_harness.c, and run on its rows
// (the builtin CSV, the synthetic set as the engine makes it, an IDX set's test images). The
// harness prints lathe predict's CSV, so equal text is equal bits (%.9g is one text per float).
// It must also compile with emcc and, for a Cortex-M4, with arm-none-eabi-gcc; the flash and
// RAM the M4 build takes are written to build/test-logs/c-export.json for docs/deploy.md.
// Runner contract of scripts/test.sh: "TESTS N", then a PASS or FAIL line per test.
// usage: node --no-experimental-fetch tests/deploy/c_export.mjs  (after scripts/build.sh)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Failure, assert, cases, cli, experimentOf, root, rowsCsv, run, trainExample } from './examples.mjs';

const logs = path.join(root, 'build/test-logs');
const WARN = ['-std=c99', '-Wall', '-Wextra', '-Wpedantic', '-Werror', '-ffp-contract=off'];
// int8 models (lathe quantize) of these cases: dense, conv2d, pruned (int8 in compressed rows),
// a regression, a binary head and categorical inputs
const int8Cases = ['digits', 'digits_cnn', 'digits_pruned', 'iris', 'diabetes', 'breast_cancer_binary', 'mixed'];
const tests = [
  ...cases.map((name) => [`${name}: the exported C (gcc, clang) predicts lathe predict's bits on its rows`, name]),
  ...int8Cases.map((name) => [
    `${name} int8: the exported C (gcc, clang) predicts lathe predict's bits on the int8 model`,
    `${name}.int8`,
  ]),
  ['every export compiles with emcc and for a Cortex-M4 (arm-none-eabi-gcc), warning-free', 'cross'],
  ['a bad name and an unknown format are refused with what to do', 'refusals'],
];
console.log(`TESTS ${tests.length}`);

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'lathe-c-export-'));

const exported = []; // [{name, dir}] for the cross builds

async function example(id) {
  const int8 = id.endsWith('.int8');
  const name = int8 ? id.slice(0, -5) : id;
  const x = JSON.parse(fs.readFileSync(experimentOf(name, scratch), 'utf8'));
  let model = path.join(scratch, `${name}.lathe.json`);
  if (!fs.existsSync(model)) model = await trainExample(name, scratch);
  if (int8) {
    const q = path.join(scratch, `${name}.int8.lathe.json`);
    await run(cli, ['quantize', model, '--out', q, '--quiet']);
    assert(JSON.parse(fs.readFileSync(q, 'utf8')).version === 4, `${q} is not a version 4 (int8) model`);
    model = q;
  }
  const dir = path.join(scratch, `${name}${int8 ? '_int8' : ''}_c`);
  await run(cli, ['export', model, '--format', 'c', '--out', dir, '--name', name, '--quiet']);
  exported.push({ name, dir, file: model, variant: int8 ? 'int8' : 'float' });
  const csv = await rowsCsv(name, x, scratch);
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
  const all = cases.length + int8Cases.length;
  assert(exported.length === all, `only ${exported.length} of ${all} models exported`);
  const report = [];
  for (const { name, dir, file, variant } of exported) {
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
    const modelFile = fs.statSync(file).size;
    report.push({ name, variant, flash: text + data, ram: data + bss, model_file: modelFile });
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
    fmt && fmt.code === 2 && /unknown format 'tflite' \(known: c, onnx, web\)/.test(fmt.stderr),
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
