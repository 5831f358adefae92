// Browser tests on Debian's three engines: Chromium (V8, through puppeteer-core over CDP),
// Firefox ESR (SpiderMonkey, through puppeteer-core over WebDriver BiDi) and WebKitGTK
// (JavaScriptCore, Safari's engine, through WebKitWebDriver and MiniBrowser under xvfb-run).
// The Chromium suite (tests/e2e) is the main one; this one, the same tests on each engine, walks every step, trains the examples whose weights must be the native CLI's
// bit for bit (an MLP, a CNN, an augmented image set, a regression, a resumed checkpoint and
// an uploaded CSV), makes the Deploy step's ONNX file with the deploy tools (the CLI's bytes),
// and checks what the page says when a browser lacks a feature it uses.
//
// Output: the first line is "TESTS N"; then one line per test, "PASS name", "FAIL name: why"
// or "SKIP name: why". Exits non-zero when a test failed or fewer than N reported. A browser
// that is missing or does not start fails its tests, naming what to install.
// Needs build/web and build/native/lathe (scripts/build.sh); LATHE_CLI=… names another CLI;
// LATHE_ENGINES=chromium,firefox,webkit picks engines; they run one at a time (three browsers
// training at once on a 2-core machine starve each other), LATHE_ENGINES_PARALLEL=1 runs them together;
// LATHE_CHROMIUM, LATHE_FIREFOX and LATHE_WEBKIT_DRIVER name other binaries; LATHE_ENGINES_ONLY=regex
// runs the tests whose ids match (by hand: the count declared is then of those).
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { startServer } from '../../scripts/static_server.mjs';
import { Frozen, killAll, launchChromium, launchFirefox, launchWebKit } from './drivers.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const web = path.join(root, 'build/web');
const cli = process.env.LATHE_CLI || path.join(root, 'build/native/lathe');
const logs = path.join(root, 'build/test-logs');
const run = promisify(execFile);

// ---- the tests, listed first so that their number is known before anything starts ----

const STEPS = ['data', 'prepare', 'model', 'train', 'evaluate', 'deploy'];
const HASHED = [
  // examples trained in the page whose weights must be the CLI's
  ['iris', 'an MLP (iris)'],
  ['digits_cnn', 'a CNN (digits_cnn)'],
  ['digits_augment', 'an augmented image set (digits_augment)'],
  ['diabetes', 'a regression (diabetes)'],
];
const allTests = [
  [
    'opens',
    'the page opens with iris, the engine starts (WebAssembly SIMD) and the page is cross-origin isolated',
    opens,
  ],
  ['walk', 'every step opens with iris and answers; the Train step draws its charts', walk],
  ...HASHED.map(([name, what]) => [
    `hash-${name}`,
    `${what} trains to the native CLI's weights`,
    (t) => hashExample(t, name),
  ]),
  [
    'resume',
    "a checkpoint the CLI wrote after 100 batches resumes in the page to the uninterrupted run's weights",
    resume,
  ],
  ['upload', "an uploaded CSV trains to the CLI's weights on the same file", upload],
  [
    'builtin-images',
    "the built-in MNIST-10k, fetched as its gzipped IDX files and read as images, trains a subset to the CLI's weights",
    builtinImages,
  ],
  [
    'lang-c',
    'navigator.language "C" (WebKitGTK\'s under the C.UTF-8 locale): the charts draw and the page answers',
    langC,
  ],
  [
    'no-canvas',
    'a canvas that gives no 2-D context: the Train step says it has no chart, answers, and trains; Data and Evaluate show',
    noCanvas,
  ],
  [
    'no-decompression',
    'without DecompressionStream a gzipped IDX upload says why and what to do; the files unzipped work',
    noDecompression,
  ],
  ['no-entries', 'without webkitGetAsEntry a dropped folder is answered with the folder picker', noEntries],
  [
    'deploy',
    "the Deploy step makes the ONNX file (the CLI's bytes) and the C source with the deploy tools, and imports the ONNX file and fine-tunes it to the CLI's weights",
    deployArtefacts,
  ],
  ['errors', 'no uncaught errors in the page', errorsTest],
];
const only = process.env.LATHE_ENGINES_ONLY ? new RegExp(process.env.LATHE_ENGINES_ONLY) : null;
if (only && process.env.CI) throw new Error('LATHE_ENGINES_ONLY is for runs by hand; CI runs every test');
const tests = only ? allTests.filter(([id]) => only.test(id)) : allTests;
const ENGINES = (process.env.LATHE_ENGINES || 'chromium,firefox,webkit').split(',').filter(Boolean);
console.log(`TESTS ${ENGINES.length * tests.length}`);

