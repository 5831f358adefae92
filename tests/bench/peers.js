/* The JavaScript peers of `lathe bench models`, in node with one thread, on the same cases
 * (tests/bench/measure.js lists them), the same shapes and the same timing method:
 *   tfjs  @tensorflow/tfjs 4.22 with @tensorflow/tfjs-backend-wasm (XNNPACK, SIMD)
 *   ort   onnxruntime-web 1.30 (wasm, SIMD): inference and GEMM only, on ONNX graphs that
 *         onnx_writer.js builds here
 * Usage: node --no-experimental-fetch tests/bench/peers.js ENGINE MODE [options]
 *   MODE models  the cases (--only LIST, --seconds S, --reps R) as JSON on stdout
 *   MODE init    engine initialisation (instantiating the wasm module) in this fresh process
 *   MODE epoch   one Fashion-MNIST epoch of the MLP and the CNN (--data DIR), tfjs only
 *   MODE check   the self-checks alone (run before every models run too)
 *   --modules DIR  the node_modules folder holding the peers (default build/bench/node_modules)
 * Before measuring, `models` checks that the peer computes what it is timed on: the GEMM
 * against a plain loop, the hand-written filter gradient against TensorFlow.js's own CPU
 * kernel, and the ONNX graphs against the same network in TensorFlow.js. */
'use strict';

const path = require('node:path');
const fs = require('node:fs');
const zlib = require('node:zlib');
const { createRequire } = require('node:module');
const { performance } = require('node:perf_hooks');
const { measureUnits, median, figure, CASES, selected, uniformFill } = require('./measure.js');
const onnx = require('./onnx_writer.js');

function parseArgs(argv) {
  const o = {
    engine: argv[0],
    mode: argv[1],
    seconds: 0.5,
    reps: 5,
    only: null,
    modules: 'build/bench/node_modules',
    data: 'data/builtin',
  };
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    if (a === '--seconds') ((o.seconds = Number(v)), i++);
    else if (a === '--reps') ((o.reps = Number(v)), i++);
    else if (a === '--only') ((o.only = v), i++);
    else if (a === '--modules') ((o.modules = v), i++);
    else if (a === '--data') ((o.data = v), i++);
    else throw new Error(`peers.js: unexpected argument '${a}'`);
  }
  if (!['tfjs', 'ort'].includes(o.engine) || !['models', 'init', 'epoch', 'check'].includes(o.mode))
    throw new Error(
      'usage: peers.js tfjs|ort models|init|epoch|check [--only LIST] [--seconds S] [--reps R] [--modules DIR] [--data DIR]',
    );
  if (!(o.seconds >= 0.01 && o.seconds <= 60) || !(Number.isInteger(o.reps) && o.reps >= 1 && o.reps <= 64))
    throw new Error('peers.js: --seconds is 0.01 to 60, --reps 1 to 64');
  return o;
}

/* Loads a peer's module from the bench folder; TensorFlow.js greets on the console in node,
 * which would spoil the JSON on stdout, so console.log goes to stderr while it loads. */
function load(modules, name) {
  const req = createRequire(path.resolve(modules, '..', 'package.json'));
  const log = console.log;
  console.log = console.error;
  try {
    return req(name);
  } finally {
    console.log = log;
  }
}

/* ---- TensorFlow.js ---------------------------------------------------------------------- */

async function tfjsInit(modules) {
  const t0 = performance.now();
  const tf = load(modules, '@tensorflow/tfjs');
  const wasm = load(modules, '@tensorflow/tfjs-backend-wasm');
  const t1 = performance.now();
  wasm.setThreadsCount(1);
  if (!(await tf.setBackend('wasm'))) throw new Error('tfjs: the wasm backend did not start');
  await tf.ready();
  const t2 = performance.now();
  if (tf.getBackend() !== 'wasm') throw new Error('tfjs: the backend is not wasm');
  return { tf, wasm, requireMs: t1 - t0, initMs: t2 - t1, threads: wasm.getThreadsCount() };
}

/* The MLP 784-128-10 as a layers model, softmax output, Adam 1e-3, compiled. */
function tfjsMlp(tf) {
  const m = tf.sequential({
    layers: [
      tf.layers.dense({ units: 128, activation: 'relu', inputShape: [784] }),
      tf.layers.dense({ units: 10, activation: 'softmax' }),
    ],
  });
  m.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
  return m;
}

