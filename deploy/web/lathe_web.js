// A Lathe model in a web page, inference only (lathe export MODEL --format web):
//   import { load } from './lathe_web.js';
//   const m = await load('./model.lathe.json');
//   m.predict([{ sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 }]);
// Rows are raw: objects keyed by column or arrays in m.inputs order, as `lathe predict` reads
// CSV cells (categories as strings, null, undefined or NaN when missing). This module reads
// the model file and encodes the rows as the core's CSV reader and lathe_prepare_rows do; the
// fitted scaling steps and the network run in lathe_infer.wasm, Lathe's C core, built from a
// compact description of the model (core/include/lathe/compact_model.h), so the predictions
// are `lathe predict`'s, bit for bit. This module is the only code that touches the wasm heap.
import createLatheInfer from './lathe_infer.js';

/** A failed call of the core or a refused model file or row: status, and a message that says
 * what, where and why. */
export class LatheError extends Error {
  constructor(status, message) {
    super(message);
    this.name = 'LatheError';
    this.status = status;
  }
}

let runtime = null; // Promise of the wasm module, made once per page

/** Loads the model file at url (fetched, then checked field by field here and against its
 * weights hash by the core): a Model. */
export async function load(url) {
  const [w, response] = await Promise.all([(runtime ||= createLatheInfer()), fetch(url)]);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return new Model(w, await response.text());
}

const fail = (message) => {
  throw new LatheError(1, message);
};

/** Copies bytes into the heap: the pointer (free with _free). */
function copyIn(w, bytes) {
  const p = w._malloc(bytes.length || 1);
  if (!p) throw new LatheError(2, 'out of memory');
  w.HEAPU8.set(bytes, p);
  return p;
}

// ---- the model file (docs/model-format.md), checked as lathe_model_load checks it ----

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const whole = (v, max) => Number.isInteger(v) && v >= 0 && v <= max;
const U32 = 4294967295;

function field(obj, name, path, test, what) {
  const v = obj[name];
  if (v === undefined) fail(`${path}${name}: missing`);
  if (!test(v)) fail(`${path}${name}: must be ${what}`);
  return v;
}
const str = (obj, name, path) => field(obj, name, path, (v) => typeof v === 'string', 'a string');
const arr = (obj, name, path) => field(obj, name, path, Array.isArray, 'an array');
const count = (obj, name, path, max = U32) =>
  field(obj, name, path, (v) => whole(v, max), `a whole number in [0, ${max}]`);

/** obj.name as n float32 values, each finite (null for NaN when nullable); from version 5 also
 * the base64 of n little-endian float32 (NaN bits where nullable). */
function floats(obj, name, path, n, nullable, version = 1) {
  if (typeof obj[name] === 'string') {
    if (version < 5) fail(`${path}${name}: base64 values need a version 5 model file (else an array)`);
    const out = new Float32Array(base64(obj[name], path + name, 4 * n).buffer, 0, n);
    out.forEach(
      (v, i) =>
        Number.isFinite(v) ||
        (nullable && v !== v) ||
        fail(`${path}${name}[${i}]: must be a finite float32${nullable ? ' or NaN' : ''}`),
    );
    return out;
  }
  const a = arr(obj, name, path);
  if (a.length !== n) fail(`${path}${name}: ${a.length} values, expected ${n} (one per feature)`);
  return Float32Array.from(a, (v, i) => {
    if (nullable && v === null) return NaN;
    const x = Math.fround(v);
    if (typeof v !== 'number' || !Number.isFinite(x))
      fail(`${path}${name}[${i}]: must be a finite float32 number${nullable ? ' or null' : ''}`);
    return x;
  });
}

/** The n bytes that padded base64 text holds (where names it: the messages say where). */
function base64(text, where, n) {
  const len = text.length;
  const want = Math.ceil(n / 3) * 4;
  const pad = n % 3 ? 3 - (n % 3) : 0;
  if (len !== want)
    fail(
      `${where}: ${len} base64 characters hold about ${Math.floor(((len >> 2) * 3) / 4)} floats, expected ${Math.floor(n / 4)} (${want} characters)`,
    );
  let i = text.slice(0, len - pad).search(/[^A-Za-z0-9+/]/); // the first wrong character
  if (i < 0 && /[^=]/.test(text.slice(len - pad))) i = len - pad + text.slice(len - pad).search(/[^=]/);
  if (i >= 0) {
    const c = text.charCodeAt(i) >= 32 && text.charCodeAt(i) < 127 ? text[i] : '?';
    fail(
      `${where}: character ${i + 1} ('${c}') is not ${i >= len - pad ? "the padding '=' expected there" : 'base64'}`,
    );
  }
  return Uint8Array.from(atob(text), (ch) => ch.charCodeAt(0));
}

