/* Reads what scripts/bench.sh measured (OUT/rounds/*.json, OUT/init/*.json, OUT/epoch/*.json,
 * OUT/sizes.json), takes the median over rounds of each engine's per-round median, and prints
 * the comparison table: case, Lathe, peer, ratio, target, met? It writes the same table, the
 * spread of every figure over the rounds, the page's download size and the notes to
 * OUT/report.md, and the medians to OUT/summary.json.
 * usage: node tests/bench/report.js OUT
 * A ratio is always "how many times faster Lathe is": Lathe/peer for rates (GFLOPS,
 * samples/s), peer/Lathe for times (ms, s). */
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { median } = require('./measure.js');

const out = process.argv[2] || 'build/bench';
const readJsonDir = (dir) =>
  fs.existsSync(dir)
    ? fs
        .readdirSync(dir)
        .filter((f) => f.endsWith('.json'))
        .sort()
        .map((f) => ({ file: f, data: JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) }))
    : [];

/* figures[engine][case] = list of per-round medians */
const figures = {};
const meta = {};
/* file names give the engine: rounds/r<N>-<engine>.json, init/<engine>-<N>.json,
 * epoch/<engine>.json */
for (const { file, data } of readJsonDir(path.join(out, 'rounds'))) {
  const e = file.replace(/^r\d+-/, '').replace(/\.json$/, '');
  meta[e] = meta[e] || data;
  for (const c of data.cases || []) {
    ((figures[e] = figures[e] || {})[c.id] = figures[e][c.id] || []).push(c.median);
  }
}
const inits = {};
for (const { file, data } of readJsonDir(path.join(out, 'init'))) {
  const e = file.replace(/-\d+\.json$/, '');
  (inits[e] = inits[e] || []).push(data.init_ms);
}
const epochs = {};
const epochSkips = {};
for (const { file, data } of readJsonDir(path.join(out, 'epoch'))) {
  const e = file.replace(/\.json$/, '');
  if (data.skipped) epochSkips[e] = data.skipped;
  for (const c of data.cases || []) (epochs[e] = epochs[e] || {})[c.id] = c;
}
const sizes = fs.existsSync(path.join(out, 'sizes.json'))
  ? JSON.parse(fs.readFileSync(path.join(out, 'sizes.json'), 'utf8'))
  : null;
const notes = fs.existsSync(path.join(out, 'notes.txt'))
  ? fs.readFileSync(path.join(out, 'notes.txt'), 'utf8').split('\n').filter(Boolean)
  : [];

const fig = (engine, id) => (figures[engine] && figures[engine][id] ? median(figures[engine][id]) : null);
const spread = (engine, id) => {
  const v = figures[engine] && figures[engine][id];
  return v ? `${fmt(Math.min(...v))}–${fmt(Math.max(...v))} (${v.length})` : '';
};

function fmt(v) {
  if (v === null || v === undefined || Number.isNaN(v)) return 'n/a';
  const a = Math.abs(v);
  if (a >= 1000) return Math.round(v).toLocaleString('en-US');
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return v.toPrecision(2);
}

const UNITS = { GFLOPS: 'GFLOPS', 'samples/s': 'samples/s', ms: 'ms', s: 's', KB: 'KB' };
const higherIsBetter = (unit) => unit === 'GFLOPS' || unit === 'samples/s';

const CASE_NAMES = {
  gemm_64: 'GEMM n=64',
  gemm_128: 'GEMM n=128',
  gemm_256: 'GEMM n=256',
  gemm_512: 'GEMM n=512',
  gemm_1024: 'GEMM n=1024',
  gemm_ceiling: 'SIMD128 ceiling (mul + add, L1)',
  mlp_train: 'MLP 784-128-10 training, batch 64',
  mlp_infer_1: 'MLP inference, batch 1',
  mlp_infer_256: 'MLP inference, batch 256',
  cnn_train: 'CNN training, batch 32',
  cnn_infer_1: 'CNN inference, batch 1',
  cnn_infer_256: 'CNN inference, batch 256',
  mlp_infer_256_int8: 'MLP inference in int8, batch 256',
  cnn_infer_256_int8: 'CNN inference in int8, batch 256',
  mlp_startup: 'MLP start-up (create the trainer)',
  cnn_startup: 'CNN start-up (create the trainer)',
};
const UNIT_OF = {
  mlp_train: 'samples/s',
  cnn_train: 'samples/s',
  mlp_infer_1: 'ms',
  mlp_infer_256: 'ms',
  cnn_infer_1: 'ms',
  cnn_infer_256: 'ms',
  mlp_infer_256_int8: 'ms',
  cnn_infer_256_int8: 'ms',
  mlp_startup: 'ms',
  cnn_startup: 'ms',
};
const unitOf = (id) => UNIT_OF[id] || 'GFLOPS';