// ---- the site: build/web as it is, and variants that simulate a browser lacking a feature ----

// Each variant is a folder of links to build/web's files, with some files changed, served on
// one origin. Its index.html first runs engines-test.js: a recorder of uncaught errors, then
// the variant's change to the browser.
const RECORDER =
  'self.latheErrors = [];\n' +
  "addEventListener('error', (e) => latheErrors.push(`${e.message} (${e.filename}:${e.lineno})`));\n" +
  // the files the page makes for download (kept; a download link's click is not followed)
  'self.latheBlobs = [];\n' +
  'const latheObjectURL = URL.createObjectURL.bind(URL);\n' +
  'URL.createObjectURL = (b) => { latheBlobs.push(b); return latheObjectURL(b); };\n' +
  'const latheAnchorClick = HTMLAnchorElement.prototype.click;\n' +
  'HTMLAnchorElement.prototype.click = function () { if (!this.download) latheAnchorClick.call(this); };\n' +
  // the test's clicks: whether the last one reached the element it was aimed at
  "self.latheClick = { wanted: null, hit: null, landed: '' };\n" +
  "addEventListener('click', (e) => { const c = self.latheClick; if (!c.wanted) return; c.hit = !!e.target.closest(c.wanted); c.landed = `${e.target.id || e.target.tagName} at ${e.clientX},${e.clientY}`; }, true);\n" +
  "addEventListener('unhandledrejection', (e) => latheErrors.push(`unhandled rejection: ${(e.reason && e.reason.message) || e.reason}`));\n";
const VARIANTS = {
  main: {},
  'lang-c': { page: "Object.defineProperty(Navigator.prototype, 'language', { get: () => 'C', configurable: true });" },
  'no-canvas': { page: 'HTMLCanvasElement.prototype.getContext = function () { return null; };' },
  'no-decompression': { files: { 'worker.js': (s) => `${s}\ndelete self.DecompressionStream;\n` } },
  'no-entries': { page: 'delete DataTransferItem.prototype.webkitGetAsEntry;' },
};
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'lathe-engines-'));
function buildSite() {
  const site = path.join(scratch, 'site');
  for (const [name, v] of Object.entries(VARIANTS)) {
    const dir = path.join(site, name);
    fs.mkdirSync(dir, { recursive: true });
    const changed = { ...(v.files || {}) };
    changed['index.html'] = (s) =>
      s.replace(
        '<script type="module" src="main.js"></script>',
        '<script src="engines-test.js"></script>\n  <script type="module" src="main.js"></script>',
      );
    for (const entry of fs.readdirSync(web)) {
      const from = path.join(web, entry);
      if (changed[entry]) fs.writeFileSync(path.join(dir, entry), changed[entry](fs.readFileSync(from, 'utf8')));
      else fs.symlinkSync(from, path.join(dir, entry));
    }
    fs.writeFileSync(path.join(dir, 'engines-test.js'), RECORDER + (v.page || ''));
  }
  return site;
}

// ---- helpers over a driver ----

class Failure extends Error {}
function assert(cond, message) {
  if (!cond) throw new Failure(message);
}

/** `lathe run FILE --json` (extra arguments after it), parsed. */
async function nativeRun(file, extra = []) {
  const { stdout } = await run(cli, ['run', file, '--json', '--quiet', ...extra], { cwd: root, maxBuffer: 64 << 20 });
  return JSON.parse(stdout);
}
function writeScratch(name, content) {
  const file = path.join(scratch, name);
  fs.writeFileSync(file, content);
  return file;
}
const example = (name) => fs.readFileSync(path.join(root, `examples/${name}.experiment.json`), 'utf8');

/** One engine's session: the driver and what the tests need over it. */
class Tab {
  constructor(engine, origin) {
    this.engine = engine;
    this.origin = origin;
    this.driver = null;
    this.variant = null; // the variant the tab shows, null when it must be opened again
    this.errors = [];
  }

