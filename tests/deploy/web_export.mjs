// The web export against `lathe predict`, in three browser engines: every case (every example
// and the mixed one, tests/deploy/examples.mjs) is trained by the native CLI and exported with
// `lathe export --format web` natively and by the CLI's node twin (the same files); the
// runtime (the ES module, Emscripten's loader and the wasm) must be at most 40 KB gzipped. A
// local static server serves the exports with each case's rows; in Chromium (playwright-core),
// Firefox ESR (puppeteer-core over WebDriver BiDi) and WebKitGTK (WebKitWebDriver), one browser
// each, the export's own index.html must show a prediction, and then m.predict on every row
// (half as objects of CSV text, half as arrays of typed values) must give the float32 bits
// and the class of `lathe predict` on the same rows; so must the mixed case's rows in other
// spellings of its cells (EDGE_ROWS), and a model file with one weight altered must be refused
// by the runtime itself.
// Runner contract of scripts/test.sh: "TESTS N", then a PASS or FAIL line per test.
// usage: node tests/deploy/web_export.mjs  (after scripts/build.sh; not --no-experimental-fetch:
// playwright-core and the WebKit driver need fetch, which is hidden only while the engine loads).
// Another tree's CLIs: LATHE_CLI (native), LATHE_NODE_CLI (the node twin, whose runtime is the
// web_runtime/ beside it) and LATHE_WEB_RUNTIME (the runtime the native CLI exports).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { startServer } from '../../scripts/static_server.mjs';
import { killAll, launchFirefox, launchWebKit } from '../engines/drivers.mjs';
import { Failure, assert, cases, cli, experimentOf, root, rowsCsv, run, trainExample } from './examples.mjs';

const BUDGET = 40 * 1024; // the runtime, gzipped (zlib level 9), the model aside
const RUNTIME = ['lathe_web.js', 'lathe_infer.js', 'lathe_infer.wasm'];
const FILES = [...RUNTIME, 'index.html', 'model.lathe.json'];
const ENGINES = ['chromium', 'firefox', 'webkit'];
const nodeCli = ['--no-experimental-fetch', process.env.LATHE_NODE_CLI || path.join(root, 'build/wasm/lathe.js')];

const tests = [
  ...cases.map((name) => [`${name}: the native CLI and its node twin write the same web export`, 'export', name]),
  [`the runtime (${RUNTIME.join(', ')}) is at most ${BUDGET / 1024} KB gzipped`, 'budget'],
  ['without its runtime, the export names what to build; a damaged model file is refused', 'refusals'],
  ...ENGINES.flatMap((engine) =>
    cases.map((name) => [
      `${engine}: ${name}: the example page predicts, and m.predict gives lathe predict's bits on every row`,
      engine,
      name,
    ]),
  ),
  ...ENGINES.flatMap((engine) => [
    [
      `${engine}: mixed: cells in the other spellings the CSV reader takes (spaces, signs, exponents, missing markers, the case of booleans, unseen categories) give lathe predict's bits, and a missing boolean its message`,
      `edge:${engine}`,
    ],
    [`${engine}: a model file with one weight altered is refused by the runtime (weights_sha256)`, `damaged:${engine}`],
  ]),
];
console.log(`TESTS ${tests.length}`);

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'lathe-web-export-'));
const site = path.join(scratch, 'site'); // served: site/NAME/ is NAME's export and its rows.csv
fs.mkdirSync(site);
const expected = new Map(); // name (or 'mixed/edge') -> {bits: Uint32Array, labels: string[] | null, rows}

/** The mixed case's rows in the other spellings of its cells that the CSV reader accepts: they
 * exercise the module's own reading of raw cells (trimming, numbers, missing markers, booleans,
 * categories) against lathe predict's. */
