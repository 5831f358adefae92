/* The one JavaScript module that touches the wasm heap. It copies inputs in, calls one
 * exported function, copies results out, frees in `finally`, and turns a failed status into
 * a LatheError. Loaded as a classic script (importScripts in the worker, require in node)
 * after lathe_engine.js, which defines createLatheEngine. */
(function (root) {
  'use strict';

  const STATUS_NAMES = ['ok', 'invalid input', 'out of memory', 'training diverged',
    'data mismatch', 'invalid state', 'over a limit'];

  class LatheError extends Error {
    constructor(status, message) {
      super(message);
      this.name = 'LatheError';
      this.status = status;
      this.statusName = STATUS_NAMES[status] || 'error';
    }
  }

  const SPLITS = { train: 0, validation: 1, test: 2 };
  const encoder = new TextEncoder();

  class Session {
    constructor(engine, ptr) {
      this.engine = engine;
      this.ptr = ptr;
    }

    /** Runs up to `batches` mini-batches; throws LatheError (e.g. diverged). */
    step(batches) {
      this.#alive();
      const m = this.engine.module;
      const err = m._lathe_engine_error_create();
      try {
        const status = m._lathe_engine_session_step(this.ptr, batches, err);
        if (status !== 0) throw new LatheError(status, m.UTF8ToString(m._lathe_engine_error_message(err)));
      } finally {
        m._lathe_engine_error_destroy(err);
      }
    }

    progress() {
      const v = this.#doubles(10, (out) => this.engine.module._lathe_engine_session_progress(this.ptr, out));
      return { epoch: v[0], epochs: v[1], batch: v[2], batchesPerEpoch: v[3], steps: v[4],
        lastEpochLoss: v[5], done: v[6] === 1, trainRows: v[7], stoppedEarly: v[8] === 1, bestEpoch: v[9] };
    }

    evaluate(split) {
      if (!(split in SPLITS)) throw new TypeError(`unknown split ${split}`);
      const v = this.#doubles(6, (out) => this.engine.module._lathe_engine_session_evaluate(this.ptr, SPLITS[split], out));
      const num = (x) => (Number.isNaN(x) ? null : x);
      return { rows: v[0], loss: num(v[1]), accuracy: num(v[2]), mse: num(v[3]), mae: num(v[4]), r2: num(v[5]) };
    }

    shape() {
      const v = this.#doubles(5, (out) => this.engine.module._lathe_engine_session_shape(this.ptr, out));
      return { features: v[0], classes: v[1], parameters: v[2], testRows: v[3], outputs: v[4] };
    }

    /** A prepared split: {rows, features, x: Float32Array(rows·features), y: Float32Array(rows)}
     * (y: class index or target value). */
    split(split) {
      if (!(split in SPLITS)) throw new TypeError(`unknown split ${split}`);
      this.#alive();
      const m = this.engine.module;
      const rows = m._lathe_engine_session_split_rows(this.ptr, SPLITS[split]);
      const features = this.shape().features;
      const xPtr = m._malloc(rows * features * 4 || 4);
      const yPtr = m._malloc(rows * 4 || 4);
      try {
        if (!xPtr || !yPtr) throw new LatheError(2, 'out of memory copying the prepared data');
        m._lathe_engine_session_split_copy(this.ptr, SPLITS[split], xPtr, yPtr);
        return { rows, features, x: new Float32Array(m.HEAPF32.buffer, xPtr, rows * features).slice(),
          y: new Float32Array(m.HEAPF32.buffer, yPtr, rows).slice() };
      } finally {
        m._free(xPtr);
        m._free(yPtr);
      }
    }

    /** Predictions of the current weights on prepared rows x (Float32Array, n·features):
     * Float32Array(n·outputs) of probabilities or values. */
    predict(x) {
      this.#alive();
      const m = this.engine.module;
      const { features, outputs } = this.shape();
      const n = Math.floor(x.length / features);
      if (n * features !== x.length) throw new LatheError(1, `predict: ${x.length} values are not rows of ${features} features`);
      const xPtr = m._malloc(x.length * 4 || 4);
      const outPtr = m._malloc(n * outputs * 4 || 4);
      try {
        if (!xPtr || !outPtr) throw new LatheError(2, 'out of memory predicting');
        m.HEAPF32.set(x, xPtr >> 2);
        m._lathe_engine_session_predict(this.ptr, n, xPtr, outPtr);
        return new Float32Array(m.HEAPF32.buffer, outPtr, n * outputs).slice();
      } finally {
        m._free(xPtr);
        m._free(outPtr);
      }
    }

    /** The layers: [{kind, activation?, in, out, weights, bias, kernel, stride, pad}]. */
    layers() {
      this.#alive();
      return this.engine.jsonCall((out, err) => this.engine.module._lathe_engine_session_layers_json(this.ptr, out, err));
    }

    /** The model file (*.lathe.json) text of the current weights. */
    modelFile(experimentText, metrics) {
      this.#alive();
      const m = this.engine.module;
      const json = encoder.encode(experimentText);
      const metricsText = encoder.encode(`${JSON.stringify(metrics || {})}\0`);
      const jsonPtr = m._malloc(json.length || 1);
      const metricsPtr = m._malloc(metricsText.length);
      try {
        if (!jsonPtr || !metricsPtr) throw new LatheError(2, 'out of memory writing the model file');
        m.HEAPU8.set(json, jsonPtr);
        m.HEAPU8.set(metricsText, metricsPtr);
        return this.engine.textCall((out, err) => m._lathe_engine_session_model_file(this.ptr, jsonPtr, json.length, metricsPtr, out, err));
      } finally {
        m._free(jsonPtr);
        m._free(metricsPtr);
      }
    }

    /** The evaluation of a split: metrics, class report, confusion matrix, ROC and PR curves,
     * calibration bins, per-row results. */
    report(split) {
      if (!(split in SPLITS)) throw new TypeError(`unknown split ${split}`);
      this.#alive();
      return this.engine.jsonCall((out, err) => this.engine.module._lathe_engine_session_report_json(this.ptr, SPLITS[split], out, err));
    }

    /** Bytes the trainer allocated (parameters, gradients, optimiser state, activations). */
    memoryBytes() {
      this.#alive();
      return this.engine.module._lathe_engine_session_memory(this.ptr);
    }

    /** The trainer's whole state as checkpoint bytes (Uint8Array), owned by this experiment
     * text and data: `lathe train EXPERIMENT --resume FILE` continues it. */
    checkpoint() {
      this.#alive();
      const m = this.engine.module;
      const size = m._lathe_engine_session_checkpoint_size(this.ptr);
      const ptr = m._malloc(size || 1);
      try {
        if (!ptr) throw new LatheError(2, 'out of memory saving the checkpoint');
        m._lathe_engine_session_checkpoint_save(this.ptr, ptr);
        return new Uint8Array(m.HEAPU8.buffer, ptr, size).slice();
      } finally {
        m._free(ptr);
      }
    }

    /** Continues from checkpoint bytes; throws LatheError (another experiment or data, a
     * damaged file) and then leaves the session as it was. */
    restore(bytes) {
      this.#alive();
      const m = this.engine.module;
      const data = new Uint8Array(bytes);
      const ptr = m._malloc(data.length || 1);
      const err = m._lathe_engine_error_create();
      try {
        if (!ptr || !err) throw new LatheError(2, 'out of memory reading the checkpoint');
        m.HEAPU8.set(data, ptr);
        const status = m._lathe_engine_session_checkpoint_restore(this.ptr, ptr, data.length, err);
        if (status !== 0) throw new LatheError(status, m.UTF8ToString(m._lathe_engine_error_message(err)));
      } finally {
        m._free(ptr);
        if (err) m._lathe_engine_error_destroy(err);
      }
    }

    weightsSha256() { return this.#hex('_lathe_engine_session_weights_sha256'); }
    dataSha256() { return this.#hex('_lathe_engine_session_data_sha256'); }
    preparedSha256() { return this.#hex('_lathe_engine_session_prepared_sha256'); }

    free() {
      if (this.ptr) this.engine.module._lathe_engine_session_destroy(this.ptr);
      this.ptr = 0;
    }

    #alive() {
      if (!this.ptr) throw new LatheError(5, 'this training session has been freed');
    }

    #doubles(count, fill) {
      this.#alive();
      const m = this.engine.module;
      const out = m._malloc(count * 8);
      try {
        fill(out);
        // Read the view after the call: memory may have grown.
        return Array.from(new Float64Array(m.HEAPF64.buffer, out, count));
      } finally {
        m._free(out);
      }
    }

    #hex(fn) {
      this.#alive();
      const m = this.engine.module;
      const out = m._malloc(65);
      try {
        m[fn](this.ptr, out);
        return m.UTF8ToString(out);
      } finally {
        m._free(out);
      }
    }
  }

  /** An experiment's data read and prepared, no network built (the Prepare step's preview).
   * free() when done. */
  class Preview {
    constructor(engine, ptr) {
      this.engine = engine;
      this.ptr = ptr;
    }

    /** {task, target, table: [rows, columns], rows: [train, validation, test], features:
     * [names], inputs: [{column, first, width}], classes?: [names]}. */
    info() {
      if (!this.ptr) throw new LatheError(5, 'this preview has been freed');
      if (!this.cached) this.cached = this.engine.jsonCall((out, err) => this.engine.module._lathe_engine_preview_info_json(this.ptr, out, err));
      return this.cached;
    }

    /** Rows [first, first + count) of a prepared split, clamped to its rows: {rows, features,
     * x: Float32Array(rows·features), y: Float32Array(rows), source: Float64Array(rows) (each
     * row's row in the table)}. */
    rows(split, first, count) {
      if (!(split in SPLITS)) throw new TypeError(`unknown split ${split}`);
      const info = this.info();
      const features = info.features.length;
      const total = info.rows[SPLITS[split]];
      const start = Math.min(Math.max(0, first), total);
      const n = Math.min(Math.max(0, count), total - start);
      const m = this.engine.module;
      const xPtr = m._malloc(n * features * 4 || 4), yPtr = m._malloc(n * 4 || 4), sPtr = m._malloc(n * 8 || 8);
      try {
        if (!xPtr || !yPtr || !sPtr) throw new LatheError(2, 'out of memory copying the prepared rows');
        m._lathe_engine_preview_rows(this.ptr, SPLITS[split], start, n, xPtr, yPtr, sPtr);
        return { rows: n, features, x: new Float32Array(m.HEAPF32.buffer, xPtr, n * features).slice(),
          y: new Float32Array(m.HEAPF32.buffer, yPtr, n).slice(), source: new Float64Array(m.HEAPF64.buffer, sPtr, n).slice() };
      } finally {
        m._free(xPtr);
        m._free(yPtr);
        m._free(sPtr);
      }
    }

    free() {
      if (this.ptr) this.engine.module._lathe_engine_preview_destroy(this.ptr);
      this.ptr = 0;
    }
  }

  /** A data table read by the engine (CSV or a synthetic generator). free() when done. */
  class Table {
    constructor(engine, ptr) {
      this.engine = engine;
      this.ptr = ptr;
    }

    /** {rows, columns: [{name, type, categories, count, missing, distinct, min, max, mean,
     * std, q25, q50, q75, top: [[index, count]]}]}. */
    info() {
      if (!this.ptr) throw new LatheError(5, 'this table has been freed');
      return this.engine.jsonCall((out, err) => this.engine.module._lathe_engine_table_info_json(this.ptr, out, err));
    }

    /** Column j's values: numbers, category or boolean indices; NaN when missing. */
    column(j) {
      if (!this.ptr) throw new LatheError(5, 'this table has been freed');
      const m = this.engine.module;
      const size = new Float64Array(2);
      const sizePtr = m._malloc(16);
      let rows;
      try {
        m._lathe_engine_table_size(this.ptr, sizePtr);
        size.set(new Float64Array(m.HEAPF64.buffer, sizePtr, 2));
        rows = size[0];
      } finally {
        m._free(sizePtr);
      }
      if (j < 0 || j >= size[1]) throw new RangeError(`column ${j} of ${size[1]}`);
      const out = m._malloc(rows * 4 || 4);
      try {
        if (!out) throw new LatheError(2, 'out of memory copying a column');
        m._lathe_engine_table_column(this.ptr, j, out);
        return new Float32Array(m.HEAPF32.buffer, out, rows).slice();
      } finally {
        m._free(out);
      }
    }

    free() {
      if (this.ptr) this.engine.module._lathe_engine_table_destroy(this.ptr);
      this.ptr = 0;
    }
  }

  /** A loaded model file: predicts on raw CSV rows with its own fitted preparation. */
  class Model {
    constructor(engine, ptr) {
      this.engine = engine;
      this.ptr = ptr;
    }

    /** {task, target, inputs: [{column, type, categories?}], classes, image, outputs,
     * weights_sha256, producer}. */
    info() {
      this.#alive();
      return this.engine.jsonCall((out, err) => this.engine.module._lathe_engine_model_info_json(this.ptr, out, err));
    }

    /** Predictions on CSV bytes: {rows, outputs, unseen, values: Float32Array(rows·outputs)}. */
    predictCsv(bytes) {
      this.#alive();
      const m = this.engine.module;
      const data = new Uint8Array(bytes);
      const dataPtr = m._malloc(data.length || 1);
      const outPtr = m._malloc(4);
      const infoPtr = m._malloc(24);
      const err = m._lathe_engine_error_create();
      let values = 0;
      try {
        if (!dataPtr || !outPtr || !infoPtr || !err) throw new LatheError(2, 'out of memory: the file is too large for this tab');
        m.HEAPU8.set(data, dataPtr);
        m.HEAPU32[outPtr >> 2] = 0;
        const status = m._lathe_engine_model_predict_csv(this.ptr, dataPtr, data.length, outPtr, infoPtr, err);
        values = m.HEAPU32[outPtr >> 2];
        if (status !== 0) throw new LatheError(status, m.UTF8ToString(m._lathe_engine_error_message(err)));
        const [rows, outputs, unseen] = new Float64Array(m.HEAPF64.buffer, infoPtr, 3);
        return { rows, outputs, unseen, values: new Float32Array(m.HEAPF32.buffer, values, rows * outputs).slice() };
      } finally {
        if (values) m._lathe_engine_string_free(values);
        m._free(dataPtr);
        m._free(outPtr);
        m._free(infoPtr);
        if (err) m._lathe_engine_error_destroy(err);
      }
    }

    free() {
      if (this.ptr) this.engine.module._lathe_engine_model_destroy(this.ptr);
      this.ptr = 0;
    }

    #alive() {
      if (!this.ptr) throw new LatheError(5, 'this model has been freed');
    }
  }

  class LatheEngine {
    constructor(module) { this.module = module; }

    /** Live allocations of the core (a leak check: equal before and after a full cycle). */
    allocLive() { return this.module._lathe_engine_alloc_live(); }

    /** Loads model file text; throws LatheError naming the damaged field. free() when done. */
    loadModel(text) {
      const m = this.module;
      const bytes = encoder.encode(text);
      const ptr = m._malloc(bytes.length || 1);
      const outPtr = m._malloc(4);
      const err = m._lathe_engine_error_create();
      try {
        if (!ptr || !outPtr || !err) throw new LatheError(2, 'out of memory: the model file is too large for this tab');
        m.HEAPU8.set(bytes, ptr);
        const status = m._lathe_engine_model_load(ptr, bytes.length, outPtr, err);
        if (status !== 0) throw new LatheError(status, m.UTF8ToString(m._lathe_engine_error_message(err)));
        return new Model(this, m.HEAPU32[outPtr >> 2]);
      } finally {
        m._free(ptr);
        m._free(outPtr);
        if (err) m._lathe_engine_error_destroy(err);
      }
    }

    /** A Table of IDX images and labels ({name, bytes} each, gzip undone; either order):
     * {table, image: [C, H, W]}. A bad file's error starts with its name. */
    idxTable(a, b) {
      const m = this.module;
      const read = (file) => {
        const data = new Uint8Array(file.bytes);
        const ptr = m._malloc(data.length || 1);
        const outPtr = m._malloc(4);
        const err = m._lathe_engine_error_create();
        try {
          if (!ptr || !outPtr || !err) throw new LatheError(2, `${file.name}: out of memory: the file is too large for this tab`);
          m.HEAPU8.set(data, ptr);
          const status = m._lathe_engine_idx_read(ptr, data.length, outPtr, err);
          if (status !== 0) throw new LatheError(status, `${file.name}: ${m.UTF8ToString(m._lathe_engine_error_message(err))}`);
          return m.HEAPU32[outPtr >> 2];
        } finally {
          m._free(ptr);
          m._free(outPtr);
          if (err) m._lathe_engine_error_destroy(err);
        }
      };
      let images = 0, labels = 0;
      const outPtr = m._malloc(4);
      const shapePtr = m._malloc(24);
      const err = m._lathe_engine_error_create();
      try {
        if (!outPtr || !shapePtr || !err) throw new LatheError(2, 'out of memory');
        images = read(a);
        labels = read(b);
        let names = [a.name, b.name];
        if (m._lathe_engine_idx_ndims(images) === 1 && m._lathe_engine_idx_ndims(labels) > 1) {
          [images, labels] = [labels, images];
          names = names.reverse();
        }
        const status = m._lathe_engine_idx_table(images, labels, outPtr, shapePtr, err);
        if (status !== 0) throw new LatheError(status, `${names[0]} (images) and ${names[1]} (labels): ${m.UTF8ToString(m._lathe_engine_error_message(err))}`);
        return { table: new Table(this, m.HEAPU32[outPtr >> 2]), image: Array.from(new Float64Array(m.HEAPF64.buffer, shapePtr, 3)) };
      } finally {
        if (images) m._lathe_engine_idx_destroy(images);
        if (labels) m._lathe_engine_idx_destroy(labels);
        m._free(outPtr);
        m._free(shapePtr);
        if (err) m._lathe_engine_error_destroy(err);
      }
    }

    /** 8-bit pixels (Uint8Array of h·w·channels) as a model's input (c, oh, ow): a
     * Float32Array in 0…255 (BT.601 luma, area-weighted resampling, as image data sets). */
    imageConvert(pixels, w, h, channels, c, oh, ow) {
      const m = this.module;
      const src = m._malloc(pixels.length || 1);
      const out = m._malloc(c * oh * ow * 4 || 4);
      const err = m._lathe_engine_error_create();
      try {
        if (!src || !out || !err) throw new LatheError(2, 'out of memory converting the image');
        m.HEAPU8.set(pixels, src);
        const status = m._lathe_engine_image_convert(src, w, h, channels, c, oh, ow, out, err);
        if (status !== 0) throw new LatheError(status, m.UTF8ToString(m._lathe_engine_error_message(err)));
        return new Float32Array(m.HEAPF32.buffer, out, c * oh * ow).slice();
      } finally {
        m._free(src);
        m._free(out);
        if (err) m._lathe_engine_error_destroy(err);
      }
    }

    /** `copies` augmented copies of n images (pixels: Float32Array of n·C·H·W, image [C, H, W])
     * with the augment step's settings {shift, flip, rotate, noise} and the experiment's seed,
     * as the core makes them: a Float32Array of (copies, n, C·H·W). */
    augmentImages(pixels, image, settings, seed, copies) {
      const m = this.module;
      const size = image[0] * image[1] * image[2];
      const n = pixels.length / size;
      const src = m._malloc(pixels.length * 4 || 4);
      const dst = m._malloc(copies * pixels.length * 4 || 4);
      const tmp = m._malloc(size * 4 || 4);
      try {
        if (!src || !dst || !tmp) throw new LatheError(2, 'out of memory augmenting the images');
        m.HEAPF32.set(pixels, src >> 2);
        m._lathe_engine_augment_images(src, dst, tmp, n, copies, image[0], image[1], image[2], settings.shift || 0,
          settings.flip ? 1 : 0, settings.rotate || 0, settings.noise || 0, seed);
        return new Float32Array(m.HEAPF32.buffer, dst, copies * pixels.length).slice();
      } finally {
        m._free(src);
        m._free(dst);
        m._free(tmp);
      }
    }

    /** Calls fn(outPtr, err) of an export that returns a status and a string to free;
     * returns the string. */
    textCall(fn) {
      const m = this.module;
      const outPtr = m._malloc(4);
      const err = m._lathe_engine_error_create();
      let text = 0;
      try {
        if (!outPtr || !err) throw new LatheError(2, 'out of memory');
        m.HEAPU32[outPtr >> 2] = 0;
        const status = fn(outPtr, err);
        if (status !== 0) throw new LatheError(status, m.UTF8ToString(m._lathe_engine_error_message(err)));
        text = m.HEAPU32[outPtr >> 2];
        return m.UTF8ToString(text);
      } finally {
        if (text) m._lathe_engine_string_free(text);
        m._free(outPtr);
        if (err) m._lathe_engine_error_destroy(err);
      }
    }

    jsonCall(fn) { return JSON.parse(this.textCall(fn)); }

    /** The data of an experiment (object or JSON text; it must be valid) as a Table: CSV
     * bytes, or the synthetic set its data and seed describe (dataBytes ignored). */
    createTable(experiment, dataBytes) {
      return this.createFromExperiment('_lathe_engine_table_create', Table, experiment, dataBytes);
    }

    /** Calls the engine's create function fn (experiment JSON, data bytes, out pointer,
     * error) and wraps the object it makes in Cls. */
    createFromExperiment(fn, Cls, experiment, dataBytes) {
      const m = this.module;
      const json = encoder.encode(typeof experiment === 'string' ? experiment : JSON.stringify(experiment));
      const data = dataBytes ? new Uint8Array(dataBytes) : new Uint8Array(0);
      const jsonPtr = m._malloc(json.length || 1);
      const dataPtr = m._malloc(data.length || 1);
      const outPtr = m._malloc(4);
      const err = m._lathe_engine_error_create();
      try {
        if (!jsonPtr || !dataPtr || !outPtr || !err) throw new LatheError(2, 'out of memory: the data is too large for this tab');
        m.HEAPU8.set(json, jsonPtr);
        m.HEAPU8.set(data, dataPtr);
        const status = m[fn](jsonPtr, json.length, dataPtr, data.length, outPtr, err);
        if (status !== 0) throw new LatheError(status, m.UTF8ToString(m._lathe_engine_error_message(err)));
        return new Cls(this, m.HEAPU32[outPtr >> 2]);
      } finally {
        m._free(jsonPtr);
        m._free(dataPtr);
        m._free(outPtr);
        if (err) m._lathe_engine_error_destroy(err);
      }
    }

    /** Instantiates the wasm engine. options are passed to createLatheEngine. */
    static async load(options = {}) {
      const factory = root.createLatheEngine || (typeof require === 'function' ? require('./lathe_engine.js') : null);
      if (!factory) throw new Error('lathe_engine.js is not loaded');
      return new LatheEngine(await factory(options));
    }

    /** The data of an experiment prepared by its steps, without a network (a Preview). */
    createPreview(experiment, dataBytes) {
      return this.createFromExperiment('_lathe_engine_preview_create', Preview, experiment, dataBytes);
    }

    /** A training session for an experiment (object or JSON text) and its data bytes. */
    createSession(experiment, dataBytes) {
      return this.createFromExperiment('_lathe_engine_session_create', Session, experiment, dataBytes);
    }
  }

  const api = { LatheEngine, LatheError };
  if (typeof module === 'object' && module.exports) module.exports = api;
  root.Lathe = api;
})(typeof self !== 'undefined' ? self : globalThis);