/* [case id, Lathe engine, peer engine, target ratio (null: none), absolute Lathe target, note] */
const ROWS = [];
for (const n of [64, 128, 256, 512, 1024]) {
  const id = `gemm_${n}`;
  ROWS.push([id, 'lathe-wasm', 'tfjs-wasm', n >= 256 ? 1.2 : null]);
  ROWS.push([id, 'lathe-wasm', 'onnxruntime-web', null]);
  ROWS.push([id, 'lathe-native', 'pytorch', null]);
}
ROWS.push(['mlp_train', 'lathe-wasm', 'tfjs-wasm', 3.0]);
ROWS.push(['mlp_train', 'lathe-native', 'pytorch', 1.0]);
ROWS.push(['mlp_train', 'lathe-native', 'pytorch-skylakex', null]);
ROWS.push(['mlp_infer_1', 'lathe-wasm', 'onnxruntime-web', 1.0, 0.024]);
ROWS.push(['mlp_infer_1', 'lathe-wasm', 'tfjs-wasm', null]);
ROWS.push(['mlp_infer_1', 'lathe-native', 'pytorch', null]);
ROWS.push(['mlp_infer_256', 'lathe-wasm', 'onnxruntime-web', 1.0, 2.2]);
ROWS.push(['mlp_infer_256', 'lathe-wasm', 'tfjs-wasm', null]);
ROWS.push(['mlp_infer_256', 'lathe-native', 'pytorch', null]);
ROWS.push(['cnn_train', 'lathe-wasm', 'tfjs-wasm', 4.0]);
ROWS.push(['cnn_train', 'lathe-native', 'pytorch', 1.0]);
ROWS.push(['cnn_train', 'lathe-native', 'pytorch-skylakex', null]);
for (const id of ['cnn_infer_1', 'cnn_infer_256']) {
  ROWS.push([id, 'lathe-wasm', 'onnxruntime-web', null]);
  ROWS.push([id, 'lathe-wasm', 'tfjs-wasm', null]);
  ROWS.push([id, 'lathe-native', 'pytorch', null]);
}
for (const id of ['mlp_startup', 'cnn_startup']) {
  ROWS.push([id, 'lathe-wasm', 'tfjs-wasm', null]);
  ROWS.push([id, 'lathe-native', 'pytorch', null]);
}

const table = [];
const summary = { rows: [] };
function addRow(name, unit, lathe, latheValue, peer, peerValue, target, absTarget, extra = '') {
  let ratio = null;
  if (latheValue !== null && peerValue !== null && latheValue > 0 && peerValue > 0)
    ratio = higherIsBetter(unit) ? latheValue / peerValue : peerValue / latheValue;
  const conds = [];
  if (target !== null && target !== undefined) conds.push(ratio !== null && ratio >= target);
  if (absTarget !== null && absTarget !== undefined)
    conds.push(latheValue !== null && (higherIsBetter(unit) ? latheValue >= absTarget : latheValue <= absTarget));
  const targetText =
    [target ? `≥ ${target}×` : '', absTarget ? `${higherIsBetter(unit) ? '≥' : '≤'} ${absTarget} ${unit}` : '']
      .filter(Boolean)
      .join(', ') || '—';
  const met = conds.length ? (conds.every(Boolean) ? 'yes' : 'NO') : '—';
  table.push([
    name,
    `${fmt(latheValue)} ${unit}`,
    lathe,
    peerValue === null ? 'n/a' : `${fmt(peerValue)} ${unit}`,
    peer,
    ratio === null ? 'n/a' : `${ratio.toFixed(2)}×`,
    targetText,
    met,
    extra,
  ]);
  summary.rows.push({
    case: name,
    unit,
    lathe,
    lathe_value: latheValue,
    peer,
    peer_value: peerValue,
    ratio,
    target: targetText,
    met,
  });
}