/* The small CNN as a layers model (what a TensorFlow.js user writes first): it predicts, but
 * cannot train on wasm (no Conv2DBackpropFilter kernel). */
function tfjsCnnLayers(tf) {
  const m = tf.sequential({
    layers: [
      tf.layers.conv2d({ filters: 8, kernelSize: 5, padding: 'same', activation: 'relu', inputShape: [28, 28, 1] }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 16, kernelSize: 5, padding: 'same', activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 10, activation: 'softmax' }),
    ],
  });
  m.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
  return m;
}

/* The gradients of a k x k 'same' stride-1 conv2d (odd k), written with ops the wasm backend
 * has and runs fast (XNNPACK's conv2d); measured here, they are 15 to 30 times faster than an
 * im2col of shifted slices for the filter, and 4 times faster than Conv2DBackpropInput for
 * the input. The filter gradient dW:(k,k,cin,cout) = sum over n, h, w of xpad[n, h+kh, w+kw,
 * ci] * dy[n, h, w, co] is a 'valid' conv2d with batch and channels swapped: the padded input
 * as (cin, H+k-1, W+k-1, n) and dy as a (H, W, n, cout) filter. The input gradient is the
 * 'same' conv2d of dy with the filter rotated by 180 degrees and its channels swapped. */
function filterGrad(tf, x, dy, k) {
  return tf.tidy(() => {
    const p = (k - 1) / 2;
    const xp = tf.pad(x, [
      [0, 0],
      [p, p],
      [p, p],
      [0, 0],
    ]);
    const g = tf.conv2d(tf.transpose(xp, [3, 1, 2, 0]), tf.transpose(dy, [1, 2, 0, 3]), 1, 'valid');
    return tf.transpose(g, [1, 2, 0, 3]);
  });
}

function inputGrad(tf, dy, w) {
  return tf.tidy(() => tf.conv2d(dy, tf.transpose(tf.reverse(w, [0, 1]), [0, 1, 3, 2]), 1, 'same'));
}

/* conv2d 'same', stride 1, with the gradients above. */
function makeConv(tf) {
  return tf.customGrad((x, w, save) => {
    save([x, w]);
    return {
      value: tf.conv2d(x, w, 1, 'same'),
      gradFunc: (dy, [sx, sw]) => [inputGrad(tf, dy, sw), filterGrad(tf, sx, dy, sw.shape[0])],
    };
  });
}

/* The small CNN written with ops and variables, trained by an explicit Adam loop. */
function tfjsCnnOps(tf) {
  const conv = makeConv(tf);
  const glorot = (shape, fanIn, fanOut) =>
    tf.variable(
      tf.randomUniform(shape, -Math.sqrt(6 / (fanIn + fanOut)), Math.sqrt(6 / (fanIn + fanOut)), 'float32', 1),
    );
  const v = {
    w1: glorot([5, 5, 1, 8], 25, 200),
    b1: tf.variable(tf.zeros([8])),
    w2: glorot([5, 5, 8, 16], 200, 400),
    b2: tf.variable(tf.zeros([16])),
    w3: glorot([784, 10], 784, 10),
    b3: tf.variable(tf.zeros([10])),
  };
  const logits = (x) => {
    let y = tf.relu(tf.add(conv(x, v.w1), v.b1));
    y = tf.maxPool(y, 2, 2, 'valid');
    y = tf.relu(tf.add(conv(y, v.w2), v.b2));
    y = tf.maxPool(y, 2, 2, 'valid');
    return tf.add(tf.matMul(y.reshape([x.shape[0], 784]), v.w3), v.b3);
  };
  const opt = tf.train.adam(1e-3);
  const vars = Object.values(v);
  return {
    vars,
    step(x, y) {
      const loss = opt.minimize(() => tf.losses.softmaxCrossEntropy(y, logits(x)), true, vars);
      loss.dispose();
    },
    predict: (x) => tf.tidy(() => tf.softmax(logits(x))),
  };
}

