// Deploy → Make it smaller: int8 quantisation of the last run's model in the page, the same
// file (weights hash and bytes, the producer aside) as `build/native/lathe quantize` writes
// from the page's model file, its table (with `lathe compress-report`'s C flash and RAM, and
// timings in the page's wasm), its max-drop gate, its errors, and the int8 file in Try the
// model predicting as `lathe predict` does on it.
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { test, assert, exampleText, root, cli, scratch, logs } from './fixtures.mjs';

/** The panel's table: {variant: {value, points, weights, file, flash, ram, ms1, msN, rows,
 * text}} from its cells' data. */
function readTable(page) {
  return page.$$eval('[data-testid=quant-table] tbody tr', (rows) =>
    Object.fromEntries(
      rows.map((tr) => {
        const td = tr.querySelectorAll('td');
        const num = (s) => (s === '' ? null : Number(s));
        return [
          tr.dataset.variant,
          {
            value: num(td[0].dataset.value),
            points: num(td[1].dataset.points),
            weights: Number(td[2].dataset.bytes),
            file: Number(td[3].dataset.bytes),
            flash: num(td[4].dataset.flash ?? ''),
            ram: num(td[4].dataset.ram ?? ''),
            ms1: num(td[5].dataset.ms1 ?? ''),
            msN: num(td[5].dataset.msn ?? ''),
            rows: num(td[5].dataset.rows ?? ''),
            text: Array.from(td, (c) => c.textContent),
          },
        ];
      }),
    ),
  );
}

/** Clicks "Quantise to int8" and waits for the table (measured: the C footprint and the
 * timings in) or the panel's error; with measuring, first checks that the table shows
 * "measuring…" while the worker times the models. */
async function quantise(page, measuring = false) {
  await page.click('[data-testid=quantize]');
  if (measuring) {
    await page.waitForFunction(
      () =>
        !document.querySelector('[data-testid=quant-result]').hidden &&
        /measuring…/.test(document.querySelector('[data-testid=quant-table]').textContent),
      null,
      { timeout: 60000, polling: 20 },
    );
    const status = await page.textContent('[data-testid=quant-status]');
    assert(/^Measuring/.test(status), `the status while measuring: ${status}`);
  }
  await page.waitForFunction(
    () =>
      !document.querySelector('[data-testid=quantize]').disabled &&
      (!document.querySelector('[data-testid=quant-result]').hidden ||
        !document.querySelector('[data-testid=quant-error]').hidden),
    null,
    { timeout: 60000 },
  );
}

/** A full-page screenshot, and one of the panel alone (NAME-panel.png), in build/test-logs. */
async function panelShot(s, name) {
  await s.shot(name);
  const clip = await s.page.evaluate(() => {
    const top = document.getElementById('smaller-title').getBoundingClientRect().top + window.scrollY;
    const end = document.getElementById('quant-command').closest('p').getBoundingClientRect().bottom + window.scrollY;
    return { x: 0, y: top - 8, width: document.documentElement.clientWidth, height: end - top + 16 };
  });
  await s.page.screenshot({ path: path.join(logs, `${name}-panel.png`), clip, fullPage: true });
}

const strip = (t) => t.replace(/"producer":\s*"[^"]*"/, '');