const EDGE_ROWS = [
  'x1,x2,color,flag,label',
  ' 2.5,+0.5,red ,TRUE,no',
  '+3,.5e1, blue,yes,yes',
  '7.,-1E0,Green,No ,no',
  'N/A,1.25e-1,purple, False,yes',
  ' nan ,-0,null,True,no',
  '0.0000001,1e-46,?, no,yes',
  '-0,\t2\t,"red",true,no',
  '"1e1",3.,RED,FALSE,yes',
  '4, -.25 , ,yes,no',
].join('\n');

/** lathe predict's float32 bits and classes on a CSV. */
async function expectPredict(model, csv) {
  const { stdout } = await run(cli, ['predict', model, csv, '--quiet']);
  const lines = stdout.trim().split('\n');
  const classifier = lines[0] !== 'row,prediction';
  const values = [];
  const labels = [];
  for (const line of lines.slice(1)) {
    const cells = line.split(','); // class names of the cases hold no commas
    if (classifier) labels.push(cells[1]);
    for (const v of cells.slice(classifier ? 2 : 1)) values.push(Math.fround(parseFloat(v))); // %.9g: exact
  }
  return {
    bits: new Uint32Array(Float32Array.from(values).buffer),
    labels: classifier ? labels : null,
    rows: lines.length - 1,
  };
}

/** Runs fn with no global fetch: Emscripten's node loader (the engine that makes a synthetic
 * set's rows) fetches its wasm by path, and fails, when fetch exists (../shared/TOOLCHAIN.md). */
async function withoutFetch(fn) {
  const f = globalThis.fetch;
  globalThis.fetch = undefined;
  try {
    return await fn();
  } finally {
    globalThis.fetch = f;
  }
}

/** Trains and exports a case twice (native, node twin); the files must be equal, the model
 * file the CLI's. Keeps lathe predict's output on the case's rows for the browsers. */
async function exportCase(name) {
  const x = JSON.parse(fs.readFileSync(experimentOf(name, scratch), 'utf8'));
  const model = await trainExample(name, scratch);
  const dir = path.join(site, name);
  const twin = path.join(scratch, `${name}.node`);
  await run(cli, ['export', model, '--format', 'web', '--out', dir, '--quiet']);
  await run('node', [...nodeCli, 'export', model, '--format', 'web', '--out', twin, '--quiet']);
  assert(
    fs.readdirSync(dir).sort().join() === [...FILES].sort().join(),
    `the export holds ${fs.readdirSync(dir).sort().join(', ')}`,
  );
  for (const f of FILES)
    assert(
      fs.readFileSync(path.join(dir, f)).equals(fs.readFileSync(path.join(twin, f))),
      `${f} differs in the twin's`,
    );
  assert(fs.readFileSync(path.join(dir, 'model.lathe.json')).equals(fs.readFileSync(model)), 'the model file changed');
  const csv = await withoutFetch(() => rowsCsv(name, x, scratch));
  fs.copyFileSync(csv, path.join(dir, 'rows.csv'));
  expected.set(name, await expectPredict(model, csv));
  if (name === 'mixed') {
    fs.writeFileSync(path.join(dir, 'edge.csv'), `${EDGE_ROWS}\n`);
    expected.set('mixed/edge', await expectPredict(model, path.join(dir, 'edge.csv')));
    // a missing boolean, which the model does not impute: lathe predict's message
    const refused = path.join(dir, 'refused.csv');
    fs.writeFileSync(refused, 'x1,x2,color,flag,label\n1,2,red,true,no\n5.5,1,blue, ? ,no\n');
    const e = await run(cli, ['predict', model, refused, '--quiet']).then(
      () => null,
      (x) => String(x.stderr),
    );
    assert(e && e.includes(`${refused}: `), `lathe predict on refused.csv: ${e}`);
    expected.set('mixed/refused', e.slice(e.indexOf(`${refused}: `) + refused.length + 2).trim());
  }
  if (name === 'iris') {
    // one weight's lowest mantissa bit flipped: still finite, but not the hashed weights
    const file = JSON.parse(fs.readFileSync(model, 'utf8'));
    const layer = file.layers.find((l) => l.weights);
    const bytes = Buffer.from(layer.weights, 'base64');
    bytes[0] ^= 1;
    layer.weights = bytes.toString('base64');
    fs.writeFileSync(path.join(dir, 'damaged.lathe.json'), JSON.stringify(file));
  }
  return `${expected.get(name).rows} rows`;
}

