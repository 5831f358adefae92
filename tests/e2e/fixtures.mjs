// Shared fixtures of the browser tests: the test list, the static server and Chromium, one
// Session per test (a fresh browser context, its page and the helpers that drive it), the
// error watch (page, worker, dialogs) and the traffic record that every test is checked
// against (privacy.mjs holds the checker). Ground truth comes from outside the page: the
// native CLI (`nativeRun`) and data the tests make themselves (`pngFile`).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import zlib from 'node:zlib';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const site = path.join(root, 'build/web');
export const logs = path.join(root, 'build/test-logs');
export const cli = process.env.LATHE_CLI || path.join(root, 'build/native/lathe');
export const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'lathe-e2e-'));
fs.mkdirSync(logs, { recursive: true });

/** Every test, in the order the modules register them: {name, fn, options}. */
export const tests = [];
/**
 * Registers a test. fn(s) gets a Session whose page is open at the test-hooks page and ready;
 * options: {browser: false} (no page: s is null), {timeout} (ms, the whole test),
 * {expectErrors: [RegExp]} (uncaught errors the test provokes; each must occur),
 * {skip: () => reason or null}.
 */
export function test(name, fn, options = {}) {
  if (tests.some((t) => t.name === name)) throw new Error(`two tests are named "${name}"`);
  tests.push({ name, fn, options });
}

export function assert(cond, message) {
  if (!cond) throw new Error(message);
}
export const close = (a, b, tol = 1e-6) =>
  Number.isFinite(a) && Number.isFinite(b) && Math.abs(a - b) <= tol * (1 + Math.abs(b));

/** `lathe run FILE --json` of an experiment file (a path, or the text written to scratch). */
export function nativeRun(experiment, text) {
  let file = experiment;
  if (text !== undefined) {
    file = path.join(scratch, path.basename(experiment));
    fs.writeFileSync(file, text);
  }
  const out = execFileSync(cli, ['run', file, '--json', '--quiet'], { cwd: root });
  return JSON.parse(out.toString());
}

/** An example experiment with edits, as pretty-printed text. */
export function exampleText(name, edit = () => {}) {
  const x = JSON.parse(fs.readFileSync(path.join(root, `examples/${name}.experiment.json`), 'utf8'));
  edit(x);
  return JSON.stringify(x, null, 2);
}