for (const [id, lathe, peer, target, absTarget] of ROWS) {
  const lv = fig(lathe, id);
  const pv = fig(peer, id);
  if (lv === null && pv === null) continue;
  addRow(CASE_NAMES[id], unitOf(id), lathe, lv, peer, pv, target, absTarget);
}

/* int8 against float: the same engine in the same run, the int8 case against the float one
 * (docs/compress.md's target: at least 1.5x in wasm at batch 256) */
for (const [q, f] of [
  ['mlp_infer_256_int8', 'mlp_infer_256'],
  ['cnn_infer_256_int8', 'cnn_infer_256'],
]) {
  for (const engine of ['lathe-wasm', 'lathe-native']) {
    const qv = fig(engine, q);
    const fv = fig(engine, f);
    if (qv === null && fv === null) continue;
    addRow(CASE_NAMES[q], 'ms', engine, qv, `${engine} float`, fv, engine === 'lathe-wasm' ? 1.5 : null);
  }
}

/* engine initialisation, medians over fresh processes */
const initOf = (e) => (inits[e] ? median(inits[e]) : null);
if (inits['lathe-wasm']) {
  addRow(
    'engine initialisation in node',
    'ms',
    'lathe-wasm',
    initOf('lathe-wasm'),
    'tfjs-wasm',
    initOf('tfjs-wasm'),
    null,
    20,
  );
  addRow(
    'engine initialisation in node',
    'ms',
    'lathe-wasm',
    initOf('lathe-wasm'),
    'onnxruntime-web',
    initOf('onnxruntime-web'),
    null,
    null,
  );
}

/* one Fashion-MNIST epoch, timed once per engine */
for (const id of ['mlp_epoch', 'cnn_epoch']) {
  for (const [lathe, peer] of [
    ['lathe-wasm', 'tfjs-wasm'],
    ['lathe-native', 'pytorch'],
  ]) {
    const l = epochs[lathe] && epochs[lathe][id];
    const p = epochs[peer] && epochs[peer][id];
    if (!l && !p) continue;
    const acc = [
      l ? `Lathe test acc. ${l.test_accuracy.toFixed(4)}` : '',
      p ? `peer ${p.test_accuracy.toFixed(4)}` : '',
    ]
      .filter(Boolean)
      .join(', ');
    addRow(
      `${id === 'mlp_epoch' ? 'MLP' : 'CNN'} Fashion-MNIST epoch (60,000, batch ${id === 'mlp_epoch' ? 64 : 32})`,
      's',
      lathe,
      l ? l.epoch_seconds : null,
      peer,
      p ? p.epoch_seconds : null,
      null,
      null,
      acc,
    );
  }
}

/* the page's download, gzip -9 */
if (sizes) {
  addRow(
    'page download (gzip -9, no data sets)',
    'KB',
    'page',
    sizes.page_bytes / 1024,
    'tfjs + wasm backend',
    sizes.tfjs_bytes / 1024,
    null,
    150,
  );
  const last = table[table.length - 1];
  /* sizes: smaller is better, as times */
  const ratio = sizes.tfjs_bytes / sizes.page_bytes;
  last[5] = `${ratio.toFixed(2)}×`;
}

/* the GEMM against the SIMD128 ceiling each Lathe build measured in the same run */
const pct = (v, of) => (v && of ? `${Math.round((100 * v) / of)}%` : 'n/a');
const ceilingLines = [];
for (const engine of ['lathe-wasm', 'lathe-native']) {
  const ceiling = fig(engine, 'gemm_ceiling');
  if (!ceiling) continue;
  if (meta[engine] && meta[engine].kernels === 'avx2') {
    ceilingLines.push(
      `${engine}: the GEMM runs the 256-bit avx2 twins, which the SIMD128 ceiling this case measures (${fmt(ceiling)} GFLOPS) does not bound.`,
    );
    continue;
  }
  const parts = [256, 512, 1024].map((n) => {
    const peer = engine === 'lathe-wasm' ? fig('tfjs-wasm', `gemm_${n}`) : null;
    return (
      `n=${n} Lathe ${pct(fig(engine, `gemm_${n}`), ceiling)}` +
      (peer ? `, tfjs-wasm ${pct(peer, ceiling)} (1.2× tfjs-wasm would be ${pct(1.2 * peer, ceiling)})` : '')
    );
  });
  ceilingLines.push(
    `${engine}: ceiling ${fmt(ceiling)} GFLOPS (gemm_ceiling: f32x4 mul + add, operands in L1); ${parts.join('; ')}.`,
  );
}

