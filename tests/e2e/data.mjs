// Step 1, Data: CSV and IDX uploads, a malformed file, 100,000 rows, user text shown as text.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { execFileSync } from 'node:child_process';
import { test, assert, nativeRun, root, scratch, cli } from './fixtures.mjs';

test('an uploaded CSV trains; a malformed one is refused with its line, and the page keeps working', async (s) => {
  const { page } = s;
  const rows = ['height,weight,kind'];
  for (let i = 0; i < 60; i++) rows.push(`${150 + i},${50 + (i % 7)},${i < 30 ? 'short' : 'tall'}`);
  const bad = rows.slice(0, 10).concat(['160,55'], rows.slice(10)).join('\n');
  await s.step('data');
  await page.setInputFiles('[data-testid=upload]', {
    name: 'people.csv',
    mimeType: 'text/csv',
    buffer: Buffer.from(bad),
  });
  await page.waitForFunction(
    () => JSON.parse(document.querySelector('[data-testid=experiment]').value).data.file === 'people.csv',
  );
  await page.waitForSelector('[data-testid=data-error]:not([hidden])', { timeout: 30000 });
  const inline = await page.textContent('[data-testid=data-error]');
  assert(inline.includes('people.csv') && inline.includes('line 11'), `the Data step does not say where: "${inline}"`);
  await s.step('train');
  await page.click('[data-testid=train]');
  await page.waitForSelector('[data-testid=error]:not([hidden])', { timeout: 30000 });
  const message = await page.textContent('[data-testid=error]');
  assert(
    message.includes('people.csv') && message.includes('line 11') && message.includes('2 fields'),
    `the error does not say which file and line: "${message}"`,
  );
  await s.step('data');
  await page.setInputFiles('[data-testid=upload]', {
    name: 'people.csv',
    mimeType: 'text/csv',
    buffer: Buffer.from(rows.join('\n')),
  });
  await page.waitForFunction(
    () => /60 rows/.test(document.querySelector('[data-testid=data-summary]').textContent),
    null,
    { timeout: 30000 },
  );
  await s.trainAndWait();
  const experiment = await s.experimentInPage();
  assert(experiment.data.target === 'kind', `the target is ${experiment.data.target}, not the last column`);
  await s.shot('page-upload-trained');
});

test('the data step stays fast on 100,000 rows: virtualised preview, profile and class balance match the file', async (s) => {
  const { page } = s;
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
  await s.step('data');
  await page.setInputFiles('[data-testid=upload]', {
    name: 'big.csv',
    mimeType: 'text/csv',
    buffer: Buffer.from(lines.join('\n')),
  });
  await page.waitForFunction(
    () => /100,000 rows × 4 columns/.test(document.querySelector('[data-testid=data-summary]').textContent),
    null,
    { timeout: 30000 },
  );
  const rendered = await page.$$eval('[data-testid=preview] tbody tr:not(.spacer)', (trs) => trs.length);
  assert(rendered > 5 && rendered < 80, `${rendered} preview rows are in the DOM for 100,000 rows`);
  await page.$eval('#preview-scroll', (el) => {
    el.scrollTop = el.scrollHeight;
  });
  await page.waitForFunction(
    () => [...document.querySelectorAll('[data-testid=preview] tbody th')].some((th) => th.textContent === '100000'),
    null,
    { timeout: 30000 },
  );
  const last = await page.$$eval('[data-testid=preview] tbody tr:not(.spacer)', (trs) =>
    [...trs.at(-1).cells].map((c) => c.textContent),
  );
  assert(last[1] === '99999' && last[4] === lines.at(-1).split(',')[3], `the last row reads ${last}`);
  const balance = await page.$$eval('[data-testid=balance] li', (lis) => lis.map((li) => li.textContent));
  assert(
    balance.length === 2 &&
      balance.every((t) =>
        Object.entries(counts).some(([k, n]) => t.startsWith(k) && t.includes(`${n.toLocaleString('en-US')} (`)),
      ),
    `class balance ${balance} != ${JSON.stringify(counts)}`,
  );
  const colourRow = await page.$$eval('[data-testid=profile] tbody tr', (trs) =>
    trs.map((r) => [...r.cells].map((c) => c.textContent)).find((c) => c[0] === 'colour'),
  );
  assert(
    colourRow && colourRow[2] === missing.toLocaleString('en-US'),
    `colour missing ${colourRow && colourRow[2]} != ${missing}`,
  );
  await s.shot('data-100k');
});

test('user-supplied text is shown as text, never run as HTML', async (s) => {
  const { page } = s;
  const header = '<img src=x onerror=alert(1)>';
  const csv = [`"${header}",label`, '1,a', '2,b', '3,a', '4,b'].join('\n');
  await s.step('data');
  await page.setInputFiles('[data-testid=upload]', {
    name: '<b>x</b>.csv',
    mimeType: 'text/csv',
    buffer: Buffer.from(csv),
  });
  await page.waitForFunction(
    () => /5 rows|4 rows/.test(document.querySelector('[data-testid=data-summary]').textContent),
    null,
    { timeout: 30000 },
  );
  assert((await page.$$eval('img, b', (els) => els.length)) === 0, 'user text became elements');
  const names = await page.$$eval('[data-testid=profile] tbody th', (ths) => ths.map((t) => t.textContent));
  assert(
    names.some((n) => n.startsWith(header)),
    `the column name is not shown as text: ${names}`,
  );
});

