/* Wires the page: the one state object, the worker's client, the store, each step's module,
 * the run controller (run_controller.js) and the stepper. */
import { $ } from './dom.js';
import { PageState, sameJson } from './state.js';
import { EngineClient } from './engine_client.js';
import { DataStep } from './data_step.js';
import { PrepareStep, describeOp } from './prepare_step.js';
import { ModelStep } from './model_step.js';
import { TrainStep } from './train_step.js';
import { EvaluateStep } from './evaluate_step.js';
import { DeployStep } from './deploy_step.js';
import { RunController } from './run_controller.js';
import { Store } from './store.js';

const STEPS = ['data', 'prepare', 'model', 'train', 'evaluate', 'deploy'];

const state = new PageState();
/** What every module is handed: the state, the worker's client, the store, the data's bytes
 * and the page's status and error lines. */
const app = {
  state,
  engine: new EngineClient('worker.js'),
  store: new Store(
    (message) => {
      $('storage-error').textContent = message;
      $('storage-error').hidden = false;
    },
    (keys) => {
      $('storage-error').hidden = true;
      controller.saved(keys);
    },
  ),
  /** Opens a step (the stepper's click). */
  show: (name) => show(name),
  /** The bytes the experiment reads (a copy the worker may take), or null for synthetic. */
  dataBytes: (experiment) => steps.data.bytes(experiment),
  status(text) {
    $('status').textContent = text;
  },
  error(text) {
    $('error').textContent = text;
    $('error').hidden = !text;
  },
};

const steps = {
  data: new DataStep(app),
  prepare: new PrepareStep(app),
  model: new ModelStep(app),
  train: new TrainStep(app),
  evaluate: new EvaluateStep(app),
  deploy: new DeployStep(app),
};
const controller = new RunController(app, {
  train: steps.train,
  deploy: steps.deploy,
  show,
  refresh() {
    // a restarted worker dropped their requests
    steps.data.refresh();
    steps.model.refresh();
  },
});

function show(name) {
  for (const s of STEPS) {
    $(`step-${s}`).hidden = s !== name;
    const tab = document.querySelector(`[data-step-button=${s}]`);
    if (s === name) tab.setAttribute('aria-current', 'step');
    else tab.removeAttribute('aria-current');
  }
  if (name === 'data') steps.data.renderRows();
  if (name === 'prepare') steps.prepare.schedulePreview();
  if (name === 'deploy') steps.deploy.open();
}

/** Each step's line in the stepper: what it holds or produced. */
function summarise() {
  const { table, result, design, training } = state;
  const set = (s, text) => {
    document.querySelector(`[data-step-button=${s}] .step-summary`).textContent = text;
  };
  const x = state.valid ? state.experiment : null;
  const data = (x && x.data) || {};
  set(
    'data',
    table
      ? `${data.builtin || data.synthetic || data.file} · ${table.info.rows.toLocaleString('en-US')} rows`
      : 'choose data',
  );
  const split = x && (x.prepare || []).find((op) => op.op === 'split');
  set(
    'prepare',
    split
      ? describeOp(split)
          .replace(/^Split: /, '')
          .replace(/, stratified$/, '')
      : 'add a split',
  );
  const m = (x && x.model) || {};
  const params =
    design && design.parameters !== undefined ? ` · ${design.parameters.toLocaleString('en-US')} params` : '';
  set('model', `${m.template || 'layers'}${m.hidden ? ` ${m.hidden.join('-')}` : ''}${params}`);
  // a result of other settings than the experiment's now is shown as an earlier run's
  const current = !!result && state.valid && sameJson(result.experiment, state.text);
  const earlier = result && !current ? 'earlier run: ' : '';
  set(
    'train',
    training
      ? training === 'paused'
        ? 'paused'
        : 'training…'
      : result
        ? `${current ? 'done' : 'earlier run'} · ${result.history.length} epochs`
        : 'not run yet',
  );
  const test = result && result.metrics.test;
  set(
    'evaluate',
    test
      ? earlier +
          (test.accuracy !== null
            ? `test accuracy ${(100 * test.accuracy).toFixed(1)}%`
            : `test R² ${test.r2 === null ? '—' : test.r2.toFixed(3)}`)
      : 'needs a trained model',
  );
  set('deploy', result ? `${earlier}weights ${result.weightsSha256.slice(0, 8)}…` : 'experiment file');
  $('evaluate-stale').hidden = $('deploy-stale').hidden = !result || current || !!training;
  $('evaluate-needs').hidden = !!result;
  $('evaluate-done').hidden = !result;
  $('evaluate-body').hidden = !result;
  $('deploy-needs').textContent = result
    ? 'Produces the files that take this model elsewhere: the experiment file replays it, the model file carries its weights and fitted preparation.'
    : 'The experiment file is ready now; the model file needs a trained model (step 4).';
}

/** Every change of the state reaches the modules that show it. */
state.addEventListener('change', (e) => {
  const { source, keys } = e.detail;
  if (keys.includes('experiment')) {
    app.store.put('experiment', state.text);
    steps.deploy.sync(source);
    steps.data.sync();
    steps.prepare.sync();
    steps.model.sync();
    steps.train.sync();
  }
  if (keys.includes('init')) steps.deploy.sync('init'); // the CLI command names the model
  if (keys.includes('table')) {
    // new columns
    steps.prepare.sync();
    steps.model.sync();
  }
  if (keys.includes('design'))
    steps.train.showMemory(state.design && state.design.memory, state.design && state.design.error);
  if (keys.includes('result') && state.result) {
    steps.evaluate.render(state.result);
    steps.deploy.render(state.result);
  }
  summarise();
});

/** What IndexedDB kept from the last visit: the uploaded file, the last finished run, and a
 * run that was interrupted (offered for resuming). */
async function restore() {
  try {
    await app.store.open();
  } catch (e) {
    $('storage-error').textContent =
      `Your work cannot be kept in this browser (${e.message}); download the experiment to keep it.`;
    $('storage-error').hidden = false;
    return { text: null };
  }
  const [text, upload, result, checkpoint] = await Promise.all(
    ['experiment', 'upload', 'result', 'checkpoint'].map((k) => app.store.get(k)),
  );
  if (upload) {
    state.set({ upload });
    steps.data.showUpload(upload);
  }
  return { text, result, checkpoint };
}

async function init() {
  for (const s of Object.values(steps)) if (s.wire) s.wire();
  controller.wire();
  document
    .querySelectorAll('[data-step-button]')
    .forEach((b) => b.addEventListener('click', () => show(b.dataset.stepButton)));
  document.querySelectorAll('[data-go]').forEach((b) => b.addEventListener('click', () => show(b.dataset.go)));
  await steps.data.loadDatasets();
  const kept = await restore();
  const text = PageState.saved(kept.text) || (await steps.data.experimentFor('iris'));
  state.setText(text, 'load');
  if (kept.result) {
    state.set({ result: kept.result });
    steps.train.restored(kept.result);
  }
  if (kept.checkpoint) controller.offerResume(kept.checkpoint);
  show('data');
}

// Hooks for the browser tests only (the page's address ends in ?test-hooks), in a module no
// visitor downloads.
if (new URLSearchParams(location.search).has('test-hooks')) {
  import('./test_hooks.js').then((m) => m.install(app));
}

init().catch((e) => app.error(`The page could not start: ${e.message}`));
