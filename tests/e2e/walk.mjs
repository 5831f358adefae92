// The whole page: the first visit's one-click run, the stepper and its URL, a phone-sized screen.
import { test, assert, nativeRun, Session } from './fixtures.mjs';

test('page opens with iris ready and one click trains it to the native weights', async (s) => {
  const { page } = s;
  const experiment = await s.experimentInPage();
  assert(experiment.data.builtin === 'iris', `the page opened with ${JSON.stringify(experiment.data)}, not iris`);
  await page.waitForSelector('[data-testid=preview] tbody tr:not(.spacer)');
  await s.shot('step-1-data');
  await s.step('prepare');
  await page.waitForSelector('[data-testid=preview-after] tbody tr', { timeout: 30000 });
  await s.shot('step-2-prepare');
  await s.step('model');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=layers] tbody tr').length === 4, null, {
    timeout: 30000,
  });
  await s.shot('step-3-model');
  await s.trainAndWait();
  await s.shot('step-4-train');
  const browserHash = await page.textContent('[data-testid=weights-hash]');
  const native = nativeRun('examples/iris.experiment.json');
  assert(browserHash === native.weights_sha256, `browser ${browserHash} != native ${native.weights_sha256}`);
  await s.step('evaluate');
  // The evaluation view shows the same confusion matrix as the CLI, and a cell lists its rows.
  const confusion = await page.$$eval('[data-testid=confusion] tr', (rows) =>
    rows.slice(1).map((r) => [...r.querySelectorAll('button')].map((b) => Number(b.textContent))),
  );
  assert(
    JSON.stringify(confusion) === JSON.stringify(native.metrics.test.confusion),
    `confusion in the page ${JSON.stringify(confusion)} != native ${JSON.stringify(native.metrics.test.confusion)}`,
  );
  await page.click('[data-testid=confusion] tr:nth-child(2) button');
  const listed = await page.textContent('[data-testid=cell-rows]');
  assert(
    new RegExp(
      `^${native.metrics.test.confusion[0][0]} test rows of class setosa predicted as setosa: data rows [0-9]`,
    ).test(listed),
    `cell rows: "${listed}"`,
  );
  const accuracy = await page.$$eval('[data-testid=metrics] tbody tr', (rows) =>
    rows.map((r) => [...r.cells].map((c) => c.textContent)),
  );
  const testRow = accuracy.find((r) => r[0] === 'test');
  assert(
    testRow && Number(testRow[3]).toFixed(4) === native.metrics.test.accuracy.toFixed(4),
    `test accuracy in the page ${testRow && testRow[3]} != native ${native.metrics.test.accuracy}`,
  );
  const curves = await page.$eval('[data-testid=roc-chart]', (el) => el.chartData.length);
  assert(curves === 3, `iris has 3 classes but the ROC chart shows ${curves} one-vs-rest curves`);
  await s.shot('step-5-evaluate');
  await s.step('deploy');
  await s.shot('step-6-deploy');
});

test('the stepper shows one step at a time, by mouse and keyboard, and the state lives in the URL', async (s) => {
  const { page } = s;
  for (const name of ['data', 'prepare', 'model', 'train', 'evaluate', 'deploy']) {
    await page.focus(`[data-testid=step-${name}]`);
    await page.keyboard.press('Enter');
    const visible = await page.$$eval('main > section', (els) => els.filter((e) => !e.hidden).map((e) => e.id));
    assert(JSON.stringify(visible) === JSON.stringify([`step-${name}`]), `after choosing ${name}, visible: ${visible}`);
    assert(
      (await page.getAttribute(`[data-testid=step-${name}]`, 'aria-current')) === 'step',
      `${name} is not marked current`,
    );
  }
  const summary = await page.textContent('[data-testid=step-data] .step-summary');
  assert(/iris · 150 rows/.test(summary), `the Data step does not say what it produced: "${summary}"`);
  await s.step('train');
  await s.setControl('[data-testid=epochs]', '7');
  await s.setControl('[data-testid=seed]', '5');
  const x = await s.experimentInPage();
  assert(
    x.train.epochs === 7 && x.seed === 5,
    `controls did not write the experiment: ${JSON.stringify(x.train)}, seed ${x.seed}`,
  );
  const link = page.url();
  assert(
    /#experiment=/.test(link) && JSON.parse(decodeURIComponent(link.split('#experiment=')[1])).train.epochs === 7,
    'the URL does not hold the edited experiment',
  );
  // A shared link reproduces the set-up in a fresh tab without local storage.
  const other = await s.freshPage(link);
  await other.click('[data-testid=step-train]');
  await other.waitForFunction(() => document.querySelector('[data-testid=epochs]').value === '7', null, {
    timeout: 30000,
  });
  assert((await other.inputValue('[data-testid=seed]')) === '5', 'the link did not restore the seed');
  await other.close();
  // And a reload restores it too (URL and local storage).
  await page.reload();
  await Session.ready(page);
  assert((await s.experimentInPage()).train.epochs === 7, 'a reload lost the edited experiment');
});

test('the page is readable on a phone-sized screen', async (s) => {
  const { page } = s;
  await s.trainAndWait(); // the Train step with its charts drawn
  await page.setViewportSize({ width: 390, height: 844 });
  await s.frames(); // the charts follow their boxes' new width (ResizeObserver, before the next paint)
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  const wide = await page.evaluate(() =>
    [...document.querySelectorAll('body *')]
      .filter((el) => el.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
      .slice(0, 4)
      .map((el) => `${el.tagName.toLowerCase()}#${el.id}.${el.className}`)
      .join(', '),
  );
  await s.shot('phone-train');
  await page.setViewportSize({ width: 1280, height: 800 });
  assert(overflow <= 0, `the page is ${overflow}px wider than a 390px screen (${wide})`);
});
