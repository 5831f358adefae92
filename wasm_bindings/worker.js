/* The training worker: owns the engine, steps the trainer a slice at a time and posts
 * progress, honouring pause, resume and cancel between slices; saves a checkpoint after each
 * epoch (at most one per CHECKPOINT_MS) and on pause. It also reads data tables (preview and
 * profile), describes a model's layers and memory, and loads model files to predict, answering
 * requests by id. Every training message carries the page's run id, so the page can ignore a
 * cancelled run's last words.
 * Messages in:  {type: 'train', run, experiment, data (CSV bytes, an image set {kind: 'idx',
 *               parts: [{images, labels: {name, bytes}, test}], classes}, or null), checkpoint?
 *               (ArrayBuffer: continue from it), history? (its curve points)}, {type: 'pause'},
 *               {type: 'resume'}, {type: 'cancel'}, {type: 'inject-fault', kind: 'trap' |
 *               'crash' | 'pause', at?} (tests: a real wasm trap in the next slice, an uncaught
 *               error, or a pause the run makes itself at [epoch, batch] = at),
 *               {type: 'table' | 'describe' | 'checkpoint' | 'model-info' | 'model-predict' |
 *               'model-predict-image' | 'model-export-c' (model, name: {header, source}) |
 *               'model-export-onnx' (model: the ONNX bytes) | 'model-quantize' (model, data,
 *               rows, percentile: {report, file}) | 'model-measure' (model, data: {flash,
 *               ram, rows, ms1, msN}) |
 *               'data-csv' | 'image-convert' | 'augment-images' | 'alloc-live', id, ...}
 * Messages out: {type: 'ready'}, {type: 'started', run, shape, progress, memory},
 *               {type: 'tick', run, progress}, {type: 'progress', run, progress, point},
 *               {type: 'checkpoint', run, bytes, progress, history}, {type: 'boundary', ...},
 *               {type: 'done', run, result}, {type: 'error', run, message, result?},
 *               {type: 'fault', run, message} (a trap or a bug: the engine is not trusted
 *               any more; the page restarts the worker), {type: 'paused', run, held?} (held: a
 *               test's pause at a point),
 *               {type: 'cancelled', run}, {type: 'reply', id, ok, value | message} */
