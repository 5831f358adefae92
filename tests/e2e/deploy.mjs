// Step 6, Deploy: the model file, predictions (form, file, drawing pad), and the engine's allocations.
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { test, assert, exampleText, root, cli, scratch } from './fixtures.mjs';

test("deploy: the model file downloads with the page's weights hash, and the CLI command names the experiment file", async (s) => {
  const { page } = s;
  await s.trainAndWait(); // iris, the page's first experiment
  await s.step('deploy');
  const { name, text } = await s.downloadText('[data-testid=download-model]');
  const model = JSON.parse(text);
  const hash = await page.textContent('[data-testid=weights-hash]');
  assert(name === 'iris.lathe.json' && model.format === 'lathe-model', `downloaded ${name}, format ${model.format}`);
  assert(model.weights_sha256 === hash, `model file hash ${model.weights_sha256} != page ${hash}`);
  assert(model.metrics && model.metrics.test && model.metrics.test.rows > 0, 'the model file has no test metrics');
  assert((await page.textContent('[data-testid=cli-command]')) === 'lathe run iris.experiment.json', 'CLI command');
});

test("deploy: the web export downloads as a zip of the files `lathe export --format web` writes from the page's model file, its runtime fetched only then", async (s) => {
  const { page } = s;
  const runtime = [];
  page.on('request', (r) => {
    if (new URL(r.url()).pathname.startsWith('/web_runtime/')) runtime.push(new URL(r.url()).pathname);
  });
  await s.setExperiment(exampleText('iris'));
  await s.forgetStatus();
  await s.trainAndWait();
  await s.step('deploy');
  const model = await s.downloadText('[data-testid=download-model]');
  assert(runtime.length === 0, `the web runtime was fetched before it was asked for: ${runtime}`);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=download-web]')]);
  assert(download.suggestedFilename() === 'iris_web.zip', `downloaded ${download.suggestedFilename()}`);
  const archive = path.join(scratch, 'iris_web.zip');
  await download.saveAs(archive);
  const kb = `${(fs.statSync(archive).size / 1024).toFixed(1)} KB`;
  await page.waitForFunction((want) => document.querySelector('[data-testid=web-size]').textContent === want, kb);
  // Python's zipfile checks every entry's CRC-32 (testzip) and extracts the files.
  const dir = path.join(scratch, 'iris_web_page');
  const listed = execFileSync('python3', [
    '-c',
    'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; z.extractall(sys.argv[2]); print(" ".join(sorted(z.namelist())))',
    archive,
    dir,
  ])
    .toString()
    .trim();
  const files = ['index.html', 'lathe_infer.js', 'lathe_infer.wasm', 'lathe_web.js', 'model.lathe.json'];
  assert(listed === files.map((f) => `iris_web/${f}`).join(' '), `the zip holds ${listed}`);
  const cliDir = path.join(scratch, 'iris_web_cli');
  execFileSync(cli, ['export', model.file, '--format', 'web', '--out', cliDir, '--quiet'], { cwd: root });
  assert(fs.readdirSync(cliDir).sort().join(' ') === files.join(' '), `the CLI wrote ${fs.readdirSync(cliDir)}`);
  for (const f of files)
    assert(
      fs.readFileSync(path.join(dir, 'iris_web', f)).equals(fs.readFileSync(path.join(cliDir, f))),
      `${f} in the page's zip is not the CLI's`,
    );
  const hash = await page.textContent('[data-testid=weights-hash]');
  const inZip = JSON.parse(fs.readFileSync(path.join(dir, 'iris_web/model.lathe.json'), 'utf8')).weights_sha256;
  assert(inZip === hash, `the zip's model has weights ${inZip}, the page ${hash}`);
});

