/* Step 4, Train: the training settings (written to the experiment), the memory the trainer
 * will take, progress with samples per second and ETA, live loss and accuracy curves, for 2-D
 * classification the decision boundary of the current weights, and where the checkpoint is.
 * The run itself (Start / Pause / Resume / Cancel, checkpoints) is run_controller.js's. */
import { $, CLASS_COLORS, fmt } from './dom.js';
import { Chart } from './chart.js';

const TRAIN_COLOR = '#0b62d6',
  VALID_COLOR = '#c2410c';

export class TrainStep {
  /** The fine-tuning line: which model the next run starts from, or hidden. */
  showInit() {
    const { init } = this.app.state;
    $('init-row').hidden = !init;
    if (init)
      $('init-note').textContent =
        `Fine-tuning: training starts from ${init.name}${init.sha ? ` (weights ${init.sha.slice(0, 12)}…)` : ''}, ` +
        "and the data is encoded and scaled with its fitted preparation. The data's columns and classes must be the model's.";
  }

  constructor(app) {
    this.app = app;
    this.history = [];
    this.loss = new Chart($('loss-chart'), {
      x: 'epoch',
      y: 'loss',
      wholeX: true,
      series: [
        { label: 'training loss', stroke: TRAIN_COLOR },
        { label: 'validation loss', stroke: VALID_COLOR, dash: [6, 4] },
      ],
    });
    this.accuracy = new Chart($('accuracy-chart'), {
      x: 'epoch',
      y: 'accuracy',
      wholeX: true,
      series: [
        { label: 'training', stroke: TRAIN_COLOR },
        { label: 'validation', stroke: VALID_COLOR, dash: [6, 4] },
      ],
    });
    this.boundary = null;
  }

  wire() {
    const edit = (fn) => this.app.state.update(fn);
    $('init-clear').addEventListener('click', () => this.app.state.set({ init: null }));
    this.app.state.addEventListener('change', (e) => {
      if (e.detail.keys.includes('init')) this.showInit();
    });
    const num = (id, key, parse = Number) =>
      $(id).addEventListener('change', (e) => {
        const v = parse(e.target.value);
        if (!Number.isFinite(v)) return;
        edit((x) => {
          x.train = x.train || {};
          x.train[key] = v;
        });
      });
    num('learning-rate', 'learning_rate');
    num('batch-size', 'batch_size', (s) => parseInt(s, 10));
    num('epochs', 'epochs', (s) => parseInt(s, 10));
    $('seed').addEventListener('change', (e) => {
      const v = parseInt(e.target.value, 10);
      if (Number.isInteger(v) && v >= 0)
        edit((x) => {
          x.seed = v;
        });
    });
    $('optimizer').addEventListener('change', (e) =>
      edit((x) => {
        x.train.optimizer = e.target.value;
        if (e.target.value !== 'sgd') {
          delete x.train.momentum;
          delete x.train.nesterov;
        }
      }),
    );
    $('momentum').addEventListener('change', (e) => {
      const v = Number(e.target.value);
      if (Number.isFinite(v))
        edit((x) => {
          if (v > 0) x.train.momentum = v;
          else delete x.train.momentum;
        });
    });
    $('schedule').addEventListener('change', (e) =>
      edit((x) => {
        const k = e.target.value;
        if (k === 'constant') delete x.train.schedule;
        else
          x.train.schedule =
            k === 'step'
              ? { kind: 'step', step_size: 10, gamma: 0.5 }
              : k === 'exponential'
                ? { kind: 'exponential', gamma: 0.95 }
                : { kind: 'cosine' };
      }),
    );
    const early = () =>
      edit((x) => {
        if (!$('early-stopping').checked) delete x.train.early_stopping;
        else
          x.train.early_stopping = {
            patience: parseInt($('patience').value, 10) || 10,
            metric: $('early-metric').value,
          };
      });
    $('early-stopping').addEventListener('change', early);
    $('patience').addEventListener('change', early);
    $('early-metric').addEventListener('change', early);
  }

