// What the page downloads: at most 150 KB gzipped up front and 155 KB in all (150 until the
// int8 engine and the Make it smaller panel came: 152.5 KB measured then), apart from the deploy
// tools (the model loader, the exporters and the ONNX importer, lathe_deploy.*), which load
// only when the Deploy step makes an artefact or imports an ONNX file, and have their own
// 95 KB (80 KB before the importer joined them, 90 KB before the exporters wrote int8 and
// compressed-row layers), and the web export's runtime (web_runtime/),
// which loads only when the web export is downloaded.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { test, assert, site, env, Session } from './fixtures.mjs';

test('what the page loads, data sets aside, is at most 150 KB gzipped up front and 155 KB in all; the model tryer comes when opened, the deploy tools (at most 95 KB) when an artefact is made', async (s) => {
  const { page } = s;
  // A first visit: a fresh context, no storage, the plain address.
  const context = await s.newContext();
  const fresh = s.watch(await context.newPage());
  const upFront = new Set();
  fresh.on('request', (r) => {
    if (r.url().startsWith(`${env.origin}/`)) upFront.add(new URL(r.url()).pathname);
  });
  await fresh.goto(s.url);
  await Session.ready(fresh);
  await fresh.waitForSelector('[data-testid=preview] tbody tr:not(.spacer)');
  await fresh.waitForLoadState('networkidle'); // nothing more is coming without a click
  await fresh.close();
  // This test's page opens what loads later (every step, the charts, the model tryer); the
  // tests before it in this run opened the rest (image modules and so on).
  await s.step('prepare');
  await page.waitForSelector('[data-testid=preview-after] tbody tr', { timeout: 30000 });
  await s.trainAndWait();
  await s.step('evaluate');
  await s.step('deploy');
  await page.click('[data-testid=try-trained]');
  await page.waitForSelector('[data-testid=try-form] input');
  const gz = (p) => zlib.gzipSync(fs.readFileSync(path.join(site, p)), { level: 9 }).length;
  const code = (set) =>
    [...set]
      .map((p) => (p.endsWith('/') ? `${p}index.html` : p))
      .filter((p) => !p.startsWith('/data/') && !p.startsWith('/examples/'));
  const sizes = code(upFront).map((p) => [p, gz(p)]);
  const total = sizes.reduce((sum, [, n]) => sum + n, 0);
  assert(code(upFront).includes('/lathe_engine.wasm'), `the page did not load its engine: ${code(upFront)}`);
  const first = new Set(code(upFront));
  // test_hooks.js loads only at the tests' ?test-hooks address, never for a visitor.
  const later = [...new Set(code(env.fetched))]
    .filter((p) => !first.has(p) && p !== '/test_hooks.js')
    .map((p) => [p, gz(p)]);
  console.error(
    `  up front: ${(total / 1024).toFixed(1)} KB gzipped in ${sizes.length} files; when opened: ${later.map(([p, n]) => `${p} ${(n / 1024).toFixed(1)}`).join(', ')}`,
  );
  assert(
    later.some(([p]) => p === '/try_model.js'),
    'the model tryer never loaded',
  );
  assert(!first.has('/try_model.js'), `the tryer loads up front: ${[...first]}`);
  assert(
    total <= 150 * 1024,
    `the page downloads ${(total / 1024).toFixed(1)} KB gzipped up front: ${sizes.map(([p, n]) => `${p} ${(n / 1024).toFixed(1)}`).join(', ')}`,
  );
  // the deploy tools: fetched once the Deploy step showed an artefact's size, never up front
  const isTool = (p) => p.startsWith('/lathe_deploy.');
  const tools = later.filter(([p]) => isTool(p));
  const toolBytes = tools.reduce((sum, [, n]) => sum + n, 0);
  assert(
    tools
      .map(([p]) => p)
      .sort()
      .join() === '/lathe_deploy.js,/lathe_deploy.wasm',
    `the deploy tools fetched: ${tools.map(([p]) => p)}`,
  );
  assert(![...first].some(isTool), 'the deploy tools load up front');
  assert(toolBytes <= 95 * 1024, `the deploy tools are ${(toolBytes / 1024).toFixed(1)} KB gzipped`);
  // the web export's runtime (web_runtime/): fetched only for the web export's download, never
  // up front; its own budget is checked by the web export suite (tests/deploy/web_export.mjs)
  const isWebRuntime = (p) => p.startsWith('/web_runtime/');
  assert(![...first].some(isWebRuntime), 'the web export runtime loads up front');
  // everything else the tests of this run made the page fetch, data sets and examples aside
  const all = total + later.filter(([p]) => !isTool(p) && !isWebRuntime(p)).reduce((sum, [, n]) => sum + n, 0);
  assert(all <= 155 * 1024, `everything the page fetched comes to ${(all / 1024).toFixed(1)} KB gzipped`);
  console.error(
    `  in all: ${(all / 1024).toFixed(1)} KB gzipped, and the deploy tools ${(toolBytes / 1024).toFixed(1)} KB`,
  );
});
