/* The page's one state object. The experiment (docs/experiment-format.md) as the user edits
 * it serialises to the experiment file, to the URL (#experiment=…) and to local storage, so a
 * reload or a shared link restores it; the rest is what the page has made of it in this tab.
 * Every change goes through setText/update (the experiment) or set (the other fields), and
 * each dispatches 'change' with detail.keys, the fields it changed ('experiment' for the
 * experiment's, with detail.source: who changed it, e.g. 'editor'). */
const STORAGE_KEY = 'lathe.experiment';

/** The fields set() may change, with what each holds (null: none yet). */
const FIELDS = {
  /** {name, bytes, fromIdx} of the user's file: it never leaves the tab. */
  upload: null,
  /** {info (with image [C, H, W] for IDX files), columns, memory}: the data as the engine read it. */
  table: null,
  /** The Model step's network as the engine built it: {parameters, flops, memory}, or {error}. */
  design: null,
  /** The run's phase: null (none), 'starting' (its data is being read), 'running' or 'paused'. */
  training: null,
  /** The run in progress, or the last one the worker's failures stopped: {id, text, data,
   * faults, checkpoint: {bytes, progress, history} or null}. */
  run: null,
  /** The model training starts from (fine-tuning, `lathe train --init`): {name, file (its
   * model file's name), text, sha}, or null (training starts from the seed's weights). */
  init: null,
  /** The last finished run: {experiment (its text), metrics, progress, report, history,
   * weightsSha256, dataSha256, modelFile, checkpoint}. */
  result: null,
};

export class PageState extends EventTarget {
  constructor() {
    super();
    this.text = ''; // the experiment file's text (may be invalid while typed)
    this.experiment = null; // the last valid parse of text
    this.valid = false;
    Object.assign(this, FIELDS);
  }

  /** Sets some of the fields above ({name: value}). */
  set(fields) {
    const keys = Object.keys(fields);
    for (const k of keys) if (!(k in FIELDS)) throw new TypeError(`the page state has no field ${k}`);
    Object.assign(this, fields);
    this.dispatchEvent(new CustomEvent('change', { detail: { keys } }));
  }

  /** Replaces the experiment with text (from the editor, a file, a link); source names who. */
  setText(text, source = 'editor') {
    this.text = text;
    try {
      this.experiment = JSON.parse(text);
      this.valid = this.experiment !== null && typeof this.experiment === 'object';
    } catch {
      this.valid = false;
    }
    this.#persist();
    this.dispatchEvent(new CustomEvent('change', { detail: { source, keys: ['experiment'] } }));
  }

  /** Edits a copy of the experiment with fn(experiment) and replaces it (pretty printed). */
  update(fn, source = 'control') {
    if (!this.valid) return false;
    const next = structuredClone(this.experiment);
    fn(next);
    this.setText(JSON.stringify(next, null, 2), source);
    return true;
  }

  /** The image shape [C, H, W] of the data: the experiment's data.image, else the one its
   * IDX files give (the table as read), else null. */
  imageShape() {
    const data = (this.valid && this.experiment.data) || {};
    if (Array.isArray(data.image) && data.image.length === 3) return data.image;
    return (this.table && this.table.info.image) || null;
  }

  /** The download name of the experiment file. */
  fileName() {
    const data = (this.valid && this.experiment.data) || {};
    const file =
      data.file || (Array.isArray(data.files) && String(data.files[0]).replace(/[.-]idx[0-9]*[.-]ubyte(\.gz)?$/i, ''));
    const base = data.builtin || data.synthetic || String(file || 'lathe').replace(/\.[^.]*$/, '');
    return `${base}.experiment.json`;
  }

  /** The experiment text kept in the URL (a shared link wins), else kept (IndexedDB's copy),
   * else in local storage, or null. */
  static saved(kept) {
    const match = location.hash.match(/^#experiment=(.*)$/);
    if (match) {
      try {
        const text = JSON.stringify(JSON.parse(decodeURIComponent(match[1])), null, 2);
        // the kept text, when it is the same experiment, keeps its own bytes (a checkpoint's owner)
        return kept && sameJson(kept, text) ? kept : text;
      } catch {
        /* fall through */
      }
    }
    if (kept) return kept;
    try {
      return localStorage.getItem(STORAGE_KEY);
    } catch {
      return null;
    }
  }

  #persist() {
    try {
      localStorage.setItem(STORAGE_KEY, this.text);
    } catch {
      /* storage may be disabled */
    }
    if (this.valid)
      history.replaceState(null, '', `#experiment=${encodeURIComponent(JSON.stringify(this.experiment))}`);
    // an invalid text keeps the last valid link while the user is typing
  }
}

/** Whether two experiment texts hold the same JSON (formatting aside). */
export function sameJson(a, b) {
  try {
    return JSON.stringify(JSON.parse(a)) === JSON.stringify(JSON.parse(b));
  } catch {
    return false;
  }
}

/** The first preparation op of a kind (or of any of kinds), and its index (-1: none). */
export function findOp(experiment, ...kinds) {
  const ops = experiment.prepare || [];
  const index = ops.findIndex((op) => kinds.includes(op.op));
  return { op: index >= 0 ? ops[index] : null, index };
}

/** Replaces the op at index with op (null removes it): the steps run in list order, so an
 * edit names its step. Index -1 adds op where the format needs it: drop steps first, then
 * split, impute, then scaling. */
export function setOp(experiment, index, op) {
  const order = [
    'drop_columns',
    'drop_missing',
    'drop_duplicates',
    'split',
    'balance_classes',
    'augment',
    'impute',
    'standardize',
    'minmax',
  ];
  const ops = (experiment.prepare = experiment.prepare || []);
  if (index >= 0) {
    if (op) ops[index] = op;
    else ops.splice(index, 1);
    return;
  }
  if (!op) return;
  const rank = order.indexOf(op.op);
  let at = ops.findIndex((o) => order.indexOf(o.op) > rank);
  if (at < 0) at = ops.length;
  ops.splice(at, 0, op);
}