/* ---- output ---- */
const header = ['case', 'Lathe', 'build', 'peer', 'peer engine', 'ratio', 'target', 'met?'];
const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => String(r[i]).length)));
const line = (r) =>
  r
    .slice(0, header.length)
    .map((c, i) => String(c).padEnd(widths[i]))
    .join('  ')
    .trimEnd();
console.log(line(header));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const r of table) console.log(line(r));
const failed = table.filter((r) => r[7] === 'NO').length;
const met = table.filter((r) => r[7] === 'yes').length;
console.log(`\ntargets met: ${met} of ${met + failed}`);
/* A target missed in this run: its figures, and where its profile and the attempts are. */
const missed = table
  .filter((r) => r[7] === 'NO')
  .map((r) => `${r[0]} (${r[2]} ${r[1]} against ${r[4]} ${r[3]}): ${r[5]}, target ${r[6]}`);
const missedNote =
  'where the time goes for each, and what was tried: docs/benchmarks.md ("Where the time goes",' +
  ' "What was tried"); how far the rounds of this run moved: the spread table of build/bench/report.md.';
if (missed.length) console.log(`not met in this run:\n${missed.map((m) => `  ${m}`).join('\n')}\n  ${missedNote}`);
if (ceilingLines.length) console.log(`\nGEMM as a share of the SIMD128 ceiling:\n${ceilingLines.join('\n')}`);

const md = [];
md.push('# Lathe benchmarks: the report of one run of `./scripts/bench.sh`', '');
md.push(
  `Written ${new Date().toISOString()}. Every figure below was measured in this run; a ratio is`,
  'how many times faster (or smaller) Lathe is than the peer on the same line. Medians over',
  'interleaved rounds (each round runs every engine once, in a rotating order; each engine',
  'reports the median of its repetitions after a warm-up). One thread everywhere.',
  '',
);
md.push('| case | Lathe | build | peer | peer engine | ratio | target | met? | note |');
md.push('| --- | ---: | --- | ---: | --- | ---: | --- | --- | --- |');
for (const r of table) md.push(`| ${r.join(' | ')} |`);
md.push('', `Targets met: ${met} of ${met + failed}.`, '');
if (missed.length)
  md.push('Not met in this run:', '', ...missed.map((m) => `- ${m}`), '', `The profile of ${missedNote}`, '');
if (ceilingLines.length)
  md.push('## GEMM as a share of the SIMD128 ceiling', '', ...ceilingLines.map((l) => `- ${l}`), '');
md.push('## Engines', '');
for (const [e, d] of Object.entries(meta))
  md.push(
    `- **${e}**: ${[
      d.target,
      d.kernels && `kernel table ${d.kernels}`,
      d.version && `version ${d.version}`,
      d.threads && `${d.threads} thread(s)`,
      d.blas && d.blas.length && `BLAS ${d.blas.filter((b) => b.includes('libblas')).join(', ')}`,
      d.openblas_coretype && `OPENBLAS_CORETYPE=${d.openblas_coretype}`,
    ]
      .filter(Boolean)
      .join('; ')}`,
  );
md.push('', '## Spread over the rounds (min–max of the per-round medians, and the number of rounds)', '');
md.push('| case | engine | median | spread |', '| --- | --- | ---: | --- |');
for (const e of Object.keys(figures))
  for (const id of Object.keys(figures[e]))
    md.push(`| ${id} | ${e} | ${fmt(fig(e, id))} ${unitOf(id)} | ${spread(e, id)} |`);