/** The runtime's gzipped size, file by file, against the budget. */
function budget() {
  const dir = path.join(site, 'iris');
  assert(fs.existsSync(dir), 'iris was not exported');
  const sizes = RUNTIME.map((f) => zlib.gzipSync(fs.readFileSync(path.join(dir, f)), { level: 9 }).length);
  const total = sizes.reduce((a, b) => a + b, 0);
  const detail = RUNTIME.map((f, i) => `${f} ${(sizes[i] / 1024).toFixed(1)} KB`).join(', ');
  fs.mkdirSync(path.join(root, 'build/test-logs'), { recursive: true });
  fs.writeFileSync(
    path.join(root, 'build/test-logs/web-export.json'),
    `${JSON.stringify({ gzipped: Object.fromEntries(RUNTIME.map((f, i) => [f, sizes[i]])), total }, null, 2)}\n`,
  );
  assert(total <= BUDGET, `${(total / 1024).toFixed(1)} KB gzipped (${detail}), over ${BUDGET / 1024} KB`);
  return `${(total / 1024).toFixed(1)} KB: ${detail}`;
}

async function refusals() {
  const model = path.join(scratch, 'iris.lathe.json');
  const attempt = (args, env = {}) =>
    run(cli, args, { env: { ...process.env, ...env } }).then(
      () => null,
      (e) => ({ code: e.code, stderr: String(e.stderr) }),
    );
  const out = path.join(scratch, 'no-runtime');
  const missing = await attempt(['export', model, '--format', 'web', '--out', out], {
    LATHE_WEB_RUNTIME: path.join(scratch, 'nowhere'),
  });
  assert(
    missing &&
      missing.code === 1 &&
      /the web runtime is not built/.test(missing.stderr) &&
      /--target lathe_infer/.test(missing.stderr) &&
      !fs.existsSync(out),
    `without a runtime: ${JSON.stringify(missing)}`,
  );
  const damaged = path.join(scratch, 'damaged.lathe.json');
  const text = fs.readFileSync(model, 'utf8');
  const at = text.search(/"weights_sha256":\s*"[0-9a-f]/);
  assert(at >= 0, 'no weights_sha256 in the model file');
  const digit = text.indexOf('"', text.indexOf(':', at)) + 1; // the hash's first digit, changed
  fs.writeFileSync(damaged, text.slice(0, digit) + (text[digit] === '0' ? '1' : '0') + text.slice(digit + 1));
  const bad = await attempt(['export', damaged, '--format', 'web', '--out', out]);
  assert(bad && bad.code === 2 && /weights_sha256/.test(bad.stderr), `a damaged model: ${JSON.stringify(bad)}`);
}

// ---- in the browser ----

/** In the page: resolves when the example page has predicted or failed (body[data-state]). */
const PAGE_SETTLED = `() => new Promise((resolve) => {
  const settled = () => document.body && document.body.dataset.state;
  const report = () => ({ state: settled(), prediction: (document.getElementById('prediction') || {}).textContent,
    error: document.getElementById('error').textContent });
  if (settled()) return resolve(report());
  new MutationObserver(() => settled() && resolve(report())).observe(document.documentElement,
    { attributes: true, subtree: true, childList: true });
})`;

/** In the page: loads the export's module and model, reads the rows (rows.csv), predicts every row (even
 * rows as objects of the CSV's text cells, odd rows as arrays of typed values in m.inputs
 * order) and returns the float32 values as base64 and the predicted classes. */
const PREDICT_ROWS = `async (base, file = 'rows.csv') => {
  const { load } = await import(base + 'lathe_web.js');
  const m = await load(base + 'model.lathe.json');
  const text = await (await fetch(base + file)).text();
  const lines = text.replace(/\\n$/, '').split('\\n').map((l) => {
    const cells = [];
    for (let i = 0; i <= l.length; ) {
      if (l[i] === '"') {
        let t = '';
        for (i++; i < l.length; i++) {
          if (l[i] === '"' && l[i + 1] === '"') (t += '"'), i++;
          else if (l[i] === '"') break;
          else t += l[i];
        }
        cells.push(t);
        i += 2;
      } else {
        const end = l.indexOf(',', i) < 0 ? l.length : l.indexOf(',', i);
        cells.push(l.slice(i, end));
        i = end + 1;
      }
    }
    return cells;
  });
  const header = lines[0];
  const missing = /^\\s*(|na|n\\/a|nan|null|\\?)\\s*$/i;
  const at = m.info.inputs.map((inp) => header.indexOf(inp.column));
  const rows = lines.slice(1).map((cells, r) => {
    if (r % 2 === 0) return Object.fromEntries(header.map((h, j) => [h, cells[j]]));
    return m.info.inputs.map((inp, j) => {
      const t = cells[at[j]];
      if (missing.test(t)) return r % 4 === 1 ? null : NaN;
      if (inp.type === 'numeric') return Number(t);
      if (inp.type === 'boolean' && /^(true|false)$/.test(t)) return t === 'true';
      return t;
    });
  });
  const values = m.predictArray(rows);
  const labels = m.classes.length ? m.predict(rows).map((p) => p.prediction) : null;
  m.free();
  let bin = '';
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  for (let i = 0; i < bytes.length; i += 8192) bin += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return { values: btoa(bin), labels, rows: rows.length };
}`;

/** Chromium through playwright-core (the main browser suite's way), with a driver's interface. */
async function launchPlaywright() {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: process.env.LATHE_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const page = await browser.newPage();
  return {
    name: 'chromium',
    version: browser.version(),
    goto: (url) => page.goto(url, { waitUntil: 'load' }),
    evaluate: async (src, args = []) => {
      const r = await page.evaluate(
        `(async () => { try { return { value: await (${src})(...${JSON.stringify(args)}) }; } ` +
          'catch (e) { return { error: String((e && e.message) || e) }; } })()',
      );
      if ('error' in r) throw new Error(`in the page: ${r.error}`);
      return r.value;
    },
    close: () => browser.close(),
  };
}

const browsers = new Map(); // engine -> Promise of a driver
function browser(engine) {
  if (!browsers.has(engine))
    browsers.set(
      engine,
      engine === 'chromium'
        ? launchPlaywright()
        : engine === 'firefox'
          ? launchFirefox({ callMs: 120000 })
          : launchWebKit({ callMs: 120000, env: { LC_ALL: 'C.UTF-8', LANG: 'C.UTF-8' } }),
    );
  return browsers.get(engine);
}

let origin = null;

/** In the page: what m.predict throws on base's refused.csv (its rows as objects of text). */
const PREDICT_REFUSED = `async (base) => {
  const { load } = await import(base + 'lathe_web.js');
  const m = await load(base + 'model.lathe.json');
  const [header, ...lines] = (await (await fetch(base + 'refused.csv')).text()).trim().split('\\n');
  const names = header.split(',');
  try {
    m.predict(lines.map((l) => Object.fromEntries(l.split(',').map((t, j) => [names[j], t]))));
    return { predicted: true };
  } catch (e) {
    return { name: e.name, message: e.message };
  } finally {
    m.free();
  }
}`;

/** In the page: loading base's damaged.lathe.json; what it threw. */
const LOAD_DAMAGED = `async (base) => {
  const { load } = await import(base + 'lathe_web.js');
  try {
    (await load(base + 'damaged.lathe.json')).free();
    return { loaded: true };
  } catch (e) {
    return { name: e.name, status: e.status, message: e.message };
  }
}`;

/** The mixed case's row with a missing boolean: lathe predict's message, as a LatheError. */
async function refusedRow(engine) {
  const want = expected.get('mixed/refused');
  assert(want, 'mixed was not exported');
  const b = await browser(engine);
  const got = await b.evaluate(PREDICT_REFUSED, [`${origin}/mixed/`], 60000);
  assert(got.name === 'LatheError' && got.message === want, `${JSON.stringify(got)}, lathe predict: ${want}`);
  return `refused: ${got.message}`;
}

async function damaged(engine) {
  assert(expected.has('iris'), 'iris was not exported');
  const b = await browser(engine);
  const got = await b.evaluate(LOAD_DAMAGED, [`${origin}/iris/`], 60000);
  assert(
    got.name === 'LatheError' && got.status === 4 && /^weights_sha256: /.test(got.message),
    `the damaged model file: ${JSON.stringify(got)}`,
  );
  return got.message;
}

async function inBrowser(engine, name, file = 'rows.csv') {
  const want = expected.get(file === 'rows.csv' ? name : `${name}/edge`);
  assert(want, `${name} was not exported`);
  const b = await browser(engine);
  const base = `${origin}/${name}/`;
  if (file === 'rows.csv') {
    await b.goto(`${base}index.html`);
    const page = await b.evaluate(PAGE_SETTLED, [], 60000);
    assert(page.state === 'ready' && page.prediction, `the example page: ${JSON.stringify(page)}`);
  }
  const got = await b.evaluate(PREDICT_ROWS, [base, file], 300000);
  assert(got.rows === want.rows, `${got.rows} rows predicted, lathe predict ${want.rows}`);
  const bits = new Uint32Array(new Uint8Array(Buffer.from(got.values, 'base64')).buffer);
  assert(bits.length === want.bits.length, `${bits.length} values, lathe predict ${want.bits.length}`);
  const C = bits.length / want.rows;
  for (let i = 0; i < bits.length; i++)
    if (bits[i] !== want.bits[i]) {
      const f = (u) => new Float32Array(Uint32Array.of(u).buffer)[0];
      throw new Failure(
        `row ${Math.floor(i / C) + 1}, output ${i % C}: ${f(bits[i])} (0x${bits[i].toString(16)}), ` +
          `lathe predict ${f(want.bits[i])} (0x${want.bits[i].toString(16)})`,
      );
    }
  if (want.labels)
    for (let r = 0; r < want.rows; r++)
      assert(got.labels[r] === want.labels[r], `row ${r + 1}: class ${got.labels[r]}, lathe predict ${want.labels[r]}`);
  return `${want.rows} rows, ${bits.length} floats; ${b.version}`;
}

let failed = 0;
try {
  const server = await startServer(site, 0);
  origin = `http://127.0.0.1:${server.address().port}`;
  for (const [title, what, name] of tests) {
    try {
      const [kind, engine] = what.split(':');
      const detail =
        what === 'export'
          ? await exportCase(name)
          : what === 'budget'
            ? budget()
            : what === 'refusals'
              ? await refusals()
              : kind === 'edge'
                ? `${await inBrowser(engine, 'mixed', 'edge.csv')}; ${await refusedRow(engine)}`
                : kind === 'damaged'
                  ? await damaged(engine)
                  : await inBrowser(what, name);
      console.log(`PASS ${title}${detail ? ` (${detail})` : ''}`);
    } catch (e) {
      failed++;
      console.log(`FAIL ${title}: ${String(e.message).split('\n').slice(0, 3).join(' | ')}`);
    }
  }
  server.close();
} finally {
  for (const b of browsers.values()) await b.then((d) => d.close()).catch(() => {});
  killAll();
  fs.rmSync(scratch, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
