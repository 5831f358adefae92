// "Your data never leaves this machine", as tests: the checkers every test's traffic and the
// page's policy are held to, a proof that they can fail, and the page's own headers and
// policy on a walk through every step (upload, train, evaluate, predict).
import fs from 'node:fs';
import path from 'node:path';
import { test, assert, site, scratch, env } from './fixtures.mjs';

/** Whether pathname (of a request to the test server) names a file under site. */
export function shipped(root, pathname) {
  let p;
  try {
    p = decodeURIComponent(pathname);
  } catch {
    return false;
  }
  if (p.endsWith('/')) p += 'index.html';
  const file = path.resolve(root, `.${p}`);
  return file.startsWith(path.resolve(root) + path.sep) && fs.existsSync(file) && fs.statSync(file).isFile();
}

/**
 * What in a test's traffic is not a GET without a body of a file the site ships, on exactly
 * the test server's origin. records: {kind: 'request' (Chromium's) | 'server' (what reached
 * the server) | 'websocket' | 'beacon' | 'WebSocket' | 'EventSource' | 'RTCPeerConnection' |
 * 'WebTransport' | 'csp-violation' | 'upgrade', method, url, body (bytes)}. Returns one line
 * per problem (empty: nothing left the page). blob: and data: URLs never reach a network;
 * a blob: one must still be the page's own.
 */
export function checkTraffic(records, origin, isShipped) {
  const problems = [];
  for (const r of records) {
    const what = `${r.kind} ${r.method} ${r.url}`;
    if (r.kind !== 'request' && r.kind !== 'server') {
      problems.push(`${what}: a ${r.kind}, not a file request`);
      continue;
    }
    if (r.method !== 'GET') problems.push(`${what}: the method is ${r.method}, not GET`);
    if (r.body !== 0) problems.push(`${what}: carries a body of ${r.body} bytes`);
    let u;
    try {
      u = new URL(r.url);
    } catch {
      problems.push(`${what}: not a URL`);
      continue;
    }
    if (u.protocol === 'data:') continue;
    if (u.protocol === 'blob:') {
      if (!r.url.startsWith(`blob:${origin}/`)) problems.push(`${what}: a blob of another origin`);
      continue;
    }
    if (u.origin !== origin) {
      problems.push(`${what}: another origin than ${origin}`);
      continue;
    }
    if (u.search && !(u.pathname === '/' && u.search === '?test-hooks'))
      problems.push(`${what}: a query string (data can ride in it)`);
    if (!isShipped(u.pathname)) problems.push(`${what}: not a file the site ships`);
  }
  return problems;
}

/** A policy's directives: Map of lower-case name → its sources (keywords lower-cased). */
export function parseCsp(policy) {
  const directives = new Map();
  for (const part of policy.split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/).filter(Boolean);
    if (!name) continue;
    const key = name.toLowerCase();
    if (!directives.has(key))
      directives.set(
        key,
        sources.map((s) => (s.startsWith("'") ? s.toLowerCase() : s)),
      ); // the first one counts
  }
  return directives;
}

/**
 * What in the page's policies (the header's, comma-separated, and each meta tag's) lets data
 * out or lets injected code run: some policy must limit connect-src to 'self' alone (itself,
 * or default-src when it has no connect-src); no directive of any policy may allow
 * 'unsafe-inline', 'unsafe-eval' or 'unsafe-hashes', nor send reports anywhere.
 */
export function cspProblems(policies) {
  const problems = [];
  const parsed = policies
    .flatMap((p) => p.split(','))
    .map((p) => p.trim())
    .filter(Boolean)
    .map(parseCsp);
  if (parsed.length === 0) return ['the page has no Content-Security-Policy'];
  const connect = parsed.map((d) => d.get('connect-src') || d.get('default-src') || null);
  if (!connect.some((c) => c && c.length === 1 && c[0] === "'self'")) {
    problems.push(
      `no policy limits connect-src to 'self' alone (connect-src or default-src: ${connect.map((c) => (c ? c.join(' ') : 'none')).join('; ')})`,
    );
  }
  parsed.forEach((d, i) => {
    for (const [name, sources] of d) {
      for (const bad of ["'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'"])
        if (sources.includes(bad)) problems.push(`policy ${i + 1}: ${name} allows ${bad}`);
      if (name === 'report-uri' || name === 'report-to')
        problems.push(`policy ${i + 1}: ${name} sends reports to ${sources.join(' ')}`);
    }
  });
  return problems;
}

const metaCsp = () =>
  fs
    .readFileSync(path.join(site, 'index.html'), 'utf8')
    .match(/http-equiv="Content-Security-Policy" content="([^"]*)"/)[1];

