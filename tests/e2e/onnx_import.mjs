// Deploy → Try the model: an ONNX network loads through the deploy tools' importer (a PyTorch
// export from libonnx-testdata), predicts as the CLI's import of it does, and downloads as
// the model file `lathe import` writes; a graph Lathe does not hold is refused naming the node.
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { test, assert, exampleText, root, cli, scratch } from './fixtures.mjs';

const TORCH = '/usr/share/libonnx-testdata/data/pytorch-converted';

test("deploy: a PyTorch ONNX export loads as a model (the CLI's import, byte for byte but the producer) and predicts a CSV as lathe predict does; an unsupported graph is refused naming its node", async (s) => {
  const { page } = s;
  await s.openTryer();
  const onnx = path.join(TORCH, 'test_Linear/model.onnx');
  await page.setInputFiles('[data-testid=onnx-upload]', onnx);
  await page.waitForSelector('#try-body:not([hidden])', { timeout: 30000 });
  const source = await page.textContent('[data-testid=try-source]');
  assert(
    /model\.onnx \(imported\): it classifies into 8 classes .* from 10 input columns/.test(source),
    `try-source: ${source}`,
  );
  const notes = await page.textContent('[data-testid=onnx-notes]');
  assert(/read as logits/.test(notes), `the import's notes: ${notes}`);
  const saved = await s.downloadText('[data-testid=onnx-save]');
  assert(saved.name === 'model.lathe.json', `downloaded ${saved.name}`);
  const cliModel = path.join(scratch, 'linear_cli.lathe.json');
  execFileSync(cli, ['import', onnx, '--out', cliModel, '--quiet'], { cwd: root });
  const strip = (t) => t.replace(/"producer":\s*"[^"]*"/, '');
  assert(strip(saved.text) === strip(fs.readFileSync(cliModel, 'utf8')), "the page's import is not the CLI's");
  // predictions on a CSV of the model's columns x1…x10
  const csv = path.join(scratch, 'linear_rows.csv');
  const rows = ['x1,x2,x3,x4,x5,x6,x7,x8,x9,x10'];
  for (let r = 0; r < 6; r++) rows.push(Array.from({ length: 10 }, (_, k) => ((r * 7 + k * 3) % 11) / 4 - 1).join(','));
  fs.writeFileSync(csv, `${rows.join('\n')}\n`);
  await page.setInputFiles('[data-testid=batch-upload]', csv);
  await page.waitForFunction(() => !document.querySelector('[data-testid=batch-download]').disabled, null, {
    timeout: 30000,
  });
  const predictions = await s.downloadText('[data-testid=batch-download]');
  const expected = execFileSync(cli, ['predict', cliModel, csv], { cwd: root }).toString();
  assert(predictions.text === expected, `the page predicts\n${predictions.text}\nlathe predict\n${expected}`);
  await s.shot('step-6-onnx-import');
  // a graph Lathe does not hold: the node and the reason; the imported model stays in use
  await page.setInputFiles('[data-testid=onnx-upload]', path.join(TORCH, 'test_PixelShuffle/model.onnx'));
  await page.waitForSelector('[data-testid=try-error]:not([hidden])');
  const refused = await page.textContent('[data-testid=try-error]');
  assert(/^model\.onnx: node #1 \(Reshape\): shape \[1, 1, 3, 3, 4, 4\]/.test(refused), `refused: ${refused}`);
  assert((await page.textContent('[data-testid=try-source]')) === source, 'the model in use changed after a refusal');
});

test("deploy → train: a PyTorch MLP's ONNX file, imported with iris's class and column names, fine-tunes in the page to the weights `lathe import` then `lathe train --init` give", async (s) => {
  const { page } = s;
  const onnx = path.join(scratch, 'torch_mlp.onnx');
  execFileSync('/usr/bin/python3', [
    path.join(root, 'tests/deploy/torch_mlp.py'),
    path.join(root, '../shared/reference/vectors/mlp_train_steps.json'),
    onnx,
  ]);
  await s.setExperiment(exampleText('iris'));
  await s.forgetStatus();
  await s.openTryer();
  const classes = 'setosa,versicolor,virginica';
  const inputs = 'sepal_length,sepal_width,petal_length,petal_width';
  await page.fill('[data-testid=onnx-classes]', classes);
  await page.fill('[data-testid=onnx-inputs]', inputs);
  await page.setInputFiles('[data-testid=onnx-upload]', onnx);
  await page.waitForSelector('[data-testid=try-finetune]:not([hidden])', { timeout: 30000 });
  await page.click('[data-testid=try-finetune]');
  await page.waitForSelector('[data-testid=init-row]:not([hidden])');
  const note = await page.textContent('[data-testid=init-note]');
  assert(/^Fine-tuning: training starts from torch_mlp\.onnx \(imported\)/.test(note), `the Train step says: ${note}`);
  const text = await page.inputValue('[data-testid=experiment]');
  const layers = JSON.parse(text)
    .model.layers.map((l) => `${l.type}${l.units ? ` ${l.units}` : ''}`)
    .join(', ');
  assert(layers === 'dense 6, relu, dense 3', `the experiment's layers are now ${layers}`);
  await s.trainAndWait();
  const hash = await s.pageHash();
  const command = await page.textContent('[data-testid=cli-command]');
  assert(command === 'lathe train iris.experiment.json --init torch_mlp.lathe.json', `the CLI command: ${command}`);
  const exp = path.join(scratch, 'iris_finetune.experiment.json');
  fs.writeFileSync(exp, text);
  const model = path.join(scratch, 'torch_mlp_iris.lathe.json');
  execFileSync(cli, ['import', onnx, '--out', model, '--classes', classes, '--inputs', inputs, '--quiet'], {
    cwd: root,
  });
  const out = JSON.parse(
    execFileSync(cli, ['train', exp, '--init', model, '--json', '--quiet'], { cwd: root }).toString(),
  );
  assert(out.weights_sha256 === hash, `the page fine-tuned to ${hash}, the CLI to ${out.weights_sha256}`);
  await s.shot('step-4-fine-tuned');
  await page.click('[data-testid=init-clear]');
  await page.waitForSelector('[data-testid=init-row]', { state: 'hidden' });
});
