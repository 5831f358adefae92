// Checkpoints: a closed tab, checkpoint files both ways, worker faults, a full storage quota.
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { test, assert, nativeRun, exampleText, root, cli, scratch, Session } from './fixtures.mjs';

test('closing the tab mid-training loses nothing: reopened, it offers the run and resumes from its checkpoint to the native weights', async (s) => {
  let { page } = s;
  const text = exampleText('digits', (x) => {
    x.model.hidden = [512, 128];
    x.train.epochs = 60;
  });
  const native = nativeRun('digits-resume.experiment.json', text);
  await s.setExperiment(text);
  await s.step('train');
  // The run pauses itself after epoch 3 (a test hook), so its checkpoint is known to be
  // saved; it is resumed and the tab closed while it trains.
  await page.evaluate(() => window.latheTest.pauseAt(3, 0));
  await page.click('[data-testid=train]');
  await s.waitPaused();
  assert((await s.waitSaved(3)) === 3, 'the checkpoint of the pause at epoch 3 is not the one saved');
  await page.click('#pause');
  await page.close(); // the worker dies with the tab
  page = s.page = s.watch(await s.contexts[0].newPage());
  await page.goto(s.hooks);
  await page.waitForSelector('[data-testid=resume-banner]:not([hidden])', { timeout: 30000 });
  const offer = await page.textContent('[data-testid=resume-banner]');
  const saved = Number((offer.match(/interrupted at epoch ([0-9]+) of 60/) || [])[1]);
  assert(saved >= 3 && saved < 60, `the offer says: "${offer}" (a checkpoint of epoch 3 or later was saved)`);
  await s.shot('resume-offer');
  await page.click('[data-testid=resume-run]');
  await s.waitDone(240000);
  const from = Number(await page.getAttribute('#progress', 'data-start-epoch'));
  assert(from === saved, `the run restarted at epoch ${from}, not at the checkpoint's ${saved}`);
  const curve = await page.$eval('[data-testid=loss-chart]', (el) => el.chartData[0].length);
  assert(curve === 60, `the loss curve has ${curve} epochs after resuming, not 60`);
  assert(
    (await s.pageHash()) === native.weights_sha256,
    `resumed ${await s.pageHash()} != uninterrupted native ${native.weights_sha256}`,
  );
  assert((await s.stored('checkpoint')) === null, 'the finished run left its checkpoint to be offered again');
  // Reopening once more shows the finished run, and offers nothing to resume.
  await page.reload();
  await Session.ready(page);
  assert((await s.pageHash()) === native.weights_sha256, 'the finished run is not kept across a reload');
  assert(await page.isHidden('[data-testid=resume-banner]'), 'a finished run is offered for resuming');
});

test('the checkpoint downloaded mid-epoch resumes in the CLI, and a CLI checkpoint resumes in the page, to the same weights', async (s) => {
  const { page } = s;
  const text = exampleText('digits', (x) => {
    x.model.hidden = [256];
    x.train.epochs = 20;
  });
  await s.setExperiment(text);
  const experiment = await s.downloadText('[data-testid=download-experiment]');
  await s.step('train');
  // The run pauses itself at epoch 2, batch 5 (a test hook): mid-epoch, at a known point.
  await page.evaluate(() => window.latheTest.pauseAt(2, 5));
  await page.click('[data-testid=train]');
  await s.waitPaused();
  await s.waitSaved(2);
  const note = await page.textContent('[data-testid=saved-note]');
  assert(/at epoch 2 of 20, batch 5:/.test(note), `the paused run's checkpoint: "${note}"`);
  const ck = await s.downloadText('[data-testid=download-checkpoint]');
  assert(
    ck.name === 'digits.ck' && fs.readFileSync(ck.file).subarray(0, 8).toString() === 'LATHECK1',
    `the checkpoint download: ${ck.name}`,
  );
  await page.click('#pause');
  await s.waitDone(240000);
  const hash = await s.pageHash();
  const resumed = JSON.parse(
    execFileSync(cli, ['train', experiment.file, '--resume', ck.file, '--json', '--quiet'], { cwd: root }).toString(),
  );
  assert(
    resumed.weights_sha256 === hash,
    `CLI resumed from the page's checkpoint: ${resumed.weights_sha256} != page ${hash}`,
  );
  assert(nativeRun(experiment.file).weights_sha256 === hash, 'the page and an uninterrupted CLI run differ');
  // The other way: the CLI stops after 100 batches; the page continues its checkpoint.
  const cliCk = path.join(scratch, 'cli.ck');
  execFileSync(cli, ['run', experiment.file, '--checkpoint', cliCk, '--stop-after', '100', '--quiet'], { cwd: root });
  await s.forgetStatus();
  await page.setInputFiles('[data-testid=resume-file]', cliCk);
  await s.waitDone(240000);
  const start = ['start-epoch', 'start-batch', 'batches-per-epoch'].map((k) =>
    page.getAttribute('#progress', `data-${k}`),
  );
  const [epoch0, batch0, perEpoch] = (await Promise.all(start)).map(Number);
  assert(
    epoch0 * perEpoch + batch0 === 100,
    `the page resumed the CLI's checkpoint at epoch ${epoch0}, batch ${batch0}`,
  );
  assert((await s.pageHash()) === hash, `the page resumed the CLI checkpoint to ${await s.pageHash()}, not ${hash}`);
  // A checkpoint of another experiment is refused with the core's reason, and the page works on.
  await s.setExperiment(
    exampleText('digits', (x) => {
      x.train.epochs = 3;
    }),
  );
  await s.step('train');
  await page.setInputFiles('[data-testid=resume-file]', ck.file);
  await page.waitForSelector('[data-testid=error]:not([hidden])');
  const refused = await page.textContent('[data-testid=error]');
  assert(/checkpoint/i.test(refused) && /experiment|owner|data/.test(refused), `a foreign checkpoint: "${refused}"`);
  assert(!(await page.isDisabled('[data-testid=train]')), 'Train is disabled after a refused checkpoint');
});