  sync() {
    const { state } = this.app;
    if (!state.valid) return;
    const x = state.experiment,
      t = x.train || {};
    const set = (id, prop, value) => {
      if (document.activeElement !== $(id)) $(id)[prop] = value;
    };
    const optimizer = t.optimizer || 'adam';
    set('optimizer', 'value', optimizer);
    set('learning-rate', 'value', t.learning_rate ?? (optimizer === 'sgd' ? 0.01 : 0.001));
    set('momentum', 'value', t.momentum ?? 0);
    $('momentum-row').hidden = optimizer !== 'sgd';
    set('schedule', 'value', (t.schedule && t.schedule.kind) || 'constant');
    set('batch-size', 'value', t.batch_size ?? 32);
    set('epochs', 'value', t.epochs ?? 10);
    set('seed', 'value', x.seed ?? 0);
    const es = t.early_stopping;
    set('early-stopping', 'checked', !!es);
    set('patience', 'value', (es && es.patience) || 10);
    set('early-metric', 'value', (es && es.metric) || 'validation_loss');
    $('patience').disabled = $('early-metric').disabled = !es;
    const regression = (x.data || {}).task === 'regression' || (x.data || {}).synthetic === 'curve';
    this.accuracy.relabel(regression ? 'R²' : 'accuracy');
    $('accuracy-title').textContent = regression ? 'R² per epoch' : 'Accuracy per epoch';
  }

  /** What the Model step measured: the trainer's bytes, or why the design does not fit; with
   * heap {max, used} (a run started): the engine's memory with the data read and prepared. */
  showMemory(bytes, error, heap = null) {
    const note = $('memory-note');
    note.classList.toggle('error', !!error);
    note.dataset.bytes = bytes ? String(bytes) : '';
    if (error) note.textContent = `This model cannot be trained here: ${error}`;
    else if (bytes)
      note.textContent =
        `Training takes ${mib(bytes)} in this tab (parameters, gradients, optimiser state, one batch's activations and the layers' working buffers).` +
        (heap
          ? ` With the data read and prepared, the engine holds ${mib(heap.used)} of the ${mib(heap.max)} it may grow to.`
          : '');
    else note.textContent = '';
  }

  /** The checkpoint of this progress is in IndexedDB. */
  saved(p) {
    $('saved-note').textContent =
      `Saved in this browser at epoch ${p.epoch} of ${p.epochs}, batch ${p.batch}: closing the tab loses nothing.`;
    $('saved-note').dataset.epoch = String(p.epoch);
  }

  /** The last run of a previous visit: its curves and final line. */
  restored(result) {
    this.start([]);
    for (const point of result.history || []) this.add(point);
    $('progress').value = 1;
    $('progress-text').textContent = `Finished ${result.progress.epoch} epochs (kept from your last visit).`;
  }

  /** A new run (or a resumed one, with its curve so far): the clock restarted. */
  start(history = []) {
    this.history = [];
    this.loss.set([[], [], []]);
    this.accuracy.set([[], [], []]);
    for (const point of history) this.add(point);
    $('saved-note').textContent = '';
    delete $('saved-note').dataset.epoch;
    this.started = 0;
    this.pausedFor = 0;
    $('progress').value = 0;
    $('progress-text').textContent = '';
    $('boundary-box').hidden = true;
    this.boundary = null;
  }

  /** The worker started the run (at progress): the clock starts. */
  begin(progress, batchSize) {
    this.started = performance.now();
    this.batchSize = batchSize;
    this.trainRows = progress.trainRows;
    this.tick(progress);
  }

  /** Progress bar, samples per second and the time left. */
  tick(p) {
    const total = p.epochs * p.batchesPerEpoch;
    const done = p.epoch * p.batchesPerEpoch + p.batch;
    $('progress').value = total ? done / total : 0;
    const seconds = (performance.now() - this.started - this.pausedFor) / 1000;
    const samples = p.epoch * p.trainRows + Math.min(p.trainRows, p.batch * (this.batchSize || 32));
    const rate = seconds > 0 ? samples / seconds : 0;
    const left = done > 0 ? (seconds * (total - done)) / done : NaN;
    $('progress-text').textContent =
      `Epoch ${p.epoch} of ${p.epochs}, batch ${p.batch} of ${p.batchesPerEpoch} · ` +
      `${rate ? Math.round(rate).toLocaleString('en-US') : '—'} samples/s · ${Number.isFinite(left) ? `about ${clock(left)} left` : 'estimating time left'}`;
  }