test("deploy: Make it smaller quantises digits' MLP to int8 as `lathe quantize` does (the same file, the producer aside), shows float and int8 in one table, and the int8 file predicts in Try the model as lathe predict does", async (s) => {
  const { page } = s;
  // no run yet: nothing to quantise
  await s.step('deploy');
  assert(await page.isDisabled('[data-testid=quantize]'), 'Quantise is enabled before any run');
  await s.setExperiment(
    exampleText('digits', (x) => {
      x.train.epochs = 3;
    }),
  );
  await s.forgetStatus();
  await s.trainAndWait();
  await s.step('deploy');
  assert((await page.inputValue('[data-testid=quant-calib]')) === '256', 'the calibration rows default');
  const model = await s.downloadText('[data-testid=download-model]');
  const live = await page.evaluate(() => window.latheTest.allocLive());
  await quantise(page, true);
  assert(await page.isHidden('[data-testid=quant-error]'), await page.textContent('[data-testid=quant-error]'));
  assert(
    (await page.evaluate(() => window.latheTest.allocLive())) === live,
    'quantising and measuring leaked engine allocations',
  );
  const table = await readTable(page);
  assert(Object.keys(table).join() === 'float,int8', `the table's rows: ${Object.keys(table)}`);
  const delta = table.int8.points;
  assert(Number.isFinite(delta) && Math.abs(delta) <= 5, `int8 is ${delta} points from float`);
  assert(table.float.points === 0 && table.float.value > 0.8, `the float row: ${table.float.text}`);
  assert(
    table.int8.weights < 0.3 * table.float.weights,
    `int8 weights ${table.int8.weights} of ${table.float.weights}`,
  );
  assert((await page.textContent('#quant-metric')) === 'test accuracy', 'the metric column');
  assert(await page.isHidden('[data-testid=quant-warning]'), 'a warning without a max drop');
  const command = await page.textContent('[data-testid=quant-command]');
  assert(
    command ===
      `lathe quantize ${model.name} --out ${model.name.replace(/\.lathe\.json$/, '.int8.lathe.json')} --calib 256`,
    `the CLI command: ${command}`,
  );
  // the download: a version 4 model file, the CLI's from the page's model file
  const int8 = await s.downloadText('[data-testid=quant-download]');
  assert(int8.name === model.name.replace(/\.lathe\.json$/, '.int8.lathe.json'), `downloaded ${int8.name}`);
  const file = JSON.parse(int8.text);
  assert(file.format === 'lathe-model' && file.version === 4, `the int8 file is version ${file.version}`);
  const cliFile = path.join(scratch, 'digits_cli.int8.lathe.json');
  const report = JSON.parse(
    execFileSync(cli, ['quantize', model.file, '--out', cliFile, '--calib', '256', '--json', '--quiet'], {
      cwd: root,
    }).toString(),
  );
  const cliText = fs.readFileSync(cliFile, 'utf8');
  assert(
    file.weights_sha256 === report.weights_sha256 && file.weights_sha256 === JSON.parse(cliText).weights_sha256,
    `the page's int8 weights ${file.weights_sha256}, the CLI's ${report.weights_sha256}`,
  );
  assert(strip(int8.text) === strip(cliText), "the page's int8 file is not the CLI's, the producer aside");
  assert(
    table.int8.value === report.int8.test && table.float.value === report.float.test,
    `the table's accuracies ${table.float.value} / ${table.int8.value}, the CLI's ${report.float.test} / ${report.int8.test}`,
  );
  // the weights' bytes are the CLI's; the model files', those downloaded
  assert(
    table.float.weights === report.weight_bytes.float &&
      table.int8.weights === report.weight_bytes.int8 &&
      table.float.file === Buffer.byteLength(model.text) &&
      table.int8.file === Buffer.byteLength(int8.text),
    `the table's bytes ${JSON.stringify(table)}, the CLI's weights ${JSON.stringify(report.weight_bytes)}`,
  );
  // what `lathe compress-report` adds: the C export's flash and RAM (exact, so equal to the
  // CLI's for the same two files) and the timings (this browser's wasm: plausible, not equal)
  const int8Path = path.join(scratch, 'digits_page.int8.lathe.json');
  fs.writeFileSync(int8Path, int8.text);
  const [cliFloat, cliInt8] = JSON.parse(
    execFileSync(cli, ['compress-report', model.file, int8Path, '--json'], { cwd: root }).toString(),
  );
  for (const [variant, c] of [
    ['float', cliFloat],
    ['int8', cliInt8],
  ]) {
    const t = table[variant];
    assert(
      t.flash > 0 && t.ram > 0 && t.flash === c.c_flash_data_bytes && t.ram === c.c_ram_bytes,
      `${variant}: the page's C flash / RAM ${t.flash} / ${t.ram}, the CLI's ${c.c_flash_data_bytes} / ${c.c_ram_bytes}`,
    );
    assert(
      t.ms1 > 0 && t.msN > 0 && t.msN < 1000 && t.rows === c.rows_256 && t.rows === 256,
      `${variant}: ${t.ms1} ms at batch 1, ${t.msN} at ${t.rows} rows (the CLI: ${c.rows_256} rows)`,
    );
    assert(
      /^[\d.]+ K?B \/ [\d.]+ K?B$/.test(t.text[4]) && /^[\d.]+ \/ [\d.]+$/.test(t.text[5]),
      `${variant}'s cells: ${t.text}`,
    );
  }
  assert(table.int8.flash < table.float.flash, `int8 C flash ${table.int8.flash}, float ${table.float.flash}`);
  assert(cliInt8.int8 && !cliFloat.int8, 'the CLI did not read the int8 file as int8');
  const reportCommand = await page.textContent('#quant-report-command');
  assert(
    reportCommand === `lathe compress-report ${model.name} ${int8.name}`,
    `the compress-report command: ${reportCommand}`,
  );
  await panelShot(s, 'step-6-make-it-smaller');
  // Try it: the int8 model in Try the model predicts a CSV as lathe predict does on the file
  await page.click('[data-testid=quant-try]');
  await page.waitForFunction(
    () => /^Using the int8 model/.test(document.querySelector('[data-testid=try-source]').textContent),
    null,
    { timeout: 30000 },
  );
  const source = await page.textContent('[data-testid=try-source]');
  assert(source.includes(file.weights_sha256.slice(0, 12)), `try-source: ${source}`);
  const rows = fs.readFileSync(path.join(root, 'data/builtin/digits.csv'), 'utf8').split('\n').slice(0, 13);
  const csv = path.join(scratch, 'digits_rows.csv');
  fs.writeFileSync(csv, `${rows.join('\n')}\n`);
  await page.setInputFiles('[data-testid=batch-upload]', csv);
  await page.waitForFunction(() => !document.querySelector('[data-testid=batch-download]').disabled, null, {
    timeout: 30000,
  });
  const predictions = await s.downloadText('[data-testid=batch-download]');
  const expected = execFileSync(cli, ['predict', cliFile, csv], { cwd: root }).toString();
  assert(predictions.text === expected, `the page predicts\n${predictions.text}\nlathe predict\n${expected}`);
});

