// Two ways to drive a real browser, behind one small interface, for tests/engines/run.mjs:
//   Firefox ESR through puppeteer-core over WebDriver BiDi (headless), and
//   WebKitGTK's MiniBrowser through WebKitWebDriver, by plain WebDriver HTTP calls, in a
//   virtual X display (xvfb-run) unless one is set already.
// A driver has goto(url), evaluate(fnSource, args) (the function's value, awaited in the page),
// click(selector), upload(selector, paths), screenshot(file) and close(). Every call is bounded
// in time: a page that stops answering (a frozen tab) throws Frozen rather than hanging the run.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';

export class Frozen extends Error {}

// Ends what the drivers started (by process id), for a runner that is interrupted.
const live = new Set();
export function killAll() {
  for (const kill of live) kill();
}

/** Races a call against a deadline. */
function bounded(promise, ms, what) {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(
      () => reject(new Frozen(`${what} got no answer in ${ms / 1000} s: the page stopped answering`)),
      ms,
    );
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** The in-page wrapper of a function's source: its awaited value, or {error} (thrown errors
 * and rejections are returned, not lost in a driver's own error format). */
function wrapped(src, args) {
  return (
    `(async () => { try { return { value: await (${src})(...${JSON.stringify(args)}) }; } ` +
    'catch (e) { return { error: String((e && e.message) || e) }; } })()'
  );
}

function unwrap(result) {
  if (result && 'error' in result) throw new Error(`in the page: ${result.error}`);
  return result ? result.value : undefined;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const FIREFOX = process.env.LATHE_FIREFOX || '/usr/bin/firefox-esr';
const CHROMIUM = process.env.LATHE_CHROMIUM || '/usr/bin/chromium';

/** Firefox ESR, headless, over WebDriver BiDi. Throws with what to install when it cannot. */
export function launchFirefox(options) {
  return launchPuppeteer(
    'firefox',
    FIREFOX,
    'firefox-esr',
    {
      browser: 'firefox',
      protocol: 'webDriverBiDi',
      extraPrefsFirefox: {
        'browser.shell.checkDefaultBrowser': false,
        'app.update.enabled': false,
        'network.dns.disableIPv6': true,
      },
    },
    options,
  );
}

/** Debian's Chromium, headless, over CDP (the flags of ../shared/TOOLCHAIN.md: no background
 * traffic into the closed network). Throws with what to install when it cannot. */
export function launchChromium(options) {
  return launchPuppeteer(
    'chromium',
    CHROMIUM,
    'chromium',
    {
      browser: 'chrome',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
    options,
  );
}

/** A browser driven by puppeteer-core: name, its binary, its Debian package, launch options. */
async function launchPuppeteer(name, binary, pkg, launch, { callMs = 30000 } = {}) {
  if (!fs.existsSync(binary)) throw new Error(`${binary} is missing: apt-get install ${pkg}`);
  let puppeteer;
  try {
    puppeteer = (await import('puppeteer-core')).default;
  } catch (e) {
    throw new Error(`puppeteer-core does not load (${e.message}): PUPPETEER_SKIP_DOWNLOAD=1 npm install`);
  }
  const browser = await bounded(
    puppeteer.launch({ ...launch, executablePath: binary, headless: true }),
    60000,
    `launching ${name}`,
  );
  const proc = browser.process();
  const kill = () => {
    live.delete(kill);
    if (proc) proc.kill('SIGKILL');
  };
  live.add(kill);
  const page = (await browser.pages())[0] || (await browser.newPage());
  await page.setViewport({ width: 1280, height: 800 });
  const call = (p, what, ms = callMs) => bounded(p, ms, what);
  return {
    name,
    version: await browser.version(),
    async goto(url) {
      await call(page.goto(url, { waitUntil: 'load' }), `opening ${url}`);
    },
    async evaluate(src, args = [], ms = callMs) {
      return unwrap(await call(page.evaluate(wrapped(src, args)), 'a script', ms));
    },
    async click(selector) {
      await call(page.click(selector), `clicking ${selector}`);
    },
    async upload(selector, paths) {
      const input = await call(page.$(selector), `finding ${selector}`);
      if (!input) throw new Error(`no ${selector} in the page`);
      await call(input.uploadFile(...paths), `choosing files in ${selector}`);
    },
    async screenshot(file) {
      await call(page.screenshot({ path: file, fullPage: true }), 'a screenshot', 20000);
    },
    async close() {
      await bounded(browser.close(), 15000, `closing ${name}`).catch(kill);
      live.delete(kill);
    },
  };
}

const WEBDRIVER = process.env.LATHE_WEBKIT_DRIVER || '/usr/bin/WebKitWebDriver';
const MINIBROWSER = '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';
const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf'; // the W3C WebDriver element key

/** WebKitGTK's MiniBrowser through WebKitWebDriver (W3C WebDriver over HTTP), in its own
 * process group so close() can end the driver, the browser and Xvfb together. env: extra
 * environment for the browser (the suite sets the POSIX locale, LC_ALL=C). */
export async function launchWebKit({ callMs = 30000, env = {} } = {}) {
  for (const [file, pkg] of [
    [WEBDRIVER, 'webkit2gtk-driver'],
    [MINIBROWSER, 'webkit2gtk-driver (it pulls in libwebkit2gtk-4.1-0 with MiniBrowser)'],
  ]) {
    if (!fs.existsSync(file)) throw new Error(`${file} is missing: apt-get install ${pkg}`);
  }
  const port = await freePort();
  let argv = [WEBDRIVER, `--port=${port}`];
  if (!process.env.DISPLAY) {
    if (!fs.existsSync('/usr/bin/xvfb-run'))
      throw new Error('MiniBrowser needs a display and xvfb-run is missing: apt-get install xvfb');
    argv = ['/usr/bin/xvfb-run', '-a', ...argv];
  }
  const proc = spawn(argv[0], argv.slice(1), {
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...env },
  });
  let stderr = '';
  proc.stderr.on('data', (d) => {
    stderr = (stderr + d).slice(-2000);
  });
  const exited = new Promise((resolve) => proc.on('exit', (code) => resolve(code)));
  const kill = () => {
    live.delete(kill);
    try {
      process.kill(-proc.pid, 'SIGKILL');
    } catch {
      /* gone already */
    }
  };
  live.add(kill);
  const base = `http://127.0.0.1:${port}`;
  async function http(method, path, body, ms = callMs) {
    const response = await fetch(base + path, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(ms),
    }).catch((e) => {
      if (e.name === 'TimeoutError')
        throw new Frozen(`WebDriver ${method} ${path} got no answer in ${ms / 1000} s: the page stopped answering`);
      throw e;
    });
    const json = await response.json();
    if (json.value && json.value.error) throw new Error(`WebDriver ${json.value.error}: ${json.value.message}`);
    return json.value;
  }
  try {
    // the driver is up when /status answers (it exits with a message when it cannot start)
    const deadline = Date.now() + 20000;
    for (;;) {
      const up = await Promise.race([
        http('GET', '/status', undefined, 2000).then(
          () => true,
          () => false,
        ),
        exited.then(() => 'exit'),
      ]);
      if (up === true) break;
      if (up === 'exit' || Date.now() > deadline)
        throw new Error(`WebKitWebDriver did not start: ${stderr.trim() || 'no output'}`);
      await new Promise((r) => setTimeout(r, 100)); // between two polls of a server that is starting
    }
    const session = await http(
      'POST',
      '/session',
      {
        capabilities: {
          alwaysMatch: {
            browserName: 'MiniBrowser',
            'webkitgtk:browserOptions': { binary: MINIBROWSER, args: ['--automation'] },
          },
        },
      },
      60000,
    ).catch((e) => {
      throw new Error(`MiniBrowser did not start: ${e.message} ${stderr.trim()}`);
    });
    const sid = session.sessionId;
    const s = (path) => `/session/${sid}${path}`;
    await http('POST', s('/timeouts'), { script: 600000, pageLoad: 60000, implicit: 0 });
    await http('POST', s('/window/rect'), { width: 1280, height: 800 }).catch(() => {});
    const find = async (selector) =>
      (await http('POST', s('/element'), { using: 'css selector', value: selector }))[ELEMENT];
    return {
      name: 'webkit',
      version: `WebKitGTK ${session.capabilities.browserVersion}`,
      async goto(url) {
        await http('POST', s('/url'), { url });
      },
      async evaluate(src, args = [], ms = callMs) {
        const script = `const done = arguments[arguments.length - 1]; ${wrapped(src, args)}.then(done);`;
        return unwrap(await http('POST', s('/execute/async'), { script, args: [] }, ms));
      },
      async click(selector) {
        await http('POST', s(`/element/${await find(selector)}/click`), {});
      },
      async upload(selector, paths) {
        const id = await find(selector);
        await http('POST', s(`/element/${id}/clear`), {}); // else a multiple input adds to its last files
        await http('POST', s(`/element/${id}/value`), { text: paths.join('\n') });
      },
      async screenshot(file) {
        fs.writeFileSync(file, Buffer.from(await http('GET', s('/screenshot'), undefined, 20000), 'base64'));
      },
      async close() {
        await http('DELETE', s(''), undefined, 15000).catch(() => {});
        kill();
      },
    };
  } catch (e) {
    kill();
    throw e;
  }
}