  async launch() {
    // Debian's default locale, where WebKitGTK says navigator.language is "C" (it froze: issue 15)
    const env = { LC_ALL: 'C.UTF-8', LANG: 'C.UTF-8' };
    this.driver =
      this.engine === 'firefox'
        ? await launchFirefox()
        : this.engine === 'chromium'
          ? await launchChromium()
          : await launchWebKit({ env });
    this.variant = null;
    console.error(`[engines] ${this.engine}: ${this.driver.version}`);
  }

  /** A fresh browser after one stopped answering (its tab froze). */
  async relaunch() {
    await this.driver.close().catch(() => {});
    await this.launch();
  }

  ev(fn, ...args) {
    return this.driver.evaluate(fn.toString(), args);
  }

  /** Waits until fn(arg) is truthy in the page and returns its value: checked on every DOM
   * change, and every 200 ms for state the DOM does not show (a form field's value). */
  async waitFor(fn, arg, ms, what) {
    const src = `async (arg, ms) => {
      const pred = ${fn};
      const check = () => { try { const v = pred(arg); return v instanceof Node ? true : v; } catch { return null; } };
      const first = check();
      if (first) return first;
      return await new Promise((resolve) => {
        const end = (v) => { mo.disconnect(); clearInterval(tick); clearTimeout(late); resolve(v); };
        const again = () => { const v = check(); if (v) end(v); };
        const mo = new MutationObserver(again);
        mo.observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
        const tick = setInterval(again, 200);
        const late = setTimeout(() => end(check() || null), ms);
      });
    }`;
    const v = await this.driver.evaluate(src, [arg, ms], ms + 15000);
    if (!v) {
      const state = await this.ev(() =>
        ['status', 'error', 'data-error', 'data-summary']
          .map((id) => `${id}: "${(document.getElementById(id) || {}).textContent || ''}"`)
          .join(', '),
      ).catch((e) => e.message);
      throw new Failure(`waited ${ms / 1000} s for ${what}; ${state}`);
    }
    return v;
  }

  /** Opens a variant of the page (when it is not open already) and waits for the engine. */
  async open(variant = 'main', { fresh = false } = {}) {
    if (this.variant === variant && !fresh) return;
    await this.harvest();
    this.variant = null;
    await this.driver.goto(`${this.origin}/${variant}/`);
    this.variant = variant;
    // ready: the engine answered, and the page has set its experiment (the rest of its start
    // runs in that same task)
    await this.waitFor(
      () =>
        (!document.querySelector('[data-testid=train]').disabled &&
          document.querySelector('[data-testid=experiment]').value.trim()) ||
        document.getElementById('error').textContent,
      null,
      30000,
      'the engine and the page to be ready',
    );
    const error = await this.ev(() => document.getElementById('error').textContent);
    assert(!error, `the page says: ${error}`);
  }

  /** Keeps the page's uncaught errors before it is left. */
  async harvest() {
    if (!this.variant) return;
    const found = await this.ev(() => (self.latheErrors || []).splice(0)).catch(() => []);
    for (const e of found) this.errors.push({ variant: this.variant, message: e });
  }

  /** Clicks an element as Playwright does: once it is enabled, still (the same box in two
   * looks 200 ms apart) and the topmost element at its centre; again when the page moved under
   * the pointer between the driver's aim and its click (the click landed elsewhere). */
  async click(selector) {
    for (let attempt = 1; ; attempt++) {
      await this.ev((sel) => {
        self.latheClick = { ...self.latheClick, wanted: sel, hit: null, box: '' };
        return true;
      }, selector);
      await this.waitFor(
        (sel) => {
          const el = document.querySelector(sel);
          if (!el || el.disabled) return false;
          const r = el.getBoundingClientRect();
          if (r.width === 0 || r.top < 0 || r.bottom > innerHeight) {
            el.scrollIntoView({ block: 'center' });
            return false;
          }
          const box = [r.x, r.y, r.width, r.height].join();
          const still = self.latheClick.box === box;
          self.latheClick.box = box;
          const top = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
          return still && !!top && el.contains(top);
        },
        selector,
        30000,
        `${selector} to be enabled, still and on top`,
      );
      await this.driver.click(selector);
      const c = await this.ev(() => self.latheClick);
      if (c.hit === true) return;
      const where = c.hit === null ? 'no click reached the page' : `it landed on ${c.landed}`;
      if (attempt === 3) throw new Failure(`three clicks on ${selector} missed it (last: ${where})`);
      console.error(`[engines] ${this.engine}: a click on ${selector} missed it (${where}); again`);
    }
  }
  step(name) {
    return this.click(`[data-testid=step-${name}]`);
  }

