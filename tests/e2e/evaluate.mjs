// Step 5, Evaluate: ROC and PR curves, regression plots, misclassified thumbnails.
import { test, assert, close, nativeRun, exampleText } from './fixtures.mjs';

test("binary ROC and PR curves agree with the CLI's AUC and average precision; misclassified rows are listed", async (s) => {
  const { page } = s;
  await s.useExample('breast_cancer');
  await s.trainAndWait();
  const native = nativeRun('examples/breast_cancer.experiment.json');
  await s.step('evaluate');
  const [roc] = await page.$eval('[data-testid=roc-chart]', (el) => el.chartData);
  const [pr] = await page.$eval('[data-testid=pr-chart]', (el) => el.chartData);
  let area = 0;
  for (let i = 1; i < roc[0].length; i++) area += ((roc[0][i] - roc[0][i - 1]) * (roc[1][i] + roc[1][i - 1])) / 2;
  const positive = native.metrics.test.per_class[1];
  assert(close(area, positive.roc_auc, 1e-9), `area under the plotted ROC ${area} != CLI roc_auc ${positive.roc_auc}`);
  let ap = 0; // PR is drawn as steps: (R_{k-1}, P_k) then (R_k, P_k)
  for (let i = 1; i < pr[0].length; i += 1) ap += (pr[0][i] - pr[0][i - 1]) * pr[1][i];
  assert(
    close(ap, positive.average_precision, 1e-9),
    `area under the plotted PR ${ap} != CLI average precision ${positive.average_precision}`,
  );
  const wrong = native.metrics.test.confusion.reduce(
    (s, row, t) => s + row.reduce((a, n, p) => a + (t === p ? 0 : n), 0),
    0,
  );
  const listed = await page.$$eval('[data-testid=misclassified] tbody tr', (rows) => rows.length);
  assert(
    listed === Math.min(60, wrong),
    `${listed} misclassified rows listed, the CLI's confusion matrix has ${wrong}`,
  );
  await s.shot('evaluate-binary');
});

test("regression shows predicted against actual and residuals that give the CLI's R²", async (s) => {
  const { page } = s;
  await s.useExample('diabetes');
  await s.trainAndWait();
  const native = nativeRun('examples/diabetes.experiment.json');
  await s.step('evaluate');
  assert(await page.isVisible('[data-testid=regression]'), 'the regression view is hidden');
  const [, points] = await page.$eval('[data-testid=scatter-chart]', (el) => el.chartData);
  const [, residuals] = await page.$eval('[data-testid=residual-chart]', (el) => el.chartData);
  const [actual, predicted] = points;
  assert(
    actual.length === native.metrics.test.rows,
    `${actual.length} points for ${native.metrics.test.rows} test rows`,
  );
  const mean = actual.reduce((a, b) => a + b, 0) / actual.length;
  let se = 0,
    tot = 0;
  actual.forEach((y, i) => {
    se += (predicted[i] - y) ** 2;
    tot += (y - mean) ** 2;
  });
  assert(
    close(1 - se / tot, native.metrics.test.r2, 1e-5),
    `R² of the plotted points ${1 - se / tot} != CLI ${native.metrics.test.r2}`,
  );
  assert(
    residuals[1].every((r, i) => Math.abs(r - (predicted[i] - actual[i])) < 1e-9),
    'residuals are not predicted − actual',
  );
  await s.shot('evaluate-regression');
});

test('a CNN on digit images trains to the native weights and shows misclassified digits as thumbnails', async (s) => {
  const { page } = s;
  const templateText = exampleText('digits_cnn', (x) => {
    x.model = { template: 'cnn', activation: 'relu' };
    x.train.epochs = 3;
  });
  await s.setExperiment(templateText);
  await s.step('model');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=layers] tbody tr').length > 5, null, {
    timeout: 30000,
  });
  await s.step('train');
  await s.setControl('[data-testid=epochs]', '2');
  await s.trainAndWait(240000);
  const browserHash = await page.textContent('[data-testid=weights-hash]');
  const native = nativeRun('examples/digits_cnn.experiment.json', JSON.stringify(await s.experimentInPage()));
  assert(browserHash === native.weights_sha256, `browser ${browserHash} != native ${native.weights_sha256}`);
  await s.step('evaluate');
  const wrong = native.metrics.test.confusion.reduce(
    (s, row, t) => s + row.reduce((a, n, p) => a + (t === p ? 0 : n), 0),
    0,
  );
  const thumbs = await page.$$eval('[data-testid=thumbnails] canvas', (els) => els.map((c) => [c.width, c.height]));
  assert(
    wrong > 0 && thumbs.length === Math.min(60, wrong),
    `${thumbs.length} thumbnails for ${wrong} misclassified digits`,
  );
  assert(
    thumbs.every(([w, hh]) => w === 8 && hh === 8),
    'thumbnails are not 8×8 images',
  );
  await s.shot('evaluate-digit-thumbnails');
});