/* Checks that filterGrad and inputGrad equal TensorFlow.js's own Conv2DBackpropFilter and
 * Conv2DBackpropInput (CPU backend), and that matMul on wasm matches a plain loop; throws when
 * not. */
async function tfjsCheck(tf) {
  const x = uniformFill(2 * 6 * 6 * 3, 5);
  const w = uniformFill(5 * 5 * 3 * 4, 6);
  const dy = uniformFill(2 * 6 * 6 * 4, 7);
  const gradsOn = async (backend, custom) => {
    await tf.setBackend(backend);
    return tf.tidy(() => {
      const xt = tf.tensor4d(x, [2, 6, 6, 3]);
      const wt = tf.tensor4d(w, [5, 5, 3, 4]);
      const dyt = tf.tensor4d(dy, [2, 6, 6, 4]);
      if (custom) return [filterGrad(tf, xt, dyt, 5).dataSync(), inputGrad(tf, dyt, wt).dataSync()];
      const g = tf.grads((xx, ww) => tf.sum(tf.mul(tf.conv2d(xx, ww, 1, 'same'), dyt)))([xt, wt]);
      return [g[1].dataSync(), g[0].dataSync()];
    });
  };
  const want = await gradsOn('cpu', false);
  const got = await gradsOn('wasm', true);
  const worst = [0, 0];
  for (let t = 0; t < 2; t++)
    for (let i = 0; i < want[t].length; i++)
      worst[t] = Math.max(worst[t], Math.abs(want[t][i] - got[t][i]) / (1 + Math.abs(want[t][i])));
  if (!(worst[0] < 1e-5 && worst[1] < 1e-5))
    throw new Error(`tfjs check: the hand-written conv2d gradients differ from tfjs's CPU kernels (${worst})`);
  const n = 37;
  const a = uniformFill(n * n, 8);
  const b = uniformFill(n * n, 9);
  const c = tf.tidy(() => tf.matMul(tf.tensor2d(a, [n, n]), tf.tensor2d(b, [n, n])).dataSync());
  for (let i = 0; i < n; i += 7)
    for (let j = 0; j < n; j += 5) {
      let s = 0;
      for (let k = 0; k < n; k++) s += a[i * n + k] * b[k * n + j];
      if (!(Math.abs(s - c[i * n + j]) < 1e-4 * (1 + Math.abs(s)))) throw new Error('tfjs check: matMul is wrong');
    }
  return { filter_gradient_max_rel_error: worst[0], input_gradient_max_rel_error: worst[1] };
}

/* One-hot labels (rows, 10) from a seeded stream. */
function oneHot(rows, seed) {
  const y = new Float32Array(rows * 10);
  let s = seed >>> 0;
  for (let i = 0; i < rows; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    y[i * 10 + ((s >>> 16) % 10)] = 1;
  }
  return y;
}

const ROWS = 1024; /* random rows, as cmd_bench.c */

/* A unit of work for one case, and whether it is async. */
function tfjsUnit(tf, kase) {
  const x = uniformFill(ROWS * 784, 3);
  const y = oneHot(ROWS, 4);
  const batches = (b, image) => {
    const list = [];
    for (let s = 0; s + b <= ROWS; s += b)
      list.push([
        tf.tensor(x.subarray(s * 784, (s + b) * 784), image ? [b, 28, 28, 1] : [b, 784]),
        tf.tensor2d(y.subarray(s * 10, (s + b) * 10), [b, 10]),
      ]);
    return list;
  };
  const id = kase.id;
  if (id.startsWith('gemm_')) {
    const n = kase.n;
    const a = tf.tensor2d(uniformFill(n * n, 1), [n, n]);
    const b = tf.tensor2d(uniformFill(n * n, 2), [n, n]);
    /* the wasm backend runs a kernel when it is called: the product is complete on return */
    return { fn: () => tf.matMul(a, b).dispose() };
  }
  if (id === 'mlp_train') {
    const m = tfjsMlp(tf);
    const list = batches(64, false);
    let i = 0;
    return {
      isAsync: true,
      fn: async () => {
        const [bx, by] = list[i++ % list.length];
        await m.trainOnBatch(bx, by);
      },
    };
  }
  if (id.startsWith('mlp_infer_')) {
    const m = tfjsMlp(tf);
    const bx = tf.tensor2d(x.subarray(0, kase.n * 784), [kase.n, 784]);
    return {
      fn: () => {
        const p = m.predict(bx, { batchSize: kase.n });
        p.dataSync();
        p.dispose();
      },
    };
  }
  if (id === 'cnn_train') {
    const net = tfjsCnnOps(tf);
    const list = batches(32, true);
    let i = 0;
    return {
      fn: () => {
        const [bx, by] = list[i++ % list.length];
        net.step(bx, by);
      },
    };
  }
  if (id.startsWith('cnn_infer_')) {
    const net = tfjsCnnOps(tf);
    const bx = tf.tensor4d(x.subarray(0, kase.n * 784), [kase.n, 28, 28, 1]);
    return {
      fn: () => {
        const p = net.predict(bx);
        p.dataSync();
        p.dispose();
      },
    };
  }
  if (id === 'mlp_startup') return { fn: () => tfjsMlp(tf).dispose() };
  if (id === 'cnn_startup') return { fn: () => tfjsCnnLayers(tf).dispose() };
  return null;
}

