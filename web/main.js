/* Wires the page: the stepper, the one state object, the worker and each step's module. */
import { $ } from './dom.js';
import { ExperimentState, sameJson } from './state.js';
import { EngineClient } from './engine_client.js';
import { DataStep } from './data_step.js';
import { PrepareStep, describeOp } from './prepare_step.js';
import { ModelStep } from './model_step.js';
import { TrainStep } from './train_step.js';
import { EvaluateStep } from './evaluate_step.js';
import { DeployStep } from './deploy_step.js';
import { Store } from './store.js';

const STEPS = ['data', 'prepare', 'model', 'train', 'evaluate', 'deploy'];

const app = {
  state: new ExperimentState(),
  engine: new EngineClient('worker.js'),
  upload: null,   // {name, bytes} of the user's CSV: never leaves the tab
  table: null,    // {info, columns} of the data as the engine read it
  result: null,   // the last finished run
  training: false,
  paused: false,
  builtinCache: new Map(),
  run: null,      // the run in progress: {id, text, checkpoint: {bytes, progress, history}, faults}
  runs: 0,
  memory: null,   // the trainer's bytes for the current design (Model step), or null
  store: new Store((message) => {
    $('storage-error').textContent = message;
    $('storage-error').hidden = false;
  }, (keys) => {
    $('storage-error').hidden = true;
    if (keys.includes('checkpoint') && app.run && app.run.checkpoint) steps.train.saved(app.run.checkpoint.progress);
  }),

  /** The bytes the experiment reads (a copy the worker may take), or null for synthetic. */
  async dataBytes(experiment) {
    const data = experiment.data || {};
    if (data.synthetic) return null;
    if (data.file) {
      if (!this.upload || this.upload.name !== data.file) {
        throw new Error(`The experiment reads the file '${data.file}': choose it in step 1, Data ("use your own CSV file").`);
      }
      return this.upload.bytes.slice(0);
    }
    if (data.builtin) {
      if (!this.builtinCache.has(data.builtin)) {
        const response = await fetch(`data/${data.builtin}.csv`);
        if (!response.ok) throw new Error(`the built-in data set '${data.builtin}' is not available on this page`);
        this.builtinCache.set(data.builtin, await response.arrayBuffer());
      }
      return this.builtinCache.get(data.builtin).slice(0);
    }
    throw new Error('data needs one of builtin, file or synthetic');
  },
  /** Keeps the uploaded file (name and bytes) in IndexedDB with the experiment. */
  saveUpload() { this.store.put('upload', this.upload); },
  status(text) { $('status').textContent = text; },
  error(text) {
    $('error').textContent = text;
    $('error').hidden = !text;
  },
  /** A step produced something others show: the table (new columns) or the model. */
  changed(what) {
    if (what === 'table') {
      steps.prepare.sync();
      steps.model.sync();
    }
    summarise();
  },
};

const steps = {
  data: new DataStep(app), prepare: new PrepareStep(app), model: new ModelStep(app),
  train: new TrainStep(app), evaluate: new EvaluateStep(app), deploy: new DeployStep(app),
};

function show(name) {
  for (const s of STEPS) {
    $(`step-${s}`).hidden = s !== name;
    const tab = document.querySelector(`[data-step-button=${s}]`);
    if (s === name) tab.setAttribute('aria-current', 'step'); else tab.removeAttribute('aria-current');
  }
  if (name === 'data') steps.data.renderRows();
  if (name === 'prepare') steps.prepare.schedulePreview();
  if (name === 'deploy') steps.deploy.open();
}

