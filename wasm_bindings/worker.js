/* The training worker: owns the engine, steps the trainer a slice at a time and posts
 * progress, honouring pause, resume and cancel between slices. It also reads data tables
 * (preview and profile) and describes a model's layers, answering requests by id.
 * Messages in:  {type: 'train', experiment, data (ArrayBuffer or null)}, {type: 'pause'},
 *               {type: 'resume'}, {type: 'cancel'},
 *               {type: 'table' | 'describe', id, experiment, data}
 * Messages out: {type: 'ready'}, {type: 'started', shape, progress}, {type: 'tick', progress},
 *               {type: 'progress', progress, point}, {type: 'boundary', ...},
 *               {type: 'done', result}, {type: 'error', message, status}, {type: 'paused'},
 *               {type: 'cancelled'}, {type: 'reply', id, ok, value | message} */
'use strict';
importScripts('lathe_engine.js', 'lathe.js');

const SLICE_MS = 30; // keep each slice short so pause and cancel answer quickly
const GRID = 64;     // decision-boundary cells per side
const BOUNDARY_MS = 150; // at most one boundary per this many milliseconds
let engine = null;
let session = null;
let experimentText = '';
let paused = false;
let history = [];
let boundary = null; // {x0, x1, y0, y1, grid: Float32Array(GRID·GRID·2)} for 2-D classification
let lastBoundary = 0;

const enginePromise = self.Lathe.LatheEngine.load().then((e) => {
  engine = e;
  self.postMessage({ type: 'ready' });
  return e;
}).catch((e) => {
  self.postMessage({ type: 'error', message: `could not start the engine: ${e.message}` });
});

function finish(result) {
  if (session) session.free();
  session = null;
  paused = false;
  self.postMessage(result);
}

function report(progress) {
  const validation = session.evaluate('validation');
  const train = session.evaluate('train');
  const point = { epoch: progress.epoch, loss: progress.lastEpochLoss, trainAccuracy: train.accuracy,
    trainR2: train.r2, validationLoss: validation.loss, validationAccuracy: validation.accuracy,
    validationR2: validation.r2 };
  history.push(point);
  self.postMessage({ type: 'progress', progress, point });
  if (boundary && performance.now() - lastBoundary > BOUNDARY_MS) postBoundary();
}

/** For 2-D classification: the grid of prepared points covering the training data (with a
 * margin) and the training points, sent once; then each prediction on the grid. */
function setUpBoundary() {
  boundary = null;
  const shape = session.shape();
  if (shape.features !== 2 || shape.classes < 2) return;
  const train = session.split('train');
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (let i = 0; i < train.rows; i++) {
    const a = train.x[2 * i], b = train.x[2 * i + 1];
    x0 = Math.min(x0, a); x1 = Math.max(x1, a); y0 = Math.min(y0, b); y1 = Math.max(y1, b);
  }
  if (!(x1 > x0 && y1 > y0)) return;
  const mx = 0.08 * (x1 - x0), my = 0.08 * (y1 - y0);
  x0 -= mx; x1 += mx; y0 -= my; y1 += my;
  const grid = new Float32Array(GRID * GRID * 2);
  for (let r = 0; r < GRID; r++) {
    for (let c = 0; c < GRID; c++) {
      grid[2 * (r * GRID + c)] = x0 + ((c + 0.5) / GRID) * (x1 - x0);
      grid[2 * (r * GRID + c) + 1] = y1 - ((r + 0.5) / GRID) * (y1 - y0); // row 0 at the top
    }
  }
  boundary = { x0, x1, y0, y1, grid };
  self.postMessage({ type: 'boundary-setup', size: GRID, x0, x1, y0, y1, classes: shape.classes,
    points: train.x, labels: train.y });
}

function postBoundary() {
  lastBoundary = performance.now();
  const probs = session.predict(boundary.grid);
  self.postMessage({ type: 'boundary', size: GRID, probs }, [probs.buffer]);
}

function runSlice() {
  if (!session || paused) return;
  const started = performance.now();
  try {
    let progress = session.progress();
    while (!progress.done && performance.now() - started < SLICE_MS) {
      const epochBefore = progress.epoch;
      session.step(1);
      progress = session.progress();
      if (progress.epoch !== epochBefore) report(progress);
    }
    if (progress.done) {
      if (boundary) postBoundary();
      finish({ type: 'done', result: summary(true) });
      return;
    }
    self.postMessage({ type: 'tick', progress });
    setTimeout(runSlice, 0);
  } catch (e) {
    let result = null;
    try { result = summary(false); } catch { /* the error below says what happened */ }
    finish({ type: 'error', message: e.message, status: e.statusName || 'error', result });
  }
}

function summary(withModel) {
  const metrics = { train: session.evaluate('train'), validation: session.evaluate('validation'), test: session.evaluate('test') };
  const result = {
    metrics,
    progress: session.progress(),
    report: session.report('test'),
    weightsSha256: session.weightsSha256(),
    dataSha256: session.dataSha256(),
    preparedSha256: session.preparedSha256(),
    shape: session.shape(),
    history,
  };
  if (withModel) result.modelFile = session.modelFile(experimentText, metrics);
  return result;
}

/** Answers {type: 'table'}: the data's profile and columns (transferred). */
function readTable(msg) {
  const table = engine.createTable(msg.experiment, msg.data);
  try {
    const info = table.info();
    const columns = info.columns.map((_, j) => table.column(j));
    return { value: { info, columns }, transfer: columns.map((c) => c.buffer) };
  } finally {
    table.free();
  }
}

/** Answers {type: 'describe'}: the prepared shape and the network's layers. */
function describe(msg) {
  const s = engine.createSession(msg.experiment, msg.data);
  try {
    return { value: { shape: s.shape(), layers: s.layers() } };
  } finally {
    s.free();
  }
}

self.onmessage = async (event) => {
  const msg = event.data;
  if (msg.type === 'table' || msg.type === 'describe') {
    await enginePromise;
    try {
      const { value, transfer } = msg.type === 'table' ? readTable(msg) : describe(msg);
      self.postMessage({ type: 'reply', id: msg.id, ok: true, value }, transfer || []);
    } catch (e) {
      self.postMessage({ type: 'reply', id: msg.id, ok: false, message: e.message });
    }
  } else if (msg.type === 'train') {
    await enginePromise;
    if (session) session.free();
    history = [];
    paused = false;
    experimentText = msg.experiment;
    try {
      session = engine.createSession(msg.experiment, msg.data);
      setUpBoundary();
    } catch (e) {
      if (session) session.free();
      session = null;
      self.postMessage({ type: 'error', message: e.message, status: e.statusName || 'error' });
      return;
    }
    self.postMessage({ type: 'started', shape: session.shape(), progress: session.progress() });
    if (boundary) postBoundary();
    setTimeout(runSlice, 0);
  } else if (msg.type === 'pause') {
    paused = true;
    self.postMessage({ type: 'paused' });
  } else if (msg.type === 'resume') {
    if (paused && session) {
      paused = false;
      setTimeout(runSlice, 0);
    }
  } else if (msg.type === 'cancel') {
    if (session) finish({ type: 'cancelled' });
  }
};
