// Deploy → Try the model: an ONNX network loads through the deploy tools' importer (a PyTorch
// export from libonnx-testdata), predicts as the CLI's import of it does, and downloads as
// the model file `lathe import` writes; a graph Lathe does not hold is refused naming the node.
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { test, assert, root, cli, scratch } from './fixtures.mjs';

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