/** A PNG file of 8-bit pixels: colour type 0 (grey, w·h bytes) or 6 (RGBA, 4·w·h bytes). */
export function pngFile(w, hgt, type, pixels) {
  const table = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = table[(c ^ b) & 255] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
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
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

// Runs in every frame before the page's own scripts: reports what could carry data out of
// the tab without a plain request (beacons, WebSockets, EventSource, WebRTC, WebTransport),
// CSP violations, and errors of the page's workers (the page handles those itself, so they
// never reach the console). Reports go to the binding __latheRecord (see Session).
const INSTRUMENT = `(() => {
  const record = (r) => { try { window.__latheRecord(r); } catch { /* the binding is not there yet */ } };
  const size = (d) => (d == null ? 0 : typeof d === 'string' ? d.length : d.byteLength ?? d.size ?? -1);
  const beacon = Navigator.prototype.sendBeacon;
  Navigator.prototype.sendBeacon = function (url, data) {
    record({ kind: 'beacon', method: 'POST', url: String(url), body: size(data) });
    return beacon.call(this, url, data);
  };
  for (const name of ['WebSocket', 'EventSource', 'RTCPeerConnection', 'WebTransport']) {
    const Real = window[name];
    if (!Real) continue;
    window[name] = new Proxy(Real, { construct(target, args, nt) {
      record({ kind: name, method: name, url: String(args[0] && (args[0].iceServers ? JSON.stringify(args[0]) : args[0])), body: 0 });
      return Reflect.construct(target, args, nt);
    } });
  }
  document.addEventListener('securitypolicyviolation', (e) => record({ kind: 'csp-violation', method: e.effectiveDirective, url: String(e.blockedURI), body: 0 }));
  const RealWorker = window.Worker;
  window.Worker = class extends RealWorker {
    constructor(...args) {
      super(...args);
      this.addEventListener('error', (e) => record({ kind: 'worker-error', message: e.message || 'a worker error' }));
      this.addEventListener('messageerror', () => record({ kind: 'worker-error', message: 'a message from the worker could not be read' }));
    }
  };
})();`;

/** The server, the browser, the run's traffic; set up by run.mjs. */
export const env = {
  server: null,
  origin: '',
  browser: null,
  launch: null,
  current: null,
  fetched: new Set(), // own-origin paths any test's page fetched (the size budget reads it)
};

/** Records what reaches the server (method, URL, body bytes; upgrades) for the test running. */
export function recordServer(server) {
  server.on('request', (req) => {
    let body = 0;
    req.on('data', (c) => {
      body += c.length;
    });
    req.on('end', () => {
      if (env.current) env.current.add({ kind: 'server', method: req.method, url: env.origin + req.url, body });
    });
  });
  server.on('upgrade', (req, socket) => {
    if (env.current) env.current.add({ kind: 'upgrade', method: req.method, url: env.origin + req.url, body: 0 });
    socket.destroy();
  });
}

/** One test's browser state: fresh contexts, their pages, what they threw and asked for. */
export class Session {
  constructor(name) {
    this.name = name;
    this.contexts = [];
    this.errors = []; // uncaught errors, console errors and dialogs of every page and worker
    this.traffic = []; // every request, socket, beacon… (checked by privacy.mjs's checkTraffic)
    this.seen = new WeakSet();
    this.waiters = [];
    this.page = null;
    this.url = `${env.origin}/`;
    this.hooks = `${env.origin}/?test-hooks`; // the page with window.latheTest
  }

  note(message) {
    this.errors.push(message);
    this.wake();
  }

  add(record) {
    this.traffic.push(record);
    this.wake();
  }

  wake() {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves once pred() holds, checked whenever the error watch or the traffic record
   * changes; rejects after timeout ms. */
  async until(pred, what, timeout = 30000) {
    const deadline = Date.now() + timeout;
    while (!pred()) {
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`${what}: not seen within ${timeout / 1000} s (errors: ${this.errors.join(' | ') || 'none'})`);
      let timer;
      await Promise.race([
        new Promise((r) => this.waiters.push(r)),
        new Promise((r) => {
          timer = setTimeout(r, left);
        }),
      ]);
      clearTimeout(timer); // a deadline, not a wait: it returns as soon as something is recorded
    }
  }

  /** Resolves when the error watch has recorded at least n errors. */
  waitErrors(n, timeout = 30000) {
    return this.until(() => this.errors.length >= n, `error ${n} of the error watch`, timeout);
  }

  /** A fresh browser context (its own storage), recorded and watched like the first. */
  async newContext() {
    const context = await env.browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 800 } });
    this.contexts.push(context);
    await context.exposeBinding('__latheRecord', (_source, r) => {
      if (r.kind === 'worker-error') this.note(`worker error: ${r.message}`);
      else this.add(r);
    });
    await context.addInitScript(INSTRUMENT);
    context.on('request', (r) => {
      let body = 0;
      try {
        body = (r.postDataBuffer() || Buffer.alloc(0)).length;
      } catch {
        body = -1;
      }
      this.add({ kind: 'request', method: r.method(), url: r.url(), body, type: r.resourceType() });
      if (r.url().startsWith(`${env.origin}/`)) env.fetched.add(new URL(r.url()).pathname);
    });
    context.on('page', (p) => this.watch(p));
    return context;
  }

  /** Records a tab's errors and dialogs, and those of its workers. */
  watch(p) {
    if (this.seen.has(p)) return p;
    this.seen.add(p);
    const consoleError = (m) => {
      if (m.type() !== 'error' || this.seen.has(m)) return;
      this.seen.add(m);
      this.note(`${m.worker && m.worker() ? 'worker' : 'page'} console error: ${m.text()}`);
    };
    p.on('pageerror', (e) => this.note(`uncaught: ${e.message}`));
    p.on('console', consoleError);
    p.on('worker', (w) => w.on('console', consoleError));
    p.on('crash', () => this.note('the page crashed'));
    p.on('dialog', (d) => {
      this.note(`a dialog opened: ${d.message()}`);
      d.dismiss().catch(() => {});
    });
    p.on('websocket', (ws) => this.add({ kind: 'websocket', method: 'WebSocket', url: ws.url(), body: 0 }));
    return p;
  }

  /** A new context's page at url, ready: the engine answered and the experiment is shown. */
  async open(url = this.hooks) {
    const context = await this.newContext();
    const page = this.watch(await context.newPage());
    await page.goto(url);
    await Session.ready(page);
    return page;
  }

  /** Another tab of this test in a fresh context: no storage shared with the first. */
  freshPage(url) {
    return this.open(url);
  }

  static async ready(page) {
    await page.waitForFunction(
      () =>
        !document.querySelector('[data-testid=train]').disabled &&
        document.querySelector('[data-testid=experiment]').value.trim() !== '' &&
        (!location.search.includes('test-hooks') || window.latheTest),
      null,
      { timeout: 30000 },
    );
  }

  async close() {
    for (const c of this.contexts.splice(0)) await c.close().catch(() => {});
  }

  // Helpers on this.page (the page of the test; a test that closes it sets the next one).
  step(name) {
    return this.page.click(`[data-testid=step-${name}]`);
  }
  shot(name) {
    return this.page.screenshot({ path: path.join(logs, `${name}.png`), fullPage: true });
  }
  status() {
    return this.page.textContent('[data-testid=status]');
  }
  pageHash() {
    return this.page.textContent('[data-testid=weights-hash]');
  }
  // Time limits here are deadlines for a stuck page on a loaded machine, never speed checks.
  async waitDone(timeout = 180000) {
    await this.page
      .waitForFunction(() => /^Done/.test(document.querySelector('[data-testid=status]').textContent), null, {
        timeout,
      })
      .catch(async (e) => {
        throw new Error(
          `${e.message.split('\n')[0]} (status "${await this.status().catch(() => '?')}", error "${await this.page.textContent('[data-testid=error]').catch(() => '?')}")`,
        );
      });
  }
  /** Blanks the status line, so waitDone waits for the next run's "Done". */
  forgetStatus() {
    return this.page.$eval('[data-testid=status]', (el) => {
      el.textContent = '(waiting for the next run)';
    });
  }
  /** Sets a control's value the way a person does, firing input and change. */
  setControl(selector, value) {
    return this.page.$eval(
      selector,
      (el, v) => {
        if (el.type === 'checkbox') el.checked = v;
        else el.value = v;
        el.dispatchEvent(new Event('input', { bubbles: true }));
        el.dispatchEvent(new Event('change', { bubbles: true }));
      },
      value,
    );
  }
  async experimentInPage() {
    await this.page.waitForFunction(
      () => document.querySelector('[data-testid=experiment]').value.trim() !== '',
      null,
      { timeout: 30000 },
    );
    return JSON.parse(await this.page.inputValue('[data-testid=experiment]'));
  }
  async setExperiment(text) {
    await this.step('deploy');
    await this.page.fill('[data-testid=experiment]', text);
  }
  useExample(name) {
    return this.setExperiment(fs.readFileSync(path.join(root, `examples/${name}.experiment.json`), 'utf8'));
  }
  async trainAndWait(timeout) {
    await this.step('train');
    await this.page.click('[data-testid=train]');
    await this.waitDone(timeout);
  }
  /** Saves what a click downloads and returns its name, text and file. */
  async downloadText(selector) {
    const [download] = await Promise.all([this.page.waitForEvent('download'), this.page.click(selector)]);
    const file = path.join(scratch, download.suggestedFilename());
    await download.saveAs(file);
    return { name: download.suggestedFilename(), text: fs.readFileSync(file, 'utf8'), file };
  }
  /** Waits until a checkpoint of at least this epoch is committed to IndexedDB. */
  async waitSaved(epoch, timeout = 120000) {
    await this.page.waitForFunction(
      (e) => Number(document.querySelector('[data-testid=saved-note]').dataset.epoch || -1) >= e,
      epoch,
      { timeout },
    );
    return Number(await this.page.getAttribute('[data-testid=saved-note]', 'data-epoch'));
  }
  /** Waits for the pause a test asked for (latheTest.pauseAt) or pressed. */
  waitPaused(timeout = 120000) {
    return this.page.waitForFunction(
      () =>
        /paused/.test(document.querySelector('[data-testid=status]').textContent) &&
        document.getElementById('pause').textContent === 'Resume',
      null,
      { timeout },
    );
  }
  /**
   * A round trip to the worker and to IndexedDB: every message the worker posted before it
   * answered has been handled by the page, and the page's writes are committed.
   */
  async settle() {
    await this.page.evaluate(async () => {
      await window.latheTest.allocLive();
      await window.latheTest.idle();
    });
  }
  /** Two animation frames: layout, ResizeObserver callbacks and paint have run. */
  frames() {
    return this.page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  }
  /** Whether a key of the page's IndexedDB holds a value: {type} or null. */
  stored(key) {
    return this.page.evaluate(
      (k) =>
        new Promise((resolve, reject) => {
          const open = indexedDB.open('lathe');
          open.onerror = () => reject(open.error);
          open.onsuccess = () => {
            const get = open.result.transaction('kv').objectStore('kv').get(k);
            get.onsuccess = () => {
              resolve(get.result === undefined ? null : { type: typeof get.result });
              open.result.close();
            };
            get.onerror = () => reject(get.error);
          };
        }),
      key,
    );
  }
  /** Opens the Deploy step and waits for its model tryer (loaded when the step first opens):
   * the page's import of try_model.js settles, and wires the tryer, before this one does. */
  async openTryer() {
    await this.step('deploy');
    await this.page.evaluate(() => import('./try_model.js'));
  }
  /** The page module's g9 (C's %.9g) of each value: predictions as `lathe predict` prints them. */
  g9(values) {
    return this.page.evaluate((v) => import('./try_model.js').then((m) => v.map(m.g9)), values);
  }
}