/* ---- onnxruntime-web ---------------------------------------------------------------------- */

async function ortInit(modules) {
  const t0 = performance.now();
  const ort = load(modules, 'onnxruntime-web');
  const t1 = performance.now();
  ort.env.wasm.numThreads = 1;
  ort.env.logLevel = 'error';
  /* the first session instantiates the wasm module: a one-node graph */
  const bytes = onnx.model({
    nodes: [onnx.node('Relu', ['x'], ['y'])],
    initializers: [],
    inputs: [onnx.valueInfo('x', [4])],
    outputs: [onnx.valueInfo('y', [4])],
  });
  const s = await ort.InferenceSession.create(bytes);
  const t2 = performance.now();
  await s.release();
  return { ort, requireMs: t1 - t0, initMs: t2 - t1, threads: ort.env.wasm.numThreads };
}

/* Weights of the benchmark networks, in PyTorch/ONNX layouts: dense W:(out,in), conv W:(out_c,
 * in_c,k,k). Small values, seeded. */
function weights() {
  const scaled = (n, seed, bound) => uniformFill(n, seed).map((v) => (2 * v - 1) * bound);
  return {
    mlp: {
      w1: scaled(128 * 784, 11, 0.0357),
      b1: scaled(128, 12, 0.0357),
      w2: scaled(10 * 128, 13, 0.088),
      b2: scaled(10, 14, 0.088),
    },
    cnn: {
      w1: scaled(8 * 25, 21, 0.2),
      b1: scaled(8, 22, 0.2),
      w2: scaled(16 * 200, 23, 0.0707),
      b2: scaled(16, 24, 0.0707),
      w3: scaled(10 * 784, 25, 0.0357),
      b3: scaled(10, 26, 0.0357),
    },
  };
}

function mlpGraph(w) {
  return onnx.model({
    nodes: [
      onnx.node('Gemm', ['x', 'w1', 'b1'], ['h'], { transB: 1 }),
      onnx.node('Relu', ['h'], ['r']),
      onnx.node('Gemm', ['r', 'w2', 'b2'], ['z'], { transB: 1 }),
      onnx.node('Softmax', ['z'], ['y'], { axis: 1 }),
    ],
    initializers: [
      onnx.tensor('w1', [128, 784], w.w1),
      onnx.tensor('b1', [128], w.b1),
      onnx.tensor('w2', [10, 128], w.w2),
      onnx.tensor('b2', [10], w.b2),
    ],
    inputs: [onnx.valueInfo('x', ['N', 784])],
    outputs: [onnx.valueInfo('y', ['N', 10])],
  });
}

