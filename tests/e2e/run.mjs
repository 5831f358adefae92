// Browser tests: the real page in Debian's Chromium, driven by playwright-core. Each test
// prints "PASS name" or "FAIL name: why"; the process exits non-zero when one fails.
// Needs build/web and build/native/lathe (scripts/build.sh).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from '../../scripts/static_server.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const logs = path.join(root, 'build/test-logs');
fs.mkdirSync(logs, { recursive: true });

const results = [];
async function test(name, fn) {
  try {
    await fn();
    results.push(true);
    console.log(`PASS ${name}`);
  } catch (e) {
    results.push(false);
    console.log(`FAIL ${name}: ${e.message.split('\n').slice(0, 6).join(' | ')}`);
  }
}
function assert(cond, message) { if (!cond) throw new Error(message); }

function nativeRun(experiment) {
  const out = execFileSync(path.join(root, 'build/native/lathe'), ['run', experiment, '--json', '--quiet'], { cwd: root });
  return JSON.parse(out.toString());
}

const server = await startServer(path.join(root, 'build/web'), 0);
const url = `http://127.0.0.1:${server.address().port}/`;
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'lathe-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const page = context.pages()[0] || await context.newPage();
const consoleErrors = [];
page.on('pageerror', (e) => consoleErrors.push(e.message));
page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });

try {
  await test('page opens with iris ready and one click trains it to the native weights', async () => {
    await page.goto(url);
    await page.waitForFunction(() => !document.querySelector('[data-testid=train]').disabled, null, { timeout: 20000 });
    const experiment = JSON.parse(await page.inputValue('[data-testid=experiment]'));
    assert(experiment.data.builtin === 'iris', `the page opened with ${JSON.stringify(experiment.data)}, not iris`);
    await page.click('[data-testid=train]');
    await page.waitForFunction(() => /^[0-9a-f]{64}$/.test(document.querySelector('[data-testid=weights-hash]').textContent), null, { timeout: 60000 });
    const browserHash = await page.textContent('[data-testid=weights-hash]');
    const native = nativeRun('examples/iris.experiment.json');
    await page.screenshot({ path: path.join(logs, 'page-iris-trained.png'), fullPage: true });
    assert(browserHash === native.weights_sha256, `browser ${browserHash} != native ${native.weights_sha256}`);
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
  });

  await test('a spiral (synthetic) experiment trains to the native weights', async () => {
    const text = fs.readFileSync(path.join(root, 'examples/spiral.experiment.json'), 'utf8');
    await page.fill('[data-testid=experiment]', text);
    await page.click('[data-testid=train]');
    await page.waitForFunction(() => /^Done/.test(document.querySelector('[data-testid=status]').textContent), null, { timeout: 60000 });
    const browserHash = await page.textContent('[data-testid=weights-hash]');
    const native = nativeRun('examples/spiral.experiment.json');
    assert(browserHash === native.weights_sha256, `browser ${browserHash} != native ${native.weights_sha256}`);
  });

  await test('a broken experiment shows where the problem is and the page keeps working', async () => {
    const good = fs.readFileSync(path.join(root, 'examples/iris.experiment.json'), 'utf8');
    await page.fill('[data-testid=experiment]', good.replace('"batch_size": 16', '"batch_size": 0'));
    await page.click('[data-testid=train]');
    await page.waitForSelector('[data-testid=error]:not([hidden])', { timeout: 20000 });
    const message = await page.textContent('[data-testid=error]');
    assert(message.includes('train.batch_size'), `the error does not name the field: "${message}"`);
    await page.screenshot({ path: path.join(logs, 'page-error.png'), fullPage: true });
    await page.fill('[data-testid=experiment]', good);
    assert(!(await page.isDisabled('[data-testid=train]')), 'the Train button stayed disabled after an error');
    await page.click('[data-testid=train]');
    await page.waitForFunction(() => /^Done/.test(document.querySelector('[data-testid=status]').textContent), null, { timeout: 60000 });
    assert(await page.isHidden('[data-testid=error]'), 'the old error is still shown after a good run');
  });

  await test('an uploaded CSV trains; a malformed one is refused with its line, and the page keeps working', async () => {
    const rows = ['height,weight,kind'];
    for (let i = 0; i < 60; i++) rows.push(`${150 + i},${50 + (i % 7)},${i < 30 ? 'short' : 'tall'}`);
    const bad = rows.slice(0, 10).concat(['160,55'], rows.slice(10)).join('\n');
    await page.setInputFiles('[data-testid=upload]', { name: 'people.csv', mimeType: 'text/csv', buffer: Buffer.from(bad) });
    await page.waitForFunction(() => JSON.parse(document.querySelector('[data-testid=experiment]').value).data.file === 'people.csv');
    await page.click('[data-testid=train]');
    await page.waitForSelector('[data-testid=error]:not([hidden])', { timeout: 20000 });
    const message = await page.textContent('[data-testid=error]');
    assert(message.includes('people.csv') && message.includes('line 11') && message.includes('2 fields'),
      `the error does not say which file and line: "${message}"`);
    await page.setInputFiles('[data-testid=upload]', { name: 'people.csv', mimeType: 'text/csv', buffer: Buffer.from(rows.join('\n')) });
    await page.click('[data-testid=train]');
    await page.waitForFunction(() => /^Done/.test(document.querySelector('[data-testid=status]').textContent), null, { timeout: 60000 });
    const experiment = JSON.parse(await page.inputValue('[data-testid=experiment]'));
    assert(experiment.data.target === 'kind', `the target is ${experiment.data.target}, not the last column`);
    await page.screenshot({ path: path.join(logs, 'page-upload-trained.png'), fullPage: true });
  });

  await test('training stays responsive, and pause, resume and cancel work', async () => {
    const long = JSON.parse(fs.readFileSync(path.join(root, 'examples/digits.experiment.json'), 'utf8'));
    long.train.epochs = 2000; // long enough to interact with; it is cancelled below
    await page.fill('[data-testid=experiment]', JSON.stringify(long, null, 2));
    await page.click('[data-testid=train]');
    await page.waitForFunction(() => /^Epoch [0-9]+ of 2000/.test(document.querySelector('[data-testid=status]').textContent), null, { timeout: 30000 });
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
    const before = await page.getAttribute('#progress', 'value');
    await page.waitForTimeout(400);
    assert(await page.getAttribute('#progress', 'value') === before, 'progress moved while paused');
    assert((await page.textContent('#pause')) === 'Resume', 'the pause button does not offer Resume');
    await page.click('#pause');
    await page.waitForFunction((b) => document.getElementById('progress').value > Number(b), before, { timeout: 10000 });
    await page.click('#cancel');
    await page.waitForFunction(() => /cancelled/.test(document.querySelector('[data-testid=status]').textContent), null, { timeout: 5000 });
    assert(!(await page.isDisabled('[data-testid=train]')), 'Train is disabled after cancel');
    assert(JSON.parse(await page.inputValue('[data-testid=experiment]')).train.epochs === 2000, 'cancel lost the experiment');
  });

  await test('the page is served cross-origin isolated', async () => {
    const isolated = await page.evaluate(() => self.crossOriginIsolated);
    assert(isolated === true, 'crossOriginIsolated is false: COOP/COEP headers missing');
  });

  await test('no uncaught errors in the page or the worker', async () => {
    assert(consoleErrors.length === 0, consoleErrors.join(' | '));
  });
} finally {
  await context.close();
  server.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
process.exit(results.every(Boolean) ? 0 : 1);
