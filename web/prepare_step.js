/* Step 2, Prepare: the target and task, the split (with stratification), imputation,
 * scaling and the feature columns; the ordered list of steps, where steps are added, moved
 * and removed (an order the core refuses is marked on its step, with the core's reason); a
 * live before-and-after preview of the data the steps produce (prepare_preview.js, through
 * the worker); and for image data with an augment step a preview of the augmented copies.
 * Each control edits the experiment's prepare list and keeps the ops it does not govern. */
import { $, h } from './dom.js';
import { itemTools, itemMessage, wireItemTools, restoreFocus, markItem } from './edit_list.js';
import { findOp, setOp } from './state.js';

/** The steps "Add a step" offers: their default settings, and when they apply. */
const ADDABLE = [
  { op: 'drop_missing', label: 'drop rows with missing cells', make: () => ({ op: 'drop_missing' }) },
  { op: 'drop_duplicates', label: 'drop duplicate rows', make: () => ({ op: 'drop_duplicates' }) },
  {
    op: 'balance_classes',
    label: 'balance the classes (oversample)',
    make: () => ({ op: 'balance_classes' }),
    classification: true,
  },
  {
    op: 'augment',
    label: 'augment the training images',
    make: () => ({ op: 'augment', copies: 1, shift: 2 }),
    image: true,
  },
  { op: 'impute', label: 'fill missing cells (mean)', make: () => ({ op: 'impute', strategy: 'mean' }) },
  { op: 'standardize', label: 'standardise (z-score)', make: () => ({ op: 'standardize' }) },
  { op: 'minmax', label: 'scale to [0, 1]', make: () => ({ op: 'minmax' }) },
];

/** The augment step's settings as inline fields: [key, label, min, max, step]. */
const AUGMENT_FIELDS = [
  ['copies', 'copies', 1, 100, 1],
  ['shift', 'shift (px)', 0, 64, 1],
  ['rotate', 'rotate (°)', 0, 45, 1],
  ['noise', 'noise (σ)', 0, 1e6, 'any'],
];

export class PrepareStep {
  constructor(app) {
    this.app = app;
  }

  wire() {
    const edit = (fn) => this.app.state.update(fn);
    $('target').addEventListener('change', (e) =>
      edit((x) => {
        x.data.target = e.target.value;
      }),
    );
    $('task').addEventListener('change', (e) =>
      edit((x) => {
        x.data.task = e.target.value;
      }),
    );
    const split = () =>
      edit((x) => {
        const { op: old, index } = findOp(x, 'split');
        const op = {
          ...old,
          op: 'split',
          validation: Number($('split-validation').value) / 100,
          stratify: $('stratify').checked,
        };
        if (!x.data.builtin || !/mnist/.test(x.data.builtin)) op.test = Number($('split-test').value) / 100;
        setOp(x, index, op);
      });
    for (const id of ['split-test', 'split-validation']) {
      $(id).addEventListener('input', () => {
        $(`${id}-value`).textContent = `${$(id).value}%`;
      });
      $(id).addEventListener('change', split);
    }
    $('stratify').addEventListener('change', split);
    $('impute').addEventListener('change', (e) =>
      edit((x) =>
        setOp(x, findOp(x, 'impute').index, e.target.value ? { op: 'impute', strategy: e.target.value } : null),
      ),
    );
    // the Scaling choice edits the one scaling step it shows (with several it is disabled:
    // each is edited in the list)
    $('scale').addEventListener('change', (e) =>
      edit((x) => {
        const old = x.prepare[this.scaleAt] || {};
        setOp(x, this.scaleAt, e.target.value ? { ...(old.per ? { per: old.per } : {}), op: e.target.value } : null);
      }),
    );
    // A feature's box edits the drop steps that name its column: kept, the column leaves each
    // of them (a step left empty goes); dropped, it joins the first drop step (or a new one).
    $('features').addEventListener('change', (e) => {
      const name = e.target.value;
      const keep = e.target.checked;
      edit((x) => {
        if (!keep) {
          const { op, index } = findOp(x, 'drop_columns');
          setOp(x, index, { ...op, op: 'drop_columns', columns: [...((op && op.columns) || []), name] });
          return;
        }
        for (let i = x.prepare.length - 1; i >= 0; i--) {
          // from the last: a removal moves only later steps
          const op = x.prepare[i];
          if (op.op !== 'drop_columns' || !(op.columns || []).includes(name)) continue;
          const columns = op.columns.filter((c) => c !== name);
          setOp(x, i, columns.length ? { ...op, columns } : null);
        }
      });
    });
    $('add-step-button').addEventListener('click', () => {
      const kind = ADDABLE.find((a) => a.op === $('add-step').value);
      if (kind) edit((x) => setOp(x, -1, kind.make()));
      $('add-step').focus();
    });
    wireItemTools($('prepare-list'), this, edit, (x) => x.prepare);
    $('prepare-list').addEventListener('change', (e) => {
      const field = e.target.dataset.field;
      if (!field) return;
      const i = Number(e.target.dataset.index);
      const { type, checked, value } = e.target;
      setTimeout(() =>
        edit((x) => {
          // once the focus has moved on, as in the layer editor
          const op = x.prepare[i];
          if (type === 'checkbox') op[field] = checked;
          else if (value !== '' && Number.isFinite(Number(value))) op[field] = Number(value);
          else delete op[field];
        }),
      );
    });
  }