test(
  'a wasm trap and a crash in the worker are reported; the worker restarts from the checkpoint and reaches the native weights',
  async (s) => {
    const { page } = s;
    const text = exampleText('digits', (x) => {
      x.model.hidden = [512, 128];
      x.train.epochs = 40;
    });
    const native = nativeRun('digits-fault.experiment.json', text);
    await s.setExperiment(text);
    await s.step('train');
    // The run pauses itself after epoch 2 (a test hook); a trap is armed for its next slice,
    // and the restarted worker's run is set to pause after epoch 4, where the crash comes.
    await page.evaluate(() => window.latheTest.pauseAt(2, 0));
    await page.click('[data-testid=train]');
    await s.waitPaused();
    const first = await s.waitSaved(2);
    await page.evaluate(() => {
      window.latheTest.inject('trap');
      window.latheTest.pauseAt(4, 0);
    });
    await page.click('#pause'); // resume: the trap fires in the next slice
    await page.waitForFunction(
      () => /worker failed \(RuntimeError/.test(document.querySelector('[data-testid=error]').textContent),
      null,
      { timeout: 30000 },
    );
    const trapped = await page.textContent('[data-testid=error]');
    assert(
      new RegExp(`restarted and training continues from the checkpoint of epoch ${first}, batch 0`).test(trapped),
      `after a trap: "${trapped}"`,
    );
    await s.shot('worker-fault');
    await s.waitPaused();
    assert((await s.waitSaved(4)) === 4, 'the restarted run did not save its checkpoint of epoch 4');
    await page.evaluate(() => window.latheTest.inject('crash'));
    await page.waitForFunction(
      () => /injected crash/.test(document.querySelector('[data-testid=error]').textContent),
      null,
      { timeout: 30000 },
    );
    await s.waitDone(240000);
    const from = Number(await page.getAttribute('#progress', 'data-start-epoch'));
    assert(from === 4, `the last restart began at epoch ${from}, not at the checkpoint of epoch 4`);
    assert(
      (await s.pageHash()) === native.weights_sha256,
      `after two faults ${await s.pageHash()} != native ${native.weights_sha256}`,
    );
  },
  { expectErrors: [/injected crash/] },
);

test('a full storage quota is reported in the page, not swallowed, and the page keeps working and saving', async (s) => {
  const { page } = s;
  // Chromium 156 ignores CDP's Storage.overrideQuotaForOrigin (tried): the page's test hook
  // makes the next IndexedDB write fail with a QuotaExceededError instead.
  await page.evaluate(() => window.latheTest.failStorage('QuotaExceededError'));
  await s.setControl('[data-testid=seed]', '7');
  await page.waitForSelector('[data-testid=storage-error]:not([hidden])', { timeout: 30000 });
  const message = await page.textContent('[data-testid=storage-error]');
  assert(/storage .*is full/.test(message), `the quota message: "${message}"`);
  await s.shot('storage-full');
  await s.setControl('[data-testid=seed]', '42');
  await page.waitForSelector('[data-testid=storage-error]', { state: 'hidden', timeout: 30000 });
  assert((await s.experimentInPage()).seed === 42, 'the page stopped taking edits after the quota error');
});