  async setExperiment(text) {
    await this.step('deploy');
    await this.ev((t) => {
      const el = document.querySelector('[data-testid=experiment]');
      el.value = t;
      el.dispatchEvent(new Event('input', { bubbles: true }));
      return true;
    }, text);
  }

  /** The experiment in the editor (which the page fills once it knows the kept or default one:
   * a fast engine can be ready first). */
  async experiment() {
    return JSON.parse(
      await this.waitFor(
        () => document.querySelector('[data-testid=experiment]').value.trim(),
        null,
        10000,
        'the experiment editor to be filled',
      ),
    );
  }
  hash() {
    return this.ev(() => document.querySelector('[data-testid=weights-hash]').textContent);
  }

  /** Blanks the status line, so that waitDone waits for the next run's "Done". */
  forgetStatus() {
    return this.ev(() => {
      document.querySelector('[data-testid=status]').textContent = '(waiting for the next run)';
      return true;
    });
  }

  /** Waits for the run's end: "Done…" in the status line, or its error. */
  async waitDone(ms = 120000) {
    const end = await this.waitFor(
      () => {
        const s = document.querySelector('[data-testid=status]').textContent;
        const e = document.getElementById('error');
        return /^Done/.test(s) ? 'done' : !e.hidden && e.textContent ? `error: ${e.textContent}` : null;
      },
      null,
      ms,
      'training to finish',
    );
    assert(end === 'done', `training ended with ${end}`);
  }

  async train(ms) {
    await this.forgetStatus();
    await this.step('train');
    // Train is disabled until the engine is ready and the data is read; a WebDriver click on a
    // disabled button is lost (Playwright's click waits for it to be enabled: so does this)
    await this.waitFor(
      () => !document.querySelector('[data-testid=train]').disabled,
      null,
      60000,
      'the Train button to be enabled',
    );
    await this.click('[data-testid=train]');
    // the click starts a run at once ("Starting…"): say so when it did not, with what was there
    await this.waitFor(
      () => document.querySelector('[data-testid=status]').textContent !== '(waiting for the next run)',
      null,
      20000,
      'the click on Train to start a run',
    ).catch(async (e) => {
      const seen = await this.ev(() => {
        const b = document.querySelector('[data-testid=train]');
        const r = b.getBoundingClientRect();
        const at = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
        return `train ${b.disabled ? 'disabled' : 'enabled'} "${b.textContent}" at ${Math.round(r.x)},${Math.round(r.y)}; the element there: ${at ? at.outerHTML.slice(0, 80) : 'none'}; scrollY ${scrollY}`;
      }).catch((err) => err.message);
      throw new Failure(`${e.message}; ${seen}`);
    });
    await this.waitDone(ms);
  }

  /** True when the page runs a script within a few seconds (a frozen tab does not). */
  async answers() {
    return this.driver.evaluate('() => 1 + 1', [], 8000).then(
      (v) => v === 2,
      (e) => {
        if (e instanceof Frozen) return false;
        throw e;
      },
    );
  }

  shot(name) {
    return this.driver.screenshot(path.join(logs, `engines-${this.engine}-${name}.png`)).catch(() => {});
  }
}

// ---- the tests; each takes the engine's Tab ----

async function opens(t) {
  await t.open('main', { fresh: true });
  const x = await t.experiment();
  assert(x.data.builtin === 'iris', `the page opened with ${JSON.stringify(x.data)}, not iris`);
  const facts = await t.ev(() => ({
    isolated: self.crossOriginIsolated,
    simd: WebAssembly.validate(
      new Uint8Array([
        0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11,
      ]),
    ),
  }));
  assert(facts.isolated === true, 'crossOriginIsolated is false');
  assert(facts.simd === true, 'this browser does not validate WebAssembly SIMD');
  await t.waitFor(
    () => document.querySelector('[data-testid=preview] tbody tr:not(.spacer)'),
    null,
    20000,
    'the data preview',
  );
}

