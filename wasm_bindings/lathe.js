/* The one JavaScript module that touches the wasm heap. It copies inputs in, calls one
 * exported function, copies results out, frees in `finally`, and turns a failed status into
 * a LatheError. Loaded as a classic script (importScripts in the worker, require in node)
 * after lathe_engine.js, which defines createLatheEngine. */
(function (root) {
  'use strict';

  const STATUS_NAMES = ['ok', 'invalid input', 'out of memory', 'training diverged',
    'data mismatch', 'invalid state'];

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
      const v = this.#doubles(8, (out) => this.engine.module._lathe_engine_session_progress(this.ptr, out));
      return { epoch: v[0], epochs: v[1], batch: v[2], batchesPerEpoch: v[3], steps: v[4],
        lastEpochLoss: v[5], done: v[6] === 1, trainRows: v[7] };
    }

    evaluate(split) {
      if (!(split in SPLITS)) throw new TypeError(`unknown split ${split}`);
      const v = this.#doubles(6, (out) => this.engine.module._lathe_engine_session_evaluate(this.ptr, SPLITS[split], out));
      const num = (x) => (Number.isNaN(x) ? null : x);
      return { rows: v[0], loss: num(v[1]), accuracy: num(v[2]), mse: num(v[3]), mae: num(v[4]), r2: num(v[5]) };
    }

    shape() {
      const v = this.#doubles(4, (out) => this.engine.module._lathe_engine_session_shape(this.ptr, out));
      return { features: v[0], classes: v[1], parameters: v[2], testRows: v[3] };
    }

    /** The evaluation of a split: metrics, class report, confusion matrix, per-row results. */
    report(split) {
      if (!(split in SPLITS)) throw new TypeError(`unknown split ${split}`);
      this.#alive();
      const m = this.engine.module;
      const outPtr = m._malloc(4);
      const err = m._lathe_engine_error_create();
      let text = 0;
      try {
        if (!outPtr || !err) throw new LatheError(2, 'out of memory');
        const status = m._lathe_engine_session_report_json(this.ptr, SPLITS[split], outPtr, err);
        if (status !== 0) throw new LatheError(status, m.UTF8ToString(m._lathe_engine_error_message(err)));
        text = m.HEAPU32[outPtr >> 2];
        return JSON.parse(m.UTF8ToString(text));
      } finally {
        if (text) m._lathe_engine_string_free(text);
        m._free(outPtr);
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

  class LatheEngine {
    constructor(module) { this.module = module; }

    /** Instantiates the wasm engine. options are passed to createLatheEngine. */
    static async load(options = {}) {
      const factory = root.createLatheEngine || (typeof require === 'function' ? require('./lathe_engine.js') : null);
      if (!factory) throw new Error('lathe_engine.js is not loaded');
      return new LatheEngine(await factory(options));
    }

    /** A training session for an experiment (object or JSON text) and its data bytes. */
    createSession(experiment, dataBytes) {
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
        const status = m._lathe_engine_session_create(jsonPtr, json.length, dataPtr, data.length, outPtr, err);
        if (status !== 0) throw new LatheError(status, m.UTF8ToString(m._lathe_engine_error_message(err)));
        return new Session(this, m.HEAPU32[outPtr >> 2]);
      } finally {
        m._free(jsonPtr);
        m._free(dataPtr);
        m._free(outPtr);
        if (err) m._lathe_engine_error_destroy(err);
      }
    }
  }

  const api = { LatheEngine, LatheError };
  if (typeof module === 'object' && module.exports) module.exports = api;
  root.Lathe = api;
})(typeof self !== 'undefined' ? self : globalThis);
