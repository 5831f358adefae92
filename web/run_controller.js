/* The run controller: starts, pauses, resumes and cancels training in the worker and follows
 * the run's messages (the current run's only: a cancelled or replaced run's last words are
 * ignored, so the page stays consistent whenever Cancel is pressed); keeps the run's
 * checkpoints in IndexedDB, downloads one, offers a kept one for resuming and resumes from a
 * file; and when the worker traps or crashes, restarts it and continues from the last
 * checkpoint. The run lives in the state (training, run, result); the views show it. */
import { $, download } from './dom.js';

const RETRIES = 3; // worker failures one run survives
const READY = 'Ready. One click trains the model in this tab.';

export class RunController {
  #runs = 0; // run ids handed out
  #ready = false; // the engine has answered once

  /** views: {train, deploy} (the steps that show a run; the state shows its result),
   * show(step) (opens a step), refresh() (asks a restarted worker the steps' requests again). */
  constructor(app, views) {
    this.app = app;
    this.views = views;
  }

  wire() {
    const { app } = this;
    const { state, engine } = app;
    const { train } = this.views;
    $('train').addEventListener('click', () => this.start());
    $('pause').addEventListener('click', () => {
      const paused = state.training === 'paused';
      state.set({ training: paused ? 'running' : 'paused' });
      engine.post({ type: paused ? 'resume' : 'pause' });
    });
    $('cancel').addEventListener('click', () => {
      if (state.run) engine.post({ type: 'cancel', run: state.run.id });
    });
    $('download-checkpoint').addEventListener('click', () => this.downloadCheckpoint());
    $('resume-file').addEventListener('change', async (e) => {
      const file = e.target.files[0];
      e.target.value = '';
      if (file) this.start({ bytes: await file.arrayBuffer(), history: [] });
    });
    state.addEventListener('change', (e) => {
      if (e.detail.keys.some((k) => k === 'training' || k === 'result')) this.#buttons();
    });

    const on = (type, fn) => engine.on(type, fn);
    const onRun = (type, fn) =>
      on(type, (msg) => {
        if (state.run && msg.run === state.run.id) fn(msg);
      });
    on('ready', () => {
      this.#ready = true;
      this.#buttons();
      if (!state.training) app.status(READY); // else a restarted worker: the run continues
    });
    onRun('started', (msg) => {
      const p = msg.progress;
      Object.assign($('progress').dataset, {
        startEpoch: p.epoch,
        startBatch: p.batch,
        batchesPerEpoch: p.batchesPerEpoch,
      });
      train.begin(p, (JSON.parse(state.run.text).train || {}).batch_size || 32);
      train.showMemory(msg.memory, null, msg.heap);
      app.status(
        `Training ${msg.shape.parameters} parameters on ${p.trainRows} rows${msg.resumed ? `, from epoch ${p.epoch}, batch ${p.batch}` : ''}…`,
      );
    });
    onRun('tick', (msg) => {
      if (state.training !== 'paused') train.tick(msg.progress);
    });
    onRun('checkpoint', (msg) => {
      const { run } = state;
      const checkpoint = { bytes: msg.bytes, progress: msg.progress, history: msg.history };
      state.set({ run: { ...run, checkpoint } });
      app.store.put('checkpoint', {
        text: run.text,
        data: run.data,
        init: run.init,
        ...checkpoint,
        savedAt: Date.now(),
      });
    });
    onRun('progress', (msg) => {
      const p = msg.progress;
      train.tick(p);
      train.add(msg.point);
      app.status(`Epoch ${p.epoch} of ${p.epochs} — loss ${p.lastEpochLoss.toFixed(4)}`);
    });
    onRun('boundary-setup', (msg) => train.setUpBoundary(msg));
    onRun('boundary', (msg) => train.drawBoundary(msg));
    onRun('paused', () => app.status(`${$('status').textContent} (paused)`));
    onRun('done', (msg) => {
      const r = msg.result;
      r.experiment = state.run.text;
      app.store.put('result', r);
      app.store.delete('checkpoint');
      train.finish(r.progress);
      state.set({ run: null, training: null, result: r });
      const test = r.metrics.test;
      const early = r.progress.stoppedEarly ? ' (stopped early)' : '';
      app.status(
        test.accuracy !== null
          ? `Done. Test accuracy ${(test.accuracy * 100).toFixed(1)}%${early}.`
          : `Done. Test R² ${test.r2 === null ? '—' : test.r2.toFixed(3)}${early}.`,
      );
    });
    onRun('cancelled', () => {
      this.#stop();
      app.status('Training cancelled. The experiment is unchanged; press Train to start again.');
    });
    onRun('fault', (msg) => this.#recover(msg.message));
    on('error', (msg) => {
      if (msg.run === undefined) return app.error(msg.message); // the engine did not start
      if (!state.run || msg.run !== state.run.id) return;
      this.#stop();
      const where = (state.valid && state.experiment.data && state.experiment.data.file) || '';
      app.error(
        where && /^(line|the file|data row|column)/.test(msg.message) ? `${where}: ${msg.message}` : msg.message,
      );
      app.status('Training stopped.');
    });
    on('crash', (msg) => this.#recover(msg.message));
  }

  /** Starts a run of the experiment, or continues one from resume = {bytes, progress?,
   * history} (a checkpoint kept in this browser, or a checkpoint file). The click shows at
   * once: the run is 'starting' (Train disabled) before its data is read. */
  async start(resume = null) {
    const { app } = this;
    const { state } = app;
    app.error('');
    if (state.training) return; // already starting or running
    if (!state.valid) {
      try {
        JSON.parse(state.text);
      } catch (e) {
        app.error(`The experiment is not valid JSON: ${e.message}`);
      }
      return;
    }
    const { text, experiment } = state; // the run is of the experiment as it was clicked
    state.set({ training: 'starting' });
    app.status('Starting…');
    $('resume-banner').hidden = true;
    let data;
    try {
      data = await app.dataBytes(experiment);
    } catch (e) {
      state.set({ training: null });
      app.error(e.message);
      app.status(READY);
      return;
    }
    this.views.train.start(resume ? resume.history : []);
    this.views.deploy.clear();
    const checkpoint = resume
      ? { bytes: resume.bytes, progress: resume.progress || null, history: resume.history || [] }
      : null;
    const init = state.init ? state.init.text : null; // fine-tuning: the model it starts from
    const run = { id: ++this.#runs, text, data: dataRef(experiment), faults: 0, checkpoint, init };
    state.set({ run, training: 'running' });
    app.status(resume ? 'Preparing the data to continue from the checkpoint…' : 'Preparing the data…');
    this.#post(data);
  }

  /** The latest checkpoint as a file: a fresh one from the worker while training (mid-epoch
   * is fine), else the one kept of the run, else the last run's final state. */
  async downloadCheckpoint() {
    const { state, engine } = this.app;
    const name = state.fileName().replace(/\.experiment\.json$/, '.ck');
    let bytes = null;
    try {
      if (state.training) bytes = (await engine.ask('checkpoint')).bytes;
    } catch {
      /* between slices of a restart: the last saved one below */
    }
    if (!bytes)
      bytes =
        (state.run && state.run.checkpoint && state.run.checkpoint.bytes) || (state.result && state.result.checkpoint);
    if (bytes) download(name, bytes, 'application/octet-stream');
  }

  /** The store committed keys: a checkpoint of the run is safe in this browser. */
  saved(keys) {
    const { run } = this.app.state;
    if (keys.includes('checkpoint') && run && run.checkpoint) this.views.train.saved(run.checkpoint.progress);
  }

  /** Offers the run a checkpoint kept in IndexedDB belongs to ({text, bytes, progress,
   * history, savedAt}) for resuming. */
  offerResume(ck) {
    const { state, store } = this.app;
    const p = ck.progress;
    $('resume-text').textContent =
      `A training run was interrupted at epoch ${p.epoch} of ${p.epochs}, batch ${p.batch} of ${p.batchesPerEpoch} ` +
      `(saved ${new Date(ck.savedAt).toLocaleString()}). Its checkpoint is kept in this browser.`;
    $('resume-banner').hidden = false;
    $('resume-run').onclick = () => {
      if (state.text !== ck.text) state.setText(ck.text, 'resume');
      if (ck.init && (!state.init || state.init.text !== ck.init))
        state.set({
          init: { name: 'the model the interrupted run fine-tuned', file: 'model.lathe.json', text: ck.init, sha: '' },
        });
      this.views.show('train');
      this.start({ bytes: ck.bytes, progress: p, history: ck.history });
    };
    $('discard-run').onclick = () => {
      $('resume-banner').hidden = true;
      store.delete('checkpoint');
    };
  }

  /** The Train step's buttons as the state says. */
  #buttons() {
    const { training, result } = this.app.state;
    const live = training === 'running' || training === 'paused';
    $('train').disabled = !this.#ready || !!training;
    if (this.#ready) $('train').textContent = 'Train';
    $('pause').disabled = $('cancel').disabled = !live;
    $('pause').textContent = training === 'paused' ? 'Resume' : 'Pause';
    $('dataset').disabled = $('resume-file').disabled = !!training;
    $('download-checkpoint').disabled = !(live || (result && result.checkpoint));
  }

  /** The run ended without a result (cancelled, or an error): its checkpoint is dropped, and
   * the last finished run's model is shown again. */
  #stop() {
    const { state, store } = this.app;
    store.delete('checkpoint');
    state.set({ run: null, training: null });
    if (state.result) this.views.deploy.render(state.result);
  }

  /** Sends the current run to the worker: from its last checkpoint when it has one. */
  #post(data) {
    const { run } = this.app.state;
    const ck = run.checkpoint;
    const bytes = ck ? ck.bytes.slice(0) : null;
    const { message, transfer } = this.app.engine.data(data);
    this.app.engine.post(
      {
        type: 'train',
        run: run.id,
        experiment: run.text,
        data: message,
        init: run.init,
        checkpoint: bytes,
        history: ck ? ck.history : [],
      },
      [...transfer, bytes].filter(Boolean),
    );
  }

  /** The worker trapped or crashed: a fresh worker continues the run from its last checkpoint. */
  async #recover(message) {
    const { app } = this;
    const { state } = app;
    app.engine.restart(message);
    this.views.refresh();
    if (!state.training || !state.run) {
      app.error(`The engine stopped (${message}) and was restarted; your work is intact.`);
      return;
    }
    const run = { ...state.run, faults: state.run.faults + 1, id: ++this.#runs };
    state.set({ run, training: 'running' }); // the fresh worker does not hold a pause
    if (run.faults > RETRIES) {
      state.set({ training: null });
      app.error(
        `The training worker failed ${run.faults} times (last: ${message}); training stopped. The last checkpoint is kept: reload the page to resume it.`,
      );
      return;
    }
    const at = run.checkpoint && run.checkpoint.progress;
    app.error(
      `The training worker failed (${message}). It was restarted and training continues from ${at ? `the checkpoint of epoch ${at.epoch}, batch ${at.batch}` : 'the start'}.`,
    );
    let data;
    try {
      data = await app.dataBytes(JSON.parse(run.text));
    } catch (e) {
      state.set({ training: null });
      app.error(`The training worker failed (${message}) and the run cannot continue: ${e.message}`);
      return;
    }
    this.views.train.start(run.checkpoint ? run.checkpoint.history : []);
    this.#post(data);
  }
}

/** What a run reads: the built-in or synthetic set's name, or the uploaded file's name. */
function dataRef(experiment) {
  const d = experiment.data || {};
  if (d.file) return { file: d.file };
  if (d.files) return { files: d.files };
  return d.builtin ? { builtin: d.builtin } : { synthetic: d.synthetic };
}