async function walk(t) {
  await t.open();
  console.error(`[engines] ${t.engine}: navigator.language is "${await t.ev(() => navigator.language)}"`);
  for (const [i, s] of STEPS.entries()) {
    await t.step(s);
    const visible = await t.ev(() =>
      [...document.querySelectorAll('main > section')].filter((e) => !e.hidden).map((e) => e.id),
    );
    assert(JSON.stringify(visible) === JSON.stringify([`step-${s}`]), `after choosing ${s}, visible: ${visible}`);
    if (s === 'train') {
      // The charts draw as the step first shows.
      await t
        .waitFor(
          () => ['loss-chart', 'accuracy-chart'].every((id) => document.querySelector(`#${id} canvas`)),
          null,
          15000,
          "the Train step's two charts",
        )
        .catch(async (e) => {
          throw new Failure(
            `${e.message}; chart text: "${await t.ev(() => document.getElementById('loss-chart').textContent)}"`,
          );
        });
    }
    if (s === 'prepare')
      await t.waitFor(
        () => document.querySelector('[data-testid=prepare-summary]'),
        null,
        15000,
        'the preparation preview',
      );
    if (s === 'model')
      await t.waitFor(
        () => document.querySelectorAll('[data-testid=layers] tbody tr').length === 4,
        null,
        15000,
        'the layer table',
      );
    assert(await t.answers(), `after opening ${s} the page no longer runs scripts (a frozen tab)`);
    await t.shot(`step-${i + 1}-${s}`);
  }
}

async function hashExample(t, name) {
  await t.open();
  await t.setExperiment(example(name));
  await t.train(180000);
  const [page, native] = await Promise.all([t.hash(), nativeRun(`examples/${name}.experiment.json`)]);
  assert(page === native.weights_sha256, `page ${page} != native ${native.weights_sha256}`);
  if (name === 'iris') {
    await t.step('evaluate');
    const confusion = await t.ev(() =>
      [...document.querySelectorAll('[data-testid=confusion] tr')]
        .slice(1)
        .map((r) => [...r.querySelectorAll('button')].map((b) => Number(b.textContent))),
    );
    assert(
      JSON.stringify(confusion) === JSON.stringify(native.metrics.test.confusion),
      `confusion in the page ${JSON.stringify(confusion)} != native ${JSON.stringify(native.metrics.test.confusion)}`,
    );
  }
}

async function resume(t) {
  await t.open();
  const x = JSON.parse(example('digits'));
  x.model.hidden = [64];
  x.train.epochs = 8;
  const text = JSON.stringify(x, null, 2);
  const file = writeScratch(`resume-${t.engine}.experiment.json`, text);
  const ck = path.join(scratch, `resume-${t.engine}.ck`);
  await run(cli, ['run', file, '--checkpoint', ck, '--stop-after', '100', '--quiet'], { cwd: root });
  const native = await nativeRun(file);
  await t.setExperiment(text);
  await t.forgetStatus();
  await t.step('train');
  await t.driver.upload('[data-testid=resume-file]', [ck]);
  await t.waitDone();
  const at = await t.ev(() =>
    ['startEpoch', 'startBatch', 'batchesPerEpoch'].map((k) => Number(document.getElementById('progress').dataset[k])),
  );
  assert(
    at[0] * at[2] + at[1] === 100,
    `the page resumed at epoch ${at[0]}, batch ${at[1]} (${at[2]} a epoch), not after 100 batches`,
  );
  const page = await t.hash();
  assert(
    page === native.weights_sha256,
    `resumed in the page ${page} != uninterrupted native ${native.weights_sha256}`,
  );
}

/** The model of examples/iris trained in the page; the Deploy step shows its artefacts' sizes
 * once the deploy tools made them; the ONNX file it offers is what the CLI writes from the
 * CLI's model of the same experiment (the same weights), byte for byte. */