function cnnGraph(w) {
  const pool = { kernel_shape: [2, 2], strides: [2, 2] };
  return onnx.model({
    nodes: [
      onnx.node('Conv', ['x', 'w1', 'b1'], ['c1'], { kernel_shape: [5, 5], pads: [2, 2, 2, 2] }),
      onnx.node('Relu', ['c1'], ['r1']),
      onnx.node('MaxPool', ['r1'], ['p1'], pool),
      onnx.node('Conv', ['p1', 'w2', 'b2'], ['c2'], { kernel_shape: [5, 5], pads: [2, 2, 2, 2] }),
      onnx.node('Relu', ['c2'], ['r2']),
      onnx.node('MaxPool', ['r2'], ['p2'], pool),
      onnx.node('Flatten', ['p2'], ['f'], { axis: 1 }),
      onnx.node('Gemm', ['f', 'w3', 'b3'], ['z'], { transB: 1 }),
      onnx.node('Softmax', ['z'], ['y'], { axis: 1 }),
    ],
    initializers: [
      onnx.tensor('w1', [8, 1, 5, 5], w.w1),
      onnx.tensor('b1', [8], w.b1),
      onnx.tensor('w2', [16, 8, 5, 5], w.w2),
      onnx.tensor('b2', [16], w.b2),
      onnx.tensor('w3', [10, 784], w.w3),
      onnx.tensor('b3', [10], w.b3),
    ],
    inputs: [onnx.valueInfo('x', ['N', 1, 28, 28])],
    outputs: [onnx.valueInfo('y', ['N', 10])],
  });
}

function gemmGraph(n) {
  return onnx.model({
    nodes: [onnx.node('MatMul', ['a', 'b'], ['c'])],
    initializers: [onnx.tensor('b', [n, n], uniformFill(n * n, 2))],
    inputs: [onnx.valueInfo('a', [n, n])],
    outputs: [onnx.valueInfo('c', [n, n])],
  });
}

/* The same networks in TensorFlow.js (CPU backend) from the same weights: the reference the
 * ONNX graphs are checked against. */
function referenceOutputs(tf, w, x, rows) {
  return tf.tidy(() => {
    const mlpX = tf.tensor2d(x.subarray(0, rows * 784), [rows, 784]);
    const h = tf.relu(tf.add(tf.matMul(mlpX, tf.tensor2d(w.mlp.w1, [128, 784]), false, true), tf.tensor1d(w.mlp.b1)));
    const mlp = tf.softmax(tf.add(tf.matMul(h, tf.tensor2d(w.mlp.w2, [10, 128]), false, true), tf.tensor1d(w.mlp.b2)));
    /* OIHW -> HWIO for tfjs; NCHW input with one channel is NHWC with one channel */
    const hwio = (a, o, i) => tf.tensor4d(a, [o, i, 5, 5]).transpose([2, 3, 1, 0]);
    const cx = tf.tensor4d(x.subarray(0, rows * 784), [rows, 28, 28, 1]);
    let y = tf.maxPool(
      tf.relu(tf.add(tf.conv2d(cx, hwio(w.cnn.w1, 8, 1), 1, 'same'), tf.tensor1d(w.cnn.b1))),
      2,
      2,
      'valid',
    );
    y = tf.maxPool(
      tf.relu(tf.add(tf.conv2d(y, hwio(w.cnn.w2, 16, 8), 1, 'same'), tf.tensor1d(w.cnn.b2))),
      2,
      2,
      'valid',
    );
    const flat = y.transpose([0, 3, 1, 2]).reshape([rows, 784]); /* NCHW flatten order, as ONNX */
    const cnn = tf.softmax(
      tf.add(tf.matMul(flat, tf.tensor2d(w.cnn.w3, [10, 784]), false, true), tf.tensor1d(w.cnn.b3)),
    );
    return { mlp: mlp.dataSync(), cnn: cnn.dataSync() };
  });
}

async function ortCheck(ort, modules) {
  const tf = load(modules, '@tensorflow/tfjs');
  await tf.setBackend('cpu');
  const w = weights();
  const rows = 3;
  const x = uniformFill(rows * 784, 3);
  const want = referenceOutputs(tf, w, x, rows);
  const worst = {};
  for (const [name, graph, shape] of [
    ['mlp', mlpGraph(w.mlp), [rows, 784]],
    ['cnn', cnnGraph(w.cnn), [rows, 1, 28, 28]],
  ]) {
    const s = await ort.InferenceSession.create(graph);
    const out = (await s.run({ x: new ort.Tensor('float32', x.slice(0, rows * 784), shape) })).y.data;
    await s.release();
    let e = 0;
    for (let i = 0; i < out.length; i++) e = Math.max(e, Math.abs(out[i] - want[name][i]));
    if (!(out.length === rows * 10 && e < 1e-5))
      throw new Error(`ort check: the ONNX ${name} differs from the same network in tfjs (${e})`);
    worst[`${name}_max_abs_error`] = e;
  }
  return worst;
}