// One function scope, so that the minifier may shorten every name (a classic script's
// top-level names are globals it must keep).
(() => {
  'use strict';
  importScripts('lathe_engine.js', 'lathe.js');

  const SLICE_MS = 30; // keep each slice short so pause and cancel answer quickly
  const GRID = 64; // decision-boundary cells per side
  const BOUNDARY_MS = 150; // at most one boundary per this many milliseconds
  const CHECKPOINT_MS = 200; // at most one epoch checkpoint per this many milliseconds
  let engine = null;
  let run = 0;
  let lastCheckpoint = 0;
  let fault = '';
  let cancelledRun = -1;
  let session = null;
  let paused = false;
  let history = [];
  let holdAt = null; // [epoch, batch] at which a test's run pauses itself
  let boundary = null; // {x0, x1, y0, y1, grid: Float32Array(GRID·GRID·2)} for 2-D classification
  let lastBoundary = 0;

  const enginePromise = self.Lathe.LatheEngine.load()
    .then((e) => {
      engine = e;
      self.postMessage({ type: 'ready' });
      return e;
    })
    .catch((e) => {
      self.postMessage({ type: 'error', message: `could not start the engine: ${e.message}` });
    });

  function finish(result) {
    if (session) session.free();
    session = null;
    paused = false;
    self.postMessage({ ...result, run });
  }

  /** Posts the trainer's whole state and the curve so far: the page keeps it in IndexedDB. */
  function postCheckpoint() {
    lastCheckpoint = performance.now();
    const bytes = session.checkpoint();
    self.postMessage(
      { type: 'checkpoint', run, bytes: bytes.buffer, progress: session.progress(), history: history.slice() },
      [bytes.buffer],
    );
  }

  /** Stops stepping between batches and saves a checkpoint of this point. */
  function pause(held) {
    paused = true;
    self.postMessage({ type: 'paused', run, held });
    postCheckpoint();
  }

  function report(progress) {
    const validation = session.evaluate('validation');
    const train = session.evaluate('train');
    const point = {
      epoch: progress.epoch,
      loss: progress.lastEpochLoss,
      trainAccuracy: train.accuracy,
      trainR2: train.r2,
      validationLoss: validation.loss,
      validationAccuracy: validation.accuracy,
      validationR2: validation.r2,
    };
    history.push(point);
    self.postMessage({ type: 'progress', run, progress, point });
    if (!progress.done && performance.now() - lastCheckpoint >= CHECKPOINT_MS) postCheckpoint();
    if (boundary && performance.now() - lastBoundary > BOUNDARY_MS) postBoundary();
  }

  /** For 2-D classification: the grid of prepared points covering the training data (with a
   * margin) and the training points, sent once; then each prediction on the grid. */
  function setUpBoundary() {
    boundary = null;
    const shape = session.shape();
    if (shape.features !== 2 || shape.classes < 2) return;
    const train = session.split('train');
    let x0 = Infinity,
      x1 = -Infinity,
      y0 = Infinity,
      y1 = -Infinity;
    for (let i = 0; i < train.rows; i++) {
      const a = train.x[2 * i],
        b = train.x[2 * i + 1];
      x0 = Math.min(x0, a);
      x1 = Math.max(x1, a);
      y0 = Math.min(y0, b);
      y1 = Math.max(y1, b);
    }
    if (!(x1 > x0 && y1 > y0)) return;
    const mx = 0.08 * (x1 - x0),
      my = 0.08 * (y1 - y0);
    x0 -= mx;
    x1 += mx;
    y0 -= my;
    y1 += my;
    const grid = new Float32Array(GRID * GRID * 2);
    for (let r = 0; r < GRID; r++) {
      for (let c = 0; c < GRID; c++) {
        grid[2 * (r * GRID + c)] = x0 + ((c + 0.5) / GRID) * (x1 - x0);
        grid[2 * (r * GRID + c) + 1] = y1 - ((r + 0.5) / GRID) * (y1 - y0); // row 0 at the top
      }
    }
    boundary = { x0, x1, y0, y1, grid };
    self.postMessage({
      type: 'boundary-setup',
      run,
      size: GRID,
      x0,
      x1,
      y0,
      y1,
      classes: shape.classes,
      points: train.x,
      labels: train.y,
    });
  }

  function postBoundary() {
    lastBoundary = performance.now();
    const probs = session.predict(boundary.grid);
    self.postMessage({ type: 'boundary', run, size: GRID, probs }, [probs.buffer]);
  }

  function runSlice() {
    if (!session || paused) return;
    const started = performance.now();
    try {
      let progress = session.progress();
      while (!progress.done && performance.now() - started < SLICE_MS) {
        const epochBefore = progress.epoch;
        if (fault === 'trap') {
          fault = '';
          // A real trap: the engine reads a session at an address past the end of its memory.
          engine.module._lathe_engine_session_step(-64, 1, 0);
        }
        session.step(1);
        progress = session.progress();
        if (progress.epoch !== epochBefore) report(progress);
        if (
          holdAt &&
          !progress.done &&
          (progress.epoch > holdAt[0] || (progress.epoch === holdAt[0] && progress.batch >= holdAt[1]))
        ) {
          holdAt = null;
          pause(true);
          return;
        }
      }
      if (progress.done) {
        if (boundary) postBoundary();
        finish({ type: 'done', result: summary(true) });
        return;
      }
      self.postMessage({ type: 'tick', run, progress });
      setTimeout(runSlice, 0);
    } catch (e) {
      if (!(e instanceof self.Lathe.LatheError)) {
        // A wasm trap or a bug: the heap may be damaged, so nothing more is asked of this
        // engine. The page restarts the worker from the last checkpoint.
        session = null;
        self.postMessage({ type: 'fault', run, message: `${e.name}: ${e.message}` });
        return;
      }
      let result = null;
      try {
        result = summary(false);
      } catch {
        /* the error below says what happened */
      }
      finish({ type: 'error', message: e.message, result });
    }
  }

  function summary(withModel) {
    const metrics = {
      train: session.evaluate('train'),
      validation: session.evaluate('validation'),
      test: session.evaluate('test'),
    };
    const result = {
      metrics,
      progress: session.progress(),
      report: session.report('test'),
      weightsSha256: session.weightsSha256(),
      dataSha256: session.dataSha256(),
      history,
    };
    if (withModel) {
      result.modelFile = session.modelFile(metrics);
      result.checkpoint = session.checkpoint().buffer;
    }
    return result;
  }

  /** Answers {type: 'table'}: the data's profile and columns (transferred), and the bytes it
   * takes in the tab: memory {stored (its files), table, heap: {max, used} (the engine's, with
   * the table read)}. */
  async function readTable(msg) {
    const data = await engineData(msg.data);
    const table = engine.createTable(msg.experiment, data);
    try {
      const info = table.info();
      const set = data && !(data instanceof ArrayBuffer) ? data.size() : null; // an image set
      if (set) info.image = set.image;
      // a column of bytes (pixels) travels as bytes: a quarter of the tab's memory for images
      const columns = info.columns.map((_, j) => asBytes(table.column(j)));
      const memory = {
        stored: dataBytes(msg.data),
        table: set ? set.tableBytes : info.rows * info.columns.length * 4, // u8 pixels: a byte each
        heap: engine.heap(),
      };
      return { value: { info, columns, memory }, transfer: columns.map((c) => c.buffer) };
    } finally {
      table.free();
    }
  }

  /** values as a Uint8Array when every one is an integer in 0…255 (no NaN), else values. */
  function asBytes(values) {
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (!(v >= 0 && v <= 255 && v === Math.floor(v))) return values;
    }
    return Uint8Array.from(values);
  }

  /** The bytes of a request's data as the page holds them. */
  function dataBytes(data) {
    if (!data) return 0;
    if (data instanceof ArrayBuffer) return data.byteLength;
    return images && images.set && images.id === data.id ? images.stored : 0;
  }

  /** Answers {type: 'data-csv', experiment, data}: the data as CSV bytes (columns px0 … and
   * the label), for `lathe run --data FILE`; made only when the user downloads it. */
  async function dataCsv(msg) {
    const table = engine.createTable(msg.experiment, await engineData(msg.data));
    try {
      const info = table.info();
      const columns = info.columns.map((_, j) => table.column(j));
      const cell = (col, v) =>
        Number.isNaN(v) ? '' : col.type === 'categorical' ? csvField(col.categories[v]) : String(v);
      const encoder = new TextEncoder();
      const parts = [encoder.encode(`${info.columns.map((c) => csvField(c.name)).join(',')}\n`)];
      for (let r = 0; r < info.rows; r++) {
        parts.push(encoder.encode(`${info.columns.map((c, j) => cell(c, columns[j][r])).join(',')}\n`));
      }
      return { value: new Blob(parts, { type: 'text/csv' }) };
    } finally {
      table.free();
    }
  }

  /** Answers {type: 'describe'}: the prepared shape and the network's layers. */
  async function describe(msg) {
    const s = engine.createSession(msg.experiment, await engineData(msg.data));
    try {
      return { value: { shape: s.shape(), layers: s.layers(), memory: s.memoryBytes() } };
    } finally {
      s.free();
    }
  }

  const PREVIEW_ROWS = 5000; // training rows the preview's statistics read (the first ones)
  const PREVIEW_FEATURES = 64; // features with their own statistics (every one counts in "all")

  /** Answers {type: 'preview'}: the data prepared by the experiment's steps, no network: the
   * preview's info, the first rows of the training split (x, y and their table rows) and, over
   * up to PREVIEW_ROWS training rows, each of the first PREVIEW_FEATURES features' and all
   * features' mean, standard deviation, minimum and maximum. */
  async function preview(msg) {
    const p = engine.createPreview(msg.experiment, await engineData(msg.data));
    try {
      const info = p.info();
      const sample = p.rows('train', 0, PREVIEW_ROWS);
      const f = sample.features;
      const stats = [];
      const all = new Moments();
      for (let j = 0; j < f; j++) {
        const one = j < PREVIEW_FEATURES ? new Moments() : null;
        for (let i = 0; i < sample.rows; i++) {
          const v = sample.x[i * f + j];
          all.add(v);
          if (one) one.add(v);
        }
        if (one) stats.push(one.result());
      }
      const shown = Math.min(sample.rows, msg.rows || 8);
      return {
        value: {
          info,
          statsRows: sample.rows,
          stats,
          all: all.result(),
          source: sample.source,
          head: { x: sample.x.slice(0, shown * f), y: sample.y.slice(0, shown) },
        },
      };
    } finally {
      p.free();
    }
  }

  /** Mean, population standard deviation, minimum and maximum of the values added (Welford's
   * update, so a large mean does not cancel the deviation). */
  class Moments {
    constructor() {
      this.n = 0;
      this.mean = 0;
      this.m2 = 0;
      this.min = Infinity;
      this.max = -Infinity;
    }
    add(v) {
      this.n++;
      const d = v - this.mean;
      this.mean += d / this.n;
      this.m2 += d * (v - this.mean);
      if (v < this.min) this.min = v;
      if (v > this.max) this.max = v;
    }
    result() {
      return this.n ? { mean: this.mean, std: Math.sqrt(this.m2 / this.n), min: this.min, max: this.max } : null;
    }
  }

  /** Answers {type: 'model-info' | 'model-predict' | 'model-predict-image' | 'model-export-…'}:
   * loads the model file for this request only, in the engine or in tools (the deploy tools),
   * so nothing stays allocated between requests. */
  function withModel(msg, fn, tools = engine) {
    const model = tools.loadModel(msg.model);
    try {
      return fn(model);
    } finally {
      model.free();
    }
  }

  /** The deploy tools (lathe_deploy.wasm: the model loader and the exporters), loaded the
   * first time an artefact is made. */
  let deploy = null;
  function deployTools() {
    if (!deploy) {
      deploy = (async () => {
        importScripts('lathe_deploy.js');
        return self.Lathe.LatheEngine.load({}, self.createLatheDeploy);
      })();
      deploy.catch(() => {
        deploy = null; // try again next time
      });
    }
    return deploy;
  }

  /** Answers {type: 'model-quantize', model, data, rows, percentile}: `lathe quantize`'s path
   * (native_cli/cmd_quantize.c). A session of its own, opened on the model file's embedded
   * experiment and the run's data and built from the model (its weights and fitted
   * preparation, as fine-tuning starts), is quantised and freed: the run's result and any
   * training are untouched. {report, file (the int8 model file's text)}. */
  async function quantize(msg) {
    const data = await engineData(msg.data);
    const experiment = JSON.stringify(JSON.parse(msg.model).experiment);
    const s = engine.createFineTuning(experiment, data, msg.model);
    try {
      const { report, metrics } = s.quantize(msg.rows, msg.percentile === undefined ? 100 : msg.percentile);
      return { value: { report, file: s.modelFile(metrics) } };
    } finally {
      s.free();
    }
  }

  /** Answers {type: 'model-measure', model, data}: `lathe compress-report`'s measures of one
   * model file (native_cli/cmd_compress_report.c). {flash, ram}: its C export's constant data
   * and static buffers (the deploy tools); ms1, msN: milliseconds per prediction of 1 row and
   * of the first rows (up to 256) of the test split (the training split when there is none),
   * in a session built from the model file as quantize builds one, each the median of 5
   * timings of at least 0.1 s, the worker answering other messages between timings. */
  async function measure(msg) {
    const { flash, ram } = withModel(msg, (model) => model.cFootprint(), await deployTools());
    const data = await engineData(msg.data);
    const s = engine.createFineTuning(JSON.stringify(JSON.parse(msg.model).experiment), data, msg.model);
    try {
      let split = s.split('test');
      if (!split.rows) split = s.split('train');
      const rows = Math.min(256, split.rows);
      const median = async (n) => {
        const ms = [];
        for (let r = 0; r < 5; r++) {
          await new Promise((next) => setTimeout(next, 0));
          ms.push(s.timePredict(split.x, n, 100));
        }
        return ms.sort((a, b) => a - b)[2];
      };
      return { value: { flash, ram, rows, ms1: rows && (await median(1)), msN: rows && (await median(rows)) } };
    } finally {
      s.free();
    }
  }

  function predictCsv(msg) {
    return withModel(msg, (model) => {
      const p = model.predictCsv(msg.data);
      return { value: p, transfer: [p.values.buffer] };
    });
  }

  /** A drawing (RGBA pixels, light ink on black) as the model's image input (its image shape,
   * else msg.shape [C, H, W]): converted by the core as image data sets are (luma, area-weighted resampling, 0…255); an 8 × 8 model takes
   * scikit-learn's digits, whose pixels count ink in 0…16. */
  function predictImage(msg) {
    return withModel(msg, (model) => {
      const info = model.info();
      const [c, hgt, wid] = info.image || msg.shape; // an MLP on pixels has no image shape
      if (c * hgt * wid !== info.inputs.length)
        throw new self.Lathe.LatheError(
          self.Lathe.Status.ERR_INVALID,
          `this model takes ${info.inputs.length} inputs, not a ${c} × ${hgt} × ${wid} image`,
        );
      const input = engine.imageConvert(
        new Uint8Array(msg.pixels.buffer || msg.pixels),
        msg.width,
        msg.height,
        4,
        c,
        hgt,
        wid,
      );
      if (hgt === 8 && wid === 8) for (let i = 0; i < input.length; i++) input[i] = (input[i] * 16) / 255;
      const header = info.inputs.map((col) => csvField(col.column)).join(',');
      const row = Array.from(input, (v) => String(v)).join(',');
      const p = model.predictCsv(new TextEncoder().encode(`${header}\n${row}\n`));
      return { value: { ...p, input, shape: info.image }, transfer: [p.values.buffer, input.buffer] };
    });
  }

  function csvField(text) {
    return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  }

  /** Undoes gzip (magic 1f 8b) with the browser's DecompressionStream: the file {name, bytes}
   * as the engine's image set takes it, {name, stored, bytes (omitted: not gzipped)}. */
  async function gunzip(file) {
    const head = new Uint8Array(file.bytes, 0, Math.min(2, file.bytes.byteLength));
    if (head[0] !== 0x1f || head[1] !== 0x8b) return { name: file.name, stored: file.bytes };
    if (typeof DecompressionStream !== 'function') {
      throw new Error(`${file.name} is gzipped and this browser has no DecompressionStream: upload it gunzipped`);
    }
    try {
      const stream = new Blob([file.bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
      return { name: file.name, stored: file.bytes, bytes: await new Response(stream).arrayBuffer() };
    } catch (e) {
      throw new Error(`${file.name}: not a complete gzip file (${e.message})`);
    }
  }

  /** The first bytes of a file {name, bytes}, gzip undone (up to 36: an IDX header with
   * eight dimensions), read without inflating the rest. */
  async function idxHead(file) {
    const head = new Uint8Array(file.bytes, 0, Math.min(36, file.bytes.byteLength));
    if (head[0] !== 0x1f || head[1] !== 0x8b || typeof DecompressionStream !== 'function') return head.slice();
    const reader = new Blob([file.bytes]).stream().pipeThrough(new DecompressionStream('gzip')).getReader();
    const chunks = [];
    let n = 0;
    try {
      while (n < 36) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(value);
        n += value.length;
      }
    } catch {
      /* a damaged file: gunzip says so */
    } finally {
      reader.cancel().catch(() => {});
    }
    const out = new Uint8Array(Math.min(n, 36));
    let at = 0;
    for (const c of chunks) {
      const take = Math.min(c.length, out.length - at);
      out.set(c.subarray(0, take), at);
      at += take;
      if (at === out.length) break;
    }
    return out;
  }

  /** Refuses an image set that would not fit the engine, from its images files' headers,
   * before any of it is inflated or copied (LatheError ERR_LIMIT with the numbers). */
  async function checkImagesFit(parts) {
    let rows = 0;
    for (const p of parts) {
      const head = await idxHead(p.images);
      engine.imagesFit(head, rows);
      if (head.length >= 8) rows += new DataView(head.buffer, head.byteOffset).getUint32(4);
    }
  }

  // The last image set read: {id, set (IdxSet) or error}. The page sends an image set's files
  // once and then names it by id (web/engine_client.js), so it is kept until another comes.
  let images = null;

  /** The engine's data for a request's data: CSV bytes, null, or an image set {kind: 'idx', id,
   * parts: [{images, labels: {name, bytes (as stored)}, test}], classes} (or {kind, id}: the
   * one read last) as an IdxSet (kept: do not free it). */
  function engineData(data) {
    if (!data || data instanceof ArrayBuffer) return data;
    // one read at a time, in the order the requests came
    const read = dataQueue.then(() => readImages(data));
    dataQueue = read.catch(() => {});
    return read;
  }
  let dataQueue = Promise.resolve();

  async function readImages(data) {
    if (data.kind !== 'idx') throw new Error('unknown kind of data');
    if (!data.parts) {
      if (!images || images.id !== data.id) throw new Error('the engine no longer holds this data: choose it again');
      if (images.error) throw images.error;
      return images.set;
    }
    if (images && images.set) images.set.free();
    images = { id: data.id };
    try {
      await checkImagesFit(data.parts);
      const parts = await Promise.all(
        data.parts.map(async (p) => ({
          images: await gunzip(p.images),
          labels: await gunzip(p.labels),
          test: !!p.test,
        })),
      );
      images.set = engine.idxSet(parts, data.classes || []);
      images.stored = data.parts.reduce((n, p) => n + p.images.bytes.byteLength + p.labels.bytes.byteLength, 0);
      return images.set;
    } catch (e) {
      images.error = e;
      throw e;
    }
  }

  /** Answers {type: 'image-convert', images: [{pixels (RGBA ArrayBuffer), width, height}],
   * shape: [C, H, W]}: each image as the model input the core makes of it (luma or RGB,
   * area-weighted resampling, 0…255), {values: Float32Array(n·C·H·W) as an ArrayBuffer,
   * errors: [{index, message}]} (an image the core refuses leaves zeros and an error). */
  function convertImages(msg) {
    const [c, hgt, wid] = msg.shape;
    const size = c * hgt * wid;
    const values = new Float32Array(msg.images.length * size);
    const errors = [];
    msg.images.forEach((img, i) => {
      try {
        values.set(engine.imageConvert(new Uint8Array(img.pixels), img.width, img.height, 4, c, hgt, wid), i * size);
      } catch (e) {
        errors.push({ index: i, message: e.message });
      }
    });
    return { value: { values: values.buffer, errors }, transfer: [values.buffer] };
  }

  /** Answers {type: 'augment-images', pixels (Float32Array), image, settings, seed, copies}:
   * the core's augmented copies, {values: (copies, n, C·H·W) floats as an ArrayBuffer}. */
  function augmentImages(msg) {
    const values = engine.augmentImages(new Float32Array(msg.pixels), msg.image, msg.settings, msg.seed, msg.copies);
    return { value: { values: values.buffer }, transfer: [values.buffer] };
  }

  const requests = {
    'data-csv': dataCsv,
    'augment-images': augmentImages,
    'image-convert': convertImages,
    table: readTable,
    describe,
    preview,
    checkpoint: () => {
      if (!session) throw new Error('no training is running');
      const bytes = session.checkpoint();
      return { value: { bytes: bytes.buffer, progress: session.progress() }, transfer: [bytes.buffer] };
    },
    'model-info': (msg) => withModel(msg, (model) => ({ value: model.info() })),
    'model-export-c': async (msg) =>
      withModel(msg, (model) => ({ value: model.exportC(msg.name) }), await deployTools()),
    'model-export-onnx': async (msg) =>
      withModel(
        msg,
        (model) => {
          const bytes = model.exportOnnx();
          return { value: bytes.buffer, transfer: [bytes.buffer] };
        },
        await deployTools(),
      ),
    'onnx-import': async (msg) => ({
      value: (await deployTools()).importOnnx(msg.bytes, msg.classes || '', msg.inputs || ''),
    }),
    'model-quantize': quantize,
    'model-measure': measure,
    'model-predict': predictCsv,
    'model-predict-image': predictImage,
    'alloc-live': async (msg) => ({ value: (msg.tools === 'deploy' ? await deployTools() : engine).allocLive() }),
  };

  self.onmessage = async (event) => {
    const msg = event.data;
    if (msg.id !== undefined && requests[msg.type]) {
      await enginePromise;
      try {
        const { value, transfer } = await requests[msg.type](msg);
        self.postMessage({ type: 'reply', id: msg.id, ok: true, value }, transfer || []);
      } catch (e) {
        self.postMessage({ type: 'reply', id: msg.id, ok: false, message: e.message });
      }
    } else if (msg.type === 'train') {
      await enginePromise;
      if (msg.run === cancelledRun) return; // cancelled while the engine was starting
      if (session) session.free();
      session = null;
      history = msg.history ? msg.history.slice() : [];
      paused = false;
      run = msg.run;
      lastCheckpoint = performance.now();
      try {
        const data = await engineData(msg.data);
        if (msg.run === cancelledRun || msg.run !== run) return; // cancelled or replaced meanwhile
        session = msg.init
          ? engine.createFineTuning(msg.experiment, data, msg.init)
          : engine.createSession(msg.experiment, data);
        if (msg.checkpoint) session.restore(msg.checkpoint);
        setUpBoundary();
      } catch (e) {
        if (session) session.free();
        session = null;
        self.postMessage({ type: 'error', run, message: e.message });
        return;
      }
      self.postMessage({
        type: 'started',
        run,
        shape: session.shape(),
        progress: session.progress(),
        memory: session.memoryBytes(),
        heap: engine.heap(),
        resumed: !!msg.checkpoint,
      });
      if (boundary) postBoundary();
      setTimeout(runSlice, 0);
    } else if (msg.type === 'pause') {
      if (session && !paused) pause(false);
    } else if (msg.type === 'resume') {
      if (paused && session) {
        paused = false;
        setTimeout(runSlice, 0);
      }
    } else if (msg.type === 'cancel') {
      cancelledRun = msg.run;
      if (session && msg.run === run) finish({ type: 'cancelled' });
      else self.postMessage({ type: 'cancelled', run: msg.run });
    } else if (msg.type === 'inject-fault') {
      if (msg.kind === 'crash')
        setTimeout(() => {
          throw new Error('injected crash (a test)');
        }, 0);
      else if (msg.kind === 'pause') holdAt = msg.at;
      else fault = msg.kind;
    }
  };
})();