test("deploy: the artefacts list their sizes; the C source downloads as a zip whose code, built with gcc, predicts lathe predict's bits; the ONNX file is the CLI's bytes", async (s) => {
  const { page } = s;
  await s.setExperiment(exampleText('iris'));
  await s.forgetStatus();
  await s.trainAndWait();
  await s.step('deploy');
  await page.waitForFunction(() => /KB$/.test(document.querySelector('[data-testid=c-size]').textContent), null, {
    timeout: 30000,
  });
  const model = await s.downloadText('[data-testid=download-model]');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=download-c]')]);
  assert(download.suggestedFilename() === 'iris_c.zip', `downloaded ${download.suggestedFilename()}`);
  const archive = path.join(scratch, 'iris_c.zip');
  await download.saveAs(archive);
  const shown = await page.textContent('[data-testid=c-size]');
  const kb = `${(fs.statSync(archive).size / 1024).toFixed(1)} KB`;
  assert(shown === kb, `the page says ${shown}, the zip is ${kb}`);
  // Python's zipfile checks every entry's CRC-32 (testzip) and extracts the two files.
  const dir = path.join(scratch, 'iris_c');
  const listed = execFileSync('python3', [
    '-c',
    'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; z.extractall(sys.argv[2]); print(" ".join(z.namelist()))',
    archive,
    dir,
  ])
    .toString()
    .trim();
  assert(listed === 'iris/iris.h iris/iris.c', `the zip holds ${listed}`);
  const header = fs.readFileSync(path.join(dir, 'iris/iris.h'), 'utf8');
  const hash = await page.textContent('[data-testid=weights-hash]');
  assert(header.includes(`#define iris_WEIGHTS_SHA256 "${hash}"`), 'the header does not carry the weights hash');
  const bin = path.join(dir, 'harness');
  execFileSync('gcc', [
    ...['-std=c99', '-Wall', '-Wextra', '-Wpedantic', '-Werror', '-ffp-contract=off', '-O2'],
    '-DMODEL=iris',
    `-I${path.join(dir, 'iris')}`,
    path.join(root, 'tests/deploy/c_harness.c'),
    path.join(dir, 'iris/iris.c'),
    '-o',
    bin,
  ]);
  const iris = path.join(root, 'data/builtin/iris.csv');
  const got = execFileSync(bin, [iris]).toString();
  const want = execFileSync(cli, ['predict', model.file, iris], { cwd: root }).toString();
  assert(got === want.slice(want.indexOf('\n') + 1), "the page's C source does not predict lathe predict's bits");
  // the ONNX file: the bytes the CLI writes from the same model file, and it runs in
  // onnxruntime-node as lathe predict predicts
  const [onnxDownload] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=download-onnx]')]);
  assert(onnxDownload.suggestedFilename() === 'iris.onnx', `downloaded ${onnxDownload.suggestedFilename()}`);
  const onnxFile = path.join(scratch, 'iris.page.onnx');
  await onnxDownload.saveAs(onnxFile);
  const cliOnnx = path.join(scratch, 'iris.cli.onnx');
  execFileSync(cli, ['export', model.file, '--format', 'onnx', '--out', cliOnnx, '--quiet']);
  assert(fs.readFileSync(onnxFile).equals(fs.readFileSync(cliOnnx)), "the page's ONNX file is not the CLI's bytes");
  assert(
    (await page.textContent('[data-testid=onnx-size]')) === `${(fs.statSync(onnxFile).size / 1024).toFixed(1)} KB`,
    'the ONNX size shown',
  );
  // the six-line onnxruntime snippet runs as it is shown, on row 51 of the file (rows given)
  const snippet = await page.textContent('[data-testid=onnx-snippet]');
  assert(
    snippet.split('\n').length === 6 && snippet.includes('sepal_length, sepal_width, petal_length, petal_width'),
    `the ONNX snippet: ${snippet}`,
  );
  const script = path.join(root, 'build', 'onnx-snippet.test.mjs'); // beside node_modules
  fs.copyFileSync(onnxFile, path.join(root, 'build', 'iris.onnx'));
  const row = fs.readFileSync(iris, 'utf8').split('\n')[51].split(',').slice(0, 4).map(Number);
  fs.writeFileSync(
    script,
    `const rows = [${JSON.stringify(row)}];\n${snippet.replace("'iris.onnx'", JSON.stringify(path.join(root, 'build', 'iris.onnx')))}\nconsole.log(JSON.stringify(Array.from(out.data)));\n`,
  );
  let printed;
  try {
    printed = execFileSync('node', [script], { cwd: root }).toString().trim().split('\n');
  } finally {
    fs.rmSync(script, { force: true });
    fs.rmSync(path.join(root, 'build', 'iris.onnx'), { force: true });
  }
  const fromSnippet = JSON.parse(printed[printed.length - 1]);
  const cliRow = want.split('\n')[51].split(',').slice(2).map(Number);
  assert(
    fromSnippet.length === 3 &&
      fromSnippet.every((v, k) => Math.abs(v - cliRow[k]) <= 1e-5 * Math.max(1, Math.abs(cliRow[k]))),
    `the snippet printed ${fromSnippet}, lathe predict ${cliRow}`,
  );
  // the deploy tools freed all they allocated for the two artefacts
  const toolsLive = await page.evaluate(() => window.latheTest.deployAllocLive());
  assert(toolsLive === 0, `the deploy tools hold ${toolsLive} allocations after making the artefacts`);
  const main = await page.textContent('[data-testid=c-main]');
  assert(main.split('\n').length === 6 && main.includes('iris_predict(raw, out)'), `the C main: ${main}`);
  await s.shot('step-6-artefacts');
});

