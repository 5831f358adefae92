// Step 2, Prepare: the ordered list of steps and its before-and-after preview.
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { test, assert, nativeRun, exampleText, root, cli, scratch } from './fixtures.mjs';

test("prepare: steps are added, moved and removed with a live before-and-after preview that agrees with the CLI's fitted preparation; an order the core refuses is marked on its step", async (s) => {
  const { page } = s;
  await s.useExample('iris');
  await s.step('prepare');
  const summary = () => page.textContent('[data-testid=prepare-summary]');
  const waitSummary = (re) =>
    page.waitForFunction(
      (src) => new RegExp(src).test((document.querySelector('[data-testid=prepare-summary]') || {}).textContent || ''),
      re.source,
      { timeout: 30000 },
    );
  await waitSummary(
    /^Before: 150 rows × 5 columns\. After: 120 training, 0 validation and 30 test rows × 4 features; 3 classes\./,
  );
  // Ground truth: the model file of `lathe run --out` holds the standardisation fitted on the
  // training rows (shift = mean, scale = 1 / standard deviation).
  const modelFile = path.join(scratch, 'iris-prepare.lathe.json');
  execFileSync(cli, ['run', 'examples/iris.experiment.json', '--out', modelFile, '--quiet'], { cwd: root });
  const prep = JSON.parse(fs.readFileSync(modelFile, 'utf8')).preparation;
  const table = async (id) =>
    page.$$eval(`[data-testid=${id}] tbody tr`, (trs) => trs.map((r) => [...r.cells].map((c) => c.textContent)));
  const num = (t) => Number(t.replace(/,/g, ''));
  const near = (shown, exact, what) =>
    assert(
      Math.abs(num(shown) - exact) <= 0.006 * Math.max(1, Math.abs(exact)),
      `${what}: the page shows ${shown}, the CLI's preparation gives ${exact}`,
    );
  const stats = await table('preview-stats');
  prep.features.forEach((name, j) => {
    const row = stats[j];
    assert(row[0] === name, `statistics row ${j} is ${row[0]}, not ${name}`);
    near(row[1], prep.shift[j], `${name}: mean before`);
    near(row[2], 1 / prep.scale[j], `${name}: standard deviation before`);
    assert(row[5] === '0' && row[6] === '1', `${name} after standardising: mean ${row[5]}, std ${row[6]}`);
  });
  const csv = fs
    .readFileSync(path.join(root, 'data/builtin/iris.csv'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split(','));
  const before = await table('preview-before');
  const after = await table('preview-after');
  assert(before.length === 8 && after.length === 8, `${before.length} rows before, ${after.length} after`);
  before.forEach((cells, i) => {
    const raw = csv[Number(cells[0])]; // "table row" counts data rows from 1: the CSV line below the header
    assert(
      cells.slice(1).every((c, j) => (j < 4 ? Number(c) === Number(raw[j]) : c === raw[j])),
      `before, row ${i}: ${cells.slice(1)} is not the CSV's ${raw}`,
    );
    prep.features.forEach((_, j) =>
      near(after[i][j], (Number(raw[j]) - prep.shift[j]) * prep.scale[j], `after, row ${i}, feature ${j}`),
    );
    assert(after[i][4] === raw[4], `after, row ${i}: class ${after[i][4]}, the CSV says ${raw[4]}`);
  });
  await s.shot('step-2-prepare');
  // Add drop_duplicates: the rows left are the file's distinct rows.
  const distinct = new Set(csv.slice(1).map((r) => r.join())).size;
  await page.selectOption('[data-testid=add-step]', 'drop_duplicates');
  await page.click('[data-testid=add-step-button]');
  const ops = async () => (await s.experimentInPage()).prepare.map((op) => op.op);
  assert((await ops()).join() === 'drop_duplicates,split,standardize', `after adding: ${await ops()}`);
  await s.step('prepare');
  await page
    .waitForFunction(
      (n) => {
        const m = ((document.querySelector('[data-testid=prepare-summary]') || {}).textContent || '').match(
          /After: (\d+) training, (\d+) validation and (\d+) test/,
        );
        return m && Number(m[1]) + Number(m[2]) + Number(m[3]) === n;
      },
      distinct,
      { timeout: 30000 },
    )
    .catch(async () => {
      throw new Error(`drop_duplicates: expected ${distinct} rows, "${await summary()}"`);
    });
  assert(distinct < 150, 'iris has a repeated row');
  // Move standardize above the split: the core refuses it, on that step; moving it back mends it.
  await page.click('[data-testid=prepare-list] li:nth-child(3) [data-action=up]');
  const focused = await page.evaluate(() =>
    [document.activeElement.dataset.action, document.activeElement.dataset.index].join(),
  );
  assert(focused === 'up,1', `after a move the focus is on ${focused}, not the moved step's button`);
  await page.waitForSelector('[data-testid=prepare-list] li.invalid', { timeout: 30000 });
  const marked = await page.$eval('[data-testid=prepare-list] li.invalid', (li) => [
    li.dataset.op,
    li.querySelector('.step-error').textContent,
  ]);
  assert(
    marked[0] === 'standardize' &&
      /^Step 2: standardize is fitted on the training rows, so it must come after split/.test(marked[1]),
    `the refused order: ${marked}`,
  );
  assert(
    /No preview/.test(await page.textContent('[data-testid=prepare-preview]')),
    'a preview is shown for steps that cannot run',
  );
  await s.shot('step-2-prepare-invalid');
  await page.keyboard.press('Tab'); // to the moved step's "down" button
  await page.keyboard.press('Enter');
  await page.waitForFunction(
    () =>
      !document.querySelector('[data-testid=prepare-list] li.invalid') &&
      document.querySelector('[data-testid=prepare-summary]'),
    null,
    { timeout: 30000 },
  );
  assert((await ops()).join() === 'drop_duplicates,split,standardize', `moved back by keyboard: ${await ops()}`);
  // Remove the scaling, add min-max: every feature's training range becomes [0, 1].
  await s.step('prepare');
  await page.click('[data-testid=prepare-list] li[data-op=standardize] [data-action=remove]');
  await page.selectOption('[data-testid=add-step]', 'minmax');
  await page.click('[data-testid=add-step-button]');
  await page
    .waitForFunction(
      () =>
        [...document.querySelectorAll('[data-testid=preview-stats] tbody tr')]
          .slice(0, 4)
          .every((r) => r.cells[7].textContent === '0' && r.cells[8].textContent === '1'),
      null,
      { timeout: 30000 },
    )
    .catch(async () => {
      throw new Error(`min-max statistics: ${JSON.stringify(await table('preview-stats'))}`);
    });
  assert((await ops()).join() === 'drop_duplicates,split,minmax', `after removing and adding: ${await ops()}`);
  const text = JSON.stringify(await s.experimentInPage());
  const native = nativeRun('prepare-edited.experiment.json', text);
  assert(
    native.metrics.train.rows + native.metrics.test.rows === distinct,
    `the CLI trains the edited steps on ${native.metrics.train.rows} + ${native.metrics.test.rows} rows`,
  );
});

test('prepare: the feature boxes show the columns of every drop step, and a click edits the step that drops that column', async (s) => {
  const { page } = s;
  await s.setExperiment(
    exampleText('iris', (x) => {
      x.prepare.unshift(
        { op: 'drop_columns', columns: ['sepal_length'] },
        { op: 'drop_columns', columns: ['petal_width', 'sepal_width'] },
      );
    }),
  );
  await s.step('prepare');
  const boxes = () =>
    page.$$eval('#features input', (els) => els.map((e) => `${e.value}${e.checked ? '' : ' (dropped)'}`).join(', '));
  const drops = async () =>
    (await s.experimentInPage()).prepare
      .filter((op) => op.op === 'drop_columns')
      .map((op) => op.columns.join('+'))
      .join(' | ');
  const waitFeatures = (n) =>
    page
      .waitForFunction(
        (k) =>
          new RegExp(`× ${k} features?;`).test(
            (document.querySelector('[data-testid=prepare-summary]') || {}).textContent || '',
          ),
        n,
        { timeout: 30000 },
      )
      .catch(async () => {
        throw new Error(`expected ${n} features: "${await page.textContent('[data-testid=prepare-preview]')}"`);
      });
  await page.waitForSelector('#features input[value=petal_width]');
  assert(
    (await boxes()) === 'sepal_length (dropped), sepal_width (dropped), petal_length, petal_width (dropped)',
    `the boxes: ${await boxes()}`,
  );
  await waitFeatures(1);
  // kept: the column leaves the second step only
  await page.check('#features input[value=petal_width]');
  assert((await drops()) === 'sepal_length | sepal_width', `after keeping petal_width: ${await drops()}`);
  // kept: the second step is left empty, and goes
  await page.check('#features input[value=sepal_width]');
  assert((await drops()) === 'sepal_length', `after keeping sepal_width: ${await drops()}`);
  // dropped: the column joins the first drop step
  await page.uncheck('#features input[value=petal_length]');
  assert((await drops()) === 'sepal_length+petal_length', `after dropping petal_length: ${await drops()}`);
  assert(
    (await boxes()) === 'sepal_length (dropped), sepal_width, petal_length (dropped), petal_width',
    `the boxes at the end: ${await boxes()}`,
  );
  assert(
    (await page.textContent('#features-summary')) === '2 of 4 columns',
    `the summary: ${await page.textContent('#features-summary')}`,
  );
  await waitFeatures(2);
  const native = nativeRun('prepare-drops.experiment.json', JSON.stringify(await s.experimentInPage()));
  assert(native.metrics.train.rows > 0, 'the CLI trains the edited steps');
});
