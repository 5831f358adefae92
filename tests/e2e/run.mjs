// Browser tests: the real page in Debian's Chromium, driven by playwright-core; one module per
// step or topic, fixtures in fixtures.mjs. Needs build/web and build/native/lathe
// (scripts/build.sh); LATHE_CLI=… names another CLI, LATHE_CHROMIUM=… another Chromium,
// LATHE_E2E_ONLY=regex runs the tests whose name matches. Screenshots go to build/test-logs.
//
// What it prints on stdout, and nothing else: first "TESTS N" (the tests that will run, said
// before anything is launched), then one line per test, "PASS name", "FAIL name: why" or
// "SKIP name: why". Notes go to stderr. It exits non-zero when a test failed or fewer than N
// reported, and a server or browser that does not start fails every test that needs it.
// Each test runs in a fresh browser context (its own storage) and fails when its page or a
// worker threw an uncaught error, or when anything but a GET of a file the site ships left it.
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startServer } from '../../scripts/static_server.mjs';
import { tests, env, Session, recordServer, site, logs, scratch, CHROMIUM_ARGS } from './fixtures.mjs';
import { checkTraffic, shipped } from './privacy.mjs';
import './walk.mjs';
import './data.mjs';
import './prepare.mjs';
import './model.mjs';
import './train.mjs';
import './checkpoint.mjs';
import './evaluate.mjs';
import './deploy.mjs';
import './onnx_import.mjs';
import './compress.mjs';
import './images.mjs';
import './full_images.mjs';
import './budget.mjs'; // last: it reads what every test before it made the page fetch

const only = process.env.LATHE_E2E_ONLY ? new RegExp(process.env.LATHE_E2E_ONLY) : null;
const selected = tests.filter((t) => !only || only.test(t.name));
console.log(`TESTS ${selected.length}`);

let reported = 0,
  failed = 0;
const oneLine = (text) =>
  String(text)
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(0, 6)
    .join(' | ');
let closed = false; // finish() has reported: nothing more is printed
function report(kind, name, why) {
  if (closed) return;
  reported++;
  if (kind === 'FAIL') failed++;
  console.log(why === undefined ? `${kind} ${name}` : `${kind} ${name}: ${oneLine(why)}`);
}
const pending = new Set(selected.map((t) => t.name));
function finish(why = 'the runner stopped before this test finished') {
  for (const name of pending) report('FAIL', name, why);
  pending.clear();
  closed = true;
  if (reported < selected.length) console.error(`only ${reported} of ${selected.length} tests reported`);
  process.exitCode = failed > 0 || reported < selected.length ? 1 : 0;
}
process.on('uncaughtException', (e) => {
  console.error(e);
  finish();
  process.exit(1);
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    finish(`the runner was stopped by ${signal} before this test finished`);
    if (env.browser)
      env.browser
        .close()
        .catch(() => {})
        .finally(() => process.exit(1));
    else process.exit(1);
  });
}
process.on('unhandledRejection', (e) => {
  console.error(e);
  finish();
  process.exit(1);
});

async function launchBrowser() {
  env.browser = await chromium.launch({
    executablePath: process.env.LATHE_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
  });
}

/** Runs fn until it settles or the deadline passes (then the test's contexts are closed). */
function withDeadline(promise, ms, onTimeout) {
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      reject(new Error(`the test took longer than ${ms / 1000} s`));
    }, ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

async function runOne(t) {
  const skip = t.options.skip && t.options.skip();
  if (skip) return report('SKIP', t.name, skip);
  if (t.options.browser === false) {
    await t.fn(null);
    return report('PASS', t.name);
  }
  if (!env.server) throw new Error(`the test server did not start: ${env.serverError}`);
  if (!env.browser || !env.browser.isConnected()) {
    try {
      await launchBrowser();
    } catch (e) {
      env.browser = null;
      throw new Error(`Chromium did not start: ${oneLine(e.message)}`);
    }
  }
  const s = new Session(t.name);
  env.current = s;
  const started = Date.now();
  try {
    await withDeadline(
      (async () => {
        s.page = await s.open();
        await t.fn(s);
      })(),
      t.options.timeout || 300000,
      () => {
        s.close();
      },
    );
    // what the test's pages threw, beyond the errors it provokes on purpose
    const expected = t.options.expectErrors || [];
    const unexpected = s.errors.filter((m) => !expected.some((re) => re.test(m)));
    assert(unexpected.length === 0, `uncaught errors: ${unexpected.slice(0, 4).join(' | ')}`);
    for (const re of expected)
      assert(
        s.errors.some((m) => re.test(m)),
        `the error ${re} the test provokes was not seen by the error watch`,
      );
    const leaks = checkTraffic(s.traffic, env.origin, (p) => shipped(site, p));
    assert(leaks.length === 0, `traffic other than GETs of the site's files: ${leaks.slice(0, 4).join(' | ')}`);
    report('PASS', t.name);
  } catch (e) {
    if (s.page && !s.page.isClosed()) {
      const slug = t.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60);
      await s.page.screenshot({ path: path.join(logs, `failed-${slug}.png`), fullPage: true }).catch(() => {});
    }
    throw e;
  } finally {
    env.current = null;
    await s.close();
    console.error(`  ${((Date.now() - started) / 1000).toFixed(1)} s  ${t.name.slice(0, 90)}`);
  }
}

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

try {
  try {
    env.server = await startServer(site, 0);
    env.origin = `http://127.0.0.1:${env.server.address().port}`;
    recordServer(env.server);
    if (!fs.existsSync(path.join(site, 'index.html')))
      throw new Error(`${site}/index.html is missing: run scripts/build.sh`);
  } catch (e) {
    if (env.server) env.server.close();
    env.server = null;
    env.serverError = oneLine(e.message);
  }
  if (env.server && selected.some((t) => t.options.browser !== false)) {
    try {
      await launchBrowser();
    } catch (e) {
      env.browser = null;
      console.error(`Chromium did not start: ${e.message}`);
    }
  }
  for (const t of selected) {
    try {
      await runOne(t);
    } catch (e) {
      report('FAIL', t.name, e && e.message ? e.message : e);
    }
    pending.delete(t.name);
  }
} finally {
  if (env.browser) await env.browser.close().catch(() => {});
  if (env.server) env.server.close();
  fs.rmSync(scratch, { recursive: true, force: true });
  finish();
}
process.exit(process.exitCode);