/** Each step's line in the stepper: what it holds or produced. */
function summarise() {
  const { state, table, result } = app;
  const set = (s, text) => { document.querySelector(`[data-step-button=${s}] .step-summary`).textContent = text; };
  const x = state.valid ? state.experiment : null;
  const data = (x && x.data) || {};
  set('data', table ? `${data.builtin || data.synthetic || data.file} · ${table.info.rows.toLocaleString('en-US')} rows` : 'choose data');
  const split = x && (x.prepare || []).find((op) => op.op === 'split');
  set('prepare', split ? describeOp(split).replace(/^Split: /, '').replace(/, stratified$/, '') : 'add a split');
  const m = (x && x.model) || {};
  const model = steps.model.summary;
  set('model', `${m.template || 'layers'}${m.hidden ? ` ${m.hidden.join('-')}` : ''}${model ? ` · ${model.parameters.toLocaleString('en-US')} params` : ''}`);
  // a result of other settings than the experiment's now is shown as an earlier run's
  const current = !!result && state.valid && sameJson(result.experiment, state.text);
  const earlier = result && !current ? 'earlier run: ' : '';
  set('train', app.training ? (app.paused ? 'paused' : 'training…') : result ? `${current ? 'done' : 'earlier run'} · ${result.history.length} epochs` : 'not run yet');
  const test = result && result.metrics.test;
  set('evaluate', test ? earlier + (test.accuracy !== null ? `test accuracy ${(100 * test.accuracy).toFixed(1)}%` : `test R² ${test.r2 === null ? '—' : test.r2.toFixed(3)}`) : 'needs a trained model');
  set('deploy', result ? `${earlier}weights ${result.weightsSha256.slice(0, 8)}…` : 'experiment file');
  $('evaluate-stale').hidden = !result || current || app.training;
  $('deploy-stale').hidden = !result || current || app.training;
  $('evaluate-needs').hidden = !!result;
  $('evaluate-done').hidden = !result;
  $('evaluate-body').hidden = !result;
  $('deploy-needs').textContent = result ? 'Produces the files that take this model elsewhere: the experiment file replays it, the model file carries its weights and fitted preparation.'
    : 'The experiment file is ready now; the model file needs a trained model (step 4).';
}

function setTraining(on) {
  app.training = on;
  app.paused = false;
  $('train').disabled = on;
  $('train').textContent = 'Train';
  $('pause').disabled = !on;
  $('pause').textContent = 'Pause';
  $('cancel').disabled = !on;
  $('dataset').disabled = on;
  $('resume-file').disabled = on;
  if (on) $('download-checkpoint').disabled = false;
  else $('download-checkpoint').disabled = !(app.result && app.result.checkpoint);
  summarise();
}

/** Starts a run of the experiment, or continues one from resume = {bytes, history} (a
 * checkpoint kept in this browser, or a checkpoint file). */
async function startTraining(resume = null) {
  app.error('');
  const { state } = app;
  if (!state.valid) {
    try { JSON.parse(state.text); } catch (e) { app.error(`The experiment is not valid JSON: ${e.message}`); }
    return;
  }
  let data;
  try {
    data = await app.dataBytes(state.experiment);
  } catch (e) {
    app.error(e.message);
    return;
  }
  $('resume-banner').hidden = true;
  steps.train.start(resume ? resume.history : []);
  steps.deploy.clear();
  app.run = { id: ++app.runs, text: state.text, data: dataRef(state.experiment), faults: 0,
    checkpoint: resume ? { bytes: resume.bytes, progress: resume.progress || null, history: resume.history || [] } : null };
  setTraining(true);
  app.status(resume ? 'Preparing the data to continue from the checkpoint…' : 'Preparing the data…');
  postTrain(data);
}

/** What the run reads: the built-in or synthetic set's name, or the uploaded file's name. */
function dataRef(experiment) {
  const d = experiment.data || {};
  return d.file ? { file: d.file } : d.builtin ? { builtin: d.builtin } : { synthetic: d.synthetic };
}

/** Sends the current run to the worker: from its last checkpoint when it has one. */
function postTrain(data) {
  const { run } = app;
  const ck = run.checkpoint;
  const bytes = ck ? ck.bytes.slice(0) : null;
  const transfer = [data, bytes].filter(Boolean);
  app.engine.post({ type: 'train', run: run.id, experiment: run.text, data, checkpoint: bytes,
    history: ck ? ck.history : [] }, transfer);
}