  sync() {
    const { state } = this.app;
    const { table } = state;
    if (!state.valid) return;
    const x = state.experiment;
    const data = x.data || {};
    const split = findOp(x, 'split').op || {};
    const setIf = (id, prop, value) => {
      if (document.activeElement !== $(id)) $(id)[prop] = value;
    };
    setIf('task', 'value', data.task || 'classification');
    setIf('split-test', 'value', Math.round(100 * (split.test ?? 0.2)));
    setIf('split-validation', 'value', Math.round(100 * (split.validation ?? 0)));
    $('split-test-value').textContent = `${$('split-test').value}%`;
    $('split-validation-value').textContent = `${$('split-validation').value}%`;
    setIf('stratify', 'checked', split.stratify ?? true);
    setIf('impute', 'value', (findOp(x, 'impute').op || {}).strategy || '');
    const scale = findOp(x, 'standardize', 'minmax');
    this.scaleAt = scale.index;
    setIf('scale', 'value', (scale.op || {}).op || '');
    $('scale').disabled = (x.prepare || []).filter((o) => /^(standardize|minmax)$/.test(o.op)).length > 1;
    const names = table ? table.info.columns.map((c) => c.name) : [];
    const target = data.target || (data.synthetic === 'curve' ? 'y' : 'label');
    const options = names.length ? names : [target];
    $('target').replaceChildren(...options.map((n) => new Option(n, n, false, n === target)));
    $('target').disabled = !!data.synthetic;
    // every drop step counts (the core drops the columns of each)
    const dropped = new Set((x.prepare || []).flatMap((op) => (op.op === 'drop_columns' && op.columns) || []));
    const candidates = names.filter((n) => n !== target);
    $('features').replaceChildren(
      ...candidates.map((n, i) =>
        h(
          'label',
          { className: 'check' },
          h('input', { type: 'checkbox', value: n, checked: !dropped.has(n), id: `feature-${i}` }),
          n,
        ),
      ),
    );
    const used = candidates.filter((n) => !dropped.has(n)).length;
    $('features-summary').textContent =
      used === candidates.length
        ? `All ${candidates.length} columns but the target`
        : `${used} of ${candidates.length} columns`;
    const columnsKey = candidates.join('\n');
    if (columnsKey !== this.columnsKey) {
      // new columns: a long list (image pixels) starts folded
      this.columnsKey = columnsKey;
      $('features-details').open = candidates.length <= 40;
    }
    this.syncSteps();
    this.syncAugment();
    this.schedulePreview();
  }

  /** The ordered step list with its move and remove buttons, and "Add a step"'s choices. */
  syncSteps() {
    const x = this.app.state.experiment;
    const ops = Array.isArray(x.prepare) ? x.prepare : [];
    const focus = this.focusAfter;
    this.focusAfter = null;
    const items = ops.map((op, i) => {
      const tools = itemTools(
        i,
        ops.length,
        'step',
        op.op === 'split' ? 'The split cannot be removed: every experiment needs one' : '',
      );
      return h(
        'li',
        { 'data-op': op.op },
        h('span', { className: 'step-text' }, describeOp(op)),
        tools,
        op.op === 'augment' ? augmentFields(op, i) : null,
        itemMessage(),
      );
    });
    const active = $('prepare-list').contains(document.activeElement) ? document.activeElement.id : '';
    $('prepare-list').replaceChildren(...items);
    restoreFocus($('prepare-list'), focus, active);
    const present = new Set(ops.map((op) => op.op));
    const image = !!this.app.state.imageShape();
    const options = ADDABLE.filter(
      (a) => (!a.classification || (x.data || {}).task !== 'regression') && (!a.image || image),
    ).map((a) => new Option(present.has(a.op) ? `${a.label} (already a step)` : a.label, a.op));
    options.forEach((o) => {
      o.disabled = present.has(o.value);
    });
    const keep = $('add-step').value;
    $('add-step').replaceChildren(...options);
    const first = options.find((o) => !o.disabled);
    $('add-step').value = options.some((o) => o.value === keep && !o.disabled) ? keep : first ? first.value : '';
    $('add-step-button').disabled = !first;
  }

  /** Shows an error of the preparation next to the step it names (prepare[i]), or above the
   * preview when it names none; null clears. */
  markError(message) {
    const marked = markItem($('prepare-list'), message, /^prepare\[(\d+)\]/, 'Step');
    $('prepare-error').textContent = message && !marked ? message : '';
    $('prepare-error').hidden = !message || marked;
  }

  /** Asks the worker for the prepared data (debounced; only the latest answer is shown). */
  schedulePreview() {
    clearTimeout(this.previewTimer);
    this.previewTimer = setTimeout(() => this.preview(), 200);
  }

