/* Step 2, Prepare: the target and task, the split (with stratification), imputation,
 * scaling and the feature columns, and for image data with an augment step a preview of the
 * augmented copies (the core's transforms, through the worker). Each control edits the
 * experiment's prepare list and keeps the ops it does not govern. */
import { $, h } from './dom.js';
import { findOp, setOp } from './state.js';

export class PrepareStep {
  constructor(app) { this.app = app; }

  wire() {
    const edit = (fn) => this.app.state.update(fn);
    $('target').addEventListener('change', (e) => edit((x) => { x.data.target = e.target.value; }));
    $('task').addEventListener('change', (e) => edit((x) => { x.data.task = e.target.value; }));
    const split = () => edit((x) => {
      const old = findOp(x, 'split').op || {};
      const op = { ...old, op: 'split', validation: Number($('split-validation').value) / 100, stratify: $('stratify').checked };
      if (!x.data.builtin || !/mnist/.test(x.data.builtin)) op.test = Number($('split-test').value) / 100;
      setOp(x, ['split'], op);
    });
    for (const id of ['split-test', 'split-validation']) {
      $(id).addEventListener('input', () => { $(`${id}-value`).textContent = `${$(id).value}%`; });
      $(id).addEventListener('change', split);
    }
    $('stratify').addEventListener('change', split);
    $('impute').addEventListener('change', (e) => edit((x) => setOp(x, ['impute'], e.target.value ? { op: 'impute', strategy: e.target.value } : null)));
    $('scale').addEventListener('change', (e) => edit((x) => {
      const old = findOp(x, 'standardize', 'minmax').op;
      setOp(x, ['standardize', 'minmax'], e.target.value ? { ...(old && old.per ? { per: old.per } : {}), op: e.target.value } : null);
    }));
    $('features').addEventListener('change', () => edit((x) => {
      const dropped = [...$('features').querySelectorAll('input:not(:checked)')].map((c) => c.value);
      setOp(x, ['drop_columns'], dropped.length ? { op: 'drop_columns', columns: dropped } : null);
    }));
  }

  sync() {
    const { state, table } = this.app;
    if (!state.valid) return;
    const x = state.experiment;
    const data = x.data || {};
    const split = findOp(x, 'split').op || {};
    const setIf = (id, prop, value) => { if (document.activeElement !== $(id)) $(id)[prop] = value; };
    setIf('task', 'value', data.task || 'classification');
    setIf('split-test', 'value', Math.round(100 * (split.test ?? 0.2)));
    setIf('split-validation', 'value', Math.round(100 * (split.validation ?? 0)));
    $('split-test-value').textContent = `${$('split-test').value}%`;
    $('split-validation-value').textContent = `${$('split-validation').value}%`;
    setIf('stratify', 'checked', split.stratify ?? true);
    setIf('impute', 'value', (findOp(x, 'impute').op || {}).strategy || '');
    setIf('scale', 'value', (findOp(x, 'standardize', 'minmax').op || {}).op || '');
    const names = table ? table.info.columns.map((c) => c.name) : [];
    const target = data.target || (data.synthetic === 'curve' ? 'y' : 'label');
    const options = names.length ? names : [target];
    $('target').replaceChildren(...options.map((n) => new Option(n, n, false, n === target)));
    $('target').disabled = !!data.synthetic;
    const dropped = new Set((findOp(x, 'drop_columns').op || {}).columns || []);
    $('features').replaceChildren(...names.filter((n) => n !== target).map((n, i) => h('label', { className: 'check' },
      h('input', { type: 'checkbox', value: n, checked: !dropped.has(n), id: `feature-${i}` }), n)));
    $('prepare-list').replaceChildren(...(x.prepare || []).map((op) => h('li', {}, describeOp(op))));
    this.syncAugment();
  }

  /** With an augment step on image data: a few training images and the copies the core's
   * augmentation makes of them (the engine's transforms, the experiment's seed). */
  syncAugment() {
    const { state, table } = this.app;
    const x = state.experiment;
    const op = findOp(x, 'augment').op;
    const image = (x.data || {}).image;
    let box = $('augment-preview');
    if (!box) {
      box = h('div', { id: 'augment-preview', 'data-testid': 'augment-preview', 'aria-live': 'polite' });
      $('prepare-list').after(box);
    }
    const ok = op && table && Array.isArray(image) && image.length === 3;
    const key = ok ? JSON.stringify([op, x.seed, image]) : '';
    if (ok && key === this.augmentKey && this.augmentTable === table) return;
    this.augmentKey = key;
    this.augmentTable = table;
    const token = this.augmentToken = (this.augmentToken || 0) + 1; // only the latest answer is shown
    box.replaceChildren();
    if (!ok) return;
    import('./image_upload.js').then((mod) => mod.augmentPreview(this.app.engine, table, op, image, x.seed ?? 0))
      .then((el) => { if (this.augmentToken === token && el) box.replaceChildren(el); })
      .catch((e) => { if (this.augmentToken === token) box.replaceChildren(h('p', { className: 'error' }, `Augmentation preview: ${e.message}`)); });
  }
}

/** One preparation step in words. */
export function describeOp(op) {
  switch (op.op) {
    case 'split': if (op.folds) return `Cross-validation fold ${op.fold ?? 0} of ${op.folds} as validation${op.test === undefined ? '' : `, ${Math.round(100 * op.test)}% test`}${op.stratify === false ? '' : ', stratified'}`;
      return `Split: ${Math.round(100 * (1 - (op.test ?? 0.2) - (op.validation ?? 0)))}% train, ${Math.round(100 * (op.validation ?? 0))}% validation, ${op.test === undefined ? 'the data set\'s own test rows' : `${Math.round(100 * op.test)}% test`}${op.stratify === false ? '' : ', stratified'}`;
    case 'impute': return `Fill missing cells with the training ${op.strategy === 'constant' ? `constant ${op.value}` : op.strategy.replace('_', ' ')}`;
    case 'standardize': return `Standardise (z-score${op.per === 'all' ? ' over all features' : ' per feature'}), fitted on the training rows`;
    case 'minmax': return `Scale to [0, 1]${op.per === 'all' ? ' over all features' : ' per feature'}, fitted on the training rows`;
    case 'drop_columns': return `Drop columns: ${(op.columns || []).join(', ')}`;
    case 'drop_missing': return 'Drop rows with missing cells';
    case 'drop_duplicates': return 'Drop rows that repeat an earlier row';
    case 'balance_classes': return 'Balance the classes: oversample the training rows of smaller classes (seeded)';
    case 'augment': return `Augment the training images: ${op.copies ?? 1} cop${(op.copies ?? 1) === 1 ? 'y' : 'ies'} each (${[op.shift ? `shift ±${op.shift} px` : '', op.flip ? 'flips' : '', op.rotate ? `rotation ±${op.rotate}°` : '', op.noise ? `noise ${op.noise}` : ''].filter(Boolean).join(', ') || 'unchanged'}), seeded`;
    default: return JSON.stringify(op);
  }
}