/** obj.name: n little-endian float32 values in padded base64, each finite. */
function tensor(obj, name, path, n) {
  const text = str(obj, name, path);
  const where = path + name;
  const len = text.length;
  if (len !== Math.ceil((4 * n) / 3) * 4 && len % 4 === 0) {
    const have = (len / 4) * 3 - (text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0);
    fail(`${where}: ${Math.floor(have / 4)}${have % 4 ? ' and a fraction of' : ''} floats, expected ${n}`);
  }
  const out = new Float32Array(base64(text, where, 4 * n).buffer, 0, n);
  out.forEach((v, i) => Number.isFinite(v) || fail(`${where}[${i}]: the value is ${v !== v ? 'NaN' : 'infinite'}`));
  return out;
}

/** A dense or conv2d layer's n weights: "weights", or version 3's "weights_sparse" {nonzeros,
 * mask: a bit per weight (least significant first), set where it is not +0.0, values: those
 * weights in order}. */
function weights(layer, path, n, version) {
  if (layer.int8 !== undefined)
    fail(`${path}int8: an int8 layer (lathe quantize); the web runtime holds float models: export the float model`);
  const s = layer.weights_sparse;
  if (s === undefined) return tensor(layer, 'weights', path, n);
  if (version < 3) fail(`${path}weights_sparse: needs a version 3 model file`);
  if (layer.weights !== undefined) fail(`${path}weights: and weights_sparse: give one of them`);
  if (!isObject(s)) fail(`${path}weights_sparse: must be an object`);
  const at = `${path}weights_sparse.`;
  const k = count(s, 'nonzeros', at, n);
  const mask = base64(str(s, 'mask', at), `${at}mask`, Math.ceil(n / 8));
  const values = tensor(s, 'values', at, k);
  const out = new Float32Array(n);
  let j = 0;
  let i = 0;
  for (; i < n; i++) {
    if (!((mask[i >> 3] >> (i & 7)) & 1)) continue;
    if (j === k) break;
    if (Object.is(values[j], 0)) fail(`${at}values[${j}]: +0.0, which the mask stores`);
    out[i] = values[j++];
  }
  if (i < n || j !== k || (n % 8 && mask[mask.length - 1] >> (n % 8))) {
    const set = mask.reduce((c, b) => c + [...b.toString(2)].filter((d) => d === '1').length, 0);
    fail(`${path}weights_sparse: the mask marks ${set} values (bits past weight ${n} included), nonzeros says ${k}`);
  }
  return out;
}

const TYPES = ['numeric', 'categorical', 'boolean']; // lathe_column_type
const KINDS = { dense: 0, conv2d: 2, max_pool: 3, avg_pool: 4, flatten: 5, batch_norm: 6, dropout: 7 };
const ACTIVATIONS = ['identity', 'relu', 'leaky_relu', 'sigmoid', 'tanh']; // kind 1 (lathe_activation)

/** The preparation: task, target, inputs (with their features and categories), classes,
 * image, the fill per feature and the scaling steps. */