  async preview() {
    const { app } = this;
    if (!app.state.valid || !app.state.table || $('step-prepare').hidden) return; // shown when the step opens
    // the preview depends on the data and its steps only: model and training are left out
    // (a design being edited must not stop the preview)
    const experiment = { ...app.state.experiment, model: { layers: [{ type: 'dense' }] }, train: {} };
    const key = JSON.stringify(experiment) + (app.state.upload ? app.state.upload.name : '');
    if (key === this.previewKey) return;
    this.previewKey = key;
    const token = (this.previewToken = (this.previewToken || 0) + 1);
    const box = $('prepare-preview');
    box.setAttribute('aria-busy', 'true');
    try {
      const [bytes, view] = await Promise.all([app.dataBytes(app.state.experiment), import('./prepare_preview.js')]);
      const reply = await app.engine.request('preview', JSON.stringify(experiment), bytes);
      if (token !== this.previewToken) return;
      this.markError(null);
      box.replaceChildren(...view.renderPreview(reply, app.state.table, app.state.imageShape()));
    } catch (e) {
      if (token !== this.previewToken) return;
      this.markError(e.message);
      box.replaceChildren(h('p', { className: 'hint' }, 'No preview while a step cannot run: see its message above.'));
    } finally {
      if (token === this.previewToken) box.removeAttribute('aria-busy');
    }
  }

  /** With an augment step on image data: a few training images and the copies the core's
   * augmentation makes of them (the engine's transforms, the experiment's seed). */
  syncAugment() {
    const { state } = this.app;
    const { table } = state;
    const x = state.experiment;
    const op = findOp(x, 'augment').op;
    const image = state.imageShape();
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
    const token = (this.augmentToken = (this.augmentToken || 0) + 1); // only the latest answer is shown
    box.replaceChildren();
    if (!ok) return;
    import('./image_upload.js')
      .then((mod) => mod.augmentPreview(this.app.engine, table, op, image, x.seed ?? 0))
      .then((el) => {
        if (this.augmentToken === token && el) box.replaceChildren(el);
      })
      .catch((e) => {
        if (this.augmentToken === token)
          box.replaceChildren(h('p', { className: 'error' }, `Augmentation preview: ${e.message}`));
      });
  }
}

/** The augment step's settings as small labelled fields (they edit the step in place). */
function augmentFields(op, i) {
  const field = ([key, label, min, max, step]) => {
    const id = `augment-${key}`;
    return h(
      'span',
      { className: 'inline-field' },
      h('label', { for: id }, label),
      h('input', {
        id,
        type: 'number',
        min,
        max,
        step,
        value: String(op[key] ?? (key === 'copies' ? 1 : 0)),
        className: 'short',
        'data-field': key,
        'data-index': String(i),
      }),
    );
  };
  return h(
    'span',
    { className: 'step-fields' },
    ...AUGMENT_FIELDS.map(field),
    h(
      'span',
      { className: 'inline-field' },
      h('input', {
        id: 'augment-flip',
        type: 'checkbox',
        checked: !!op.flip,
        'data-field': 'flip',
        'data-index': String(i),
      }),
      h('label', { for: 'augment-flip' }, 'mirror'),
    ),
  );
}

/** One preparation step in words. */
export function describeOp(op) {
  switch (op.op) {
    case 'split':
      if (op.folds)
        return `Cross-validation fold ${op.fold ?? 0} of ${op.folds} as validation${op.test === undefined ? '' : `, ${Math.round(100 * op.test)}% test`}${op.stratify === false ? '' : ', stratified'}`;
      return `Split: ${Math.round(100 * (1 - (op.test ?? 0.2) - (op.validation ?? 0)))}% train, ${Math.round(100 * (op.validation ?? 0))}% validation, ${op.test === undefined ? "the data set's own test rows" : `${Math.round(100 * op.test)}% test`}${op.stratify === false ? '' : ', stratified'}`;
    case 'impute':
      return `Fill missing cells with the training ${op.strategy === 'constant' ? `constant ${op.value}` : op.strategy.replace('_', ' ')}`;
    case 'standardize':
      return `Standardise (z-score${op.per === 'all' ? ' over all features' : ' per feature'}), fitted on the training rows`;
    case 'minmax':
      return `Scale to [0, 1]${op.per === 'all' ? ' over all features' : ' per feature'}, fitted on the training rows`;
    case 'drop_columns':
      return `Drop columns: ${(op.columns || []).join(', ')}`;
    case 'drop_missing':
      return 'Drop rows with missing cells';
    case 'drop_duplicates':
      return 'Drop rows that repeat an earlier row';
    case 'balance_classes':
      return 'Balance the classes: oversample the training rows of smaller classes (seeded)';
    case 'augment':
      return `Augment the training images: ${op.copies ?? 1} cop${(op.copies ?? 1) === 1 ? 'y' : 'ies'} each (${[op.shift ? `shift ±${op.shift} px` : '', op.flip ? 'flips' : '', op.rotate ? `rotation ±${op.rotate}°` : '', op.noise ? `noise ${op.noise}` : ''].filter(Boolean).join(', ') || 'unchanged'}), seeded`;
    default:
      return JSON.stringify(op);
  }
}
