// Step 3, Model: the layer table and the layer editor.
import { test, assert, nativeRun, exampleText } from './fixtures.mjs';

test("the model step lists each layer's shape, parameters and FLOPs, and explains an invalid design inline", async (s) => {
  const { page } = s;
  await s.useExample('iris');
  await s.step('model');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=layers] tbody tr').length === 4, null, {
    timeout: 30000,
  });
  const rows = await page.$$eval('[data-testid=layers] tbody tr', (trs) =>
    trs.map((r) => [...r.cells].map((c) => c.textContent)),
  );
  const params = rows.slice(1).reduce((s, r) => s + Number(r[3].replace(/,/g, '')), 0);
  const native = nativeRun('examples/iris.experiment.json');
  assert(
    params === native.parameters,
    `the layer table sums to ${params} parameters, the CLI has ${native.parameters}`,
  );
  assert(rows[1][2] === '16' && rows[1][4] === String(2 * 4 * 16), `dense 4→16: ${rows[1]}`);
  await s.setControl('[data-testid=template]', 'cnn');
  await page.waitForSelector('[data-testid=model-error]:not([hidden])', { timeout: 30000 });
  const message = await page.textContent('[data-testid=model-error]');
  assert(/conv2d needs an image input/.test(message), `the design error does not explain itself: "${message}"`);
  await s.shot('model-invalid');
  await s.setControl('[data-testid=template]', 'mlp');
  await s.setControl('[data-testid=hidden]', '8, 6');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=layers] tbody tr').length === 6, null, {
    timeout: 30000,
  });
  assert(await page.isHidden('[data-testid=model-error]'), 'the error stays after a valid design');
});

test("model: the layer editor starts from a template's layers (same weights in the CLI), adds, edits, moves and removes layers, and marks the layer the core refuses", async (s) => {
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
  await page.click('[data-testid=edit-layers]');
  const kinds = () => page.$$eval('[data-testid=layer-list] > li', (lis) => lis.map((li) => li.dataset.type));
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=layer-list] > li').length > 0, null, {
    timeout: 30000,
  });
  const expanded = await s.experimentInPage();
  assert(
    !expanded.model.template && Array.isArray(expanded.model.layers),
    `the model is not a layer list: ${JSON.stringify(expanded.model)}`,
  );
  assert(
    (await kinds()).join() === 'conv2d,relu,max_pool,conv2d,relu,max_pool,flatten,dense',
    `the cnn template's layers: ${await kinds()}`,
  );
  const a = nativeRun('digits-template.experiment.json', templateText);
  const b = nativeRun('digits-layers.experiment.json', JSON.stringify(expanded));
  assert(
    a.weights_sha256 === b.weights_sha256,
    `the template's layer list trains other weights: ${a.weights_sha256} != ${b.weights_sha256} (${JSON.stringify(expanded.model.layers)})`,
  );
  // Add a dropout: it goes before the output layer.
  const count = (await kinds()).length;
  await page.selectOption('[data-testid=add-layer]', 'dropout');
  await page.click('[data-testid=add-layer-button]');
  let list = await kinds();
  assert(
    list.length === count + 1 && list[list.length - 2] === 'dropout' && list[list.length - 1] === 'dense',
    `after adding a dropout: ${list}`,
  );
  // Edit the first conv2d's filters: its parameters in the table follow (filters · 1 · k² + filters).
  await page.fill('[data-testid=layer-list] > li:first-child [data-field=filters]', '4');
  await page.press('[data-testid=layer-list] > li:first-child [data-field=filters]', 'Tab');
  const kernel = Number(await page.inputValue('[data-testid=layer-list] > li:first-child [data-field=kernel]'));
  await page
    .waitForFunction(
      (p) => {
        const r = document.querySelectorAll('[data-testid=layers] tbody tr')[1];
        return r && r.cells[3].textContent === String(p);
      },
      4 * kernel * kernel + 4,
      { timeout: 30000 },
    )
    .catch(async () => {
      throw new Error(`conv2d with 4 filters: ${await page.textContent('[data-testid=layers] tbody')}`);
    });
  const focusedField = await page.evaluate(() => document.activeElement.dataset.field);
  assert(focusedField === 'kernel', `Tab after an edit lands on ${focusedField}, not the next field`);
  // Move the flatten to the top: the conv2d after it is refused, on its own line.
  await s.step('model');
  const flatten = (await kinds()).indexOf('flatten');
  for (let i = flatten; i > 0; i--)
    await page.click(`[data-testid=layer-list] > li:nth-child(${i + 1}) [data-action=up]`);
  // each move is checked by the core in turn: wait for the verdict on the last order
  const order = () =>
    page.$$eval('[data-testid=layer-list] > li', (lis) =>
      lis.map((li) => `${li.dataset.type}${li.classList.contains('invalid') ? ' (refused)' : ''}`),
    );
  await page
    .waitForFunction(
      () => {
        const lis = [...document.querySelectorAll('[data-testid=layer-list] > li')];
        return lis[0].dataset.type === 'flatten' && lis[1].classList.contains('invalid');
      },
      null,
      { timeout: 30000 },
    )
    .catch(async () => {
      throw new Error(`the refused layer after moving the flatten to the top: ${await order()}`);
    });
  const refused = await page.$eval('[data-testid=layer-list] > li.invalid', (li) => [
    li.dataset.type,
    li.querySelector('.step-error').textContent,
  ]);
  assert(
    refused[0] === 'conv2d' &&
      /^Layer 2: conv2d needs an image input \(C, H, W\), but the layer before it \(flatten\) gives 64 flat features/.test(
        refused[1],
      ),
    `the refused layer: ${refused}`,
  );
  assert(await page.isHidden('[data-testid=model-error]'), 'the message shows twice (above and on the layer)');
  await s.shot('step-3-layer-editor-invalid');
  // Remove the misplaced flatten: valid again, and the page's design trains as the CLI's.
  await page.click('[data-testid=layer-list] > li:first-child [data-action=remove]');
  await page.waitForFunction(
    () =>
      !document.querySelector('[data-testid=layer-list] > li.invalid') &&
      document.querySelectorAll('[data-testid=layers] tbody tr').length > 1,
    null,
    { timeout: 30000 },
  );
  list = await kinds();
  assert(!list.includes('flatten') && list[0] === 'conv2d', `after removing: ${list}`);
  await s.shot('step-3-layer-editor');
  const edited = await s.experimentInPage();
  const params = (
    await page.$$eval('[data-testid=layers] tbody tr', (trs) =>
      trs.slice(1).map((r) => Number(r.cells[3].textContent.replace(/,/g, ''))),
    )
  ).reduce((s, v) => s + v, 0);
  const c = nativeRun('digits-edited.experiment.json', JSON.stringify(edited));
  assert(c.parameters === params, `the layer table sums to ${params} parameters, the CLI builds ${c.parameters}`);
});
