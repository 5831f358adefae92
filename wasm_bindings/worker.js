/* The training worker: owns the engine, steps the trainer a slice at a time and posts
 * progress, honouring pause, resume and cancel between slices.
 * Messages in:  {type: 'train', experiment, data (ArrayBuffer or null)}, {type: 'pause'},
 *               {type: 'resume'}, {type: 'cancel'}
 * Messages out: {type: 'ready'}, {type: 'started', shape}, {type: 'progress', ...},
 *               {type: 'done', result}, {type: 'error', message, status}, {type: 'paused'},
 *               {type: 'cancelled'} */
'use strict';
importScripts('lathe_engine.js', 'lathe.js');

const SLICE_MS = 30; // keep each slice short so pause and cancel answer quickly
let engine = null;
let session = null;
let paused = false;
let history = [];

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
    validationLoss: validation.loss, validationAccuracy: validation.accuracy };
  history.push(point);
  self.postMessage({ type: 'progress', progress, point });
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
      finish({ type: 'done', result: summary() });
      return;
    }
    self.postMessage({ type: 'tick', progress });
    setTimeout(runSlice, 0);
  } catch (e) {
    const result = summary();
    finish({ type: 'error', message: e.message, status: e.statusName || 'error', result });
  }
}

function summary() {
  return {
    metrics: { train: session.evaluate('train'), validation: session.evaluate('validation'), test: session.evaluate('test') },
    report: session.report('test'),
    weightsSha256: session.weightsSha256(),
    dataSha256: session.dataSha256(),
    preparedSha256: session.preparedSha256(),
    shape: session.shape(),
    history,
  };
}

self.onmessage = async (event) => {
  const msg = event.data;
  if (msg.type === 'train') {
    await enginePromise;
    if (session) session.free();
    history = [];
    paused = false;
    try {
      session = engine.createSession(msg.experiment, msg.data);
    } catch (e) {
      session = null;
      self.postMessage({ type: 'error', message: e.message, status: e.statusName || 'error' });
      return;
    }
    self.postMessage({ type: 'started', shape: session.shape(), progress: session.progress() });
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
