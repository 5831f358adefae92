// Browser tests: the real page in Debian's Chromium, driven by playwright-core. Each test
// prints "PASS name" or "FAIL name: why"; the process exits non-zero when one fails.
// Needs build/web and build/native/lathe (scripts/build.sh); LATHE_CLI=… names another CLI.
// Ground truth comes from outside the page: the native CLI's weights and metrics, and data
// the tests generate themselves. Screenshots of each step go to build/test-logs.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import zlib from 'node:zlib';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from '../../scripts/static_server.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const logs = path.join(root, 'build/test-logs');
const cli = process.env.LATHE_CLI || path.join(root, 'build/native/lathe');
fs.mkdirSync(logs, { recursive: true });
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'lathe-e2e-'));

const results = [];
// LATHE_E2E_ONLY=regex runs the first test (it opens the page) and the tests whose name matches.
const only = process.env.LATHE_E2E_ONLY ? new RegExp(process.env.LATHE_E2E_ONLY) : null;
async function test(name, fn) {
  if (only && results.length > 0 && !only.test(name)) return;
  try {
    await fn();
    results.push(true);
    console.log(`PASS ${name}`);
  } catch (e) {
    results.push(false);
    console.log(`FAIL ${name}: ${e.message.split('\n').slice(0, 6).join(' | ')}`);
    await page.screenshot({ path: path.join(logs, `failed-${results.length}.png`), fullPage: true }).catch(() => {});
  }
}
function assert(cond, message) { if (!cond) throw new Error(message); }
const close = (a, b, tol = 1e-6) => Number.isFinite(a) && Number.isFinite(b) && Math.abs(a - b) <= tol * (1 + Math.abs(b));

/** `lathe run FILE --json` of an experiment file (a path, or the text written to scratch). */
function nativeRun(experiment, text) {
  let file = experiment;
  if (text !== undefined) {
    file = path.join(scratch, path.basename(experiment));
    fs.writeFileSync(file, text);
  }
  const out = execFileSync(cli, ['run', file, '--json', '--quiet'], { cwd: root });
  return JSON.parse(out.toString());
}

/** A PNG file of 8-bit pixels: colour type 0 (grey, w·h bytes) or 6 (RGBA, 4·w·h bytes). */
function pngFile(w, hgt, type, pixels) {
  const table = Array.from({ length: 256 }, (_, n) => { let c = n; for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; return c >>> 0; });
  const crc = (buf) => { let c = 0xffffffff; for (const b of buf) c = table[(c ^ b) & 255] ^ (c >>> 8); return (c ^ 0xffffffff) >>> 0; };
  const chunk = (kind, body) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(body.length, 0);
    head.write(kind, 4, 'latin1');
    const tail = Buffer.alloc(4);
    tail.writeUInt32BE(crc(Buffer.concat([head.subarray(4), body])), 0);
    return Buffer.concat([head, body, tail]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(hgt, 4);
  ihdr.set([8, type, 0, 0, 0], 8);
  const stride = w * (type === 6 ? 4 : 1);
  const raw = Buffer.alloc((stride + 1) * hgt); // filter 0 on every row
  for (let y = 0; y < hgt; y++) pixels.copy(raw, y * (stride + 1) + 1, y * stride, (y + 1) * stride);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

const server = await startServer(path.join(root, 'build/web'), 0);
const url = `http://127.0.0.1:${server.address().port}/`;
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'lathe-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  acceptDownloads: true,
  viewport: { width: 1280, height: 800 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const consoleErrors = [];
const foreignRequests = [];
const ownFiles = new Set(); // paths the page fetched from its own origin
/** Records a tab's errors and dialogs (every tab the tests open). */
function watch(p) {
  p.on('pageerror', (e) => consoleErrors.push(e.message));
  p.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  p.on('dialog', (d) => { consoleErrors.push(`a dialog opened: ${d.message()}`); d.dismiss(); });
  return p;
}
let page = watch(context.pages()[0] || await context.newPage());
const hooks = `${url}?test-hooks`; // the page with window.latheTest (fault injection, leak count)
context.on('request', (r) => {
  if (!/^(http:\/\/127\.0\.0\.1:|data:|blob:)/.test(r.url())) foreignRequests.push(r.url());
  else if (r.url().startsWith(url)) ownFiles.add(new URL(r.url()).pathname);
});

const step = (name) => page.click(`[data-testid=step-${name}]`);
const shot = (name) => page.screenshot({ path: path.join(logs, `${name}.png`), fullPage: true });
const status = () => page.textContent('[data-testid=status]');
async function waitDone(timeout = 60000) {
  await page.waitForFunction(() => /^Done/.test(document.querySelector('[data-testid=status]').textContent), null, { timeout });
}
/** Sets a control's value the way a person does, firing input and change. */
async function setControl(selector, value) {
  await page.$eval(selector, (el, v) => {
    if (el.type === 'checkbox') el.checked = v; else el.value = v;
    el.dispatchEvent(new Event('input', { bubbles: true }));
    el.dispatchEvent(new Event('change', { bubbles: true }));
  }, value);
}
async function experimentInPage() {
  // the page fills the editor once the kept or default experiment is known (a fast engine
  // can be ready first)
  await page.waitForFunction(() => document.querySelector('[data-testid=experiment]').value.trim() !== '', null, { timeout: 10000 });
  return JSON.parse(await page.inputValue('[data-testid=experiment]'));
}
async function useExample(name) {
  await step('deploy');
  await page.fill('[data-testid=experiment]', fs.readFileSync(path.join(root, `examples/${name}.experiment.json`), 'utf8'));
}
async function trainAndWait(timeout) {
  await step('train');
  await page.click('[data-testid=train]');
  await waitDone(timeout);
}
/** Saves what a click downloads and returns its text. */
async function downloadText(selector) {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click(selector)]);
  const file = path.join(scratch, download.suggestedFilename());
  await download.saveAs(file);
  return { name: download.suggestedFilename(), text: fs.readFileSync(file, 'utf8'), file };
}
/** An example experiment with edits, as pretty-printed text. */
function exampleText(name, edit = () => {}) {
  const x = JSON.parse(fs.readFileSync(path.join(root, `examples/${name}.experiment.json`), 'utf8'));
  edit(x);
  return JSON.stringify(x, null, 2);
}
async function setExperiment(text) {
  await step('deploy');
  await page.fill('[data-testid=experiment]', text);
}
/** Waits until a checkpoint of at least this epoch is committed to IndexedDB. */
async function waitSaved(epoch, timeout = 60000) {
  await page.waitForFunction((e) => Number(document.querySelector('[data-testid=saved-note]').dataset.epoch || -1) >= e, epoch, { timeout });
  return Number(await page.getAttribute('[data-testid=saved-note]', 'data-epoch'));
}
/** One value of the page's IndexedDB (structured clone of what the page stored). */
function stored(key) {
  return page.evaluate((k) => new Promise((resolve, reject) => {
    const open = indexedDB.open('lathe');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const get = open.result.transaction('kv').objectStore('kv').get(k);
      get.onsuccess = () => { resolve(get.result === undefined ? null : { type: typeof get.result }); open.result.close(); };
      get.onerror = () => reject(get.error);
    };
  }), key);
}
const pageHash = () => page.textContent('[data-testid=weights-hash]');
/** Blanks the status line, so waitDone waits for the next run's "Done". */
const forgetStatus = () => page.$eval('[data-testid=status]', (el) => { el.textContent = '(waiting for the next run)'; });