async function ortUnit(ort, kase) {
  const id = kase.id;
  const w = weights();
  const x = uniformFill(ROWS * 784, 3);
  let session;
  let feeds;
  if (id.startsWith('gemm_')) {
    const n = kase.n;
    session = await ort.InferenceSession.create(gemmGraph(n));
    feeds = { a: new ort.Tensor('float32', uniformFill(n * n, 1), [n, n]) };
  } else if (id.startsWith('mlp_infer_')) {
    session = await ort.InferenceSession.create(mlpGraph(w.mlp));
    feeds = { x: new ort.Tensor('float32', x.slice(0, kase.n * 784), [kase.n, 784]) };
  } else if (id.startsWith('cnn_infer_')) {
    session = await ort.InferenceSession.create(cnnGraph(w.cnn));
    feeds = { x: new ort.Tensor('float32', x.slice(0, kase.n * 784), [kase.n, 1, 28, 28]) };
  } else {
    return null; /* onnxruntime-web does not train */
  }
  /* run() is asynchronous; its outputs are copied out of the wasm heap before it resolves */
  return {
    isAsync: true,
    fn: async () => {
      await session.run(feeds);
    },
    release: () => session.release(),
  };
}

/* ---- Fashion-MNIST epoch (tfjs) ------------------------------------------------------------- */

function readIdx(file) {
  const raw = fs.readFileSync(file);
  const b = raw[0] === 0x1f && raw[1] === 0x8b ? zlib.gunzipSync(raw) : raw;
  const dims = b[3];
  const shape = [];
  for (let i = 0; i < dims; i++) shape.push(b.readUInt32BE(4 + 4 * i));
  return { shape, data: b.subarray(4 + 4 * dims) };
}

function fashion(dir, split) {
  const base = split === 'train' ? 'train' : 't10k';
  const img = readIdx(path.join(dir, 'fashion-mnist', `${base}-images-idx3-ubyte.gz`));
  const lab = readIdx(path.join(dir, 'fashion-mnist', `${base}-labels-idx1-ubyte.gz`));
  const n = img.shape[0];
  const x = new Float32Array(n * 784);
  for (let i = 0; i < x.length; i++) x[i] = img.data[i] / 255;
  const y = new Float32Array(n * 10);
  for (let i = 0; i < n; i++) y[i * 10 + lab.data[i]] = 1;
  return { n, x, y, labels: lab.data };
}

/* Shuffled order of n rows from a seeded Fisher-Yates. */
function order(n, seed) {
  const o = Uint32Array.from({ length: n }, (_, i) => i);
  let s = seed >>> 0;
  for (let i = n - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    [o[i], o[j]] = [o[j], o[i]];
  }
  return o;
}