async function deployArtefacts(t) {
  await t.open();
  await t.setExperiment(example('iris'));
  await t.train();
  await t.step('deploy');
  await t.waitFor(
    () => ['c-size', 'onnx-size'].every((id) => /KB$/.test(document.getElementById(id).textContent)),
    null,
    60000,
    "the C source's and the ONNX file's sizes",
  );
  await t.ev(() => {
    self.latheBlobs.length = 0;
    return true;
  });
  await t.click('[data-testid=download-onnx]');
  const base64 = await t
    .waitFor(() => self.latheBlobs.length > 0, null, 20000, 'the ONNX file')
    .then(() =>
      t.ev(async () => {
        const bytes = new Uint8Array(await self.latheBlobs[self.latheBlobs.length - 1].arrayBuffer());
        let s = '';
        for (const b of bytes) s += String.fromCharCode(b);
        return btoa(s);
      }),
    );
  const model = path.join(scratch, `deploy-${t.engine}.lathe.json`);
  const onnx = path.join(scratch, `deploy-${t.engine}.onnx`);
  await run(cli, ['run', 'examples/iris.experiment.json', '--out', model, '--quiet'], { cwd: root });
  await run(cli, ['export', model, '--format', 'onnx', '--out', onnx, '--quiet'], { cwd: root });
  const page = Buffer.from(base64, 'base64');
  assert(page.equals(fs.readFileSync(onnx)), `the page's ONNX file (${page.length} bytes) is not the CLI's`);
  // the ONNX file back in: imported by the deploy tools, then fine-tuned in the page to the
  // weights `lathe import` then `lathe train --init` give
  await t.ev(async () => {
    await import('./try_model.js'); // the Deploy step's tryer, wired once it has loaded
    return true;
  });
  await t.driver.upload('[data-testid=onnx-upload]', [onnx]);
  await t.waitFor(
    () => !document.querySelector('[data-testid=try-finetune]').hidden,
    null,
    30000,
    'the ONNX file to be imported',
  );
  await t.click('[data-testid=try-finetune]');
  await t.train();
  const imported = path.join(scratch, `deploy-${t.engine}.imported.lathe.json`);
  await run(cli, ['import', onnx, '--out', imported, '--quiet'], { cwd: root });
  const { stdout } = await run(
    cli,
    ['train', 'examples/iris.experiment.json', '--init', imported, '--json', '--quiet'],
    {
      cwd: root,
    },
  );
  const want = JSON.parse(stdout).weights_sha256;
  const got = await t.hash();
  assert(got === want, `the page fine-tuned the imported model to ${got}, the CLI to ${want}`);
}

async function upload(t) {
  await t.open();
  const rows = ['height,weight,kind'];
  for (let i = 0; i < 60; i++) rows.push(`${150 + i},${50 + (i % 7)},${i < 30 ? 'short' : 'tall'}`);
  const csv = writeScratch('people.csv', `${rows.join('\n')}\n`);
  await t.step('data');
  await t.driver.upload('[data-testid=upload]', [csv]);
  await t.waitFor(
    () =>
      /^60 rows/.test(document.querySelector('[data-testid=data-summary]').textContent) &&
      JSON.parse(document.querySelector('[data-testid=experiment]').value).data.file === 'people.csv',
    null,
    20000,
    'the uploaded CSV to be read',
  );
  await t.train();
  const x = await t.experiment();
  assert(x.data.target === 'kind', `the target is ${x.data.target}, not the last column`);
  const native = await nativeRun(writeScratch(`people-${t.engine}.experiment.json`, JSON.stringify(x)), [
    '--data',
    csv,
  ]);
  const page = await t.hash();
  assert(page === native.weights_sha256, `page ${page} != native on the same file ${native.weights_sha256}`);
}

async function builtinImages(t) {
  await t.open();
  const x = JSON.parse(example('mnist10k_mlp'));
  x.data.limit = { train: 1000, validation: 200, test: 200 };
  x.train.epochs = 1;
  const text = JSON.stringify(x, null, 2);
  await t.setExperiment(text);
  await t.step('data');
  await t.waitFor(
    () => /^10,000 rows × 785 columns/.test(document.querySelector('[data-testid=data-summary]').textContent),
    null,
    60000,
    'the built-in MNIST-10k to be read',
  );
  await t.train(180000);
  const native = await nativeRun(writeScratch(`mnist10k-${t.engine}.experiment.json`, text));
  const page = await t.hash();
  assert(page === native.weights_sha256, `page ${page} != native ${native.weights_sha256}`);
}

/** The Train step's charts in a variant: both drawn, and the page still answers. */
async function chartsDraw(t) {
  await t.step('train');
  await t.waitFor(
    () =>
      ['loss-chart', 'accuracy-chart'].every((id) => document.querySelector(`#${id} canvas`)) ||
      document.getElementById('loss-chart').textContent.startsWith('No chart'),
    null,
    15000,
    'the charts',
  );
  const text = await t.ev(() => document.getElementById('loss-chart').textContent);
  assert(!text.startsWith('No chart'), `the loss chart says: ${text}`);
  assert(await t.answers(), 'the page stopped answering');
}

