// A Lathe model in a web page, inference only (lathe export MODEL --format web):
//   import { load } from './lathe_web.js';
//   const m = await load('./model.lathe.json');
//   m.predict([{ sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 }]);
// Rows are raw: objects keyed by column or arrays in m.inputs order, as `lathe predict` reads
// CSV cells (categories as strings, null, undefined or NaN when missing). The model's fitted
// preparation and network run in lathe_infer.wasm, Lathe's C core, so the predictions are
// `lathe predict`'s, bit for bit. This module is the only code that touches the wasm heap.
import createLatheInfer from './lathe_infer.js';

/** A failed call of the core: status, and the core's message (what, where, why). */
export class LatheError extends Error {
  constructor(status, message) {
    super(message);
    this.name = 'LatheError';
    this.status = status;
  }
}

let runtime = null; // Promise of the wasm module, made once per page

/** Loads the model file at url (fetched, then checked field by field and against its weights
 * hash by the core): a Model. */
export async function load(url) {
  const [w, response] = await Promise.all([(runtime ||= createLatheInfer()), fetch(url)]);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return new Model(w, new Uint8Array(await response.arrayBuffer()));
}

const utf8 = new TextEncoder();

/** Copies bytes into the heap: the pointer (free with _free). */
function copyIn(w, bytes) {
  const p = w._malloc(bytes.length || 1);
  if (!p) throw new LatheError(5, 'out of memory');
  w.HEAPU8.set(bytes, p);
  return p;
}

/** Runs fn(err, out) with an error and a pointer slot; throws LatheError when it fails,
 * else the pointer it wrote into out. */
function call(w, fn) {
  const err = w._lathe_infer_error_create();
  const out = w._malloc(8);
  try {
    const status = fn(err, out);
    if (status !== 0) throw new LatheError(status, w.UTF8ToString(w._lathe_infer_error_message(err)));
    return w.HEAPU32[out >>> 2];
  } finally {
    w._free(out);
    w._lathe_infer_error_destroy(err);
  }
}

/** A CSV field: quoted when it holds a comma, a quote or a line break. */
const field = (t) => (/[",\r\n]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t);

/** A raw cell as `lathe predict` reads it from CSV: missing as an empty cell, a boolean as
 * true or false, a number as its shortest exact text. */
function cell(v) {
  if (v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v))) return '';
  return field(String(v));
}

/** A loaded model; free() releases its memory in the wasm heap. */
export class Model {
  constructor(w, bytes) {
    this.w = w;
    const text = copyIn(w, bytes);
    try {
      this.ptr = call(w, (err, out) => w._lathe_infer_model_load(text, bytes.length, out, err));
    } finally {
      w._free(text);
    }
    const info = call(w, (err, out) => w._lathe_infer_model_info_json(this.ptr, out, err));
    /** {task, target, inputs: [{column, type, categories?}], classes, image, outputs,
     * weights_sha256, producer}: what the model takes and gives. */
    this.info = JSON.parse(w.UTF8ToString(info));
    w._lathe_infer_free(info);
  }

  /** The input columns' names, in the order array rows give them. */
  get inputs() {
    return this.info.inputs.map((i) => i.column);
  }

  /** The class names (empty for a regression model). */
  get classes() {
    return this.info.classes;
  }

  /** The model's outputs on rows: a Float32Array (rows × outputs) of class probabilities, in
   * classes order, or of predicted values. */
  predictArray(rows) {
    const { w } = this;
    if (!this.ptr) throw new Error('the model was freed');
    const names = this.inputs;
    const lines = [names.map(field).join(',')];
    for (const row of rows) {
      const cells = Array.isArray(row) ? names.map((_, j) => row[j]) : names.map((n) => row[n]);
      lines.push(cells.map(cell).join(','));
    }
    const csv = utf8.encode(`${lines.join('\n')}\n`);
    const text = copyIn(w, csv);
    const info = w._malloc(24);
    try {
      const out = call(w, (err, o) => w._lathe_infer_model_predict_csv(this.ptr, text, csv.length, o, info, err));
      const n = w.HEAPF64[info >>> 3] * w.HEAPF64[(info >>> 3) + 1];
      const values = w.HEAPF32.slice(out >>> 2, (out >>> 2) + n); // views re-read after the call
      w._lathe_infer_free(out);
      return values;
    } finally {
      w._free(info);
      w._free(text);
    }
  }

  /** Predictions on rows, one object each: a classifier's {prediction: the most probable class
   * (the first of equals, as lathe predict), probabilities: {class: p}}, a regression model's
   * {prediction: value}. */
  predict(rows) {
    const values = this.predictArray(rows);
    const { classes } = this.info;
    if (!classes.length) return Array.from(values, (v) => ({ prediction: v }));
    const C = classes.length;
    return Array.from({ length: values.length / C }, (_, r) => {
      const p = values.subarray(r * C, (r + 1) * C);
      let best = 0;
      for (let c = 1; c < C; c++) if (p[c] > p[best]) best = c;
      return { prediction: classes[best], probabilities: Object.fromEntries(classes.map((k, c) => [k, p[c]])) };
    });
  }

  /** Releases the model's memory; the model cannot predict afterwards. */
  free() {
    if (this.ptr) this.w._lathe_infer_model_destroy(this.ptr);
    this.ptr = 0;
  }
}