if (Object.keys(inits).length) {
  md.push('', '## Engine initialisation in node (fresh processes)', '');
  for (const [e, v] of Object.entries(inits))
    md.push(`- ${e}: median ${fmt(median(v))} ms over ${v.length} processes (${v.map(fmt).join(', ')})`);
}
if (Object.keys(epochs).length || Object.keys(epochSkips).length) {
  md.push(
    '',
    '## Fashion-MNIST epochs',
    '',
    'One epoch of the 60,000 training images, then the 10,000 test images; timed once per engine.',
    "Lathe's native and wasm builds train the same weights: compare their hashes.",
    '',
    '| engine | model | epoch s | samples/s | test accuracy | data load s | weights SHA-256 |',
    '| --- | --- | ---: | ---: | ---: | ---: | --- |',
  );
  for (const [e, cs] of Object.entries(epochs))
    for (const c of Object.values(cs))
      md.push(
        `| ${e} | ${c.id} | ${fmt(c.epoch_seconds)} | ${fmt(c.samples_per_second)} | ${c.test_accuracy.toFixed(4)} | ${fmt(c.load_seconds)} | ${c.weights_sha256 ? `\`${c.weights_sha256.slice(0, 16)}…\`` : ''} |`,
      );
  for (const [e, why] of Object.entries(epochSkips)) md.push(`| ${e} | skipped: ${why} | | | | | |`);
  for (const id of ['mlp_epoch', 'cnn_epoch']) {
    const n = epochs['lathe-native'] && epochs['lathe-native'][id];
    const w = epochs['lathe-wasm'] && epochs['lathe-wasm'][id];
    if (n && w && n.weights_sha256)
      md.push(
        '',
        `${id}: native and wasm weights are ${n.weights_sha256 === w.weights_sha256 ? 'identical' : '**DIFFERENT**'}.`,
      );
  }
}
if (sizes) {
  md.push('', '## Download size (gzip -9 per file)', '', '| file | bytes | gzipped |', '| --- | ---: | ---: |');
  for (const f of sizes.page_files) md.push(`| ${f.file} | ${f.bytes} | ${f.gzip} |`);
  md.push(`| **the page** | | **${sizes.page_bytes}** |`);
  for (const f of sizes.tfjs_files) md.push(`| tfjs: ${f.file} | ${f.bytes} | ${f.gzip} |`);
  md.push(`| **TensorFlow.js + wasm backend** | | **${sizes.tfjs_bytes}** |`);
  for (const f of sizes.ort_files || []) md.push(`| onnxruntime-web: ${f.file} | ${f.bytes} | ${f.gzip} |`);
  if (sizes.ort_files) md.push(`| **onnxruntime-web (wasm)** | | **${sizes.ort_bytes}** |`);
}
if (figures['lathe-wasm-baseline'] || figures['lathe-native-baseline']) {
  md.push(
    '',
    '## Before and after: this tree against its baseline kernels (same run)',
    '',
    "Ratio: how many times faster the current kernels are than the baseline's.",
    '',
    '| case | build | baseline | now | ratio |',
    '| --- | --- | ---: | ---: | ---: |',
  );
  for (const build of ['lathe-wasm', 'lathe-native'])
    for (const id of Object.keys(CASE_NAMES)) {
      const b = fig(`${build}-baseline`, id);
      const n = fig(build, id);
      if (b === null || n === null) continue;
      const r = higherIsBetter(unitOf(id)) ? n / b : b / n;
      md.push(
        `| ${CASE_NAMES[id]} | ${build} | ${fmt(b)} ${unitOf(id)} | ${fmt(n)} ${unitOf(id)} | ${r.toFixed(2)}× |`,
      );
    }
}
if (notes.length) md.push('', '## Notes', '', ...notes.map((n) => `- ${n}`));
fs.writeFileSync(path.join(out, 'report.md'), `${md.join('\n')}\n`);
summary.figures = Object.fromEntries(
  Object.entries(figures).map(([e, cs]) => [
    e,
    Object.fromEntries(Object.entries(cs).map(([id, v]) => [id, median(v)])),
  ]),
);
summary.init_ms = Object.fromEntries(Object.entries(inits).map(([e, v]) => [e, median(v)]));
summary.epochs = epochs;
summary.sizes = sizes;
fs.writeFileSync(path.join(out, 'summary.json'), `${JSON.stringify(summary, null, 1)}\n`);
console.log(`\nwrote ${path.join(out, 'report.md')}`);