test('deploy: the trained model predicts the iris CSV byte for byte as `lathe predict`, and one row from a form; a damaged model file is refused naming the field', async (s) => {
  const { page } = s;
  const text = exampleText('iris');
  await s.setExperiment(text);
  await s.forgetStatus();
  await s.trainAndWait();
  await s.step('deploy');
  const model = await s.downloadText('[data-testid=download-model]');
  await page.click('[data-testid=try-trained]');
  await page.waitForSelector('[data-testid=try-form] input');
  const iris = path.join(root, 'data/builtin/iris.csv');
  await page.setInputFiles('[data-testid=batch-upload]', iris);
  await page.waitForFunction(() => !document.querySelector('[data-testid=batch-download]').disabled, null, {
    timeout: 30000,
  });
  const predictions = await s.downloadText('[data-testid=batch-download]');
  const expected = execFileSync(cli, ['predict', model.file, iris], { cwd: root }).toString();
  const a = predictions.text.split('\n'),
    b = expected.split('\n');
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
  const formatted = await s.g9(shown);
  assert(
    JSON.stringify(formatted) === JSON.stringify(cliRow.slice(2)),
    `form ${formatted} != lathe predict ${cliRow.slice(2)}`,
  );
  assert(
    (await page.textContent('[data-testid=prediction]')) === `species: ${cliRow[1]}`,
    `the form predicts "${await page.textContent('[data-testid=prediction]')}"`,
  );
  await s.shot('step-6-try-form');
  // A damaged file: the loader's message names the field; the model in use stays.
  const damaged = path.join(scratch, 'damaged.lathe.json');
  fs.writeFileSync(damaged, model.text.replace(/("weights":\s*")./, '$1!'));
  await page.setInputFiles('[data-testid=model-upload]', damaged);
  await page.waitForSelector('[data-testid=try-error]:not([hidden])');
  const refused = await page.textContent('[data-testid=try-error]');
  assert(
    /^damaged\.lathe\.json: layers\[0\]\.weights: character 1 \('!'\) is not base64/.test(refused),
    `a damaged model: "${refused}"`,
  );
  await page.click('[data-testid=try-predict]');
  await page.waitForFunction(() => document.querySelector('[data-testid=try-error]').hidden, null, { timeout: 30000 });
});

test('deploy: an uploaded model with a categorical input gets a select, and predicts as the CLI does', async (s) => {
  const { page } = s;
  const csv = ['color,size,label'];
  for (let i = 0; i < 120; i++) {
    const color = ['red', 'green', 'blue'][(i * 7) % 3],
      size = ((i * 37) % 300) / 100;
    csv.push(`${color},${size},${size + (color === 'red' ? 1 : 0) > 2 ? 'big' : 'small'}`);
  }
  fs.writeFileSync(path.join(scratch, 'shapes.csv'), `${csv.join('\n')}\n`);
  const exp = path.join(scratch, 'shapes.experiment.json');
  fs.writeFileSync(
    exp,
    JSON.stringify({
      format: 'lathe-experiment',
      version: 1,
      seed: 3,
      data: { file: 'shapes.csv', target: 'label', task: 'classification' },
      prepare: [{ op: 'split', test: 0.2, validation: 0, stratify: true }, { op: 'standardize' }],
      model: { template: 'logistic' },
      train: { optimizer: 'adam', learning_rate: 0.05, batch_size: 16, epochs: 20 },
    }),
  );
  const modelFile = path.join(scratch, 'shapes.lathe.json');
  execFileSync(cli, ['run', exp, '--out', modelFile, '--quiet'], { cwd: scratch });
  // First another model (iris, made by the CLI) predicts one row; loading the next model
  // takes its prediction away, so what is shown afterwards is the new model's.
  const irisModel = path.join(scratch, 'iris-deploy.lathe.json');
  execFileSync(cli, ['run', 'examples/iris.experiment.json', '--out', irisModel, '--quiet'], { cwd: root });
  await s.openTryer();
  await page.setInputFiles('[data-testid=model-upload]', irisModel);
  await page.waitForSelector('[data-testid=try-form] [data-column=sepal_length]');
  for (const input of await page.$$('[data-testid=try-form] input')) await input.fill('5');
  await page.click('[data-testid=try-predict]');
  await page.waitForFunction(() => document.querySelector('[data-testid=try-result]').dataset.values, null, {
    timeout: 30000,
  });
  await page.setInputFiles('[data-testid=model-upload]', modelFile);
  await page.waitForSelector('[data-testid=try-form] select[data-column=color]');
  const left = await page.$eval('[data-testid=try-result]', (el) => [el.dataset.values, el.textContent]);
  assert(
    left[0] === undefined && left[1] === '',
    `the last model's prediction stays after loading another: ${JSON.stringify(left)}`,
  );
  const options = await page.$$eval('[data-testid=try-form] select[data-column=color] option', (os) =>
    os.map((o) => o.value),
  );
  assert(
    JSON.stringify(options.slice(1).sort()) === JSON.stringify(['blue', 'green', 'red']),
    `the color select offers ${options}`,
  );
  await page.selectOption('[data-testid=try-form] select[data-column=color]', 'green');
  await page.fill('[data-testid=try-form] [data-column=size]', '1.75');
  await page.click('[data-testid=try-predict]');
  await page.waitForFunction(() => document.querySelector('[data-testid=try-result]').dataset.values, null, {
    timeout: 30000,
  });
  const shown = JSON.parse(await page.getAttribute('[data-testid=try-result]', 'data-values'));
  fs.writeFileSync(path.join(scratch, 'one.csv'), 'size,color\n1.75,green\n');
  const line = execFileSync(cli, ['predict', modelFile, path.join(scratch, 'one.csv')])
    .toString()
    .split('\n')[1]
    .split(',');
  const formatted = await s.g9(shown);
  assert(
    JSON.stringify(formatted) === JSON.stringify(line.slice(2)),
    `page ${formatted} != lathe predict ${line.slice(2)}`,
  );
  assert(
    (await page.textContent('[data-testid=prediction]')) === `label: ${line[1]}`,
    'the predicted class differs from the CLI',
  );
});

test('deploy: a digits model gets a drawing pad; the drawing is downsampled to 8 × 8 and predicted as the CLI predicts those pixels', async (s) => {
  const { page } = s;
  const modelFile = path.join(scratch, 'digits.lathe.json');
  execFileSync(cli, ['run', 'examples/digits.experiment.json', '--out', modelFile, '--quiet'], { cwd: root });
  await s.openTryer();
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
  // the pad is busy until the prediction of the whole stroke (pointer up) is shown
  await page.waitForFunction(
    () =>
      !document.querySelector('[data-testid=pad]').dataset.busy &&
      document.querySelector('[data-testid=pad-input]').inputData,
    null,
    { timeout: 30000 },
  );
  const input = await page.$eval('[data-testid=pad-input]', (el) => el.inputData);
  const shown = JSON.parse(await page.getAttribute('[data-testid=try-result]', 'data-values'));
  assert(input.length === 64 && input.every((v) => v >= 0 && v <= 16), `the pad's input: ${input.length} values`);
  const column = (c) => [0, 1, 2, 3, 4, 5, 6, 7].reduce((s, r) => s + input[r * 8 + c], 0);
  assert(
    column(3) + column(4) > 40 && column(0) + column(7) === 0,
    `a vertical stroke gives column sums ${[0, 1, 2, 3, 4, 5, 6, 7].map(column)}`,
  );
  const header = fs
    .readFileSync(path.join(root, 'data/builtin/digits.csv'), 'utf8')
    .split('\n')[0]
    .split(',')
    .filter((c) => c !== 'digit');
  fs.writeFileSync(path.join(scratch, 'drawn.csv'), `${header.join(',')}\n${input.join(',')}\n`);
  const line = execFileSync(cli, ['predict', modelFile, path.join(scratch, 'drawn.csv')])
    .toString()
    .split('\n')[1]
    .split(',');
  const formatted = await s.g9(shown);
  assert(
    JSON.stringify(formatted) === JSON.stringify(line.slice(2)),
    `pad ${formatted} != lathe predict ${line.slice(2)}`,
  );
  await s.shot('step-6-drawing-pad');
});

test('the engine frees what it allocates: live allocations are back at their start after train, evaluate, export and predict', async (s) => {
  const { page } = s;
  // the fresh page's requests (table, preview, layers) have all been answered
  await page.waitForSelector('[data-testid=preview] tbody tr:not(.spacer)');
  await s.settle();
  const live0 = await page.evaluate(() => window.latheTest.allocLive());
  await s.setExperiment(exampleText('wine'));
  await s.forgetStatus();
  await s.trainAndWait();
  await s.step('evaluate');
  await s.step('deploy');
  await page.click('[data-testid=try-trained]');
  await page.waitForSelector('[data-testid=try-form] input');
  await page.click('[data-testid=try-predict]').catch(() => {});
  await page.setInputFiles('[data-testid=batch-upload]', path.join(root, 'data/builtin/wine.csv'));
  await page.waitForFunction(
    () => /rows of wine\.csv predicted/.test(document.querySelector('[data-testid=batch-summary]').textContent),
    null,
    { timeout: 30000 },
  );
  await s.downloadText('[data-testid=download-model]');
  const live1 = await page.evaluate(() => window.latheTest.allocLive());
  assert(Number.isInteger(live0) && live1 === live0, `live allocations: ${live0} before, ${live1} after the cycle`);
});
