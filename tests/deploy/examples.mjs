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

/** Trains examples/NAME with the native CLI into scratch/NAME.lathe.json; its path. */
export async function trainExample(name, scratch) {
  const model = path.join(scratch, `${name}.lathe.json`);
  await run(cli, ['run', `examples/${name}.experiment.json`, '--out', model, '--quiet']);
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