async function tfjsEpoch(tf, dataDir, only) {
  const out = [];
  if (!fs.existsSync(path.join(dataDir, 'fashion-mnist', 'train-images-idx3-ubyte.gz')))
    return { skipped: `${dataDir}/fashion-mnist is missing (run ./scripts/fetch_data.sh)`, cases: out };
  const t0 = performance.now();
  const train = fashion(dataDir, 'train');
  const test = fashion(dataDir, 'test');
  const loadSeconds = (performance.now() - t0) / 1e3;
  for (const cnn of [false, true]) {
    const id = cnn ? 'cnn_epoch' : 'mlp_epoch';
    if (!selected(only, id)) continue;
    const b = cnn ? 32 : 64;
    const shape = (rows) => (cnn ? [rows, 28, 28, 1] : [rows, 784]);
    const mlp = cnn ? null : tfjsMlp(tf);
    const net = cnn ? tfjsCnnOps(tf) : null;
    const ord = order(train.n, 42);
    const bx = new Float32Array(b * 784);
    const by = new Float32Array(b * 10);
    const t1 = performance.now();
    for (let s = 0; s < train.n; s += b) {
      const rows = Math.min(b, train.n - s);
      for (let i = 0; i < rows; i++) {
        const r = ord[s + i];
        bx.set(train.x.subarray(r * 784, r * 784 + 784), i * 784);
        by.set(train.y.subarray(r * 10, r * 10 + 10), i * 10);
      }
      const xt = tf.tensor(bx.subarray(0, rows * 784), shape(rows));
      const yt = tf.tensor2d(by.subarray(0, rows * 10), [rows, 10]);
      if (cnn) net.step(xt, yt);
      else await mlp.trainOnBatch(xt, yt);
      xt.dispose();
      yt.dispose();
    }
    const epochSeconds = (performance.now() - t1) / 1e3;
    const t2 = performance.now();
    let correct = 0;
    for (let s = 0; s < test.n; s += 256) {
      const rows = Math.min(256, test.n - s);
      const xt = tf.tensor(test.x.subarray(s * 784, (s + rows) * 784), shape(rows));
      const p = cnn ? net.predict(xt) : mlp.predict(xt, { batchSize: rows });
      const am = p.argMax(1).dataSync();
      for (let i = 0; i < rows; i++) correct += am[i] === test.labels[s + i];
      (xt.dispose(), p.dispose());
    }
    out.push({
      id,
      train_rows: train.n,
      batch: b,
      load_seconds: loadSeconds,
      epoch_seconds: epochSeconds,
      samples_per_second: train.n / epochSeconds,
      test_rows: test.n,
      test_seconds: (performance.now() - t2) / 1e3,
      test_accuracy: correct / test.n,
    });
    if (mlp) mlp.dispose();
    if (net) net.vars.forEach((v) => v.dispose());
  }
  return { cases: out };
}

/* ---- main ----------------------------------------------------------------------------------- */

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const result = { engine: o.engine === 'tfjs' ? 'tfjs-wasm' : 'onnxruntime-web' };
  if (o.engine === 'tfjs') {
    const { tf, requireMs, initMs, threads } = await tfjsInit(o.modules);
    Object.assign(result, { version: tf.version.tfjs, threads, require_ms: requireMs, init_ms: initMs });
    if (o.mode === 'init') return result;
    if (o.mode === 'epoch') return Object.assign(result, await tfjsEpoch(tf, o.data, o.only));
    result.check = await tfjsCheck(tf);
    await tf.setBackend('wasm');
    if (o.mode === 'check') return result;
    ((result.seconds_per_rep = o.seconds), (result.reps = o.reps), (result.cases = []));
    for (const kase of CASES) {
      if (!selected(o.only, kase.id)) continue;
      tf.engine().startScope(); /* the case's tensors are disposed at endScope */
      const u = tfjsUnit(tf, kase);
      if (u) {
        const rates = await measureUnits(u.fn, { seconds: o.seconds, reps: o.reps, isAsync: !!u.isAsync });
        const values = rates.map((r) => figure(kase, r));
        result.cases.push({ id: kase.id, unit: kase.unit, median: median(values), values });
      }
      tf.engine().endScope();
      tf.disposeVariables();
    }
    result.tensors_left = tf.memory().numTensors;
    return result;
  }
  const { ort, requireMs, initMs, threads } = await ortInit(o.modules);
  Object.assign(result, { version: ort.env.versions.web, threads, require_ms: requireMs, init_ms: initMs });
  if (o.mode === 'init') return result;
  if (o.mode === 'epoch') return Object.assign(result, { cases: [], skipped: 'onnxruntime-web does not train' });
  result.check = await ortCheck(ort, o.modules);
  if (o.mode === 'check') return result;
  ((result.seconds_per_rep = o.seconds), (result.reps = o.reps), (result.cases = []));
  for (const kase of CASES) {
    if (!selected(o.only, kase.id)) continue;
    const u = await ortUnit(ort, kase);
    if (!u) continue;
    const rates = await measureUnits(u.fn, { seconds: o.seconds, reps: o.reps, isAsync: true });
    const values = rates.map((r) => figure(kase, r));
    result.cases.push({ id: kase.id, unit: kase.unit, median: median(values), values });
    await u.release();
  }
  return result;
}

main().then(
  (r) => {
    process.stdout.write(`${JSON.stringify(r, null, 1)}\n`);
  },
  (e) => {
    process.stderr.write(`peers.js: ${e.stack || e}\n`);
    process.exit(1);
  },
);