  /** The run's last line: epochs run, time taken, throughput, early stopping. */
  finish(p) {
    $('progress').value = 1;
    const seconds = (performance.now() - this.started - this.pausedFor) / 1000;
    const samples = p.epoch * p.trainRows;
    $('progress-text').textContent =
      `Finished ${p.epoch} epoch${p.epoch === 1 ? '' : 's'} in ${seconds.toFixed(1)} s · ` +
      `${Math.round(samples / Math.max(seconds, 1e-3)).toLocaleString('en-US')} samples/s` +
      (p.stoppedEarly ? ` · stopped early; the weights of epoch ${p.bestEpoch} are kept` : '');
    $('saved-note').textContent =
      'The trained model and its curves are kept in this browser: a reload brings them back.';
  }

  add(point) {
    this.history.push(point);
    const hs = this.history;
    const epochs = hs.map((q) => q.epoch);
    const clean = (v) => (v === null || !Number.isFinite(v) ? null : v);
    this.loss.set([epochs, hs.map((q) => clean(q.loss)), hs.map((q) => clean(q.validationLoss))]);
    const regression = hs[0].trainAccuracy === null;
    this.accuracy.set([
      epochs,
      hs.map((q) => clean(regression ? q.trainR2 : q.trainAccuracy)),
      hs.map((q) => clean(regression ? q.validationR2 : q.validationAccuracy)),
    ]);
  }

  setUpBoundary(msg) {
    this.boundary = msg;
    $('boundary-box').hidden = false;
  }

  /** Paints the predicted class of each grid cell (lighter where the model is less sure) and
   * the training points on top. */
  drawBoundary(msg) {
    const b = this.boundary;
    if (!b) return;
    const canvas = $('boundary');
    const ctx = canvas.getContext('2d');
    if (!ctx) return; // no 2-D context: the loss and accuracy charts say so
    const n = msg.size,
      C = b.classes,
      W = canvas.width,
      H = canvas.height;
    const rgb = CLASS_COLORS.map((c) => [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16)));
    const image = ctx.createImageData(n, n);
    for (let cell = 0; cell < n * n; cell++) {
      let best = 0;
      for (let c = 1; c < C; c++) if (msg.probs[cell * C + c] > msg.probs[cell * C + best]) best = c;
      const sure = (msg.probs[cell * C + best] - 1 / C) / (1 - 1 / C); // 0 on the boundary, 1 sure
      const col = rgb[best % rgb.length];
      const a = 0.15 + 0.45 * Math.max(0, sure);
      for (let k = 0; k < 3; k++) image.data[4 * cell + k] = Math.round(255 * (1 - a) + col[k] * a);
      image.data[4 * cell + 3] = 255;
    }
    const small = new OffscreenCanvas(n, n);
    small.getContext('2d').putImageData(image, 0, 0);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(small, 0, 0, W, H);
    for (let i = 0; i < b.labels.length; i++) {
      const px = ((b.points[2 * i] - b.x0) / (b.x1 - b.x0)) * W;
      const py = ((b.y1 - b.points[2 * i + 1]) / (b.y1 - b.y0)) * H;
      ctx.fillStyle = CLASS_COLORS[b.labels[i] % CLASS_COLORS.length];
      ctx.strokeStyle = '#fff';
      ctx.beginPath();
      ctx.arc(px, py, 3.2, 0, 2 * Math.PI);
      ctx.fill();
      ctx.stroke();
    }
    canvas.dataset.draws = String(Number(canvas.dataset.draws || 0) + 1);
    canvas.boundaryData = { ...b, probs: msg.probs }; // what is drawn, for tests
  }
}

function mib(bytes) {
  return bytes >= 1048576 ? `${fmt(bytes / 1048576, 3)} MiB` : `${fmt(bytes / 1024, 3)} KiB`;
}

function clock(seconds) {
  const s = Math.max(0, Math.round(seconds));
  return s >= 3600
    ? `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`
    : `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}
