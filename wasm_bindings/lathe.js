/* The one JavaScript module that touches the wasm heap. It copies inputs in, calls one
 * exported function, copies results out, frees in `finally`, and turns a failed status into
 * a LatheError (check). Loaded as a classic script (importScripts in the worker, require in
 * node) after lathe_engine.js, which defines createLatheEngine. */
(function (root) {
  'use strict';

  /** lathe_status (core/include/lathe/status.h), in the enum's order: each name's value is
   * its place in the list, as in C. */
  const STATUS_NAMES = ['OK', 'ERR_INVALID', 'ERR_NOMEM', 'ERR_DIVERGED', 'ERR_MISMATCH', 'ERR_STATE', 'ERR_LIMIT'];
  const Status = Object.freeze(Object.fromEntries(STATUS_NAMES.map((name, value) => [name, value])));

  class LatheError extends Error {
    constructor(status, message) {
      super(message);
      this.name = 'LatheError';
      this.status = status;
      this.statusName = STATUS_NAMES[status] || 'error'; // e.g. 'ERR_INVALID'
    }
  }

  /** The one place a status becomes an exception: throws LatheError(status, "prefix: " + the
   * message err holds) unless status is OK. */
  function check(m, status, err, prefix) {
    if (status === Status.OK) return;
    const message = m.UTF8ToString(m._lathe_engine_error_message(err) >>> 0);
    throw new LatheError(status, prefix ? `${prefix}: ${message}` : message);
  }

  /** Calls fn(err), an export that returns a status, with an error record made for the call
   * and destroyed after it; a failed status throws (check, with prefix). */
  function call(m, fn, prefix) {
    const err = m._lathe_engine_error_create() >>> 0;
    if (!err) throw new LatheError(Status.ERR_NOMEM, prefix ? `${prefix}: out of memory` : 'out of memory');
    try {
      check(m, fn(err), err, prefix);
    } finally {
      m._lathe_engine_error_destroy(err);
    }
  }

  /** Runs fn(...pointers) with a heap block of each byte size in sizes (8 bytes at least, so
   * an empty one is still a block), freed after; a block that cannot be had throws
   * LatheError(ERR_NOMEM, message). */
  function withHeap(m, sizes, message, fn) {
    // >>> 0: the heap may pass 2 GiB, where a pointer's top bit is set (wasm hands it to
    // JavaScript as a negative number)
    const ptrs = sizes.map((n) => m._malloc(Math.max(8, n)) >>> 0);
    try {
      if (ptrs.includes(0)) throw new LatheError(Status.ERR_NOMEM, message);
      return fn(...ptrs);
    } finally {
      for (const p of ptrs) m._free(p); // free(0) does nothing
    }
  }

  /** A copy of n floats at ptr (the view is taken now: memory may have grown in the call). */
  const f32 = (m, ptr, n) => new Float32Array(m.HEAPF32.buffer, ptr, n).slice();
  const f64 = (m, ptr, n) => new Float64Array(m.HEAPF64.buffer, ptr, n).slice();
  const u32 = (m, ptr) => m.HEAPU32[ptr >>> 2];

  const SPLITS = { train: 0, validation: 1, test: 2 };
  const encoder = new TextEncoder();
  const splitIndex = (split) => {
    if (!(split in SPLITS)) throw new TypeError(`unknown split ${split}`);
    return SPLITS[split];
  };

  /** What the wrappers below share: the engine, the object's pointer, its destroy export. */
  class Handle {
    constructor(engine, ptr, destroy, what) {
      this.engine = engine;
      this.ptr = ptr;
      this.destroy = destroy;
      this.what = what;
    }

    /** The module, once the object is known to be alive (a freed one throws). */
    alive() {
      if (!this.ptr) throw new LatheError(Status.ERR_STATE, `this ${this.what} has been freed`);
      return this.engine.module;
    }

    /** The JSON an export fn(object, ...args, out, err) writes (engine.jsonCall). */
    json(fn, ...args) {
      const m = this.alive();
      return this.engine.jsonCall((out, err) => m[fn](this.ptr, ...args, out, err));
    }

    free() {
      if (this.ptr) this.engine.module[this.destroy](this.ptr);
      this.ptr = 0;
    }
  }

  class Session extends Handle {
    constructor(engine, ptr) {
      super(engine, ptr, '_lathe_engine_session_destroy', 'training session');
    }

    /** Runs up to `batches` mini-batches; throws LatheError (e.g. diverged). */
    step(batches) {
      const m = this.alive();
      call(m, (err) => m._lathe_engine_session_step(this.ptr, batches, err));
    }

    progress() {
      const v = this.#doubles(10, '_lathe_engine_session_progress');
      return {
        epoch: v[0],
        epochs: v[1],
        batch: v[2],
        batchesPerEpoch: v[3],
        steps: v[4],
        lastEpochLoss: v[5],
        done: v[6] === 1,
        trainRows: v[7],
        stoppedEarly: v[8] === 1,
        bestEpoch: v[9],
      };
    }

    evaluate(split) {
      const v = this.#doubles(6, '_lathe_engine_session_evaluate', splitIndex(split));
      const num = (x) => (Number.isNaN(x) ? null : x);
      return { rows: v[0], loss: num(v[1]), accuracy: num(v[2]), mse: num(v[3]), mae: num(v[4]), r2: num(v[5]) };
    }

    shape() {
      const v = this.#doubles(5, '_lathe_engine_session_shape');
      return { features: v[0], classes: v[1], parameters: v[2], testRows: v[3], outputs: v[4] };
    }

    /** A prepared split: {rows, features, x: Float32Array(rows·features), y: Float32Array(rows)}
     * (y: class index or target value). */
    split(split) {
      const s = splitIndex(split);
      const m = this.alive();
      const rows = m._lathe_engine_session_split_rows(this.ptr, s) >>> 0;
      const features = this.shape().features;
      return withHeap(m, [rows * features * 4, rows * 4], 'out of memory copying the prepared data', (x, y) => {
        m._lathe_engine_session_split_copy(this.ptr, s, x, y);
        return { rows, features, x: f32(m, x, rows * features), y: f32(m, y, rows) };
      });
    }

    /** Predictions of the current weights on prepared rows x (Float32Array, n·features):
     * Float32Array(n·outputs) of probabilities or values. */
    predict(x) {
      const m = this.alive();
      const { features, outputs } = this.shape();
      const n = Math.floor(x.length / features);
      if (n * features !== x.length)
        throw new LatheError(Status.ERR_INVALID, `predict: ${x.length} values are not rows of ${features} features`);
      return withHeap(m, [x.length * 4, n * outputs * 4], 'out of memory predicting', (xPtr, out) => {
        m.HEAPF32.set(x, xPtr >>> 2);
        m._lathe_engine_session_predict(this.ptr, n, xPtr, out);
        return f32(m, out, n * outputs);
      });
    }

    /** Milliseconds per prediction of the first n prepared rows of x (Float32Array of rows of
     * features): one timing, predicting again and again until minMs have passed (the data is
     * copied in before the clock starts). */
    timePredict(x, n, minMs) {
      const m = this.alive();
      const { features, outputs } = this.shape();
      return withHeap(m, [n * features * 4, n * outputs * 4], 'out of memory timing predictions', (xPtr, out) => {
        m.HEAPF32.set(x.subarray(0, n * features), xPtr >>> 2);
        const t0 = performance.now();
        let calls = 0,
          dt;
        do {
          m._lathe_engine_session_predict(this.ptr, n, xPtr, out);
          calls++;
          dt = performance.now() - t0;
        } while (dt < minMs);
        return dt / calls;
      });
    }

    /** The layers: [{kind, activation?, in, out, weights, bias, kernel, stride, pad, flops}]. */
    layers() {
      return this.json('_lathe_engine_session_layers_json');
    }

    /** The model file (*.lathe.json) text of the current weights, with the experiment text the
     * session was made with and metrics (an object, or JSON text as quantize gives it)
     * embedded. */
    modelFile(metrics) {
      const m = this.alive();
      const json = typeof metrics === 'string' ? metrics : JSON.stringify(metrics || {});
      const metricsText = encoder.encode(`${json}\0`);
      return withHeap(m, [metricsText.length], 'out of memory writing the model file', (metricsPtr) => {
        m.HEAPU8.set(metricsText, metricsPtr);
        return this.engine.textCall((out, err) => m._lathe_engine_session_model_file(this.ptr, metricsPtr, out, err));
      });
    }

    /** Makes the trainer int8 (lathe_session_quantize): rows calibration rows of the training
     * split (1 to 4096), each input's range from the percentile at both ends (50 to 100; 100:
     * the minimum and maximum). {report (lathe/quantize.h's object: float and int8 metrics,
     * drop_points, weight_bytes, model_bytes, layers…), metrics (JSON text for modelFile, which
     * then writes the int8 model file)}; throws LatheError (too many rows, memory…). */
    quantize(rows, percentile = 100) {
      const m = this.alive();
      return withHeap(m, [4, 4], 'out of memory quantising the model', (report, metrics) => {
        m.HEAPU32[report >>> 2] = 0;
        m.HEAPU32[metrics >>> 2] = 0;
        try {
          call(m, (err) => m._lathe_engine_session_quantize(this.ptr, rows, percentile, report, metrics, err));
          return { report: JSON.parse(m.UTF8ToString(u32(m, report))), metrics: m.UTF8ToString(u32(m, metrics)) };
        } finally {
          if (u32(m, report)) m._lathe_engine_string_free(u32(m, report));
          if (u32(m, metrics)) m._lathe_engine_string_free(u32(m, metrics));
        }
      });
    }

    /** The evaluation of a split: metrics, class report, confusion matrix, ROC and PR curves,
     * calibration bins, per-row results. */
    report(split) {
      return this.json('_lathe_engine_session_report_json', splitIndex(split));
    }

    /** Bytes the trainer allocated (parameters, gradients, optimiser state, activations). */
    memoryBytes() {
      return this.alive()._lathe_engine_session_memory(this.ptr) >>> 0; // a size_t: unsigned
    }

    /** The trainer's whole state as checkpoint bytes (Uint8Array), owned by this experiment
     * text and data: `lathe train EXPERIMENT --resume FILE` continues it. */
    checkpoint() {
      const m = this.alive();
      const size = m._lathe_engine_session_checkpoint_size(this.ptr) >>> 0;
      return withHeap(m, [size], 'out of memory saving the checkpoint', (ptr) => {
        m._lathe_engine_session_checkpoint_save(this.ptr, ptr);
        return new Uint8Array(m.HEAPU8.buffer, ptr, size).slice();
      });
    }

    /** Continues from checkpoint bytes; throws LatheError (another experiment or data, a
     * damaged file) and then leaves the session as it was. */
    restore(bytes) {
      const m = this.alive();
      const data = new Uint8Array(bytes);
      withHeap(m, [data.length], 'out of memory reading the checkpoint', (ptr) => {
        m.HEAPU8.set(data, ptr);
        call(m, (err) => m._lathe_engine_session_checkpoint_restore(this.ptr, ptr, data.length, err));
      });
    }

    weightsSha256() {
      return this.#hex('_lathe_engine_session_weights_sha256');
    }

    dataSha256() {
      return this.#hex('_lathe_engine_session_data_sha256');
    }

    /** The `count` doubles export fn(session, ...args, out) writes. */
    #doubles(count, fn, ...args) {
      const m = this.alive();
      return withHeap(m, [count * 8], 'out of memory', (out) => {
        m[fn](this.ptr, ...args, out);
        return Array.from(f64(m, out, count));
      });
    }

    #hex(fn) {
      const m = this.alive();
      return withHeap(m, [65], 'out of memory', (out) => {
        m[fn](this.ptr, out);
        return m.UTF8ToString(out);
      });
    }
  }

  /** An experiment's data read and prepared, no network built (the Prepare step's preview).
   * free() when done. */
  class Preview extends Handle {
    constructor(engine, ptr) {
      super(engine, ptr, '_lathe_engine_preview_destroy', 'preview');
    }

    /** {task, target, table: [rows, columns], rows: [train, validation, test], features:
     * [names], inputs: [{column, first, width}], classes?: [names]}. */
    info() {
      this.alive();
      this.cached ||= this.json('_lathe_engine_preview_info_json');
      return this.cached;
    }

    /** Rows [first, first + count) of a prepared split, clamped to its rows: {rows, features,
     * x: Float32Array(rows·features), y: Float32Array(rows), source: Float64Array(rows) (each
     * row's row in the table)}. */
    rows(split, first, count) {
      const s = splitIndex(split);
      const info = this.info();
      const features = info.features.length;
      const total = info.rows[s];
      const start = Math.min(Math.max(0, first), total);
      const n = Math.min(Math.max(0, count), total - start);
      const m = this.alive();
      return withHeap(
        m,
        [n * features * 4, n * 4, n * 8],
        'out of memory copying the prepared rows',
        (x, y, source) => {
          m._lathe_engine_preview_rows(this.ptr, s, start, n, x, y, source);
          return { rows: n, features, x: f32(m, x, n * features), y: f32(m, y, n), source: f64(m, source, n) };
        },
      );
    }
  }

  /** A data table read by the engine (CSV or a synthetic generator). free() when done. */
  class Table extends Handle {
    constructor(engine, ptr) {
      super(engine, ptr, '_lathe_engine_table_destroy', 'table');
    }

    /** {rows, columns: [{name, type, categories, count, missing, distinct, min, max, mean,
     * std, q25, q50, q75, top: [[index, count]]}]}. */
    info() {
      return this.json('_lathe_engine_table_info_json');
    }

    /** Column j's values: numbers, category or boolean indices; NaN when missing. */
    column(j) {
      const m = this.alive();
      const [rows, columns] = withHeap(m, [16], 'out of memory', (size) => {
        m._lathe_engine_table_size(this.ptr, size);
        return f64(m, size, 2);
      });
      if (j < 0 || j >= columns) throw new RangeError(`column ${j} of ${columns}`);
      return withHeap(m, [rows * 4], 'out of memory copying a column', (out) => {
        m._lathe_engine_table_column(this.ptr, j, out);
        return f32(m, out, rows);
      });
    }
  }

  /** A loaded model file: predicts on raw CSV rows with its own fitted preparation. */
  /** An image set of IDX files (LatheEngine.idxSet). */
  class IdxSet extends Handle {
    constructor(engine, ptr) {
      super(engine, ptr, '_lathe_engine_idx_set_destroy', 'image set');
    }

    /** {rows, tableBytes, image: [C, H, W]}: the images, the bytes their table takes once
     * read, and their shape. */
    size() {
      const m = this.alive();
      return withHeap(m, [40], 'out of memory', (out) => {
        m._lathe_engine_idx_set_size(this.ptr, out);
        const [rows, tableBytes, ...image] = f64(m, out, 5);
        return { rows, tableBytes, image };
      });
    }
  }

  class Model extends Handle {
    constructor(engine, ptr) {
      super(engine, ptr, '_lathe_engine_model_destroy', 'model');
    }

    /** {task, target, inputs: [{column, type, categories?}], classes, image, outputs,
     * weights_sha256, producer}. */
    info() {
      return this.json('_lathe_engine_model_info_json');
    }

    /** The model as C source (lathe export --format c): {header, source}, the text of
     * NAME.h and NAME.c; name is the C prefix (letters, digits, '_'). */
    exportC(name) {
      const m = this.alive();
      const nameBytes = encoder.encode(`${name}\0`);
      return withHeap(m, [nameBytes.length, 8], 'out of memory writing the C source', (namePtr, out) => {
        m.HEAPU8.set(nameBytes, namePtr);
        m.HEAPU32[out >>> 2] = m.HEAPU32[(out + 4) >>> 2] = 0;
        try {
          call(m, (err) => m._lathe_engine_model_export_c(this.ptr, namePtr, out, out + 4, err));
          return { header: m.UTF8ToString(u32(m, out)), source: m.UTF8ToString(u32(m, out + 4)) };
        } finally {
          for (const at of [out, out + 4]) if (u32(m, at)) m._lathe_engine_string_free(u32(m, at));
        }
      });
    }

    /** What its C export takes (lathe_export_c_footprint): {flash, ram}, the bytes of its
     * constant data (the code aside) and of its static buffers. */
    cFootprint() {
      const m = this.alive();
      return withHeap(m, [16], 'out of memory', (out) => {
        call(m, (err) => m._lathe_engine_model_c_footprint(this.ptr, out, err));
        const [flash, ram] = f64(m, out, 2);
        return { flash, ram };
      });
    }

    /** The model as an ONNX file (lathe export --format onnx): Uint8Array. */
    exportOnnx() {
      const m = this.alive();
      return withHeap(m, [4, 4], 'out of memory writing the ONNX file', (out, size) => {
        m.HEAPU32[out >>> 2] = 0;
        try {
          call(m, (err) => m._lathe_engine_model_export_onnx(this.ptr, out, size, err));
          return new Uint8Array(m.HEAPU8.buffer, u32(m, out), u32(m, size)).slice();
        } finally {
          if (u32(m, out)) m._lathe_engine_string_free(u32(m, out));
        }
      });
    }

    /** Predictions on CSV bytes: {rows, outputs, unseen, values: Float32Array(rows·outputs)}. */
    predictCsv(bytes) {
      const m = this.alive();
      const data = new Uint8Array(bytes);
      return withHeap(
        m,
        [data.length, 4, 24],
        'out of memory: the file is too large for this tab',
        (dataPtr, outPtr, info) => {
          m.HEAPU8.set(data, dataPtr);
          m.HEAPU32[outPtr >>> 2] = 0;
          try {
            call(m, (err) => m._lathe_engine_model_predict_csv(this.ptr, dataPtr, data.length, outPtr, info, err));
            const [rows, outputs, unseen] = f64(m, info, 3);
            return { rows, outputs, unseen, values: f32(m, u32(m, outPtr), rows * outputs) };
          } finally {
            if (u32(m, outPtr)) m._lathe_engine_string_free(u32(m, outPtr));
          }
        },
      );
    }
  }

  class LatheEngine {
    constructor(module) {
      this.module = module;
    }

    /** Live allocations of the core (a leak check: equal before and after a full cycle). */
    allocLive() {
      return this.module._lathe_engine_alloc_live();
    }

    /** Copies bytes into a heap block and calls fn(ptr, length) with it (freed after);
     * throws LatheError(ERR_NOMEM, message) when the block cannot be had. */
    withBytes(bytes, message, fn) {
      const m = this.module;
      const data = new Uint8Array(bytes);
      return withHeap(m, [data.length], message, (ptr) => {
        m.HEAPU8.set(data, ptr);
        return fn(ptr, data.length);
      });
    }

    /** Calls fn(outPtr, err), an export that returns a status and writes an object's pointer
     * to *outPtr; returns the pointer. A failed status throws (check, with prefix). */
    outCall(fn, prefix) {
      const m = this.module;
      return withHeap(m, [4], prefix ? `${prefix}: out of memory` : 'out of memory', (outPtr) => {
        m.HEAPU32[outPtr >>> 2] = 0;
        call(m, (err) => fn(outPtr, err), prefix);
        return u32(m, outPtr);
      });
    }

    /** Loads model file text; throws LatheError naming the damaged field. free() when done. */
    loadModel(text) {
      const m = this.module;
      return this.withBytes(
        encoder.encode(text),
        'out of memory: the model file is too large for this tab',
        (ptr, n) =>
          new Model(
            this,
            this.outCall((out, err) => m._lathe_engine_model_load(ptr, n, out, err)),
          ),
      );
    }

    /** An ONNX file (bytes) as a model file: {model (its text), notes (the import's choices,
     * one per line, or '')}; classes and inputs (comma-separated, or '': from the file, else
     * numbered) name the outputs and the input columns. Throws LatheError naming the node and
     * the reason when the graph is not one Lathe holds. */
    importOnnx(bytes, classes = '', inputs = '') {
      const m = this.module;
      const names = encoder.encode(`${classes}\0${inputs}\0`);
      const inputsAt = encoder.encode(`${classes}\0`).length;
      return this.withBytes(bytes, 'out of memory: the ONNX file is too large for this tab', (ptr, n) =>
        withHeap(m, [names.length, 4, 4], 'out of memory importing the ONNX file', (namesPtr, out, notes) => {
          m.HEAPU8.set(names, namesPtr);
          m.HEAPU32[out >>> 2] = 0;
          m.HEAPU32[notes >>> 2] = 0;
          try {
            call(m, (err) => m._lathe_engine_onnx_import(ptr, n, namesPtr, namesPtr + inputsAt, out, notes, err));
            return { model: m.UTF8ToString(u32(m, out)), notes: m.UTF8ToString(u32(m, notes)) };
          } finally {
            if (u32(m, out)) m._lathe_engine_string_free(u32(m, out));
            if (u32(m, notes)) m._lathe_engine_string_free(u32(m, notes));
          }
        }),
      );
    }

    /** Throws LatheError(ERR_LIMIT, the numbers) when an IDX set of these images would not
     * fit the heap once read and prepared: head, the images file's first bytes (its header,
     * gzip undone); rowsBefore, the images of the set's parts before it. A header that does
     * not parse passes (the reader names what is wrong). */
    imagesFit(head, rowsBefore = 0) {
      const m = this.module;
      this.withBytes(head, 'out of memory', (ptr, n) =>
        call(m, (err) => m._lathe_engine_images_fit(ptr, n, rowsBefore, err)),
      );
    }

    /** An image set of IDX files: parts [{images, labels, test}], each file {name, stored
     * (its bytes as stored, gzipped or not: hashed for the fingerprint), bytes (gzip undone;
     * omitted when not gzipped)}, the test part last; classes (may be empty) names the
     * labels. An IdxSet to pass as the data of createTable, createPreview and createSession;
     * free() when done. A bad file's error starts with its name. */
    idxSet(parts, classes = []) {
      const m = this.module;
      const set = new IdxSet(
        this,
        this.outCall((out, err) => m._lathe_engine_idx_set_create(out, err)),
      );
      try {
        for (const part of parts) {
          const file = (f) => [
            encoder.encode(`${f.name}\0`),
            new Uint8Array(f.stored),
            f.bytes ? new Uint8Array(f.bytes) : null,
          ];
          const views = [...file(part.images), ...file(part.labels)];
          // views: images name, stored, idx (null: the stored bytes), labels name, stored, idx
          withHeap(
            m,
            views.map((v) => (v ? v.length : 0)),
            `${part.images.name}: out of memory: the files are too large for this tab`,
            (...ptrs) => {
              views.forEach((v, i) => v && m.HEAPU8.set(v, ptrs[i]));
              const at = (i) => (views[i] ? [ptrs[i], views[i].length] : [ptrs[i - 1], views[i - 1].length]);
              call(m, (err) =>
                m._lathe_engine_idx_set_add(
                  set.ptr,
                  ptrs[0],
                  ptrs[1],
                  views[1].length,
                  ...at(2),
                  ptrs[3],
                  ptrs[4],
                  views[4].length,
                  ...at(5),
                  part.test ? 1 : 0,
                  err,
                ),
              );
            },
          );
        }
        if (classes.length) {
          const names = encoder.encode(classes.join('\n'));
          withHeap(m, [names.length + 1], 'out of memory', (ptr) => {
            m.HEAPU8.set(names, ptr);
            call(m, (err) => m._lathe_engine_idx_set_classes(set.ptr, ptr, names.length, err));
          });
        }
        return set;
      } catch (e) {
        set.free();
        throw e;
      }
    }

    /** The wasm heap: {max, used} bytes (what it may grow to, what is allocated now). */
    heap() {
      const m = this.module;
      return withHeap(m, [16], 'out of memory', (out) => {
        m._lathe_engine_heap(out);
        const [max, used] = f64(m, out, 2);
        return { max, used };
      });
    }

    /** 8-bit pixels (Uint8Array of h·w·channels) as a model's input (c, oh, ow): a
     * Float32Array in 0…255 (BT.601 luma, area-weighted resampling, as image data sets). */
    imageConvert(pixels, w, h, channels, c, oh, ow) {
      const m = this.module;
      return withHeap(m, [pixels.length, c * oh * ow * 4], 'out of memory converting the image', (src, out) => {
        m.HEAPU8.set(pixels, src);
        call(m, (err) => m._lathe_engine_image_convert(src, w, h, channels, c, oh, ow, out, err));
        return f32(m, out, c * oh * ow);
      });
    }

    /** `copies` augmented copies of n images (pixels: Float32Array of n·C·H·W, image [C, H, W])
     * with the augment step's settings {shift, flip, rotate, noise} and the experiment's seed,
     * as the core makes them: a Float32Array of (copies, n, C·H·W). */
    augmentImages(pixels, image, settings, seed, copies) {
      const m = this.module;
      const size = image[0] * image[1] * image[2];
      const n = pixels.length / size;
      return withHeap(
        m,
        [pixels.length * 4, copies * pixels.length * 4, size * 4],
        'out of memory augmenting the images',
        (src, dst, tmp) => {
          m.HEAPF32.set(pixels, src >>> 2);
          m._lathe_engine_augment_images(
            src,
            dst,
            tmp,
            n,
            copies,
            image[0],
            image[1],
            image[2],
            settings.shift || 0,
            settings.flip ? 1 : 0,
            settings.rotate || 0,
            settings.noise || 0,
            seed,
          );
          return f32(m, dst, copies * pixels.length);
        },
      );
    }

    /** Calls fn(outPtr, err) of an export that returns a status and a string to free;
     * returns the string. */
    textCall(fn) {
      const m = this.module;
      const text = this.outCall(fn);
      try {
        return m.UTF8ToString(text);
      } finally {
        if (text) m._lathe_engine_string_free(text);
      }
    }

    jsonCall(fn) {
      return JSON.parse(this.textCall(fn));
    }

    /** Calls the engine's create function fn (experiment JSON, data bytes, image set, out
     * pointer, error) and wraps the object it makes in Cls. data is CSV bytes, an IdxSet or
     * null (a synthetic set). */
    createFromExperiment(fn, Cls, experiment, data, ...extra) {
      const m = this.module;
      const json = encoder.encode(typeof experiment === 'string' ? experiment : JSON.stringify(experiment));
      const images = data instanceof IdxSet ? data : null;
      const bytes = data && !images ? new Uint8Array(data) : new Uint8Array(0);
      return withHeap(
        m,
        [json.length, bytes.length],
        'out of memory: the data is too large for this tab',
        (jsonPtr, dataPtr) => {
          m.HEAPU8.set(json, jsonPtr);
          m.HEAPU8.set(bytes, dataPtr);
          const set = images ? images.alive() && images.ptr : 0;
          return new Cls(
            this,
            this.outCall((out, err) => m[fn](jsonPtr, json.length, dataPtr, bytes.length, set, ...extra, out, err)),
          );
        },
      );
    }

    /** The data of an experiment (object or JSON text; it must be valid) as a Table: CSV
     * bytes, an IdxSet, or the synthetic set its data and seed describe (data ignored). */
    createTable(experiment, data) {
      return this.createFromExperiment('_lathe_engine_table_create', Table, experiment, data);
    }

    /** The data of an experiment prepared by its steps, without a network (a Preview). */
    createPreview(experiment, data) {
      return this.createFromExperiment('_lathe_engine_preview_create', Preview, experiment, data);
    }

    /** A training session for an experiment (object or JSON text) and its data (CSV bytes, an
     * IdxSet or null). */
    createSession(experiment, data) {
      return this.createFromExperiment('_lathe_engine_session_create', Session, experiment, data);
    }

    /** createSession for fine-tuning: training starts from the weights of init (model file
     * text) and the data is encoded and scaled with its fitted preparation, as `lathe train
     * --init` does; the experiment's layers must be the model's. */
    createFineTuning(experiment, data, init) {
      const model = this.loadModel(init);
      try {
        return this.createFromExperiment('_lathe_engine_session_create_init', Session, experiment, data, model.ptr);
      } finally {
        model.free();
      }
    }

    /** Instantiates the wasm engine. options are passed to createLatheEngine; factory is
     * another module's (createLatheDeploy: the deploy tools, whose exports are the model
     * loader's and the exporters'). */
    static async load(options = {}, factory = null) {
      const create =
        factory || root.createLatheEngine || (typeof require === 'function' ? require('./lathe_engine.js') : null);
      if (!create) throw new Error('lathe_engine.js is not loaded');
      return new LatheEngine(await create(options));
    }
  }

  const api = { LatheEngine, LatheError, Status };
  if (typeof module === 'object' && module.exports) module.exports = api;
  root.Lathe = api;
})(typeof self !== 'undefined' ? self : globalThis);