async function langC(t) {
  await t.open('lang-c');
  assert((await t.ev(() => navigator.language)) === 'C', 'the variant did not set navigator.language');
  await t.setExperiment(example('iris'));
  await chartsDraw(t);
  await t.train(); // and the curves fill in
  const points = await t.ev(() => document.getElementById('loss-chart').chartData[0].length);
  assert(points === 60, `the loss chart shows ${points} epochs of iris's 60`);
}

async function noCanvas(t) {
  await t.open('no-canvas');
  await t.setExperiment(example('iris'));
  await t.step('train');
  const text = await t.waitFor(
    () => {
      const s = document.getElementById('loss-chart').textContent;
      return s.startsWith('No chart') && s;
    },
    null,
    15000,
    'the loss chart to say it has no chart',
  );
  assert(/does not draw on a canvas/.test(text), `the chart box says: "${text}"`);
  assert(await t.answers(), 'the page stopped answering');
  await t.train();
  // the Data step's column histograms and the Evaluate step's pictures go without, too
  await t.step('data');
  const data = await t.waitFor(
    () => {
      const e = document.querySelector('[data-testid=data-error]');
      const rows = document.querySelectorAll('[data-testid=profile] tbody tr').length;
      return (!e.hidden && `error: ${e.textContent}`) || (rows > 0 && `${rows} columns`);
    },
    null,
    15000,
    "the Data step's column profile",
  );
  assert(!data.startsWith('error'), `the Data step says ${data}`);
  await t.step('evaluate');
  assert(await t.answers(), 'the page stopped answering in the Evaluate step');
}

/** An IDX pair of 200 digits: raw labels, images raw or gzipped. */
function idxFiles() {
  const lines = fs.readFileSync(path.join(root, 'data/builtin/digits.csv'), 'utf8').trim().split('\n');
  const target = lines[0].split(',').indexOf('digit');
  const rows = lines.slice(1, 201).map((l) => l.split(',').map(Number));
  const be32 = (...v) => {
    const b = Buffer.alloc(4 * v.length);
    v.forEach((x, i) => b.writeUInt32BE(x, 4 * i));
    return b;
  };
  const images = Buffer.concat([
    Buffer.from([0, 0, 8, 3]),
    be32(rows.length, 8, 8),
    Buffer.from(rows.flatMap((r) => r.filter((_, j) => j !== target))),
  ]);
  return {
    n: rows.length,
    labels: writeScratch(
      'digits-labels-idx1-ubyte',
      Buffer.concat([Buffer.from([0, 0, 8, 1]), be32(rows.length), Buffer.from(rows.map((r) => r[target]))]),
    ),
    images: writeScratch('digits-images-idx3-ubyte', images),
    gzipped: writeScratch('digits-images-idx3-ubyte.gz', zlib.gzipSync(images)),
  };
}

async function noDecompression(t) {
  await t.open('no-decompression');
  const f = idxFiles();
  await t.step('data');
  await t.driver.upload('[data-testid=upload]', [f.labels, f.gzipped]);
  const message = await t.waitFor(
    () => {
      const e = document.querySelector('[data-testid=data-error]');
      return !e.hidden && e.textContent;
    },
    null,
    20000,
    'the data error',
  );
  assert(
    /^digits-images-idx3-ubyte\.gz is gzipped and this browser has no DecompressionStream: upload it gunzipped/.test(
      message,
    ),
    `the message: "${message}"`,
  );
  await t.driver.upload('[data-testid=upload]', [f.labels, f.images]);
  await t.waitFor(
    (n) => document.querySelector('[data-testid=data-summary]').textContent.startsWith(`${n} rows × 65 columns`),
    f.n,
    20000,
    'the IDX files read',
  );
  await t.open('main'); // the gzipped pair is read where the browser has DecompressionStream
  await t.step('data');
  await t.driver.upload('[data-testid=upload]', [f.labels, f.gzipped]);
  await t.waitFor(
    (n) => document.querySelector('[data-testid=data-summary]').textContent.startsWith(`${n} rows × 65 columns`),
    f.n,
    20000,
    'the gzipped IDX files read',
  );
  await t.setExperiment(example('iris'));
}