try {
  await test('page opens with iris ready and one click trains it to the native weights', async () => {
    await page.goto(hooks);
    await page.waitForFunction(() => !document.querySelector('[data-testid=train]').disabled, null, { timeout: 20000 });
    const experiment = await experimentInPage();
    assert(experiment.data.builtin === 'iris', `the page opened with ${JSON.stringify(experiment.data)}, not iris`);
    await page.waitForSelector('[data-testid=preview] tbody tr:not(.spacer)');
    await shot('step-1-data');
    for (const [n, s] of [[2, 'prepare'], [3, 'model']]) {
      await step(s);
      await page.waitForTimeout(300);
      await shot(`step-${n}-${s}`);
    }
    await trainAndWait();
    await shot('step-4-train');
    const browserHash = await page.textContent('[data-testid=weights-hash]');
    const native = nativeRun('examples/iris.experiment.json');
    assert(browserHash === native.weights_sha256, `browser ${browserHash} != native ${native.weights_sha256}`);
    await step('evaluate');
    // The evaluation view shows the same confusion matrix as the CLI, and a cell lists its rows.
    const confusion = await page.$$eval('[data-testid=confusion] tr', (rows) => rows.slice(1).map((r) => [...r.querySelectorAll('button')].map((b) => Number(b.textContent))));
    assert(JSON.stringify(confusion) === JSON.stringify(native.metrics.test.confusion),
      `confusion in the page ${JSON.stringify(confusion)} != native ${JSON.stringify(native.metrics.test.confusion)}`);
    await page.click('[data-testid=confusion] tr:nth-child(2) button');
    const listed = await page.textContent('[data-testid=cell-rows]');
    assert(new RegExp(`^${native.metrics.test.confusion[0][0]} test rows of class setosa predicted as setosa: data rows [0-9]`).test(listed), `cell rows: "${listed}"`);
    const accuracy = await page.$$eval('[data-testid=metrics] tbody tr', (rows) => rows.map((r) => [...r.cells].map((c) => c.textContent)));
    const testRow = accuracy.find((r) => r[0] === 'test');
    assert(testRow && Number(testRow[3]).toFixed(4) === native.metrics.test.accuracy.toFixed(4),
      `test accuracy in the page ${testRow && testRow[3]} != native ${native.metrics.test.accuracy}`);
    const curves = await page.$eval('[data-testid=roc-chart]', (el) => el.chartData.length);
    assert(curves === 3, `iris has 3 classes but the ROC chart shows ${curves} one-vs-rest curves`);
    await shot('step-5-evaluate');
    await step('deploy');
    await shot('step-6-deploy');
  });

  await test('the stepper shows one step at a time, by mouse and keyboard, and the state lives in the URL', async () => {
    for (const s of ['data', 'prepare', 'model', 'train', 'evaluate', 'deploy']) {
      await page.focus(`[data-testid=step-${s}]`);
      await page.keyboard.press('Enter');
      const visible = await page.$$eval('main > section', (els) => els.filter((e) => !e.hidden).map((e) => e.id));
      assert(JSON.stringify(visible) === JSON.stringify([`step-${s}`]), `after choosing ${s}, visible: ${visible}`);
      assert(await page.getAttribute(`[data-testid=step-${s}]`, 'aria-current') === 'step', `${s} is not marked current`);
    }
    const summary = await page.textContent('[data-testid=step-data] .step-summary');
    assert(/iris · 150 rows/.test(summary), `the Data step does not say what it produced: "${summary}"`);
    await step('train');
    await setControl('[data-testid=epochs]', '7');
    await setControl('[data-testid=seed]', '5');
    const x = await experimentInPage();
    assert(x.train.epochs === 7 && x.seed === 5, `controls did not write the experiment: ${JSON.stringify(x.train)}, seed ${x.seed}`);
    const link = page.url();
    assert(/#experiment=/.test(link) && JSON.parse(decodeURIComponent(link.split('#experiment=')[1])).train.epochs === 7, 'the URL does not hold the edited experiment');
    // A shared link reproduces the set-up in a fresh tab without local storage.
    const other = await context.newPage();
    await other.evaluate(() => localStorage.clear()).catch(() => {});
    await other.goto(link);
    await other.click('[data-testid=step-train]');
    await other.waitForFunction(() => document.querySelector('[data-testid=epochs]').value === '7', null, { timeout: 10000 });
    assert(await other.inputValue('[data-testid=seed]') === '5', 'the link did not restore the seed');
    await other.close();
    // And a reload restores it too (URL and local storage).
    await page.reload();
    await page.waitForFunction(() => !document.querySelector('[data-testid=train]').disabled, null, { timeout: 20000 });
    assert((await experimentInPage()).train.epochs === 7, 'a reload lost the edited experiment');
  });

  await test('training settings write the experiment; live curves and progress; the downloaded experiment replays to the same weights in the CLI', async () => {
    await useExample('wine');
    await step('prepare');
    await setControl('#split-validation', '20');
    await step('train');
    await setControl('[data-testid=optimizer]', 'adam');
    await setControl('[data-testid=learning-rate]', '0.02');
    await setControl('#schedule', 'cosine');
    await setControl('[data-testid=batch-size]', '8');
    await setControl('[data-testid=epochs]', '40');
    await setControl('#early-stopping', true);
    await setControl('#patience', '4');
    await setControl('[data-testid=seed]', '11');
    const x = await experimentInPage();
    assert(x.train.optimizer === 'adam' && x.train.learning_rate === 0.02 && x.train.batch_size === 8 && x.train.epochs === 40 &&
      x.train.schedule.kind === 'cosine' && x.train.early_stopping.patience === 4 && x.seed === 11 &&
      x.prepare.find((o) => o.op === 'split').validation === 0.2, `the experiment does not hold the settings: ${JSON.stringify(x)}`);
    await page.click('[data-testid=train]');
    await waitDone();
    await shot('train-wine-curves');
    const browserHash = await page.textContent('[data-testid=weights-hash]');
    await step('deploy');
    const { name, text } = await downloadText('[data-testid=download-experiment]');
    assert(name === 'wine.experiment.json', `downloaded as ${name}`);
    const native = nativeRun(`examples/${name}`, text);
    assert(browserHash === native.weights_sha256, `browser ${browserHash} != native ${native.weights_sha256} for the downloaded experiment`);
    const progressText = await page.textContent('[data-testid=progress-text]');
    const early = native.epochs < 40 ? ' · stopped early; the weights of epoch [0-9]+ are kept' : '';
    assert(new RegExp(`^Finished ${native.epochs} epochs in [0-9.]+ s · [0-9,]+ samples/s${early}$`).test(progressText), `progress text: "${progressText}" (the CLI ran ${native.epochs} epochs)`);
    const loss = await page.$eval('[data-testid=loss-chart]', (el) => el.chartData);
    assert(loss[0].length === native.epochs, `the loss chart has ${loss[0].length} epochs, the CLI ran ${native.epochs}`);
    assert(loss[1].every((v) => v > 0) && loss[2].every((v) => v > 0), 'the loss curves have missing points');
    const acc = await page.$eval('[data-testid=accuracy-chart]', (el) => el.chartData);
    assert(acc[2].every((v) => v >= 0 && v <= 1) && acc[2].length === native.epochs, 'the validation accuracy curve is incomplete');
  });

  await test('binary ROC and PR curves agree with the CLI\'s AUC and average precision; misclassified rows are listed', async () => {
    await useExample('breast_cancer');
    await trainAndWait();
    const native = nativeRun('examples/breast_cancer.experiment.json');
    await step('evaluate');
    const [roc] = await page.$eval('[data-testid=roc-chart]', (el) => el.chartData);
    const [pr] = await page.$eval('[data-testid=pr-chart]', (el) => el.chartData);
    let area = 0;
    for (let i = 1; i < roc[0].length; i++) area += (roc[0][i] - roc[0][i - 1]) * (roc[1][i] + roc[1][i - 1]) / 2;
    const positive = native.metrics.test.per_class[1];
    assert(close(area, positive.roc_auc, 1e-9), `area under the plotted ROC ${area} != CLI roc_auc ${positive.roc_auc}`);
    let ap = 0; // PR is drawn as steps: (R_{k-1}, P_k) then (R_k, P_k)
    for (let i = 1; i < pr[0].length; i += 1) ap += (pr[0][i] - pr[0][i - 1]) * pr[1][i];
    assert(close(ap, positive.average_precision, 1e-9), `area under the plotted PR ${ap} != CLI average precision ${positive.average_precision}`);
    const wrong = native.metrics.test.confusion.reduce((s, row, t) => s + row.reduce((a, n, p) => a + (t === p ? 0 : n), 0), 0);
    const listed = await page.$$eval('[data-testid=misclassified] tbody tr', (rows) => rows.length);
    assert(listed === Math.min(60, wrong), `${listed} misclassified rows listed, the CLI's confusion matrix has ${wrong}`);
    await shot('evaluate-binary');
  });

  await test('regression shows predicted against actual and residuals that give the CLI\'s R²', async () => {
    await useExample('diabetes');
    await trainAndWait();
    const native = nativeRun('examples/diabetes.experiment.json');
    await step('evaluate');
    assert(await page.isVisible('[data-testid=regression]'), 'the regression view is hidden');
    const [, points] = await page.$eval('[data-testid=scatter-chart]', (el) => el.chartData);
    const [, residuals] = await page.$eval('[data-testid=residual-chart]', (el) => el.chartData);
    const [actual, predicted] = points;
    assert(actual.length === native.metrics.test.rows, `${actual.length} points for ${native.metrics.test.rows} test rows`);
    const mean = actual.reduce((a, b) => a + b, 0) / actual.length;
    let se = 0, tot = 0;
    actual.forEach((y, i) => { se += (predicted[i] - y) ** 2; tot += (y - mean) ** 2; });
    assert(close(1 - se / tot, native.metrics.test.r2, 1e-5), `R² of the plotted points ${1 - se / tot} != CLI ${native.metrics.test.r2}`);
    assert(residuals[1].every((r, i) => Math.abs(r - (predicted[i] - actual[i])) < 1e-9), 'residuals are not predicted − actual');
    await shot('evaluate-regression');
  });

  await test('a CNN on digit images trains to the native weights and shows misclassified digits as thumbnails', async () => {
    const templateText = exampleText('digits_cnn', (x) => { x.model = { template: 'cnn', activation: 'relu' }; x.train.epochs = 3; });
    await setExperiment(templateText);
    await step('model');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=layers] tbody tr').length > 5, null, { timeout: 20000 });
    await step('train');
    await setControl('[data-testid=epochs]', '2');
    await trainAndWait(120000);
    const browserHash = await page.textContent('[data-testid=weights-hash]');
    const native = nativeRun('examples/digits_cnn.experiment.json', JSON.stringify(await experimentInPage()));
    assert(browserHash === native.weights_sha256, `browser ${browserHash} != native ${native.weights_sha256}`);
    await step('evaluate');
    const wrong = native.metrics.test.confusion.reduce((s, row, t) => s + row.reduce((a, n, p) => a + (t === p ? 0 : n), 0), 0);
    const thumbs = await page.$$eval('[data-testid=thumbnails] canvas', (els) => els.map((c) => [c.width, c.height]));
    assert(wrong > 0 && thumbs.length === Math.min(60, wrong), `${thumbs.length} thumbnails for ${wrong} misclassified digits`);
    assert(thumbs.every(([w, hh]) => w === 8 && hh === 8), 'thumbnails are not 8×8 images');
    await shot('evaluate-digit-thumbnails');
  });

  await test('a spiral (synthetic) experiment trains to the native weights with a live decision boundary', async () => {
    await useExample('spiral');
    await step('train');
    await setControl('[data-testid=epochs]', '2000'); // long enough to watch it change
    await page.click('[data-testid=train]');
    // two drawings seen while the run is still going (one check, so no race with the end)
    await page.waitForFunction(() => Number(document.querySelector('[data-testid=boundary]').dataset.draws || 0) >= 2
      && !/^Done/.test(document.querySelector('[data-testid=status]').textContent), null, { timeout: 30000 })
      .catch(async () => { throw new Error(`the boundary was not drawn twice during the run (status "${await status()}")`); });
    await waitDone();
    await shot('train-spiral-boundary');
    const browserHash = await page.textContent('[data-testid=weights-hash]');
    const native = nativeRun('examples/spiral.experiment.json', JSON.stringify(await experimentInPage()));
    assert(browserHash === native.weights_sha256, `browser ${browserHash} != native ${native.weights_sha256}`);
    // The grid is aligned with the data: the class painted under each training point agrees
    // with the labels about as often as the model's training accuracy says.
    const agree = await page.$eval('[data-testid=boundary]', (el) => {
      const b = el.boundaryData;
      const n = b.size, C = b.classes;
      let hits = 0;
      for (let i = 0; i < b.labels.length; i++) {
        const c = Math.min(n - 1, Math.floor(((b.points[2 * i] - b.x0) / (b.x1 - b.x0)) * n));
        const r = Math.min(n - 1, Math.floor(((b.y1 - b.points[2 * i + 1]) / (b.y1 - b.y0)) * n));
        let best = 0;
        for (let k = 1; k < C; k++) if (b.probs[(r * n + c) * C + k] > b.probs[(r * n + c) * C + best]) best = k;
        hits += best === b.labels[i];
      }
      return hits / b.labels.length;
    });
    assert(Math.abs(agree - native.metrics.train.accuracy) < 0.06, `the boundary agrees with ${agree} of the training labels; training accuracy is ${native.metrics.train.accuracy}`);
  });

  await test('deploy: the model file downloads with the page\'s weights hash, and the CLI command names the experiment file', async () => {
    await step('deploy');
    const { name, text } = await downloadText('[data-testid=download-model]');
    const model = JSON.parse(text);
    const hash = await page.textContent('[data-testid=weights-hash]');
    assert(name === 'spiral.lathe.json' && model.format === 'lathe-model', `downloaded ${name}, format ${model.format}`);
    assert(model.weights_sha256 === hash, `model file hash ${model.weights_sha256} != page ${hash}`);
    assert(model.metrics && model.metrics.test && model.metrics.test.rows > 0, 'the model file has no test metrics');
    assert((await page.textContent('[data-testid=cli-command]')) === 'lathe run spiral.experiment.json', 'CLI command');
  });

  await test('the model step lists each layer\'s shape, parameters and FLOPs, and explains an invalid design inline', async () => {
    await useExample('iris');
    await step('model');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=layers] tbody tr').length === 4, null, { timeout: 10000 });
    const rows = await page.$$eval('[data-testid=layers] tbody tr', (trs) => trs.map((r) => [...r.cells].map((c) => c.textContent)));
    const params = rows.slice(1).reduce((s, r) => s + Number(r[3].replace(/,/g, '')), 0);
    const native = nativeRun('examples/iris.experiment.json');
    assert(params === native.parameters, `the layer table sums to ${params} parameters, the CLI has ${native.parameters}`);
    assert(rows[1][2] === '16' && rows[1][4] === String(2 * 4 * 16), `dense 4→16: ${rows[1]}`);
    await setControl('[data-testid=template]', 'cnn');
    await page.waitForSelector('[data-testid=model-error]:not([hidden])', { timeout: 10000 });
    const message = await page.textContent('[data-testid=model-error]');
    assert(/conv2d needs an image input/.test(message), `the design error does not explain itself: "${message}"`);
    await shot('model-invalid');
    await setControl('[data-testid=template]', 'mlp');
    await setControl('[data-testid=hidden]', '8, 6');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=layers] tbody tr').length === 6, null, { timeout: 10000 });
    assert(await page.isHidden('[data-testid=model-error]'), 'the error stays after a valid design');
  });

  await test('prepare: steps are added, moved and removed with a live before-and-after preview that agrees with the CLI\'s fitted preparation; an order the core refuses is marked on its step', async () => {
    await useExample('iris');
    await step('prepare');
    const summary = () => page.textContent('[data-testid=prepare-summary]');
    const waitSummary = (re) => page.waitForFunction((src) => new RegExp(src).test((document.querySelector('[data-testid=prepare-summary]') || {}).textContent || ''), re.source, { timeout: 15000 });
    await waitSummary(/^Before: 150 rows × 5 columns\. After: 120 training, 0 validation and 30 test rows × 4 features; 3 classes\./);
    // Ground truth: the model file of `lathe run --out` holds the standardisation fitted on the
    // training rows (shift = mean, scale = 1 / standard deviation).
    const modelFile = path.join(scratch, 'iris-prepare.lathe.json');
    execFileSync(cli, ['run', 'examples/iris.experiment.json', '--out', modelFile, '--quiet'], { cwd: root });
    const prep = JSON.parse(fs.readFileSync(modelFile, 'utf8')).preparation;
    const table = async (id) => page.$$eval(`[data-testid=${id}] tbody tr`, (trs) => trs.map((r) => [...r.cells].map((c) => c.textContent)));
    const num = (t) => Number(t.replace(/,/g, ''));
    const near = (shown, exact, what) => assert(Math.abs(num(shown) - exact) <= 0.006 * Math.max(1, Math.abs(exact)), `${what}: the page shows ${shown}, the CLI's preparation gives ${exact}`);
    const stats = await table('preview-stats');
    prep.features.forEach((name, j) => {
      const row = stats[j];
      assert(row[0] === name, `statistics row ${j} is ${row[0]}, not ${name}`);
      near(row[1], prep.shift[j], `${name}: mean before`);
      near(row[2], 1 / prep.scale[j], `${name}: standard deviation before`);
      assert(row[5] === '0' && row[6] === '1', `${name} after standardising: mean ${row[5]}, std ${row[6]}`);
    });
    const csv = fs.readFileSync(path.join(root, 'data/builtin/iris.csv'), 'utf8').trim().split('\n').map((l) => l.split(','));
    const before = await table('preview-before');
    const after = await table('preview-after');
    assert(before.length === 8 && after.length === 8, `${before.length} rows before, ${after.length} after`);
    before.forEach((cells, i) => {
      const raw = csv[Number(cells[0])]; // "table row" counts data rows from 1: the CSV line below the header
      assert(cells.slice(1).every((c, j) => (j < 4 ? Number(c) === Number(raw[j]) : c === raw[j])), `before, row ${i}: ${cells.slice(1)} is not the CSV's ${raw}`);
      prep.features.forEach((_, j) => near(after[i][j], (Number(raw[j]) - prep.shift[j]) * prep.scale[j], `after, row ${i}, feature ${j}`));
      assert(after[i][4] === raw[4], `after, row ${i}: class ${after[i][4]}, the CSV says ${raw[4]}`);
    });
    await shot('step-2-prepare');
    // Add drop_duplicates: the rows left are the file's distinct rows.
    const distinct = new Set(csv.slice(1).map((r) => r.join())).size;
    await page.selectOption('[data-testid=add-step]', 'drop_duplicates');
    await page.click('[data-testid=add-step-button]');
    const ops = async () => (await experimentInPage()).prepare.map((op) => op.op);
    assert((await ops()).join() === 'drop_duplicates,split,standardize', `after adding: ${await ops()}`);
    await step('prepare');
    await page.waitForFunction((n) => {
      const m = ((document.querySelector('[data-testid=prepare-summary]') || {}).textContent || '').match(/After: (\d+) training, (\d+) validation and (\d+) test/);
      return m && Number(m[1]) + Number(m[2]) + Number(m[3]) === n;
    }, distinct, { timeout: 15000 }).catch(async () => { throw new Error(`drop_duplicates: expected ${distinct} rows, "${await summary()}"`); });
    assert(distinct < 150, 'iris has a repeated row');
    // Move standardize above the split: the core refuses it, on that step; moving it back mends it.
    await page.click('[data-testid=prepare-list] li:nth-child(3) [data-action=up]');
    const focused = await page.evaluate(() => [document.activeElement.dataset.action, document.activeElement.dataset.index].join());
    assert(focused === 'up,1', `after a move the focus is on ${focused}, not the moved step's button`);
    await page.waitForSelector('[data-testid=prepare-list] li.invalid', { timeout: 15000 });
    const marked = await page.$eval('[data-testid=prepare-list] li.invalid', (li) => [li.dataset.op, li.querySelector('.step-error').textContent]);
    assert(marked[0] === 'standardize' && /^Step 2: standardize is fitted on the training rows, so it must come after split/.test(marked[1]), `the refused order: ${marked}`);
    assert(/No preview/.test(await page.textContent('[data-testid=prepare-preview]')), 'a preview is shown for steps that cannot run');
    await shot('step-2-prepare-invalid');
    await page.keyboard.press('Tab'); // to the moved step's "down" button
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => !document.querySelector('[data-testid=prepare-list] li.invalid') && document.querySelector('[data-testid=prepare-summary]'), null, { timeout: 15000 });
    assert((await ops()).join() === 'drop_duplicates,split,standardize', `moved back by keyboard: ${await ops()}`);
    // Remove the scaling, add min-max: every feature's training range becomes [0, 1].
    await step('prepare');
    await page.click('[data-testid=prepare-list] li[data-op=standardize] [data-action=remove]');
    await page.selectOption('[data-testid=add-step]', 'minmax');
    await page.click('[data-testid=add-step-button]');
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=preview-stats] tbody tr')].slice(0, 4)
      .every((r) => r.cells[7].textContent === '0' && r.cells[8].textContent === '1'), null, { timeout: 15000 })
      .catch(async () => { throw new Error(`min-max statistics: ${JSON.stringify(await table('preview-stats'))}`); });
    assert((await ops()).join() === 'drop_duplicates,split,minmax', `after removing and adding: ${await ops()}`);
    const text = JSON.stringify(await experimentInPage());
    const native = nativeRun('prepare-edited.experiment.json', text);
    assert(native.metrics.train.rows + native.metrics.test.rows === distinct, `the CLI trains the edited steps on ${native.metrics.train.rows} + ${native.metrics.test.rows} rows`);
  });

  await test('model: the layer editor starts from a template\'s layers (same weights in the CLI), adds, edits, moves and removes layers, and marks the layer the core refuses', async () => {
    const templateText = exampleText('digits_cnn', (x) => { x.model = { template: 'cnn', activation: 'relu' }; x.train.epochs = 3; });
    await setExperiment(templateText);
    await step('model');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=layers] tbody tr').length > 5, null, { timeout: 15000 });
    await page.click('[data-testid=edit-layers]');
    const kinds = () => page.$$eval('[data-testid=layer-list] > li', (lis) => lis.map((li) => li.dataset.type));
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=layer-list] > li').length > 0, null, { timeout: 10000 });
    const expanded = await experimentInPage();
    assert(!expanded.model.template && Array.isArray(expanded.model.layers), `the model is not a layer list: ${JSON.stringify(expanded.model)}`);
    assert((await kinds()).join() === 'conv2d,relu,max_pool,conv2d,relu,max_pool,flatten,dense', `the cnn template's layers: ${await kinds()}`);
    const a = nativeRun('digits-template.experiment.json', templateText);
    const b = nativeRun('digits-layers.experiment.json', JSON.stringify(expanded));
    assert(a.weights_sha256 === b.weights_sha256, `the template's layer list trains other weights: ${a.weights_sha256} != ${b.weights_sha256} (${JSON.stringify(expanded.model.layers)})`);
    // Add a dropout: it goes before the output layer.
    const count = (await kinds()).length;
    await page.selectOption('[data-testid=add-layer]', 'dropout');
    await page.click('[data-testid=add-layer-button]');
    let list = await kinds();
    assert(list.length === count + 1 && list[list.length - 2] === 'dropout' && list[list.length - 1] === 'dense', `after adding a dropout: ${list}`);
    // Edit the first conv2d's filters: its parameters in the table follow (filters · 1 · k² + filters).
    await page.fill('[data-testid=layer-list] > li:first-child [data-field=filters]', '4');
    await page.press('[data-testid=layer-list] > li:first-child [data-field=filters]', 'Tab');
    const kernel = Number(await page.inputValue('[data-testid=layer-list] > li:first-child [data-field=kernel]'));
    await page.waitForFunction((p) => { const r = document.querySelectorAll('[data-testid=layers] tbody tr')[1]; return r && r.cells[3].textContent === String(p); },
      4 * kernel * kernel + 4, { timeout: 10000 }).catch(async () => { throw new Error(`conv2d with 4 filters: ${await page.textContent('[data-testid=layers] tbody')}`); });
    const focusedField = await page.evaluate(() => document.activeElement.dataset.field);
    assert(focusedField === 'kernel', `Tab after an edit lands on ${focusedField}, not the next field`);
    // Move the flatten to the top: the conv2d after it is refused, on its own line.
    await step('model');
    const flatten = (await kinds()).indexOf('flatten');
    for (let i = flatten; i > 0; i--) await page.click(`[data-testid=layer-list] > li:nth-child(${i + 1}) [data-action=up]`);
    await page.waitForSelector('[data-testid=layer-list] > li.invalid', { timeout: 10000 });
    const refused = await page.$eval('[data-testid=layer-list] > li.invalid', (li) => [li.dataset.type, li.querySelector('.step-error').textContent]);
    assert(refused[0] === 'conv2d' && /^Layer 2: conv2d needs an image input \(C, H, W\), but the layer before it \(flatten\) gives 64 flat features/.test(refused[1]),
      `the refused layer: ${refused}`);
    assert(await page.isHidden('[data-testid=model-error]'), 'the message shows twice (above and on the layer)');
    await shot('step-3-layer-editor-invalid');
    // Remove the misplaced flatten: valid again, and the page's design trains as the CLI's.
    await page.click('[data-testid=layer-list] > li:first-child [data-action=remove]');
    await page.waitForFunction(() => !document.querySelector('[data-testid=layer-list] > li.invalid') && document.querySelectorAll('[data-testid=layers] tbody tr').length > 1, null, { timeout: 10000 });
    list = await kinds();
    assert(!list.includes('flatten') && list[0] === 'conv2d', `after removing: ${list}`);
    await shot('step-3-layer-editor');
    const edited = await experimentInPage();
    const params = (await page.$$eval('[data-testid=layers] tbody tr', (trs) => trs.slice(1).map((r) => Number(r.cells[3].textContent.replace(/,/g, ''))))).reduce((s, v) => s + v, 0);
    const c = nativeRun('digits-edited.experiment.json', JSON.stringify(edited));
    assert(c.parameters === params, `the layer table sums to ${params} parameters, the CLI builds ${c.parameters}`);
  });

  await test('a diverging run stops with the core\'s message, the CLI\'s word for word, and the page trains again', async () => {
    const text = exampleText('diabetes', (x) => { x.train.learning_rate = 5; x.train.optimizer = 'sgd'; });
    await setExperiment(text);
    await forgetStatus();
    await step('train');
    await page.click('[data-testid=train]');
    await page.waitForSelector('[data-testid=error]:not([hidden])', { timeout: 20000 });
    const message = (await page.textContent('[data-testid=error]')).trim();
    const file = path.join(scratch, 'diverge.experiment.json');
    fs.writeFileSync(file, text);
    let cliStderr = '', exitCode = 0;
    try { execFileSync(cli, ['run', file, '--quiet'], { cwd: root, stdio: 'pipe' }); } catch (e) { cliStderr = e.stderr.toString(); exitCode = e.status; }
    assert(/^training diverged at epoch \d+, batch \d+: the loss is (infinite|NaN); the weights of the last completed epoch were kept/.test(message), `the page says "${message}"`);
    assert(exitCode === 1 && cliStderr.includes(message), `the CLI (exit ${exitCode}) says "${cliStderr.trim()}", the page "${message}"`);
    await page.waitForFunction(() => !document.querySelector('[data-testid=train]').disabled, null, { timeout: 10000 });
    assert(/stopped/i.test(await status()), `the status after divergence: "${await status()}"`);
    // the last finished run (another experiment) is kept, and said to be an earlier run's
    const trainSummary = await page.textContent('[data-testid=step-train] .step-summary');
    assert(/^(earlier run · \d+ epochs|not run yet)$/.test(trainSummary), `the Train step's summary after divergence: "${trainSummary}"`);
    const stale = () => page.$eval('[data-testid=evaluate-stale]', (el) => !el.hidden); // on a step not shown
    assert(await stale() === trainSummary.startsWith('earlier'), 'the Evaluate step does not say its results are an earlier run\'s');
    await shot('train-diverged');
    await setExperiment(exampleText('diabetes'));
    await forgetStatus();
    await trainAndWait();
    assert(await page.isHidden('[data-testid=error]'), 'the divergence message stays after a good run');
    assert(await page.textContent('[data-testid=step-train] .step-summary') === 'done · 300 epochs' && !(await stale()),
      `after a good run: "${await page.textContent('[data-testid=step-train] .step-summary')}"`);
  });

  await test('a broken experiment shows where the problem is and the page keeps working', async () => {
    const good = fs.readFileSync(path.join(root, 'examples/iris.experiment.json'), 'utf8');
    await step('deploy');
    await page.fill('[data-testid=experiment]', good.replace('"batch_size": 16', '"batch_size": 0'));
    await step('train');
    await page.click('[data-testid=train]');
    await page.waitForSelector('[data-testid=error]:not([hidden])', { timeout: 20000 });
    const message = await page.textContent('[data-testid=error]');
    assert(message.includes('train.batch_size'), `the error does not name the field: "${message}"`);
    await shot('page-error');
    await step('deploy');
    await page.fill('[data-testid=experiment]', good);
    assert(!(await page.isDisabled('[data-testid=train]')), 'the Train button stayed disabled after an error');
    await trainAndWait();
    assert(await page.isHidden('[data-testid=error]'), 'the old error is still shown after a good run');
  });

  await test('an uploaded CSV trains; a malformed one is refused with its line, and the page keeps working', async () => {
    const rows = ['height,weight,kind'];
    for (let i = 0; i < 60; i++) rows.push(`${150 + i},${50 + (i % 7)},${i < 30 ? 'short' : 'tall'}`);
    const bad = rows.slice(0, 10).concat(['160,55'], rows.slice(10)).join('\n');
    await step('data');
    await page.setInputFiles('[data-testid=upload]', { name: 'people.csv', mimeType: 'text/csv', buffer: Buffer.from(bad) });
    await page.waitForFunction(() => JSON.parse(document.querySelector('[data-testid=experiment]').value).data.file === 'people.csv');
    await page.waitForSelector('[data-testid=data-error]:not([hidden])', { timeout: 10000 });
    const inline = await page.textContent('[data-testid=data-error]');
    assert(inline.includes('people.csv') && inline.includes('line 11'), `the Data step does not say where: "${inline}"`);
    await step('train');
    await page.click('[data-testid=train]');
    await page.waitForSelector('[data-testid=error]:not([hidden])', { timeout: 20000 });
    const message = await page.textContent('[data-testid=error]');
    assert(message.includes('people.csv') && message.includes('line 11') && message.includes('2 fields'),
      `the error does not say which file and line: "${message}"`);
    await step('data');
    await page.setInputFiles('[data-testid=upload]', { name: 'people.csv', mimeType: 'text/csv', buffer: Buffer.from(rows.join('\n')) });
    await page.waitForFunction(() => /60 rows/.test(document.querySelector('[data-testid=data-summary]').textContent), null, { timeout: 10000 });
    await trainAndWait();
    const experiment = await experimentInPage();
    assert(experiment.data.target === 'kind', `the target is ${experiment.data.target}, not the last column`);
    await shot('page-upload-trained');
  });

  await test('the data step stays fast on 100,000 rows: virtualised preview, profile and class balance match the file', async () => {
    const lines = ['a,b,colour,label'];
    const counts = { alpha: 0, beta: 0 };
    let missing = 0;
    for (let i = 0; i < 100000; i++) {
      const label = (i * 7919) % 3 === 0 ? 'alpha' : 'beta';
      counts[label]++;
      const colour = i % 97 === 0 ? '' : ['red', 'green', 'blue'][i % 3];
      if (colour === '') missing++;
      lines.push(`${i},${((i * 37) % 1000) / 10},${colour},${label}`);
    }
    await step('data');
    await page.setInputFiles('[data-testid=upload]', { name: 'big.csv', mimeType: 'text/csv', buffer: Buffer.from(lines.join('\n')) });
    await page.waitForFunction(() => /100,000 rows × 4 columns/.test(document.querySelector('[data-testid=data-summary]').textContent), null, { timeout: 30000 });
    const rendered = await page.$$eval('[data-testid=preview] tbody tr:not(.spacer)', (trs) => trs.length);
    assert(rendered > 5 && rendered < 80, `${rendered} preview rows are in the DOM for 100,000 rows`);
    await page.$eval('#preview-scroll', (el) => { el.scrollTop = el.scrollHeight; });
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=preview] tbody th')].some((th) => th.textContent === '100000'), null, { timeout: 5000 });
    const last = await page.$$eval('[data-testid=preview] tbody tr:not(.spacer)', (trs) => [...trs.at(-1).cells].map((c) => c.textContent));
    assert(last[1] === '99999' && last[4] === lines.at(-1).split(',')[3], `the last row reads ${last}`);
    const balance = await page.$$eval('[data-testid=balance] li', (lis) => lis.map((li) => li.textContent));
    assert(balance.length === 2 && balance.every((t) => Object.entries(counts).some(([k, n]) => t.startsWith(k) && t.includes(`${n.toLocaleString('en-US')} (`))),
      `class balance ${balance} != ${JSON.stringify(counts)}`);
    const colourRow = await page.$$eval('[data-testid=profile] tbody tr', (trs) => trs.map((r) => [...r.cells].map((c) => c.textContent)).find((c) => c[0] === 'colour'));
    assert(colourRow && colourRow[2] === missing.toLocaleString('en-US'), `colour missing ${colourRow && colourRow[2]} != ${missing}`);
    await shot('data-100k');
  });

  await test('user-supplied text is shown as text, never run as HTML', async () => {
    const header = '<img src=x onerror=alert(1)>';
    const csv = [`"${header}",label`, '1,a', '2,b', '3,a', '4,b'].join('\n');
    await step('data');
    await page.setInputFiles('[data-testid=upload]', { name: '<b>x</b>.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await page.waitForFunction(() => /5 rows|4 rows/.test(document.querySelector('[data-testid=data-summary]').textContent), null, { timeout: 10000 });
    assert(await page.$$eval('img, b', (els) => els.length) === 0, 'user text became elements');
    const names = await page.$$eval('[data-testid=profile] tbody th', (ths) => ths.map((t) => t.textContent));
    assert(names.some((n) => n.startsWith(header)), `the column name is not shown as text: ${names}`);
  });

  await test('training stays responsive, and pause, resume and cancel work', async () => {
    const long = JSON.parse(fs.readFileSync(path.join(root, 'examples/digits.experiment.json'), 'utf8'));
    long.train.epochs = 2000; // long enough to interact with; it is cancelled below
    await step('deploy');
    await page.fill('[data-testid=experiment]', JSON.stringify(long, null, 2));
    await step('train');
    await page.click('[data-testid=train]');
    await page.waitForFunction(() => /^Epoch [0-9]+ of 2000/.test(document.querySelector('[data-testid=status]').textContent), null, { timeout: 30000 });
    const eta = await page.textContent('[data-testid=progress-text]');
    assert(/^Epoch [0-9]+ of 2000, batch [0-9]+ of [0-9]+ · [0-9,]+ samples\/s · about ([0-9]+:[0-9]{2}|[0-9]+ h [0-9]+ min) left$/.test(eta), `progress text during training: "${eta}"`);
    // Main-thread latency of a click while the worker trains: event creation to handler.
    const delays = await page.evaluate(async () => {
      const button = document.getElementById('pause');
      const out = [];
      for (let i = 0; i < 6; i++) {
        const delay = new Promise((resolve) => button.addEventListener('click', (e) => resolve(performance.now() - e.timeStamp), { once: true }));
        button.click();
        out.push(await delay);
        await new Promise((r) => setTimeout(r, 100));
      }
      return out;
    });
    assert(Math.max(...delays) < 100, `a click waited ${Math.max(...delays).toFixed(1)} ms during training`);
    // six clicks toggled pause three times: running again now. Pause and check that it stops.
    await page.click('#pause');
    await page.waitForFunction(() => /paused/.test(document.querySelector('[data-testid=status]').textContent), null, { timeout: 5000 });
    await page.waitForTimeout(100);
    const before = await page.getAttribute('#progress', 'value');
    await page.waitForTimeout(400);
    assert(await page.getAttribute('#progress', 'value') === before, 'progress moved while paused');
    assert((await page.textContent('#pause')) === 'Resume', 'the pause button does not offer Resume');
    await page.click('#pause');
    await page.waitForFunction((b) => document.getElementById('progress').value > Number(b), before, { timeout: 10000 });
    await page.click('#cancel');
    await page.waitForFunction(() => /cancelled/.test(document.querySelector('[data-testid=status]').textContent), null, { timeout: 5000 });
    assert(!(await page.isDisabled('[data-testid=train]')), 'Train is disabled after cancel');
    assert((await experimentInPage()).train.epochs === 2000, 'cancel lost the experiment');
  });

  await test('closing the tab mid-training loses nothing: reopened, it offers the run and resumes from its checkpoint to the native weights', async () => {
    const text = exampleText('digits', (x) => { x.model.hidden = [512, 128]; x.train.epochs = 60; });
    const native = nativeRun('digits-resume.experiment.json', text);
    await setExperiment(text);
    await step('train');
    await page.click('[data-testid=train]');
    const saved = await waitSaved(3);
    await page.close(); // the worker dies with the tab
    page = watch(await context.newPage());
    await page.goto(hooks);
    await page.waitForSelector('[data-testid=resume-banner]:not([hidden])', { timeout: 20000 });
    const offer = await page.textContent('[data-testid=resume-banner]');
    assert(new RegExp(`interrupted at epoch ${saved} of 60`).test(offer), `the offer says: "${offer}" (saved epoch ${saved})`);
    assert(JSON.stringify(await experimentInPage()) === JSON.stringify(JSON.parse(text)), 'the reopened page lost the experiment');
    await shot('resume-offer');
    await page.click('[data-testid=resume-run]');
    await waitDone(120000);
    const from = Number(await page.getAttribute('#progress', 'data-start-epoch'));
    assert(from === saved, `the run restarted at epoch ${from}, not at the checkpoint's ${saved}`);
    const curve = await page.$eval('[data-testid=loss-chart]', (el) => el.chartData[0].length);
    assert(curve === 60, `the loss curve has ${curve} epochs after resuming, not 60`);
    assert(await pageHash() === native.weights_sha256, `resumed ${await pageHash()} != uninterrupted native ${native.weights_sha256}`);
    assert(await stored('checkpoint') === null, 'the finished run left its checkpoint to be offered again');
    // Reopening once more shows the finished run, and offers nothing to resume.
    await page.reload();
    await page.waitForFunction(() => !document.querySelector('[data-testid=train]').disabled, null, { timeout: 20000 });
    assert(await pageHash() === native.weights_sha256, 'the finished run is not kept across a reload');
    assert(await page.isHidden('[data-testid=resume-banner]'), 'a finished run is offered for resuming');
  });

  await test('the checkpoint downloaded mid-epoch resumes in the CLI, and a CLI checkpoint resumes in the page, to the same weights', async () => {
    // long enough that the pause lands mid-run however fast the engine has become
    const text = exampleText('digits', (x) => { x.model.hidden = [256]; x.train.epochs = 200; });
    await setExperiment(text);
    const experiment = await downloadText('[data-testid=download-experiment]');
    await step('train');
    await page.click('[data-testid=train]');
    await waitSaved(2);
    await page.click('#pause');
    await page.waitForFunction(() => /paused/.test(document.querySelector('[data-testid=status]').textContent), null, { timeout: 5000 });
    const ck = await downloadText('[data-testid=download-checkpoint]');
    assert(ck.name === 'digits.ck' && fs.readFileSync(ck.file).subarray(0, 8).toString() === 'LATHECK1', `the checkpoint download: ${ck.name}`);
    await page.click('#pause');
    await waitDone(120000);
    const hash = await pageHash();
    const resumed = JSON.parse(execFileSync(cli, ['train', experiment.file, '--resume', ck.file, '--json', '--quiet'], { cwd: root }).toString());
    assert(resumed.weights_sha256 === hash, `CLI resumed from the page's checkpoint: ${resumed.weights_sha256} != page ${hash}`);
    assert(nativeRun(experiment.file).weights_sha256 === hash, 'the page and an uninterrupted CLI run differ');
    // The other way: the CLI stops after 100 batches; the page continues its checkpoint.
    const cliCk = path.join(scratch, 'cli.ck');
    execFileSync(cli, ['run', experiment.file, '--checkpoint', cliCk, '--stop-after', '100', '--quiet'], { cwd: root });
    await forgetStatus();
    await page.setInputFiles('[data-testid=resume-file]', cliCk);
    await waitDone(120000);
    const start = ['start-epoch', 'start-batch', 'batches-per-epoch'].map((k) => page.getAttribute('#progress', `data-${k}`));
    const [epoch0, batch0, perEpoch] = (await Promise.all(start)).map(Number);
    assert(epoch0 * perEpoch + batch0 === 100, `the page resumed the CLI's checkpoint at epoch ${epoch0}, batch ${batch0}`);
    assert(await pageHash() === hash, `the page resumed the CLI checkpoint to ${await pageHash()}, not ${hash}`);
    // A checkpoint of another experiment is refused with the core's reason, and the page works on.
    await setExperiment(exampleText('digits', (x) => { x.train.epochs = 3; }));
    await step('train');
    await page.setInputFiles('[data-testid=resume-file]', ck.file);
    await page.waitForSelector('[data-testid=error]:not([hidden])');
    const refused = await page.textContent('[data-testid=error]');
    assert(/checkpoint/i.test(refused) && /experiment|owner|data/.test(refused), `a foreign checkpoint: "${refused}"`);
    assert(!(await page.isDisabled('[data-testid=train]')), 'Train is disabled after a refused checkpoint');
  });

  await test('a wasm trap and a crash in the worker are reported; the worker restarts from the checkpoint and reaches the native weights', async () => {
    const text = exampleText('digits', (x) => { x.model.hidden = [512, 128]; x.train.epochs = 40; });
    const native = nativeRun('digits-fault.experiment.json', text);
    await setExperiment(text);
    await step('train');
    await page.click('[data-testid=train]');
    const first = await waitSaved(2);
    await page.evaluate(() => window.latheTest.inject('trap'));
    await page.waitForFunction(() => /worker failed \(RuntimeError/.test(document.querySelector('[data-testid=error]').textContent), null, { timeout: 10000 });
    const trapped = await page.textContent('[data-testid=error]');
    assert(/restarted and training continues from the checkpoint of epoch [0-9]+/.test(trapped), `after a trap: "${trapped}"`);
    await shot('worker-fault');
    await waitSaved(first + 2);
    await page.evaluate(() => window.latheTest.inject('crash'));
    await page.waitForFunction(() => /injected crash/.test(document.querySelector('[data-testid=error]').textContent), null, { timeout: 10000 });
    await waitDone(120000);
    const from = Number(await page.getAttribute('#progress', 'data-start-epoch'));
    assert(from >= first + 2, `the last restart began at epoch ${from}, not at a checkpoint`);
    assert(await pageHash() === native.weights_sha256, `after two faults ${await pageHash()} != native ${native.weights_sha256}`);
  });

  await test('cancelling at any moment leaves a consistent state, and the next run reaches the native weights', async () => {
    await setExperiment(exampleText('digits', (x) => { x.train.epochs = 2000; }));
    await step('train');
    for (const delay of [0, 30, 300, 1500]) {
      await page.click('[data-testid=train]');
      if (delay) await page.waitForTimeout(delay);
      await page.click('#cancel');
      await page.waitForFunction(() => /cancelled/.test(document.querySelector('[data-testid=status]').textContent), null, { timeout: 10000 });
      const before = await page.getAttribute('#progress', 'value');
      await page.waitForTimeout(300);
      assert(/cancelled/.test(await status()), `after cancelling at ${delay} ms a late message changed the status: "${await status()}"`);
      assert(await page.getAttribute('#progress', 'value') === before, `progress moved after cancelling at ${delay} ms`);
      assert(!(await page.isDisabled('[data-testid=train]')) && await page.isDisabled('#pause') && await page.isDisabled('#cancel'),
        `the buttons are inconsistent after cancelling at ${delay} ms`);
      await page.evaluate(() => window.latheTest.idle());
      assert(await stored('checkpoint') === null, `a cancelled run (at ${delay} ms) is kept for resuming`);
    }
    const text = exampleText('digits', (x) => { x.train.epochs = 5; });
    await setExperiment(text);
    await trainAndWait();
    const native = nativeRun('digits-after-cancel.experiment.json', text);
    assert(await pageHash() === native.weights_sha256, `after cancels ${await pageHash()} != native ${native.weights_sha256}`);
  });

  await test('a full storage quota is reported in the page, not swallowed, and the page keeps working and saving', async () => {
    // Chromium 156 ignores CDP's Storage.overrideQuotaForOrigin (tried): the page's test hook
    // makes the next IndexedDB write fail with a QuotaExceededError instead.
    await page.evaluate(() => window.latheTest.failStorage('QuotaExceededError'));
    await setControl('[data-testid=seed]', '7');
    await page.waitForSelector('[data-testid=storage-error]:not([hidden])', { timeout: 10000 });
    const message = await page.textContent('[data-testid=storage-error]');
    assert(/storage .*is full/.test(message), `the quota message: "${message}"`);
    await shot('storage-full');
    await setControl('[data-testid=seed]', '42');
    await page.waitForSelector('[data-testid=storage-error]', { state: 'hidden', timeout: 10000 });
    assert((await experimentInPage()).seed === 42, 'the page stopped taking edits after the quota error');
  });

  await test('deploy: the trained model predicts the iris CSV byte for byte as `lathe predict`, and one row from a form; a damaged model file is refused naming the field', async () => {
    const text = exampleText('iris');
    await setExperiment(text);
    await forgetStatus();
    await trainAndWait();
    await step('deploy');
    const model = await downloadText('[data-testid=download-model]');
    await page.click('[data-testid=try-trained]');
    await page.waitForSelector('[data-testid=try-form] input');
    const iris = path.join(root, 'data/builtin/iris.csv');
    await page.setInputFiles('[data-testid=batch-upload]', iris);
    await page.waitForFunction(() => !document.querySelector('[data-testid=batch-download]').disabled, null, { timeout: 10000 });
    const predictions = await downloadText('[data-testid=batch-download]');
    const expected = execFileSync(cli, ['predict', model.file, iris], { cwd: root }).toString();
    const a = predictions.text.split('\n'), b = expected.split('\n');
    const at = a.findIndex((line, i) => line !== b[i]);
    assert(predictions.text === expected, `line ${at + 1}: page "${a[at]}" != lathe predict "${b[at]}"`);
    assert(predictions.name === 'iris.predictions.csv' && a.length === 152, `${predictions.name}: ${a.length} lines`);
    // One row typed into the form: row 51 of the file (a versicolor).
    const header = fs.readFileSync(iris, 'utf8').split('\n')[0].split(',');
    const row = fs.readFileSync(iris, 'utf8').split('\n')[51].split(',');
    for (let j = 0; j < 4; j++) await page.fill(`[data-testid=try-form] [data-column="${header[j]}"]`, row[j]);
    await page.click('[data-testid=try-predict]');
    await page.waitForSelector('[data-testid=prediction]');
    const shown = JSON.parse(await page.getAttribute('[data-testid=try-result]', 'data-values'));
    const cliRow = b[51].split(',');
    const formatted = await page.evaluate((v) => import('./try_model.js').then((m) => v.map(m.g9)), shown);
    assert(JSON.stringify(formatted) === JSON.stringify(cliRow.slice(2)), `form ${formatted} != lathe predict ${cliRow.slice(2)}`);
    assert((await page.textContent('[data-testid=prediction]')) === `species: ${cliRow[1]}`, `the form predicts "${await page.textContent('[data-testid=prediction]')}"`);
    await shot('step-6-try-form');
    // A damaged file: the loader's message names the field; the model in use stays.
    const damaged = path.join(scratch, 'damaged.lathe.json');
    fs.writeFileSync(damaged, model.text.replace(/("weights":\s*")./, '$1!'));
    await page.setInputFiles('[data-testid=model-upload]', damaged);
    await page.waitForSelector('[data-testid=try-error]:not([hidden])');
    const refused = await page.textContent('[data-testid=try-error]');
    assert(/^damaged\.lathe\.json: layers\[0\]\.weights: character 1 \('!'\) is not base64/.test(refused), `a damaged model: "${refused}"`);
    await page.click('[data-testid=try-predict]');
    await page.waitForFunction(() => document.querySelector('[data-testid=try-error]').hidden, null, { timeout: 5000 });
  });

  await test('deploy: an uploaded model with a categorical input gets a select, and predicts as the CLI does', async () => {
    const csv = ['color,size,label'];
    for (let i = 0; i < 120; i++) {
      const color = ['red', 'green', 'blue'][(i * 7) % 3], size = ((i * 37) % 300) / 100;
      csv.push(`${color},${size},${size + (color === 'red' ? 1 : 0) > 2 ? 'big' : 'small'}`);
    }
    fs.writeFileSync(path.join(scratch, 'shapes.csv'), `${csv.join('\n')}\n`);
    const exp = path.join(scratch, 'shapes.experiment.json');
    fs.writeFileSync(exp, JSON.stringify({ format: 'lathe-experiment', version: 1, seed: 3,
      data: { file: 'shapes.csv', target: 'label', task: 'classification' },
      prepare: [{ op: 'split', test: 0.2, validation: 0, stratify: true }, { op: 'standardize' }],
      model: { template: 'logistic' }, train: { optimizer: 'adam', learning_rate: 0.05, batch_size: 16, epochs: 20 } }));
    const modelFile = path.join(scratch, 'shapes.lathe.json');
    execFileSync(cli, ['run', exp, '--out', modelFile, '--quiet'], { cwd: scratch });
    await page.setInputFiles('[data-testid=model-upload]', modelFile);
    await page.waitForSelector('[data-testid=try-form] select[data-column=color]');
    const options = await page.$$eval('[data-testid=try-form] select[data-column=color] option', (os) => os.map((o) => o.value));
    assert(JSON.stringify(options.slice(1).sort()) === JSON.stringify(['blue', 'green', 'red']), `the color select offers ${options}`);
    await page.selectOption('[data-testid=try-form] select[data-column=color]', 'green');
    await page.fill('[data-testid=try-form] [data-column=size]', '1.75');
    await page.click('[data-testid=try-predict]');
    await page.waitForFunction(() => document.querySelector('[data-testid=try-result]').dataset.values, null, { timeout: 5000 });
    const shown = JSON.parse(await page.getAttribute('[data-testid=try-result]', 'data-values'));
    fs.writeFileSync(path.join(scratch, 'one.csv'), 'size,color\n1.75,green\n');
    const line = execFileSync(cli, ['predict', modelFile, path.join(scratch, 'one.csv')]).toString().split('\n')[1].split(',');
    const formatted = await page.evaluate((v) => import('./try_model.js').then((m) => v.map(m.g9)), shown);
    assert(JSON.stringify(formatted) === JSON.stringify(line.slice(2)), `page ${formatted} != lathe predict ${line.slice(2)}`);
    assert((await page.textContent('[data-testid=prediction]')) === `label: ${line[1]}`, 'the predicted class differs from the CLI');
  });

  await test('deploy: a digits model gets a drawing pad; the drawing is downsampled to 8 × 8 and predicted as the CLI predicts those pixels', async () => {
    const modelFile = path.join(scratch, 'digits.lathe.json');
    execFileSync(cli, ['run', 'examples/digits.experiment.json', '--out', modelFile, '--quiet'], { cwd: root });
    await page.setInputFiles('[data-testid=model-upload]', modelFile);
    await page.waitForSelector('[data-testid=pad]', { state: 'visible' });
    assert(await page.isHidden('[data-testid=try-form]'), 'an image model shows the 64-field form');
    await page.locator('[data-testid=pad]').scrollIntoViewIfNeeded();
    const box = await page.locator('[data-testid=pad]').boundingBox();
    // A "1": one vertical stroke down the middle of the pad.
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.15);
    await page.mouse.down();
    for (let k = 1; k <= 10; k++) await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * (0.15 + 0.07 * k));
    await page.mouse.up();
    await page.waitForFunction(() => document.querySelector('[data-testid=pad-input]').inputData, null, { timeout: 5000 });
    await page.waitForTimeout(400); // the last prediction (pointer up) replaces any earlier one
    const input = await page.$eval('[data-testid=pad-input]', (el) => el.inputData);
    const shown = JSON.parse(await page.getAttribute('[data-testid=try-result]', 'data-values'));
    assert(input.length === 64 && input.every((v) => v >= 0 && v <= 16), `the pad's input: ${input.length} values`);
    const column = (c) => [0, 1, 2, 3, 4, 5, 6, 7].reduce((s, r) => s + input[r * 8 + c], 0);
    assert(column(3) + column(4) > 40 && column(0) + column(7) === 0, `a vertical stroke gives column sums ${[0, 1, 2, 3, 4, 5, 6, 7].map(column)}`);
    const header = fs.readFileSync(path.join(root, 'data/builtin/digits.csv'), 'utf8').split('\n')[0].split(',').filter((c) => c !== 'digit');
    fs.writeFileSync(path.join(scratch, 'drawn.csv'), `${header.join(',')}\n${input.join(',')}\n`);
    const line = execFileSync(cli, ['predict', modelFile, path.join(scratch, 'drawn.csv')]).toString().split('\n')[1].split(',');
    const formatted = await page.evaluate((v) => import('./try_model.js').then((m) => v.map(m.g9)), shown);
    assert(JSON.stringify(formatted) === JSON.stringify(line.slice(2)), `pad ${formatted} != lathe predict ${line.slice(2)}`);
    await shot('step-6-drawing-pad');
  });

  await test('the engine frees what it allocates: live allocations are back at their start after train, evaluate, export and predict', async () => {
    await step('data');
    await page.waitForTimeout(500);
    const live0 = await page.evaluate(() => window.latheTest.allocLive());
    await setExperiment(exampleText('wine'));
    await forgetStatus();
    await trainAndWait();
    await step('evaluate');
    await step('deploy');
    await page.click('[data-testid=try-trained]');
    await page.waitForSelector('[data-testid=try-form] input');
    await page.click('[data-testid=try-predict]').catch(() => {});
    await page.setInputFiles('[data-testid=batch-upload]', path.join(root, 'data/builtin/wine.csv'));
    await page.waitForFunction(() => /rows of wine\.csv predicted/.test(document.querySelector('[data-testid=batch-summary]').textContent), null, { timeout: 10000 });
    await downloadText('[data-testid=download-model]');
    const live1 = await page.evaluate(() => window.latheTest.allocLive());
    assert(Number.isInteger(live0) && live1 === live0, `live allocations: ${live0} before, ${live1} after the cycle`);
  });

  await test('the Train step shows the trainer\'s memory before training, and refuses a model too large for the tab with the core\'s numbers', async () => {
    const small = exampleText('iris', (x) => { x.train.optimizer = 'adam'; delete x.train.momentum; });
    await setExperiment(small);
    await step('train');
    await page.waitForFunction(() => /^Training takes/.test(document.querySelector('[data-testid=memory-note]').textContent), null, { timeout: 10000 });
    const note = await page.textContent('[data-testid=memory-note]');
    const params = 4 * 16 + 16 + 16 * 3 + 3;
    const bytes = Number(await page.getAttribute('[data-testid=memory-note]', 'data-bytes'));
    assert(bytes >= params * 6 * 4 && bytes < params * 6 * 4 + 64 * 1024, `iris with Adam: ${bytes} bytes for ${params} parameters ("${note}")`);
    const big = exampleText('iris', (x) => { x.model.hidden = [8000, 8000]; x.train.optimizer = 'adam'; delete x.train.momentum; x.train.early_stopping = { patience: 5 }; x.prepare[0].validation = 0.1; });
    const bigFile = path.join(scratch, 'big.experiment.json');
    fs.writeFileSync(bigFile, big);
    let cliMessage = '';
    try { execFileSync(cli, ['run', bigFile, '--quiet'], { cwd: root, stdio: 'pipe' }); } catch (e) { cliMessage = e.stderr.toString(); }
    const numbers = cliMessage.match(/the trainer would need [0-9]+ MiB \([0-9]+ parameters, batch [0-9]+\); Lathe's limit is [0-9]+ MiB/);
    assert(numbers, `the CLI did not refuse the big model: "${cliMessage}"`);
    await setExperiment(big);
    await step('train');
    await page.waitForFunction(() => /cannot be trained here/.test(document.querySelector('[data-testid=memory-note]').textContent), null, { timeout: 10000 });
    const refused = await page.textContent('[data-testid=memory-note]');
    assert(refused.includes(numbers[0]), `the Train step says "${refused}", the CLI "${numbers[0]}"`);
    await shot('step-4-too-large');
    await page.click('[data-testid=train]');
    await page.waitForSelector('[data-testid=error]:not([hidden])');
    assert((await page.textContent('[data-testid=error]')).includes(numbers[0]), 'pressing Train does not give the core\'s numbers');
    await setExperiment(small);
    await forgetStatus();
    await trainAndWait();
    assert(await pageHash() === nativeRun('iris-adam.experiment.json', small).weights_sha256, 'the page did not train after the refusal');
  });

  await test('an IDX set (gzipped images, raw labels) uploads, trains, and replays in the CLI from the CSV the page keeps; a damaged IDX file is named', async () => {
    // 400 digits as IDX: images (400, 8, 8) u8 gzipped, labels (400) u8 raw.
    const lines = fs.readFileSync(path.join(root, 'data/builtin/digits.csv'), 'utf8').trim().split('\n');
    const header = lines[0].split(',');
    const target = header.indexOf('digit');
    const rows = lines.slice(1, 401).map((l) => l.split(',').map(Number));
    const n = rows.length;
    const be32 = (...v) => { const b = Buffer.alloc(4 * v.length); v.forEach((x, i) => b.writeUInt32BE(x, 4 * i)); return b; };
    const pixels = Buffer.from(rows.flatMap((r) => r.filter((_, j) => j !== target)));
    const labels = Buffer.from(rows.map((r) => r[target]));
    const imagesFile = path.join(scratch, 'digits-images-idx3-ubyte.gz');
    const labelsFile = path.join(scratch, 'digits-labels-idx1-ubyte');
    fs.writeFileSync(imagesFile, zlib.gzipSync(Buffer.concat([Buffer.from([0, 0, 8, 3]), be32(n, 8, 8), pixels])));
    fs.writeFileSync(labelsFile, Buffer.concat([Buffer.from([0, 0, 8, 1]), be32(n), labels]));
    await step('data');
    await page.setInputFiles('[data-testid=upload]', [labelsFile, imagesFile]);
    await page.waitForFunction((r) => document.querySelector('[data-testid=data-summary]').textContent.startsWith(`${r} rows × 65 columns`), n, { timeout: 20000 });
    const data = await downloadText('[data-testid=download-data]');
    const expected = [[...Array(64).keys()].map((i) => `px${i}`).concat('label').join(','),
      ...rows.map((r) => r.filter((_, j) => j !== target).concat(r[target]).join(','))].join('\n') + '\n';
    assert(data.name === 'digits-images.csv' && data.text === expected, `the page's CSV of the IDX set (${data.name}) differs from the pixels written`);
    const experiment = await experimentInPage();
    assert(JSON.stringify(experiment.data.image) === '[1,8,8]' && experiment.data.file === 'digits-images.csv', `the experiment's data: ${JSON.stringify(experiment.data)}`);
    await forgetStatus();
    await trainAndWait();
    await step('deploy');
    const exp = await downloadText('[data-testid=download-experiment]');
    const native = nativeRun(exp.file);
    assert(await pageHash() === native.weights_sha256, `IDX upload: page ${await pageHash()} != CLI on the page's CSV ${native.weights_sha256}`);
    // A labels file cut short: the IDX reader's message, with the file's name.
    const cut = path.join(scratch, 'cut-labels-idx1-ubyte');
    fs.writeFileSync(cut, fs.readFileSync(labelsFile).subarray(0, 208));
    await step('data');
    await page.setInputFiles('[data-testid=upload]', [imagesFile, cut]);
    await page.waitForSelector('[data-testid=data-error]:not([hidden])');
    const message = await page.textContent('[data-testid=data-error]');
    assert(/^cut-labels-idx1-ubyte: .*400.*200/.test(message), `a cut IDX file: "${message}"`);
    await page.setInputFiles('[data-testid=upload]', [imagesFile]);
    assert(/two files/.test(await page.textContent('[data-testid=data-error]')), 'one IDX file alone is not explained');
  });

  await test('a folder of PNG images (a sub-folder per class) uploads, trains, and replays in the CLI from the CSV the page keeps; a corrupt file is named and skipped', async () => {
    // Two classes drawn here: 20 discs as grey 28 × 28 PNGs (converted to 1 × 28 × 28 unchanged,
    // so the CSV must hold exactly these pixels) and 20 squares as RGBA 40 × 40 PNGs (resampled).
    let seed = 7;
    const rand = (n) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
    const dir = path.join(scratch, 'shapes');
    for (const d of ['disc', 'square']) fs.mkdirSync(path.join(dir, d), { recursive: true });
    const discs = [];
    for (let i = 0; i < 20; i++) {
      const cx = 9 + rand(10), cy = 9 + rand(10), r = 4 + rand(4), ink = 128 + rand(128);
      const px = Buffer.alloc(28 * 28);
      for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) if ((x - cx) ** 2 + (y - cy) ** 2 <= r * r) px[y * 28 + x] = ink;
      discs.push(px);
      fs.writeFileSync(path.join(dir, 'disc', `d${String(i).padStart(2, '0')}.png`), pngFile(28, 28, 0, px));
    }
    for (let i = 0; i < 20; i++) {
      const x0 = 4 + rand(16), y0 = 4 + rand(16), s = 10 + rand(10);
      const px = Buffer.alloc(40 * 40 * 4);
      for (let y = 0; y < 40; y++) for (let x = 0; x < 40; x++) {
        const inside = x >= x0 && x < x0 + s && y >= y0 && y < y0 + s;
        px.set(inside ? [40 + rand(200), 200, 40, 255] : [0, 0, 0, 255], 4 * (y * 40 + x));
      }
      fs.writeFileSync(path.join(dir, 'square', `s${String(i).padStart(2, '0')}.png`), pngFile(40, 40, 6, px));
    }
    fs.writeFileSync(path.join(dir, 'square', 'broken.png'), Buffer.from('\x89PNG\r\n\x1a\n this is not an image'));
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'not an image\n');
    await step('data');
    await setControl('[data-testid=image-shape]', '1,28,28');
    await page.setInputFiles('[data-testid=upload-folder]', dir);
    await page.waitForFunction(() => document.querySelector('[data-testid=data-summary]').textContent.startsWith('40 rows × 785 columns'), null, { timeout: 30000 });
    const note = await page.textContent('[data-testid=image-note]');
    assert(/40 images of 2 classes \(disc: 20, square: 20\)/.test(note), `the image note: "${note}"`);
    assert(/Skipped 1 file: shapes\/square\/broken\.png/.test(note), `the corrupt file is not named as skipped: "${note}"`);
    assert(/Ignored 1 file/.test(note), `the text file is not counted as ignored: "${note}"`);
    const thumbs = await page.$$eval('[data-testid=image-grid] .image-class', (els) => els.map((el) => [el.querySelector('p').textContent, el.querySelectorAll('canvas').length]));
    assert(JSON.stringify(thumbs) === JSON.stringify([['disc: 20 images', 8], ['square: 20 images', 8]]), `the image grid: ${JSON.stringify(thumbs)}`);
    await page.screenshot({ path: path.join(logs, 'step-1-images.png') }); // the page is long: 784 pixel columns
    await page.locator('[data-testid=image-grid]').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(logs, 'step-1-image-grid.png') });
    const data = await downloadText('[data-testid=download-data]');
    const lines = data.text.trim().split('\n');
    assert(lines.length === 41 && lines[0] === [...Array(784).keys()].map((i) => `px${i}`).concat('label').join(','), `the CSV has ${lines.length} lines; header ${lines[0].slice(0, 40)}…`);
    discs.forEach((px, i) => {
      assert(lines[1 + i] === [...px].join(',') + ',disc', `row ${i + 1} of the CSV is not the pixels of disc/d${i}.png`);
    });
    assert(lines.slice(21).every((l) => l.endsWith(',square') && l.split(',').length === 785), 'the square rows are malformed');
    const experiment = await experimentInPage();
    assert(JSON.stringify(experiment.data.image) === '[1,28,28]' && experiment.data.file === data.name && experiment.data.target === 'label',
      `the experiment's data: ${JSON.stringify(experiment.data)}`);
    await forgetStatus();
    await trainAndWait();
    await step('deploy');
    const exp = await downloadText('[data-testid=download-experiment]');
    const native = JSON.parse(execFileSync(cli, ['run', exp.file, '--data', data.file, '--json', '--quiet'], { cwd: root }).toString());
    assert(await pageHash() === native.weights_sha256, `image upload: page ${await pageHash()} != CLI on the page's CSV ${native.weights_sha256}`);
    // The augmentation preview: flips only, so each copy the core makes is the image or its mirror.
    const augmented = { ...experiment, prepare: [experiment.prepare[0], { op: 'augment', copies: 1, flip: true }, ...experiment.prepare.slice(1)] };
    await setExperiment(JSON.stringify(augmented, null, 2));
    await step('prepare');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=augment-preview] canvas').length === 16, null, { timeout: 10000 })
      .catch(async () => { throw new Error(`no augmentation preview: "${await page.textContent('[data-testid=augment-preview]').catch(() => 'missing')}"; ${consoleErrors.join(' | ')}`); });
    const previews = await page.$$eval('[data-testid=augment-preview] ul', (uls) => uls.map((ul) => [...ul.querySelectorAll('canvas')]
      .map((cv) => Array.from(cv.getContext('2d').getImageData(0, 0, cv.width, cv.height).data.filter((_, i) => i % 4 === 0)))));
    const mirror = (px) => px.map((_, i) => px[Math.floor(i / 28) * 28 + 27 - (i % 28)]);
    let flips = 0, same = 0;
    for (const [orig, ...copies] of previews) {
      for (const c of copies) {
        if (c.join() === orig.join()) same++;
        else if (c.join() === mirror(orig).join()) flips++;
        else throw new Error('an augmented copy (flip only) is neither the image nor its mirror');
      }
    }
    assert(flips > 0 && same > 0 && flips + same === 12, `flip-only copies: ${flips} mirrored, ${same} unchanged`);
    await page.locator('[data-testid=augment-preview]').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(logs, 'step-2-augment.png') });
    // One class only, and no images at all: clear messages; the page keeps the data it had.
    await step('data');
    await page.setInputFiles('[data-testid=upload-folder]', path.join(dir, 'disc'));
    await page.waitForSelector('[data-testid=data-error]:not([hidden])');
    const one = await page.textContent('[data-testid=data-error]');
    assert(/one folder, 'disc'/.test(one) && /at least two/.test(one), `one class: "${one}"`);
    const empty = path.join(scratch, 'no-images');
    fs.mkdirSync(empty, { recursive: true });
    fs.writeFileSync(path.join(empty, 'readme.txt'), 'nothing here\n');
    await page.setInputFiles('[data-testid=upload-folder]', empty);
    await page.waitForFunction(() => /No PNG or JPEG images/.test(document.querySelector('[data-testid=data-error]').textContent), null, { timeout: 10000 });
    // Back to iris: the tests after this one measure a first visit's download, and the image
    // grid's module (image_upload.js) loads at start only when the kept data are images.
    await setControl('[data-testid=dataset]', 'iris');
    await page.waitForFunction(() => document.querySelector('[data-testid=data-summary]').textContent.startsWith('150 rows'), null, { timeout: 10000 });
  });

  await test('Fashion-MNIST images (the Debian package\'s IDX files) walk every step: image grid, prepare preview, CNN, curves, confusion matrix with thumbnails, a drawing pad, and the CLI replays the page\'s CSV to the same weights', async () => {
    const dir = path.join(root, 'data/builtin/fashion-mnist');
    await step('data');
    await page.setInputFiles('[data-testid=upload]', [path.join(dir, 't10k-images-idx3-ubyte.gz'), path.join(dir, 't10k-labels-idx1-ubyte.gz')]);
    await page.waitForFunction(() => document.querySelector('[data-testid=data-summary]').textContent.startsWith('10,000 rows × 785 columns'), null, { timeout: 60000 })
      .catch(async () => { throw new Error(`the Fashion-MNIST upload: "${await page.textContent('[data-testid=data-summary]')}" ${await page.textContent('[data-testid=data-error]')}`); });
    await page.waitForFunction(() => document.querySelectorAll('#image-grid .image-class').length === 10, null, { timeout: 20000 });
    await page.locator('#image-grid').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(logs, 'fashion-1-data.png') });
    const data = await downloadText('[data-testid=download-data]');
    const labels = zlib.gunzipSync(fs.readFileSync(path.join(dir, 't10k-labels-idx1-ubyte.gz'))).subarray(8);
    const images = zlib.gunzipSync(fs.readFileSync(path.join(dir, 't10k-images-idx3-ubyte.gz'))).subarray(16);
    const lines = data.text.trim().split('\n');
    assert(lines.length === 10001, `the page's CSV has ${lines.length} lines`);
    for (const r of [0, 1, 4999, 9999]) {
      const expected = [...images.subarray(r * 784, (r + 1) * 784)].concat(labels[r]).join(',');
      assert(lines[1 + r] === expected, `row ${r} of the page's CSV is not image ${r} of the IDX file`);
    }
    const experiment = await experimentInPage();
    experiment.data.limit = { train: 2000, validation: 500, test: 1000 };
    experiment.prepare = [{ op: 'split', test: 0.2, validation: 0.1, stratify: true }, { op: 'minmax', per: 'all' }];
    experiment.model = { template: 'cnn', activation: 'relu' };
    experiment.train = { optimizer: 'adam', learning_rate: 0.002, batch_size: 32, epochs: 2 };
    await setExperiment(JSON.stringify(experiment, null, 2));
    await step('prepare');
    await page.waitForFunction(() => /After: 2,000 training, 500 validation and 1,000 test rows × 784 features; 10 classes/.test((document.querySelector('[data-testid=prepare-summary]') || {}).textContent), null, { timeout: 30000 })
      .catch(async () => { throw new Error(`the preview: "${await page.textContent('[data-testid=prepare-preview]')}"`); });
    const strips = await page.$$eval('[data-testid=preview-before-images] canvas, [data-testid=preview-after-images] canvas', (cs) => cs.length);
    assert(strips === 16, `the preview shows ${strips} images, not the first 8 training images before and after`);
    const all = await page.$eval('[data-testid=preview-stats] tr.total', (r) => [...r.cells].map((c) => c.textContent));
    assert(all[3] === '0' && all[4] === '255' && all[7] === '0' && all[8] === '1', `pixels before and after min-max over all: ${all}`);
    await page.screenshot({ path: path.join(logs, 'fashion-2-prepare.png'), fullPage: true });
    await step('model');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=layers] tbody tr').length === 9, null, { timeout: 15000 });
    await page.screenshot({ path: path.join(logs, 'fashion-3-model.png'), fullPage: true });
    await forgetStatus();
    await trainAndWait(180000);
    await page.screenshot({ path: path.join(logs, 'fashion-4-train.png'), fullPage: true });
    await step('evaluate');
    const confusion = await page.$$eval('[data-testid=confusion] tr', (trs) => trs.map((r) => r.querySelectorAll('button').length).filter((n) => n > 0));
    assert(confusion.length === 10 && confusion.every((n) => n === 10), `the confusion matrix is ${confusion.length} × ${confusion[0]}`);
    const thumbs = await page.$$eval('[data-testid=misclassified] canvas', (cs) => cs.map((c) => [c.width, c.height]));
    assert(thumbs.length > 0 && thumbs.every(([w, hh]) => w === 28 && hh === 28), `misclassified thumbnails: ${JSON.stringify(thumbs.slice(0, 3))}`);
    const accuracy = Number((await page.textContent('[data-testid=metrics] tbody tr:last-child td:last-child')).replace('%', ''));
    await page.screenshot({ path: path.join(logs, 'fashion-5-evaluate.png'), fullPage: true });
    await step('deploy');
    const exp = await downloadText('[data-testid=download-experiment]');
    const native = JSON.parse(execFileSync(cli, ['run', exp.file, '--data', data.file, '--json', '--quiet'], { cwd: root }).toString());
    assert(await pageHash() === native.weights_sha256, `Fashion-MNIST: page ${await pageHash()} != CLI ${native.weights_sha256}`);
    assert(native.metrics.test.accuracy > 0.6, `the CNN reaches only ${native.metrics.test.accuracy} after 2 epochs on 2,000 images (page: ${accuracy})`);
    await page.click('[data-testid=try-trained]');
    await page.waitForSelector('[data-testid=pad]', { state: 'visible', timeout: 10000 });
    await page.locator('[data-testid=pad]').scrollIntoViewIfNeeded();
    const pad = await page.locator('[data-testid=pad]').boundingBox();
    // A pair of trousers: two strokes down from a waistband.
    for (const x of [0.38, 0.62]) {
      await page.mouse.move(pad.x + pad.width * 0.5, pad.y + pad.height * 0.15);
      await page.mouse.down();
      for (let k = 1; k <= 10; k++) await page.mouse.move(pad.x + pad.width * (0.5 + (x - 0.5) * k / 10), pad.y + pad.height * (0.15 + 0.07 * k));
      await page.mouse.up();
    }
    await page.waitForFunction(() => document.querySelector('[data-testid=pad-input]').inputData, null, { timeout: 5000 });
    await page.waitForTimeout(400);
    const input = await page.$eval('[data-testid=pad-input]', (el) => el.inputData);
    assert(input.length === 784 && input.some((v) => v > 0), `the pad gives ${input.length} inputs`);
    const probs = JSON.parse(await page.getAttribute('[data-testid=try-result]', 'data-values'));
    assert(probs.length === 10 && Math.abs(probs.reduce((s, p) => s + p, 0) - 1) < 1e-4, `the pad's prediction: ${probs}`);
    // An image file: image 0 of the IDX set as a 28 × 28 grey PNG (converted unchanged), predicted
    // as `lathe predict` predicts its pixels with the downloaded model file.
    const model = await downloadText('[data-testid=download-model]');
    const png = path.join(scratch, 'fashion-0.png');
    fs.writeFileSync(png, pngFile(28, 28, 0, Buffer.from(images.subarray(0, 784))));
    await page.evaluate(() => { delete document.querySelector('[data-testid=try-result]').dataset.values; });
    await page.setInputFiles('[data-testid=try-image]', png);
    await page.waitForFunction(() => document.querySelector('[data-testid=try-result]').dataset.values, null, { timeout: 10000 })
      .catch(async () => { throw new Error(`no prediction of the image file: ${await page.textContent('[data-testid=try-error]')}`); });
    const fromFile = JSON.parse(await page.getAttribute('[data-testid=try-result]', 'data-values'));
    fs.writeFileSync(path.join(scratch, 'fashion-0.csv'), `${lines[0].split(',').slice(0, 784).join(',')}\n${[...images.subarray(0, 784)].join(',')}\n`);
    const predicted = execFileSync(cli, ['predict', model.file, path.join(scratch, 'fashion-0.csv')]).toString().split('\n')[1].split(',');
    const formatted = await page.evaluate((v) => import('./try_model.js').then((m) => v.map(m.g9)), fromFile);
    assert(JSON.stringify(formatted) === JSON.stringify(predicted.slice(2)), `the image file: page ${formatted} != lathe predict ${predicted.slice(2)}`);
    await page.screenshot({ path: path.join(logs, 'fashion-6-deploy.png'), fullPage: true });
    // Back to iris (the download-size test measures a first visit without image modules).
    await step('data');
    await setControl('[data-testid=dataset]', 'iris');
    await page.waitForFunction(() => document.querySelector('[data-testid=data-summary]').textContent.startsWith('150 rows'), null, { timeout: 10000 });
  });

  await test('JPEG files dropped on the data step become images of the class their names give, close to the pixels drawn; a folder\'s entries are walked however many chunks they come in', async () => {
    await step('data');
    await setControl('[data-testid=image-shape]', '1,28,28');
    const drawn = await page.evaluate(async () => {
      const files = [], pixels = {};
      for (let i = 0; i < 24; i++) {
        const cv = document.createElement('canvas');
        cv.width = cv.height = 28;
        const g = cv.getContext('2d');
        g.fillStyle = '#000';
        g.fillRect(0, 0, 28, 28);
        g.fillStyle = '#fff';
        if (i % 2) g.fillRect(4 + (i % 7) * 2, 4, 6, 20);
        else { g.beginPath(); g.arc(14, 14, 5 + (i % 5), 0, 2 * Math.PI); g.fill(); }
        const name = `${i % 2 ? 'bar' : 'ring'}_${String(i).padStart(2, '0')}.jpg`;
        pixels[name] = Array.from(g.getImageData(0, 0, 28, 28).data.filter((_, k) => k % 4 === 0));
        const blob = await new Promise((resolve) => cv.toBlob(resolve, 'image/jpeg', 0.95));
        files.push(new File([blob], name, { type: 'image/jpeg' }));
      }
      // two more whose class would read as a missing value in the CSV: skipped, and named
      for (const name of ['NA_90.jpg', 'null_91.jpg']) files.push(new File([files[0]], name, { type: 'image/jpeg' }));
      const dt = new DataTransfer();
      files.forEach((f) => dt.items.add(f));
      const zone = document.getElementById('drop-zone');
      zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
      zone.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
      return { pixels, types: files.map((f) => f.type) };
    });
    await page.waitForFunction(() => document.querySelector('[data-testid=data-summary]').textContent.startsWith('24 rows × 785 columns'), null, { timeout: 30000 })
      .catch(async () => { throw new Error(`the JPEG drop: "${await page.textContent('[data-testid=data-summary]')}" ${await page.textContent('[data-testid=data-error]')}`); });
    const note = await page.textContent('[data-testid=image-note]');
    assert(/24 images of 2 classes \(bar: 12, ring: 12\)/.test(note), `the image note: "${note}"`);
    assert(/Skipped 2 files: NA_90\.jpg \(its class 'NA' reads as a missing value in a CSV: rename the file\); null_91\.jpg/.test(note), `the files of classes NA and null: "${note}"`);
    const data = await downloadText('[data-testid=download-data]');
    const rows = data.text.trim().split('\n').slice(1).map((l) => l.split(','));
    const names = Object.keys(drawn.pixels).sort();
    assert(rows.length === 24, `${rows.length} rows`);
    rows.forEach((r, i) => {
      const want = drawn.pixels[names[i]];
      const error = want.reduce((s, v, k) => s + Math.abs(v - Number(r[k])), 0) / want.length;
      assert(r[784] === names[i].split('_')[0], `row ${i} is labelled ${r[784]}, its file is ${names[i]}`);
      assert(error < 4, `row ${i} (${names[i]}) differs from the drawing by ${error.toFixed(2)} grey levels per pixel on average`);
    });
    // A dropped folder is read through FileSystemEntry objects, whose directories answer in
    // chunks (about 100 entries each): walked here with entries that answer in chunks of 100.
    const walked = await page.evaluate(async () => {
      const mod = await import('./image_upload.js');
      const file = (fullPath) => ({ isFile: true, isDirectory: false, fullPath,
        file: (ok) => setTimeout(() => ok(new File([new Uint8Array([1])], fullPath.split('/').pop(), { type: 'image/png' }))) });
      const dir = (fullPath, children) => ({ isFile: false, isDirectory: true, fullPath,
        createReader: () => { let at = 0; return { readEntries: (ok) => { const chunk = children.slice(at, at + 100); at += chunk.length; setTimeout(() => ok(chunk)); } }; } });
      const cats = Array.from({ length: 250 }, (_, i) => file(`/pets/cat/${i}.png`));
      const top = dir('/pets', [dir('/pets/cat', cats), dir('/pets/dog', [file('/pets/dog/a.png')]), file('/pets/notes.txt')]);
      const files = await mod.filesFromEntries([top]);
      const { items, unlabelled } = mod.labelFiles(files);
      return { n: files.length, first: files[0].path, labels: [...new Set(items.map((x) => x.label))], unlabelled };
    });
    assert(walked.n === 252 && walked.first === 'pets/cat/0.png' && walked.labels.join() === 'cat,dog' && walked.unlabelled.join() === 'pets/notes.txt',
      `the folder walk: ${JSON.stringify(walked)}`);
    await setControl('[data-testid=dataset]', 'iris');
    await page.waitForFunction(() => document.querySelector('[data-testid=data-summary]').textContent.startsWith('150 rows'), null, { timeout: 10000 });
  });

  await test('the page is served cross-origin isolated, with a strict CSP, and asks no other origin for anything', async () => {
    const isolated = await page.evaluate(() => self.crossOriginIsolated);
    assert(isolated === true, 'crossOriginIsolated is false: COOP/COEP headers missing');
    const csp = await page.getAttribute('meta[http-equiv=Content-Security-Policy]', 'content');
    assert(csp && /default-src 'self'/.test(csp) && !/unsafe-inline|unsafe-eval/.test(csp), `CSP: ${csp}`);
    assert(foreignRequests.length === 0, `requests to other origins: ${foreignRequests.slice(0, 5).join(', ')}`);
  });

  await test('what the page loads, data sets aside, is at most 150 KB gzipped, up front and in all; charts and the model tryer come when opened', async () => {
    const fresh = watch(await context.newPage());
    const upFront = new Set();
    fresh.on('request', (r) => { if (r.url().startsWith(url)) upFront.add(new URL(r.url()).pathname); });
    await fresh.goto(url);
    await fresh.waitForFunction(() => !document.querySelector('[data-testid=train]').disabled, null, { timeout: 20000 });
    await fresh.waitForSelector('[data-testid=preview] tbody tr:not(.spacer)');
    await fresh.waitForTimeout(500);
    await fresh.close();
    const gz = (p) => zlib.gzipSync(fs.readFileSync(path.join(root, 'build/web', p)), { level: 9 }).length;
    const code = (set) => [...set].map((p) => (p.endsWith('/') ? `${p}index.html` : p)).filter((p) => !p.startsWith('/data/'));
    const sizes = code(upFront).map((p) => [p, gz(p)]);
    const total = sizes.reduce((s, [, n]) => s + n, 0);
    assert(code(upFront).includes('/lathe_engine.wasm'), `the page did not load its engine: ${code(upFront)}`);
    const first = new Set(code(upFront));
    const later = code(ownFiles).filter((p) => !first.has(p) && !p.startsWith('/examples/')).map((p) => [p, gz(p)]);
    console.log(`  up front: ${(total / 1024).toFixed(1)} KB gzipped in ${sizes.length} files; when opened: ${later.map(([p, n]) => `${p} ${(n / 1024).toFixed(1)}`).join(', ')}`);
    assert(later.some(([p]) => p === '/uPlot.iife.min.js'), 'the charts never loaded uPlot');
    assert(total <= 150 * 1024, `the page downloads ${(total / 1024).toFixed(1)} KB gzipped up front: ${sizes.map(([p, n]) => `${p} ${(n / 1024).toFixed(1)}`).join(', ')}`);
    // everything the tests made the page fetch (every step, charts, tryer, image modules), data
    // sets and example experiments aside
    const all = total + later.reduce((s, [, n]) => s + n, 0);
    assert(all <= 150 * 1024, `everything the page fetched comes to ${(all / 1024).toFixed(1)} KB gzipped`);
    console.log(`  in all: ${(all / 1024).toFixed(1)} KB gzipped`);
  });

  await test('the page is readable on a phone-sized screen', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await step('train');
    await page.waitForTimeout(300); // the charts follow their boxes' new width (ResizeObserver)
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    const wide = await page.evaluate(() => [...document.querySelectorAll('body *')].filter((el) => el.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
      .slice(0, 4).map((el) => `${el.tagName.toLowerCase()}#${el.id}.${el.className}`).join(', '));
    await shot('phone-train');
    await page.setViewportSize({ width: 1280, height: 800 });
    assert(overflow <= 0, `the page is ${overflow}px wider than a 390px screen (${wide})`);
  });

  await test('no uncaught errors in the page or the worker', async () => {
    assert(consoleErrors.length === 0, consoleErrors.join(' | '));
  });
} finally {
  await context.close();
  server.close();
  fs.rmSync(profile, { recursive: true, force: true });
  fs.rmSync(scratch, { recursive: true, force: true });
}
process.exit(results.every(Boolean) ? 0 : 1);
