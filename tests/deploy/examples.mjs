// What the deploy suites share: every example trained by the native CLI into a model file,
// and the rows to predict (the builtin CSV, an IDX set's test images as CSV, a synthetic set
// as the engine generates it from the experiment).
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const cli = process.env.LATHE_CLI || path.join(root, 'build/native/lathe');
const exec = promisify(execFile);
/** Runs a command in the checkout; resolves {stdout, stderr}. */
export const run = (cmd, args, opts = {}) => exec(cmd, args, { cwd: root, maxBuffer: 1 << 30, ...opts });
const require = createRequire(import.meta.url);

/** The examples' names (examples/NAME.experiment.json), sorted. */
export const examples = fs
  .readdirSync(path.join(root, 'examples'))
  .filter((f) => f.endsWith('.experiment.json'))
  .map((f) => f.replace(/\.experiment\.json$/, ''))
  .sort();

export class Failure extends Error {}
export function assert(cond, message) {
  if (!cond) throw new Failure(message);
}

const csvField = (t) => (/[",\r\n]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t);

/** The cases: every example, and "mixed", written by the test (mixedCase): missing cells
 * imputed, a categorical and a boolean column, a category unseen in training among its rows. */
export const cases = [...examples, 'mixed'];

/** A seeded generator of numbers in [0, 1) (a 32-bit LCG; the cases must be the same each run). */
function lcg(seed) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Writes the mixed case into scratch: mixed.csv (its data), mixed.rows.csv (the data and
 * five rows of an unseen category) and mixed.experiment.json. */
function mixedCase(scratch) {
  const rnd = lcg(7);
  const colors = ['red', 'green', 'blue'];
  const rows = ['x1,x2,color,flag,label'];
  for (let i = 0; i < 240; i++) {
    const x1 = rnd() * 10,
      x2 = rnd() * 4 - 2;
    const color = colors[Math.floor(rnd() * 3)];
    const flag = rnd() < 0.5;
    const label = x1 > 5 !== (color === 'red') ? 'yes' : 'no';
    const miss = rnd();
    rows.push(
      [
        miss < 0.08 ? 'NA' : x1.toFixed(3),
        x2.toFixed(3),
        miss > 0.94 ? '' : color,
        flag ? 'true' : 'false',
        label,
      ].join(','),
    );
  }
  fs.writeFileSync(path.join(scratch, 'mixed.csv'), `${rows.join('\n')}\n`);
  const extra = [
    '2.5,0.5,purple,true,no',
    '7.5,-1.0,purple,false,yes',
    'NA,1.0,purple,true,no',
    '4.0,0.0,,false,no',
    '6.0,1.5,red,true,no',
  ];
  fs.writeFileSync(path.join(scratch, 'mixed.rows.csv'), `${[...rows, ...extra].join('\n')}\n`);
  const x = {
    format: 'lathe-experiment',
    version: 1,
    name: 'mixed columns: missing cells, a category, a boolean',
    seed: 3,
    data: { file: 'mixed.csv', target: 'label', task: 'classification' },
    prepare: [{ op: 'split', test: 0.2, stratify: true }, { op: 'impute', strategy: 'median' }, { op: 'standardize' }],
    model: { template: 'mlp', hidden: [8], activation: 'tanh' },
    train: { optimizer: 'adam', learning_rate: 0.01, batch_size: 16, epochs: 30 },
  };
  const file = path.join(scratch, 'mixed.experiment.json');
  fs.writeFileSync(file, JSON.stringify(x, null, 2));
  return file;
}

/** The experiment file of a case (the mixed one written into scratch first). */
export function experimentOf(name, scratch) {
  return name === 'mixed' ? mixedCase(scratch) : path.join(root, `examples/${name}.experiment.json`);
}

/** Trains a case with the native CLI into scratch/NAME.lathe.json; its path. */
export async function trainExample(name, scratch) {
  const model = path.join(scratch, `${name}.lathe.json`);
  await run(cli, ['run', experimentOf(name, scratch), '--out', model, '--quiet']);
  return model;
}

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
export async function rowsCsv(name, x, scratch) {
  if (name === 'mixed') return path.join(scratch, 'mixed.rows.csv');
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