test('an IDX set (gzipped images, raw labels) uploads as its files, trains, and replays in the CLI from those files and from the CSV the page writes; a damaged IDX file is named', async (s) => {
  const { page } = s;
  // 400 digits as IDX: images (400, 8, 8) u8 gzipped, labels (400) u8 raw.
  const lines = fs.readFileSync(path.join(root, 'data/builtin/digits.csv'), 'utf8').trim().split('\n');
  const header = lines[0].split(',');
  const target = header.indexOf('digit');
  const rows = lines.slice(1, 401).map((l) => l.split(',').map(Number));
  const n = rows.length;
  const be32 = (...v) => {
    const b = Buffer.alloc(4 * v.length);
    v.forEach((x, i) => b.writeUInt32BE(x, 4 * i));
    return b;
  };
  const pixels = Buffer.from(rows.flatMap((r) => r.filter((_, j) => j !== target)));
  const labels = Buffer.from(rows.map((r) => r[target]));
  const imagesFile = path.join(scratch, 'digits-images-idx3-ubyte.gz');
  const labelsFile = path.join(scratch, 'digits-labels-idx1-ubyte');
  fs.writeFileSync(imagesFile, zlib.gzipSync(Buffer.concat([Buffer.from([0, 0, 8, 3]), be32(n, 8, 8), pixels])));
  fs.writeFileSync(labelsFile, Buffer.concat([Buffer.from([0, 0, 8, 1]), be32(n), labels]));
  await s.step('data');
  await page.setInputFiles('[data-testid=upload]', [labelsFile, imagesFile]);
  await page.waitForFunction(
    (r) => document.querySelector('[data-testid=data-summary]').textContent.startsWith(`${r} rows × 65 columns`),
    n,
    { timeout: 30000 },
  );
  const data = await s.downloadText('[data-testid=download-data]');
  const expected =
    [
      [...Array(64).keys()]
        .map((i) => `px${i}`)
        .concat('label')
        .join(','),
      ...rows.map((r) =>
        r
          .filter((_, j) => j !== target)
          .concat(r[target])
          .join(','),
      ),
    ].join('\n') + '\n';
  assert(
    data.name === 'digits-images.csv' && data.text === expected,
    `the page's CSV of the IDX set (${data.name}) differs from the pixels written`,
  );
  const experiment = await s.experimentInPage();
  assert(
    JSON.stringify(experiment.data) ===
      '{"files":["digits-images-idx3-ubyte.gz","digits-labels-idx1-ubyte"],"image":[1,8,8]}',
    `the experiment's data: ${JSON.stringify(experiment.data)}`,
  );
  const kept = await page.evaluate(() =>
    window.latheTest.stored('upload').then((u) => u.files.map((f) => [f.name, f.bytes.byteLength])),
  );
  assert(
    JSON.stringify(kept) ===
      JSON.stringify([
        ['digits-images-idx3-ubyte.gz', fs.statSync(imagesFile).size],
        ['digits-labels-idx1-ubyte', fs.statSync(labelsFile).size],
      ]),
    `IndexedDB keeps ${JSON.stringify(kept)}, not the two files as they came`,
  );
  await s.forgetStatus();
  await s.trainAndWait();
  await s.step('deploy');
  const exp = await s.downloadText('[data-testid=download-experiment]');
  // the experiment reads the IDX files beside it, as the page did
  const native = nativeRun(exp.file);
  assert(
    (await s.pageHash()) === native.weights_sha256,
    `IDX upload: page ${await s.pageHash()} != CLI on the IDX files ${native.weights_sha256}`,
  );
  const fromCsv = JSON.parse(
    execFileSync(cli, ['run', exp.file, '--data', data.file, '--json', '--quiet'], { cwd: root }).toString(),
  );
  assert(
    fromCsv.weights_sha256 === native.weights_sha256,
    `the CLI on the page's CSV ${fromCsv.weights_sha256} != on the IDX files ${native.weights_sha256}`,
  );
  // A labels file cut short: the IDX reader's message, with the file's name.
  const cut = path.join(scratch, 'cut-labels-idx1-ubyte');
  fs.writeFileSync(cut, fs.readFileSync(labelsFile).subarray(0, 208));
  await s.step('data');
  await page.setInputFiles('[data-testid=upload]', [imagesFile, cut]);
  await page.waitForSelector('[data-testid=data-error]:not([hidden])');
  const message = await page.textContent('[data-testid=data-error]');
  assert(/^cut-labels-idx1-ubyte: .*400.*200/.test(message), `a cut IDX file: "${message}"`);
  await page.setInputFiles('[data-testid=upload]', [imagesFile]);
  assert(/two files/.test(await page.textContent('[data-testid=data-error]')), 'one IDX file alone is not explained');
});