async function noEntries(t) {
  await t.open('no-entries');
  await t.step('data');
  // As such a browser hands over a dropped folder: a File named after it, with no type.
  await t.ev(() => {
    const dt = new DataTransfer();
    dt.items.add(new File([], 'pets'));
    const zone = document.getElementById('drop-zone');
    zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
    zone.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    return true;
  });
  const message = await t.waitFor(
    () => {
      const e = document.querySelector('[data-testid=data-error]');
      return !e.hidden && e.textContent;
    },
    null,
    10000,
    'the data error',
  );
  assert(
    /does not give dropped folders to pages: use the folder button above/.test(message),
    `the message: "${message}"`,
  );
  const picker = await t.ev(() => {
    const el = document.getElementById('upload-folder');
    return !!el && el.webkitdirectory;
  });
  assert(picker, 'there is no folder picker to choose instead');
}

async function errorsTest(t) {
  await t.harvest();
  const bad = t.errors;
  assert(bad.length === 0, bad.map((e) => `[${e.variant}] ${e.message}`).join(' | '));
}

// ---- running ----

let reported = 0,
  failed = 0;
const done = new Set(); // engine:test ids reported
function report(line, key) {
  reported++;
  if (key) done.add(key);
  if (line.startsWith('FAIL')) failed++;
  console.log(line);
}
/** A FAIL line for each test not reported yet (the runner is stopping). */
function failRest(why) {
  for (const engine of ENGINES)
    for (const [id, name] of tests)
      if (!done.has(`${engine}:${id}`)) report(`FAIL ${engine}: ${name}: ${why}`, `${engine}:${id}`);
}

async function runEngine(engine, origin) {
  const t = new Tab(engine, origin);
  try {
    await t.launch();
  } catch (e) {
    for (const [id, name] of tests)
      report(`FAIL ${engine}: ${name}: ${engine} did not start: ${e.message.split('\n')[0]}`, `${engine}:${id}`);
    return;
  }
  const froze = [];
  for (const [id, name, fn] of tests) {
    const label = `${engine}: ${name}`;
    if (froze.length >= 2) {
      // a tab that freezes again and again: the rest would only wait
      report(
        `FAIL ${label}: not run: the tab froze in ${froze.length} tests before it (${froze.join('; ')})`,
        `${engine}:${id}`,
      );
      continue;
    }
    try {
      await fn(t);
      report(`PASS ${label}`, `${engine}:${id}`);
    } catch (e) {
      report(`FAIL ${label}: ${e.message.split('\n').slice(0, 4).join(' | ')}`, `${engine}:${id}`);
      await t.shot(`failed-${id}`);
      // a tab that no longer answers, or a browser whose session is gone (its process ended)
      const lost =
        e instanceof Frozen ||
        !(await t.answers().catch((err) => console.error(`[engines] ${engine}: ${err.message}`)));
      if (lost) {
        // the next tests get a new browser
        froze.push(id);
        await t.relaunch().catch((err) => console.error(`[engines] ${engine}: relaunch failed: ${err.message}`));
      }
    }
  }
  await t.driver.close().catch(() => {});
}

/** Stops on a signal or an error no test caught: every test not reported fails, and the
 * browsers started are ended. */
function stop(why) {
  failRest(`the runner stopped: ${why}`);
  killAll();
  fs.rmSync(scratch, { recursive: true, force: true });
  process.exit(1);
}
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => stop(signal));
process.on('uncaughtException', (e) => {
  console.error(`[engines] ${e.stack || e}`);
  stop(e.message);
});
process.on('unhandledRejection', (e) => {
  console.error(`[engines] ${(e && e.stack) || e}`);
  stop((e && e.message) || String(e));
});
fs.mkdirSync(logs, { recursive: true });
let server;
try {
  for (const need of [path.join(web, 'index.html'), cli]) {
    if (!fs.existsSync(need)) throw new Error(`${need} is missing: run scripts/build.sh`);
  }
  server = await startServer(buildSite(), 0);
  const origin = `http://127.0.0.1:${server.address().port}`;
  const started = Date.now();
  if (!process.env.LATHE_ENGINES_PARALLEL) for (const e of ENGINES) await runEngine(e, origin);
  else await Promise.all(ENGINES.map((e) => runEngine(e, origin)));
  console.error(`[engines] ${((Date.now() - started) / 1000).toFixed(1)} s`);
} catch (e) {
  console.error(`[engines] ${e.stack || e.message}`);
  failRest(`the runner stopped: ${e.message}`);
} finally {
  if (server) server.close();
  fs.rmSync(scratch, { recursive: true, force: true });
}
const expectedCount = ENGINES.length * tests.length;
process.exit(failed === 0 && reported >= expectedCount ? 0 : 1);