function readPreparation(prep, version) {
  if (!isObject(prep)) fail(`preparation: ${prep === undefined ? 'missing' : 'must be an object'}`);
  const p = 'preparation.';
  const task = str(prep, 'task', p);
  if (task !== 'classification' && task !== 'regression')
    fail(`preparation.task: '${task}' is neither classification nor regression`);
  const target = str(prep, 'target', p);
  if (!target) fail('preparation.target: must name a column');
  const features = arr(prep, 'features', p);
  const F = features.length;
  if (F === 0 || F > 16777216) fail(`preparation.features: ${F} features (1 to 16777216 allowed)`);
  // version 5: "features" means each feature is a numeric column of its own name
  const inputs =
    version >= 5 && prep.inputs === 'features'
      ? features.map((column) => ({ column, type: 'numeric', features: 1 }))
      : typeof prep.inputs === 'string'
        ? fail(`preparation.inputs: must be an array${version >= 5 ? ', or "features"' : ''}`)
        : arr(prep, 'inputs', p);
  if (!inputs.length || inputs.length > F) fail(`preparation.inputs: ${inputs.length} inputs for ${F} features`);
  const classes = arr(prep, 'classes', p);
  if (task === 'classification' && (classes.length < 2 || classes.length > 65536))
    fail(`preparation.classes: a classifier needs 2 to 65536 classes, it has ${classes.length}`);
  if (task === 'regression' && classes.length) fail('preparation.classes: a regression model has no classes');
  for (const [name, list] of [
    ['features', features],
    ['classes', classes],
  ])
    list.forEach((s, i) => typeof s === 'string' || fail(`preparation.${name}[${i}]: must be a string`));

  let fill = new Float32Array(F).fill(NaN);
  const steps = []; // {shift, scale}, in order
  let imputed = false;
  if (version === 1) {
    if ('steps' in prep) fail('preparation.steps: a version 1 file has fill, shift and scale');
    fill = floats(prep, 'fill', p, F, true);
    steps.push({ shift: floats(prep, 'shift', p, F), scale: floats(prep, 'scale', p, F) });
  } else {
    for (const f of ['fill', 'shift', 'scale'])
      if (f in prep) fail(`preparation.${f}: version 2 keeps its fitted values in preparation.steps`);
    const list = arr(prep, 'steps', p);
    if (list.length > 32) fail(`preparation.steps: ${list.length} steps (at most 32)`);
    list.forEach((s, k) => {
      const path = `preparation.steps[${k}].`;
      if (!isObject(s)) fail(`preparation.steps[${k}]: must be an object`);
      const op = str(s, 'op', path);
      const impute = op === 'impute';
      if (!impute && op !== 'standardize' && op !== 'minmax')
        fail(`${path}op: '${op}' is not a fitted step (impute, standardize, minmax)`);
      if (impute && k > 0)
        fail(`${path}op: an impute must be the first step (it fills cells while the rows are encoded)`);
      for (const key of Object.keys(s))
        if (key !== 'op' && !(impute ? key === 'fill' : key === 'shift' || key === 'scale'))
          fail(`${path}${key}: not a field of ${op}`);
      if (impute) ((fill = floats(s, 'fill', path, F, true, version)), (imputed = true));
      else
        steps.push({
          shift: floats(s, 'shift', path, F, false, version),
          scale: floats(s, 'scale', path, F, false, version),
        });
    });
  }
  let total = 0;
  const cols = inputs.map((v, i) => {
    const path = `preparation.inputs[${i}].`;
    if (!isObject(v)) fail(`preparation.inputs[${i}]: must be an object`);
    const column = str(v, 'column', path);
    const type = str(v, 'type', path);
    const width = count(v, 'features', path, F);
    const cat = type === 'categorical';
    if (!TYPES.includes(type)) fail(`${path}type: '${type}' is not numeric, boolean or categorical`);
    if ((!cat && width !== 1) || total + width > F)
      fail(`${path}features: ${width} does not fit (${type} column; ${total} of ${F} features already taken)`);
    const categories = [];
    for (let k = total; k < total + width; k++) {
      const name = features[k];
      if (cat ? !name.startsWith(`${column}=`) : name !== column)
        fail(`preparation.features[${k}]: '${name}' is not a feature of input '${column}'`);
      if (!cat) continue;
      categories.push(name.slice(column.length + 1));
      if (version > 1 && !imputed) fill[k] = 0; // without an impute a missing category is all zeros
      if (fill[k] !== 0 && fill[k] !== 1)
        fail(`preparation.${version === 1 ? 'fill' : 'steps[0].fill'}[${k}]: a one-hot fill must be 0 or 1`);
    }
    const input = { column, type, first: total, width, categories };
    total += width;
    return input;
  });
  if (total !== F) fail(`preparation.inputs: they give ${total} features, the model has ${F}`);
  let image = null;
  if (prep.image !== undefined) {
    image = prep.image;
    if (!Array.isArray(image) || image.length !== 3) fail('preparation.image: must be [C, H, W]');
    image.forEach(
      (d, i) => (whole(d, F) && d >= 1) || fail(`preparation.image[${i}]: must be a whole number in [1, ${F}]`),
    );
    const [c, h, w] = image;
    if (c * h * w !== F)
      fail(`preparation.image: [${c}, ${h}, ${w}] holds ${c * h * w} values, the model has ${F} features`);
  }
  return { task, target, F, cols, classes, image, fill, steps };
}