test(
  'the traffic and policy checkers can fail: a POST, another port, a query, a file not shipped, sockets, beacons, and policies with connect-src *, default-src * or unsafe-inline are refused',
  async () => {
    const origin = 'http://127.0.0.1:4000';
    const isShipped = (p) => shipped(site, p);
    const ok = [
      { kind: 'request', method: 'GET', url: `${origin}/`, body: 0 },
      { kind: 'request', method: 'GET', url: `${origin}/?test-hooks`, body: 0 },
      { kind: 'server', method: 'GET', url: `${origin}/lathe_engine.wasm`, body: 0 },
      { kind: 'request', method: 'GET', url: `blob:${origin}/0b6f6a3e-8d8c-4b6e-9f0e-6f3c2d1a0b9c`, body: 0 },
      { kind: 'request', method: 'GET', url: 'data:text/plain,hello', body: 0 },
    ];
    assert(
      checkTraffic(ok, origin, isShipped).length === 0,
      `the checker refuses the site's own GETs: ${checkTraffic(ok, origin, isShipped)}`,
    );
    const bad = [
      { kind: 'request', method: 'POST', url: `${origin}/index.html`, body: 120 },
      { kind: 'server', method: 'GET', url: `${origin}/index.html`, body: 5 },
      { kind: 'request', method: 'GET', url: 'http://127.0.0.1:4001/index.html', body: 0 },
      { kind: 'request', method: 'GET', url: 'http://localhost:4000/index.html', body: 0 },
      { kind: 'request', method: 'GET', url: `${origin}/index.html?rows=5.1,3.5`, body: 0 },
      { kind: 'request', method: 'GET', url: `${origin}/upload/people.csv`, body: 0 },
      { kind: 'request', method: 'GET', url: `${origin}/../../etc/passwd`, body: 0 },
      { kind: 'request', method: 'GET', url: 'blob:http://127.0.0.1:4001/0b6f6a3e', body: 0 },
      { kind: 'websocket', method: 'WebSocket', url: `ws://127.0.0.1:4000/`, body: 0 },
      { kind: 'beacon', method: 'POST', url: `${origin}/index.html`, body: 0 },
      { kind: 'EventSource', method: 'EventSource', url: `${origin}/index.html`, body: 0 },
      { kind: 'upgrade', method: 'GET', url: `${origin}/`, body: 0 },
      { kind: 'csp-violation', method: 'connect-src', url: 'https://example.com', body: 0 },
    ];
    for (const r of bad)
      assert(checkTraffic([...ok, r], origin, isShipped).length > 0, `the checker lets through ${JSON.stringify(r)}`);
    assert(cspProblems([metaCsp()]).length === 0, `the site's own policy is refused: ${cspProblems([metaCsp()])}`);
    for (const policy of [
      "default-src 'self'; connect-src *",
      'default-src *',
      "default-src 'self'; connect-src 'self' https://example.com",
      "default-src 'self'; connect-src 'self' ws:",
      "script-src 'self'",
      "default-src 'self'; script-src 'self' 'unsafe-inline'",
      "default-src 'self'; style-src 'self' 'UNSAFE-INLINE'",
      "default-src 'self'; script-src 'self' 'unsafe-eval'",
      "default-src 'self'; report-uri https://example.com/csp",
      '',
    ])
      assert(cspProblems([policy]).length > 0, `the policy checker lets through "${policy}"`);
    assert(
      cspProblems(["default-src 'self'; connect-src *", "connect-src 'self'"]).length === 0,
      'two policies are enforced together: the stricter connect-src holds',
    );
    assert(
      cspProblems(["connect-src 'self'", "default-src 'self'; script-src 'unsafe-inline'"]).length > 0,
      'unsafe-inline in a second policy is let through',
    );
  },
  { browser: false },
);

test(
  'the error watch catches an uncaught error and a console error in the page and in the worker',
  async (s) => {
    const { page } = s;
    await page.evaluate(() =>
      queueMicrotask(() => {
        throw new Error('self-check: page');
      }),
    );
    await s.waitErrors(1);
    await page.evaluate(() => console.error('self-check: page console'));
    await s.waitErrors(2);
    const worker = page.workers()[0];
    assert(worker, 'the page has no worker to watch');
    await worker.evaluate(() => console.error('self-check: worker console'));
    await s.waitErrors(3);
    await page.evaluate(() => window.latheTest.inject('crash'));
    await s.waitErrors(4);
    const seen = s.errors.join(' | ');
    assert(
      /uncaught: self-check: page/.test(seen) &&
        /page console error: self-check: page console/.test(seen) &&
        /worker console error: self-check: worker console/.test(seen) &&
        /injected crash/.test(seen),
      `the error watch saw: ${seen}`,
    );
  },
  { expectErrors: [/self-check: page$/, /self-check: page console/, /self-check: worker console/, /injected crash/] },
);