/** The worker trapped or crashed: a fresh worker continues the run from its last checkpoint. */
async function recover(message) {
  app.engine.restart(message);
  // requests the old worker dropped are asked again
  steps.data.requested = '';
  steps.model.key = '';
  steps.data.sync();
  steps.model.sync();
  const { run } = app;
  if (!app.training || !run) {
    app.error(`The engine stopped (${message}) and was restarted; your work is intact.`);
    return;
  }
  run.faults++;
  run.id = ++app.runs;
  if (run.faults > 3) {
    setTraining(false);
    app.error(`The training worker failed ${run.faults} times (last: ${message}); training stopped. The last checkpoint is kept: reload the page to resume it.`);
    return;
  }
  const at = run.checkpoint && run.checkpoint.progress;
  app.error(`The training worker failed (${message}). It was restarted and training continues from ${at ? `the checkpoint of epoch ${at.epoch}, batch ${at.batch}` : 'the start'}.`);
  let data;
  try {
    data = await app.dataBytes(JSON.parse(run.text));
  } catch (e) {
    setTraining(false);
    app.error(`The training worker failed (${message}) and the run cannot continue: ${e.message}`);
    return;
  }
  steps.train.start(run.checkpoint ? run.checkpoint.history : []);
  postTrain(data);
}

/** Training messages of the current run only: a cancelled or replaced run's last words are
 * ignored, so the page's state stays consistent whenever Cancel is pressed. */
const on = (type, fn) => app.engine.on(type, fn);
const onRun = (type, fn) => on(type, (msg) => { if (app.run && msg.run === app.run.id) fn(msg); });
on('ready', () => {
  if (app.training) return; // a restarted worker: the run continues
  $('train').disabled = false;
  $('train').textContent = 'Train';
  app.status('Ready. One click trains the model in this tab.');
});
onRun('started', (msg) => {
  $('progress').dataset.startEpoch = String(msg.progress.epoch);
  $('progress').dataset.startBatch = String(msg.progress.batch);
  $('progress').dataset.batchesPerEpoch = String(msg.progress.batchesPerEpoch);
  steps.train.started_(msg.progress, (JSON.parse(app.run.text).train || {}).batch_size || 32);
  steps.train.showMemory(msg.memory);
  app.status(`Training ${msg.shape.parameters} parameters on ${msg.progress.trainRows} rows${msg.resumed ? `, from epoch ${msg.progress.epoch}, batch ${msg.progress.batch}` : ''}…`);
});
onRun('tick', (msg) => { if (!app.paused) steps.train.tick(msg.progress); });
onRun('checkpoint', (msg) => {
  const { run } = app;
  run.checkpoint = { bytes: msg.bytes, progress: msg.progress, history: msg.history };
  app.store.put('checkpoint', { text: run.text, data: run.data, bytes: msg.bytes, progress: msg.progress,
    history: msg.history, savedAt: Date.now() });
  $('download-checkpoint').disabled = false;
});
onRun('progress', (msg) => {
  const p = msg.progress;
  steps.train.tick(p);
  steps.train.add(msg.point);
  app.status(`Epoch ${p.epoch} of ${p.epochs} — loss ${p.lastEpochLoss.toFixed(4)}`);
});
onRun('boundary-setup', (msg) => steps.train.setUpBoundary(msg));
onRun('boundary', (msg) => steps.train.drawBoundary(msg));
onRun('paused', () => app.status(`${$('status').textContent} (paused)`));
onRun('done', (msg) => {
  const r = msg.result;
  r.experiment = app.run.text;
  app.result = r;
  app.run = null;
  app.store.put('result', r);
  app.store.delete('checkpoint');
  setTraining(false);
  steps.evaluate.render(r);
  steps.deploy.render(r);
  steps.train.finish(r.progress);
  const test = r.metrics.test;
  const early = r.progress.stoppedEarly ? ' (stopped early)' : '';
  app.status(test.accuracy !== null ? `Done. Test accuracy ${(test.accuracy * 100).toFixed(1)}%${early}.` : `Done. Test R² ${test.r2 === null ? '—' : test.r2.toFixed(3)}${early}.`);
  summarise();
});
onRun('cancelled', () => {
  app.run = null;
  app.store.delete('checkpoint');
  setTraining(false);
  if (app.result) steps.deploy.render(app.result); // the last finished run's model is still there
  app.status('Training cancelled. The experiment is unchanged; press Train to start again.');
});
onRun('fault', (msg) => recover(msg.message));
on('error', (msg) => {
  if (msg.run === undefined) { // the engine did not start
    app.error(msg.message);
    return;
  }
  if (!app.run || msg.run !== app.run.id) return;
  app.run = null;
  app.store.delete('checkpoint');
  setTraining(false);
  if (app.result) steps.deploy.render(app.result); // the last finished run's model is still there
  const where = (app.state.valid && app.state.experiment.data && app.state.experiment.data.file) || '';
  app.error(where && /^(line|the file|data row|column)/.test(msg.message) ? `${where}: ${msg.message}` : msg.message);
  app.status('Training stopped.');
});
on('crash', (msg) => recover(msg.message));