test('deploy: Make it smaller warns (role=alert) when the drop exceeds the max drop and labels the download; too many calibration rows and a bad field are clear errors in the panel, and the page keeps working', async (s) => {
  const { page } = s;
  await s.setExperiment(exampleText('diabetes'));
  await s.forgetStatus();
  await s.trainAndWait();
  await s.step('deploy');
  const model = await s.downloadText('[data-testid=download-model]');
  // errors: a field out of range, then more rows than the training split holds (the core's)
  await s.setControl('[data-testid=quant-calib]', '5000');
  await quantise(page);
  const field = await page.textContent('[data-testid=quant-error]');
  assert(/^Calibration rows: '5000' is not a whole number from 1 to 4096/.test(field), `the error: ${field}`);
  await s.setControl('[data-testid=quant-calib]', '1000');
  await quantise(page);
  const rows = await page.textContent('[data-testid=quant-error]');
  assert(
    /^The model could not be quantised: .*1000 calibration rows asked for, the training split has \d+/.test(rows),
    `the error: ${rows}`,
  );
  assert(await page.isHidden('[data-testid=quant-result]'), 'a result shown after an error');
  assert((await page.getAttribute('[data-testid=quant-error]', 'role')) === 'alert', 'the panel error is not an alert');
  // the gate: diabetes' linear model loses a few hundredths of a point of R²
  await s.setControl('[data-testid=quant-calib]', '256');
  await s.setControl('[data-testid=quant-max-drop]', '0.001');
  await quantise(page);
  assert(await page.isHidden('[data-testid=quant-error]'), await page.textContent('[data-testid=quant-error]'));
  const table = await readTable(page);
  assert((await page.textContent('#quant-metric')) === 'test R²', 'the metric column');
  const report = JSON.parse(
    execFileSync(
      cli,
      [
        'quantize',
        model.file,
        '--out',
        path.join(scratch, 'diabetes_cli.int8.lathe.json'),
        '--calib',
        '256',
        '--json',
        '--quiet',
      ],
      { cwd: root },
    ).toString(),
  );
  assert(report.drop_points > 0.001, `the CLI's drop is ${report.drop_points} (the test needs one above 0.001)`);
  assert(Math.abs(table.int8.points + report.drop_points) < 1e-9, `the table's Δ ${table.int8.points}`);
  const warning = await page.textContent('[data-testid=quant-warning]');
  assert(await page.isVisible('[data-testid=quant-warning]'), 'no warning above the max drop');
  assert((await page.getAttribute('[data-testid=quant-warning]', 'role')) === 'alert', 'the warning is not an alert');
  assert(/more than the max drop of 0\.001: it fails the limit/.test(warning), `the warning: ${warning}`);
  assert(
    /fails the max drop/.test(await page.textContent('[data-testid=quant-download]')),
    'the download is not labelled as failing',
  );
  await panelShot(s, 'step-6-make-it-smaller-over-the-limit');
  const command = await page.textContent('[data-testid=quant-command]');
  assert(/--calib 256 --max-drop 0\.001$/.test(command), `the CLI command: ${command}`);
  // the CLI refuses the same: exit 1, nothing written
  let status = 0;
  const refused = path.join(scratch, 'diabetes_refused.int8.lathe.json');
  try {
    execFileSync(cli, ['quantize', model.file, '--out', refused, '--max-drop', '0.001', '--quiet'], {
      cwd: root,
      stdio: 'pipe',
    });
  } catch (e) {
    status = e.status;
  }
  assert(status === 1 && !fs.existsSync(refused), `lathe quantize --max-drop 0.001 exited ${status}`);
  // a limit the drop meets: no warning
  await s.setControl('[data-testid=quant-max-drop]', '1');
  await quantise(page);
  assert(await page.isHidden('[data-testid=quant-warning]'), 'a warning within the max drop');
  // the page still works: the int8 file downloads and loads in Try the model
  const int8 = await s.downloadText('[data-testid=quant-download]');
  assert(JSON.parse(int8.text).version === 4, 'the int8 file');
  await page.click('[data-testid=quant-try]');
  await page.waitForSelector('[data-testid=try-form] input', { timeout: 30000 });
});