test('the page is served cross-origin isolated, with a strict CSP, and asks no other origin for anything', async (s) => {
  const { page } = s;
  const response = await page.goto(s.url);
  await page.waitForFunction(() => !document.querySelector('[data-testid=train]').disabled, null, { timeout: 30000 });
  const headers = response.headers();
  assert(headers['cross-origin-opener-policy'] === 'same-origin', `COOP: ${headers['cross-origin-opener-policy']}`);
  assert(
    ['require-corp', 'credentialless'].includes(headers['cross-origin-embedder-policy']),
    `COEP: ${headers['cross-origin-embedder-policy']}`,
  );
  assert((await page.evaluate(() => self.crossOriginIsolated)) === true, 'crossOriginIsolated is false in the page');
  assert(
    (await page.workers()[0].evaluate(() => self.crossOriginIsolated)) === true,
    'crossOriginIsolated is false in the worker',
  );
  // the policy: the header's and every meta tag's, and the meta tag comes before any script
  const metas = await page.$$eval('meta[http-equiv]', (ms) =>
    ms.filter((m) => m.httpEquiv.toLowerCase() === 'content-security-policy').map((m) => m.content),
  );
  const policies = [headers['content-security-policy'], ...metas].filter(Boolean);
  const problems = cspProblems(policies);
  assert(problems.length === 0, `CSP ${JSON.stringify(policies)}: ${problems.join('; ')}`);
  const early = await page.evaluate(() => {
    const meta = document.querySelector('meta[http-equiv="Content-Security-Policy"]');
    return (
      !!meta &&
      meta.parentElement === document.head &&
      ![...document.querySelectorAll('script, link[rel=modulepreload]')].some(
        (el) => meta.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_PRECEDING,
      )
    );
  });
  assert(early, 'the meta CSP is not in the head before every script, so it does not cover them all');
  // A walk through every step with the user's own file: upload, train, evaluate, predict.
  // (The fixture checks all of this test's traffic, as it does every test's.)
  const rows = ['height,weight,kind'];
  for (let i = 0; i < 60; i++) rows.push(`${150 + i},${50 + (i % 7)},${i < 30 ? 'short' : 'tall'}`);
  const csv = path.join(scratch, 'private.csv');
  fs.writeFileSync(csv, `${rows.join('\n')}\n`);
  await s.step('data');
  await page.setInputFiles('[data-testid=upload]', csv);
  await page.waitForFunction(
    () => /60 rows/.test(document.querySelector('[data-testid=data-summary]').textContent),
    null,
    { timeout: 30000 },
  );
  await s.step('prepare');
  await page.waitForSelector('[data-testid=prepare-summary]', { timeout: 30000 });
  await s.trainAndWait();
  await s.step('evaluate');
  await page.waitForSelector('[data-testid=confusion] button');
  await s.step('deploy');
  await s.downloadText('[data-testid=download-model]');
  await page.click('[data-testid=try-trained]');
  await page.waitForSelector('[data-testid=try-form] input');
  await page.fill('[data-testid=try-form] [data-column=height]', '171');
  await page.fill('[data-testid=try-form] [data-column=weight]', '53');
  await page.click('[data-testid=try-predict]');
  await page.waitForSelector('[data-testid=prediction]');
  await page.setInputFiles('[data-testid=batch-upload]', csv);
  await page.waitForFunction(() => !document.querySelector('[data-testid=batch-download]').disabled, null, {
    timeout: 30000,
  });
  await s.downloadText('[data-testid=batch-download]');
  const walk = checkTraffic(s.traffic, env.origin, (p) => shipped(site, p));
  assert(walk.length === 0, `the walk: ${walk.slice(0, 4).join(' | ')}`);
  assert(
    s.traffic.some((r) => r.kind === 'server' && r.url.endsWith('/lathe_engine.wasm')),
    'the server log saw no request: the record is not working',
  );
  // The live record can fail too: a beacon, a socket and a fetch of another origin from this
  // page are seen (the policy blocks the fetch and says so); then they are forgotten.
  const traffic = s.traffic.length,
    errors = s.errors.length;
  await page.evaluate(async () => {
    const blocked = new Promise((r) => document.addEventListener('securitypolicyviolation', r, { once: true }));
    navigator.sendBeacon('/index.html', 'the data');
    await new Promise((r) => {
      const ws = new WebSocket(`ws://${location.host}/`);
      ws.onclose = r;
    });
    fetch('http://127.0.0.1:9/upload', { method: 'POST', body: 'the data' }).catch(() => {});
    await blocked;
  });
  // the worker has no policy of its own (the meta tag covers the document only): what it
  // asks for is recorded all the same
  await page.workers()[0].evaluate(() => fetch('http://127.0.0.1:9/from-the-worker').catch(() => {}));
  const since = () => s.traffic.slice(traffic);
  await s.until(
    () => since().some((r) => r.kind === 'server' && r.method === 'POST') && since().some((r) => r.kind === 'upgrade'),
    'the beacon and the socket at the server',
  );
  const caught = checkTraffic(since(), env.origin, (p) => shipped(site, p)).join(' | ');
  assert(
    /beacon POST/.test(caught) &&
      /WebSocket/.test(caught) &&
      /server POST .*carries a body of 8 bytes/.test(caught) &&
      /upgrade GET/.test(caught) &&
      /csp-violation connect-src http:\/\/127\.0\.0\.1:9/.test(caught) &&
      /request GET http:\/\/127\.0\.0\.1:9\/from-the-worker: another origin/.test(caught),
    `a beacon, a socket, a blocked fetch and the worker's fetch give: ${caught}`,
  );
  await s.until(() => s.errors.slice(errors).some((m) => /WebSocket/.test(m)), "the failed socket's console error");
  s.traffic.length = traffic;
  s.errors.length = errors;
});