/** The layers: each one's words of the compact description, its parameters and statistics. */
function readLayers(layers, version) {
  const params = [];
  const stats = [];
  const words = layers.map((layer, l) => {
    const path = `layers[${l}].`;
    if (!isObject(layer)) fail(`layers[${l}]: must be an object`);
    const type = str(layer, 'type', path);
    const act = ACTIVATIONS.indexOf(type);
    const kind =
      act >= 0 ? 1 : Object.hasOwn(KINDS, type) ? KINDS[type] : fail(`${path}type: '${type}' is not a layer`);
    // kind, activation, units, filters, kernel, stride, pad, size, rate, in_c, in_h, in_w, channels
    const w = [kind, Math.max(act, 0), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    const c = (name) => count(layer, name, path);
    const shape = () => {
      const a = layer.in;
      if (!Array.isArray(a) || a.length !== 3 || !a.every((d) => whole(d, U32))) fail(`${path}in: must be [C, H, W]`);
      [w[9], w[10], w[11]] = a;
    };
    if (kind === 0) {
      ((w[2] = c('units')), (w[9] = c('in')), (w[10] = w[11] = 1));
      params.push(weights(layer, path, w[2] * w[9], version), tensor(layer, 'bias', path, w[2]));
    } else if (kind === 2) {
      shape();
      ((w[3] = c('filters')), (w[4] = c('kernel')), (w[5] = c('stride')), (w[6] = c('padding')));
      params.push(weights(layer, path, w[3] * w[9] * w[4] * w[4], version), tensor(layer, 'bias', path, w[3]));
    } else if (kind === 3 || kind === 4) {
      shape();
      ((w[7] = c('size')), (w[5] = c('stride')));
    } else if (kind === 5) {
      shape();
    } else if (kind === 6) {
      const n = (w[12] = c('channels'));
      params.push(tensor(layer, 'gamma', path, n), tensor(layer, 'beta', path, n));
      const varies = tensor(layer, 'running_var', path, n);
      stats.push(tensor(layer, 'running_mean', path, n), varies);
      varies.forEach((v, i) => v >= 0 || fail(`${path}running_var[${i}]: a variance of ${v}`));
    } else if (kind === 7) {
      const rate = field(layer, 'rate', path, (v) => typeof v === 'number' && v >= 0 && v < 1, 'in [0, 1)');
      w[8] = new Uint32Array(Float32Array.of(rate).buffer)[0];
    }
    return w;
  });
  return { words, params, stats };
}

/** The compact description of a checked model file (lathe/compact_model.h), as bytes. */
function describe(prep, net, binary, batch, hash) {
  const { F, steps } = prep;
  const L = net.words.length;
  const sum = (list) => list.reduce((n, t) => n + t.length, 0);
  const P = sum(net.params);
  const S = sum(net.stats);
  const buf = new ArrayBuffer(4 * (21 + 13 * L + 2 * steps.length * F + P + S));
  const u = new Uint32Array(buf);
  const f = new Float32Array(buf);
  const image = prep.image || [0, 0, 0];
  u.set([0x314d434c, prep.task === 'regression' ? 1 : 0, binary, F, prep.classes.length, ...image, batch]);
  u.set([steps.length, L, P, S], 9);
  new Uint8Array(buf, 52, 32).set(hash.match(/../g).map((h) => parseInt(h, 16)));
  u.set(net.words.flat(), 21);
  let at = 21 + 13 * L;
  for (const t of [...steps.flatMap((s) => [s.shift, s.scale]), ...net.params, ...net.stats]) {
    f.set(t, at);
    at += t.length;
  }
  return new Uint8Array(buf);
}

// ---- raw rows, as the core's CSV reader and lathe_prepare_rows encode them ----

const MISSING = /^(|na|n\/a|nan|null|\?)$/i;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const BOOLEAN = /^(true|yes|false|no)$/i;
const TRUE = /^(true|yes)$/i;
const FLT_MAX = 3.4028234663852886e38;

/** C's "%.9g" of a float32 value, as lathe_prepare_rows prints a number it matches against
 * categories: 9 significant digits, rounded half to even from the exact binary value. */
function g9(v) {
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  let a = Math.abs(v);
  let e = 0;
  while (!Number.isInteger(a)) ((a *= 2), e--); // |v| = a · 2^e exactly
  let digits = (BigInt(a) * 5n ** BigInt(-e)).toString(); // |v| = digits · 10^e
  let x = digits.length - 1 + e; // the decimal exponent of the first digit
  if (digits.length > 9) {
    const rest = digits.slice(9);
    const half = `5${'0'.repeat(rest.length - 1)}`;
    let head = BigInt(digits.slice(0, 9));
    if (rest > half || (rest === half && head % 2n)) head++;
    digits = head.toString();
    if (digits.length > 9) ((digits = digits.slice(0, 9)), x++);
  }
  digits = digits.replace(/0+$/, '');
  const sign = v < 0 ? '-' : '';
  if (x < -4 || x >= 9) {
    const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${mantissa}e${x < 0 ? '-' : '+'}${String(Math.abs(x)).padStart(2, '0')}`;
  }
  if (x < 0) return `${sign}0.${'0'.repeat(-x - 1)}${digits}`;
  const int = digits.padEnd(x + 1, '0');
  return `${sign}${int.slice(0, x + 1)}${digits.length > x + 1 ? `.${digits.slice(x + 1)}` : ''}`;
}

/** One input column of the rows as the CSV reader reads it: each cell's text (trimmed of
 * spaces and tabs; null when missing) and number, and the column's type (numeric when every
 * present cell is a number, boolean when each is true/false/yes/no, else categorical). */
function readColumn(rows, j, name) {
  const n = rows.length;
  const text = new Array(n);
  const value = new Float32Array(n);
  let numeric = true;
  let boolean = true;
  for (let r = 0; r < n; r++) {
    const row = rows[r];
    const v = Array.isArray(row) ? row[j] : row[name];
    if (v === null || v === undefined || (typeof v === 'number' && v !== v)) {
      text[r] = null;
      continue;
    }
    let t = String(v);
    if (typeof v === 'number' && Number.isFinite(v)) {
      boolean = false; // the shortest text that reads back as v: a number (-0 as "0")
    } else {
      if (t.includes('\0')) fail(`data row ${r + 1}, column '${name}': a NUL character`);
      t = t.toWellFormed ? t.toWellFormed() : t; // as written to UTF-8
      if (/^[ \t]|[ \t]$/.test(t)) t = t.replace(/^[ \t]+|[ \t]+$/g, '');
      if (MISSING.test(t)) {
        text[r] = null;
        continue;
      }
      if (numeric && !NUMBER.test(t)) numeric = false;
      if (boolean && !BOOLEAN.test(t)) boolean = false;
    }
    text[r] = t;
  }
  const type = numeric ? 0 : boolean ? 2 : 1;
  for (let r = 0; r < n; r++) {
    const t = text[r];
    if (t === null || type === 1) continue;
    const x = type === 2 ? +TRUE.test(t) : Number(t);
    if (Math.abs(x) > FLT_MAX) fail(`line ${r + 2}, column '${name}': ${t} is too large for a 32-bit float`);
    value[r] = x;
  }
  return { text, value, type };
}

/** Encodes raw rows into features:(rows, F) and counts the cells of unseen categories. */
function encode(prep, rows) {
  const { F, cols, fill } = prep;
  const x = new Float32Array(rows.length * F);
  let unseen = 0;
  const read = cols.map((inp, j) => {
    const c = readColumn(rows, j, inp.column);
    if (inp.type !== 'categorical' && c.type === 1) {
      const first = c.text.filter((t) => t !== null).sort()[0];
      fail(`column '${inp.column}' holds text (e.g. '${first}'), but the model was trained on numbers in it`);
    }
    return c;
  });
  for (let r = 0; r < rows.length; r++)
    cols.forEach((inp, j) => {
      const { text, value, type } = read[j];
      const at = r * F + inp.first;
      if (text[r] === null) {
        if (inp.type !== 'categorical' && fill[inp.first] !== fill[inp.first])
          fail(
            `data row ${r + 1}, column '${inp.column}': the value is missing and the model has no imputation for it`,
          );
        x.set(fill.subarray(inp.first, inp.first + inp.width), at);
      } else if (inp.type !== 'categorical') {
        x[at] = value[r];
      } else {
        const t = type === 1 ? text[r] : type === 2 ? (value[r] ? 'true' : 'false') : g9(value[r]);
        const slot = inp.categories.lastIndexOf(t);
        if (slot < 0) unseen++;
        else x[at + slot] = 1;
      }
    });
  return { x, unseen };
}

/** A loaded model; free() releases its memory in the wasm heap. */
export class Model {
  constructor(w, text) {
    this.w = w;
    let root;
    try {
      root = JSON.parse(text);
    } catch (e) {
      fail(`the model file is not valid JSON (${e.message})`);
    }
    if (!isObject(root)) fail('the model file must hold a JSON object');
    const format = str(root, 'format', '');
    if (format !== 'lathe-model')
      fail(
        `format: '${format}' is not a Lathe model ("lathe-model")${
          format === 'lathe-experiment' ? '; this is an experiment file: train it with `lathe run`' : ''
        }`,
      );
    const { version } = root;
    if (![1, 2, 3, 4, 5].includes(version))
      fail(
        typeof version === 'number' && version > 5
          ? `version: ${version} is newer than this Lathe reads (1 to 5): update Lathe`
          : 'version: must be 1, 2, 3, 4 or 5',
      );
    const producer = root.producer ?? '';
    if (typeof producer !== 'string') fail('producer: must be a string');
    const x = root.experiment;
    if (!isObject(x)) fail(`experiment: ${x === undefined ? 'missing' : 'must be an object'}`);
    const train = isObject(x.train) ? x.train : {};
    const batch = train.batch_size ?? 32;
    if (!whole(batch, 65536) || batch < 1) fail('experiment: train.batch_size: must be an integer in [1, 65536]');
    const binary = train.loss === 'binary_cross_entropy' ? 1 : 0;
    const prep = readPreparation(root.preparation, version);
    const net = readLayers(arr(root, 'layers', ''), version);
    const hash = str(root, 'weights_sha256', '');
    if (!/^[0-9a-f]{64}$/.test(hash)) fail('weights_sha256: must be 64 lowercase hexadecimal digits');
    this.prep = prep;

    const bytes = describe(prep, net, binary, batch, hash);
    const p = copyIn(w, bytes);
    const err = w._lathe_infer_error_create();
    const out = w._malloc(4);
    try {
      const status = w._lathe_infer_model_load(p, bytes.length, out, err);
      if (status !== 0) throw new LatheError(status, w.UTF8ToString(w._lathe_infer_error_message(err)));
      this.ptr = w.HEAPU32[out >>> 2];
    } finally {
      w._free(out);
      w._lathe_infer_error_destroy(err);
      w._free(p);
    }
    /** {task, target, inputs: [{column, type, categories?}], classes, image, outputs,
     * weights_sha256, producer}: what the model takes and gives. */
    this.info = {
      task: prep.task,
      target: prep.target,
      inputs: prep.cols.map(({ column, type, categories }) =>
        type === 'categorical' ? { column, type, categories } : { column, type },
      ),
      classes: prep.classes,
      image: prep.image,
      outputs: w._lathe_infer_model_outputs(this.ptr),
      weights_sha256: hash,
      producer,
    };
    /** Cells of categories unseen in training in the last predict call (encoded as none). */
    this.unseen = 0;
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
    const list = Array.isArray(rows) ? rows : Array.from(rows);
    const { x, unseen } = encode(this.prep, list);
    const n = list.length * this.info.outputs;
    const px = copyIn(w, new Uint8Array(x.buffer));
    const out = w._malloc(4 * n || 1);
    try {
      if (!out) throw new LatheError(2, 'out of memory');
      w._lathe_infer_model_predict(this.ptr, px, list.length, out);
      this.unseen = unseen;
      return w.HEAPF32.slice(out >>> 2, (out >>> 2) + n); // views re-read after the call
    } finally {
      w._free(out);
      w._free(px);
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