app.state.addEventListener('change', (e) => {
  const source = e.detail.source;
  app.store.put('experiment', app.state.text);
  steps.deploy.sync(source);
  steps.data.sync();
  steps.prepare.sync();
  steps.model.sync();
  steps.train.sync();
  summarise();
});

/** What IndexedDB kept from the last visit: the uploaded file, the last finished run, and a
 * run that was interrupted (offered for resuming). */
async function restore() {
  try {
    await app.store.open();
  } catch (e) {
    $('storage-error').textContent = `Your work cannot be kept in this browser (${e.message}); download the experiment to keep it.`;
    $('storage-error').hidden = false;
    return { text: null };
  }
  const [text, upload, result, checkpoint] = await Promise.all(['experiment', 'upload', 'result', 'checkpoint'].map((k) => app.store.get(k)));
  if (upload) {
    app.upload = upload;
    steps.data.showUpload(upload);
  }
  return { text, result, checkpoint };
}

function offerResume(ck) {
  const p = ck.progress;
  $('resume-text').textContent = `A training run was interrupted at epoch ${p.epoch} of ${p.epochs}, batch ${p.batch} of ${p.batchesPerEpoch} ` +
    `(saved ${new Date(ck.savedAt).toLocaleString()}). Its checkpoint is kept in this browser.`;
  $('resume-banner').hidden = false;
  $('resume-run').onclick = () => {
    if (app.state.text !== ck.text) app.state.setText(ck.text, 'resume');
    show('train');
    startTraining({ bytes: ck.bytes, progress: p, history: ck.history });
  };
  $('discard-run').onclick = () => {
    $('resume-banner').hidden = true;
    app.store.delete('checkpoint');
  };
}

async function init() {
  for (const s of Object.values(steps)) if (s.wire) s.wire();
  document.querySelectorAll('[data-step-button]').forEach((b) => b.addEventListener('click', () => show(b.dataset.stepButton)));
  document.querySelectorAll('[data-go]').forEach((b) => b.addEventListener('click', () => show(b.dataset.go)));
  $('train').addEventListener('click', () => startTraining());
  $('pause').addEventListener('click', () => {
    app.paused = !app.paused;
    app.engine.post({ type: app.paused ? 'pause' : 'resume' });
    $('pause').textContent = app.paused ? 'Resume' : 'Pause';
    summarise();
  });
  $('cancel').addEventListener('click', () => { if (app.run) app.engine.post({ type: 'cancel', run: app.run.id }); });
  steps.train.onResumeFile = (bytes) => startTraining({ bytes, history: [] });
  steps.model.onMemory = (bytes, error) => steps.train.showMemory(bytes, error);
  await steps.data.loadDatasets();
  const kept = await restore();
  const text = ExperimentState.saved(kept.text) || await steps.data.experimentFor('iris');
  app.state.setText(text, 'load');
  if (kept.result) {
    app.result = kept.result;
    steps.evaluate.render(kept.result);
    steps.deploy.render(kept.result);
    steps.train.restored(kept.result);
    summarise();
  }
  if (kept.checkpoint) offerResume(kept.checkpoint);
  show('data');
}

// Hooks for the browser tests only (the page's address ends in ?test-hooks), in a module no
// visitor downloads.
if (new URLSearchParams(location.search).has('test-hooks')) {
  import('./test_hooks.js').then((m) => m.install(app, summarise));
}

init().catch((e) => app.error(`The page could not start: ${e.message}`));
