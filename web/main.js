/* Wires the page: the stepper, the one state object, the worker and each step's module. */
import { $ } from './dom.js';
import { ExperimentState } from './state.js';
import { EngineClient } from './engine_client.js';
import { DataStep } from './data_step.js';
import { PrepareStep, describeOp } from './prepare_step.js';
import { ModelStep } from './model_step.js';
import { TrainStep } from './train_step.js';
import { EvaluateStep } from './evaluate_step.js';
import { DeployStep } from './deploy_step.js';

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
  set('train', app.training ? (app.paused ? 'paused' : 'training…') : result ? `done · ${result.history.length} epochs` : 'not run yet');
  const test = result && result.metrics.test;
  set('evaluate', test ? (test.accuracy !== null ? `test accuracy ${(100 * test.accuracy).toFixed(1)}%` : `test R² ${test.r2 === null ? '—' : test.r2.toFixed(3)}`) : 'needs a trained model');
  set('deploy', result ? `weights ${result.weightsSha256.slice(0, 8)}…` : 'experiment file');
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
  summarise();
}

async function startTraining() {
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
  steps.train.start();
  steps.deploy.clear();
  setTraining(true);
  app.status('Preparing the data…');
  app.engine.post({ type: 'train', experiment: state.text, data }, data ? [data] : []);
}

const on = (type, fn) => app.engine.on(type, fn);
on('ready', () => {
  $('train').disabled = false;
  $('train').textContent = 'Train';
  app.status('Ready. One click trains the model in this tab.');
});
on('started', (msg) => {
  steps.train.started_(msg.progress, (app.state.experiment.train || {}).batch_size || 32);
  app.status(`Training ${msg.shape.parameters} parameters on ${msg.progress.trainRows} rows…`);
});
on('tick', (msg) => { if (!app.paused) steps.train.tick(msg.progress); });
on('progress', (msg) => {
  const p = msg.progress;
  steps.train.tick(p);
  steps.train.add(msg.point);
  app.status(`Epoch ${p.epoch} of ${p.epochs} — loss ${p.lastEpochLoss.toFixed(4)}`);
});
on('boundary-setup', (msg) => steps.train.setUpBoundary(msg));
on('boundary', (msg) => steps.train.drawBoundary(msg));
on('paused', () => app.status(`${$('status').textContent} (paused)`));
on('done', (msg) => {
  const r = msg.result;
  app.result = r;
  setTraining(false);
  steps.evaluate.render(r);
  steps.deploy.render(r);
  steps.train.finish(r.progress);
  const test = r.metrics.test;
  const early = r.progress.stoppedEarly ? ' (stopped early)' : '';
  app.status(test.accuracy !== null ? `Done. Test accuracy ${(test.accuracy * 100).toFixed(1)}%${early}.` : `Done. Test R² ${test.r2 === null ? '—' : test.r2.toFixed(3)}${early}.`);
  summarise();
});
on('cancelled', () => {
  setTraining(false);
  app.status('Training cancelled. The experiment is unchanged; press Train to start again.');
});
on('error', (msg) => {
  setTraining(false);
  if (msg.result) steps.evaluate.renderMetrics(msg.result.metrics);
  const where = (app.state.valid && app.state.experiment.data && app.state.experiment.data.file) || '';
  app.error(where && /^(line|the file|data row|column)/.test(msg.message) ? `${where}: ${msg.message}` : msg.message);
  app.status('Training stopped.');
});
on('crash', (msg) => {
  setTraining(false);
  app.error(`The training worker failed: ${msg.message}`);
});

app.state.addEventListener('change', (e) => {
  const source = e.detail.source;
  steps.deploy.sync(source);
  steps.data.sync();
  steps.prepare.sync();
  steps.model.sync();
  steps.train.sync();
  summarise();
});

async function init() {
  for (const s of Object.values(steps)) if (s.wire) s.wire();
  document.querySelectorAll('[data-step-button]').forEach((b) => b.addEventListener('click', () => show(b.dataset.stepButton)));
  document.querySelectorAll('[data-go]').forEach((b) => b.addEventListener('click', () => show(b.dataset.go)));
  $('train').addEventListener('click', startTraining);
  $('pause').addEventListener('click', () => {
    app.paused = !app.paused;
    app.engine.post({ type: app.paused ? 'pause' : 'resume' });
    $('pause').textContent = app.paused ? 'Resume' : 'Pause';
    summarise();
  });
  $('cancel').addEventListener('click', () => app.engine.post({ type: 'cancel' }));
  await steps.data.loadDatasets();
  const text = ExperimentState.saved() || await steps.data.experimentFor('iris');
  app.state.setText(text, 'load');
  show('data');
}

init().catch((e) => app.error(`The page could not start: ${e.message}`));
