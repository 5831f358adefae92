/* Step 3, Model: a template (linear, logistic, MLP, CNN) or the user's own layer list, edited
 * here (add, change, move, remove; a template can be turned into its layer list to start
 * from); the engine builds the network on the prepared data and reports each layer's output
 * shape and parameters, or says why the design does not fit, next to the layer it names. */
import { $, h, fmt } from './dom.js';
import { itemTools, itemMessage, wireItemTools, restoreFocus, markItem } from './edit_list.js';

/** The layer types of the experiment format, their editable fields [key, label, min, max,
 * step] and the settings a new layer of the type starts with. */
const LAYER_TYPES = {
  dense: { fields: [['units', 'units', 1, 65536, 1]], make: () => ({ type: 'dense', units: 32 }) },
  relu: { fields: [], make: () => ({ type: 'relu' }) },
  leaky_relu: { fields: [], make: () => ({ type: 'leaky_relu' }) },
  sigmoid: { fields: [], make: () => ({ type: 'sigmoid' }) },
  tanh: { fields: [], make: () => ({ type: 'tanh' }) },
  conv2d: {
    fields: [
      ['filters', 'filters', 1, 4096, 1],
      ['kernel', 'kernel', 1, 64, 1],
      ['stride', 'stride', 1, 64, 1],
      ['padding', 'padding', 0, 64, 1],
    ],
    make: () => ({ type: 'conv2d', filters: 8, kernel: 3, padding: 'same' }),
  },
  max_pool: {
    fields: [
      ['size', 'size', 1, 64, 1],
      ['stride', 'stride', 1, 64, 1],
    ],
    make: () => ({ type: 'max_pool', size: 2 }),
  },
  avg_pool: {
    fields: [
      ['size', 'size', 1, 64, 1],
      ['stride', 'stride', 1, 64, 1],
    ],
    make: () => ({ type: 'avg_pool', size: 2 }),
  },
  flatten: { fields: [], make: () => ({ type: 'flatten' }) },
  batch_norm: { fields: [], make: () => ({ type: 'batch_norm' }) },
  dropout: { fields: [['rate', 'rate', 0, 0.99, 0.05]], make: () => ({ type: 'dropout', rate: 0.2 }) },
};

/** The layer list that builds the same network as the engine's described layers (a
 * template's expansion): sizes are written out except the last dense's, which keeps
 * following the number of classes. */
export function layersOf(described) {
  const lastDense = described.map((l) => l.kind).lastIndexOf('dense');
  return described.flatMap((l, i) => {
    if (l.kind === 'dense') return [i === lastDense ? { type: 'dense' } : { type: 'dense', units: l.out[0] }];
    if (l.kind === 'activation') return l.activation === 'identity' ? [] : [{ type: l.activation }];
    if (l.kind === 'conv2d')
      return [
        {
          type: 'conv2d',
          filters: l.out[0],
          kernel: l.kernel,
          ...(l.stride !== 1 ? { stride: l.stride } : {}),
          ...(l.pad ? { padding: l.pad } : {}),
        },
      ];
    if (l.kind === 'max_pool' || l.kind === 'avg_pool')
      return [{ type: l.kind, size: l.kernel, ...(l.stride !== l.kernel ? { stride: l.stride } : {}) }];
    return [{ type: l.kind }];
  });
}

export class ModelStep {
  constructor(app) {
    this.app = app;
    this.timer = 0;
    this.key = '';
  }

  /** Describes the network again (a restarted worker dropped the request). */
  refresh() {
    this.key = '';
    this.sync();
  }

  wire() {
    const edit = (fn) => this.app.state.update(fn);
    $('template').addEventListener('change', (e) =>
      edit((x) => {
        const t = e.target.value;
        const activation = (x.model && x.model.activation) || 'relu';
        if (t === 'layers') {
          const layers =
            this.described && this.described.key === JSON.stringify(x.model) ? layersOf(this.described.layers) : null;
          x.model = {
            layers:
              layers && layers.length ? layers : [{ type: 'dense', units: 32 }, { type: 'relu' }, { type: 'dense' }],
            ...(x.model && x.model.init ? { init: x.model.init } : {}),
          };
        } else if (t === 'mlp') x.model = { template: 'mlp', hidden: [32], activation };
        else if (t === 'cnn') x.model = { template: 'cnn', activation };
        else x.model = { template: t };
      }),
    );
    $('hidden').addEventListener('change', (e) => {
      const sizes = e.target.value
        .split(/[\s,]+/)
        .filter(Boolean)
        .map(Number);
      if (sizes.length === 0 || sizes.some((n) => !Number.isInteger(n) || n < 1)) {
        this.showError('Hidden layers: give whole numbers ≥ 1 separated by commas, e.g. 64, 32.');
        return;
      }
      edit((x) => {
        x.model.hidden = sizes;
      });
    });
    $('activation').addEventListener('change', (e) =>
      edit((x) => {
        x.model.activation = e.target.value;
      }),
    );
    $('init').addEventListener('change', (e) =>
      edit((x) => {
        if (e.target.value === 'default') delete x.model.init;
        else x.model.init = e.target.value;
      }),
    );
    this.wireLayerEditor(edit);
    $('edit-layers').addEventListener('click', () => {
      $('template').value = 'layers';
      $('template').dispatchEvent(new Event('change'));
      const first = $('layer-list').querySelector('select');
      if (first) first.focus();
    });
  }

  /** The layer list's buttons and fields, and "Add a layer". */
  wireLayerEditor(edit) {
    wireItemTools($('layer-list'), this, edit, (x) => x.model.layers);
    $('layer-list').addEventListener('change', (e) => {
      const i = Number(e.target.dataset.index),
        field = e.target.dataset.field,
        value = e.target.value;
      if (!Number.isInteger(i)) return;
      // edited once the focus has moved on (a change fires before Tab moves it), so the list
      // drawn again gives the focus back where the person put it
      setTimeout(() =>
        edit((x) => {
          const layers = x.model.layers;
          if (field === 'type') {
            layers[i] = LAYER_TYPES[value].make();
            return;
          }
          const text = value.trim();
          if (field === 'padding' && text === 'same') layers[i].padding = 'same';
          else if (text === '') delete layers[i][field];
          else layers[i][field] = Number(text); // a bad number reaches the core, which names it
        }),
      );
    });
    $('add-layer-button').addEventListener('click', () =>
      edit((x) => {
        const layers = x.model.layers;
        const layer = LAYER_TYPES[$('add-layer').value].make();
        const last = layers[layers.length - 1];
        // a new layer goes before the output layer (a dense without units), else at the end
        if (last && last.type === 'dense' && last.units === undefined) layers.splice(layers.length - 1, 0, layer);
        else layers.push(layer);
      }),
    );
  }

  /** The editable layer list (only for a model given as layers). */
  syncLayers(layers) {
    const list = $('layer-list');
    $('layer-editor').hidden = !layers;
    if (!layers) return;
    const focus = this.focusAfter;
    this.focusAfter = null;
    const active = list.contains(document.activeElement) ? document.activeElement.id : '';
    list.replaceChildren(...layers.map((layer, i) => layerItem(layer, i, layers.length)));
    restoreFocus(list, focus, active);
  }

  /** Marks the layer an engine message names (model.layers[i]) with the message. */
  markLayer(message) {
    return markItem($('layer-list'), message, /^model\.layers\[(\d+)\]/, 'Layer');
  }

  sync() {
    const { state } = this.app;
    if (!state.valid) return;
    const m = state.experiment.model || {};
    const t = m.layers ? 'layers' : m.template || 'mlp';
    $('template').value = t;
    $('hidden-row').hidden = t !== 'mlp';
    $('activation-row').hidden = !(t === 'mlp' || t === 'cnn');
    if (document.activeElement !== $('hidden')) $('hidden').value = (m.hidden || []).join(', ');
    $('activation').value = m.activation || 'relu';
    $('init').value = m.init || 'default';
    this.syncLayers(Array.isArray(m.layers) ? m.layers : null);
    $('edit-layers-row').hidden = Array.isArray(m.layers);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.describe(), 150);
  }

  /** Asks the engine to build the network on the data; shows its layers or the reason. */
  async describe() {
    const { app } = this;
    if (!app.state.valid) return;
    const key = JSON.stringify(app.state.experiment) + (app.state.upload ? app.state.upload.name : '');
    if (key === this.key) return;
    this.key = key;
    let bytes;
    try {
      bytes = await app.dataBytes(app.state.experiment);
    } catch (e) {
      this.showError(e.message);
      return;
    }
    try {
      const { shape, layers, memory } = await app.engine.request('describe', app.state.text, bytes);
      if (key !== this.key) return;
      this.described = { key: JSON.stringify(app.state.experiment.model), layers };
      app.state.set({ design: { ...this.render(shape, layers), memory } });
    } catch (e) {
      if (key !== this.key) return;
      this.showError(e.message);
    }
  }

  /** The engine refused the design (or the data could not be read): why, on the layer named. */
  showError(message) {
    $('model-error').textContent = message;
    $('model-error').hidden = this.markLayer(message); // shown on the layer it names, else above
    $('layers').tBodies[0].replaceChildren();
    $('layers').hidden = true; // an empty table says nothing
    $('model-total').textContent = '';
    this.app.state.set({ design: { error: message } });
  }

  /** Shows the layers the engine built; returns their {parameters, flops}. */
  render(shape, layers) {
    $('model-error').hidden = true;
    $('layers').hidden = false;
    this.markLayer(null);
    const shapeText = (s) => (s.length === 3 ? `${s[0]} × ${s[1]} × ${s[2]}` : String(s[0]));
    const input = this.app.state.imageShape();
    let params = 0,
      flops = 0;
    const rows = [
      h(
        'tr',
        {},
        h('td', {}, '—'),
        h('td', {}, 'input'),
        h('td', {}, input ? shapeText(input) : String(shape.features)),
        h('td', {}, '—'),
        h('td', {}, '—'),
      ),
    ];
    layers.forEach((l, i) => {
      const p = l.weights + l.bias,
        f = l.flops; // counted by the core (lathe_layer_flops), as `lathe inspect` shows
      params += p;
      flops += f;
      const name =
        l.kind === 'activation'
          ? l.activation
          : l.kind === 'conv2d'
            ? `conv2d ${l.kernel}×${l.kernel}${l.stride > 1 ? ` /${l.stride}` : ''}${l.pad ? ` pad ${l.pad}` : ''}`
            : l.kind.endsWith('pool')
              ? `${l.kind.replace('_', ' ')} ${l.kernel}`
              : l.kind.replace('_', ' ');
      rows.push(
        h(
          'tr',
          {},
          h('td', {}, String(i + 1)),
          h('td', {}, name),
          h('td', {}, shapeText(l.out)),
          h('td', {}, fmt(p)),
          h('td', {}, fmt(f)),
        ),
      );
    });
    $('layers').tBodies[0].replaceChildren(...rows);
    $('model-total').textContent =
      `${fmt(params)} parameters (${fmt(params * 4)} bytes as float32), ${fmt(flops)} FLOPs per sample forward; ` +
      `${shape.classes ? `${shape.classes} classes` : 'regression'}.`;
    return { parameters: params, flops };
  }
}

/** One layer of the editor: its type, its fields, and move / remove buttons. */
function layerItem(layer, i, count) {
  const n = i + 1;
  const kind = LAYER_TYPES[layer.type];
  const type = h(
    'select',
    { id: `layer-${i}-type`, 'data-field': 'type', 'data-index': String(i), 'aria-label': `Layer ${n} type` },
    ...Object.keys(LAYER_TYPES).map((t) => new Option(t.replace('_', ' '), t, false, t === layer.type)),
  );
  if (!kind) type.prepend(new Option(String(layer.type), String(layer.type), true, true));
  const fields = (kind ? kind.fields : []).map(([key, label, min, max, step]) => {
    const id = `layer-${i}-${key}`;
    const value = layer[key] === undefined ? '' : String(layer[key]);
    const placeholder = key === 'units' ? 'classes' : key === 'stride' ? 'default' : '';
    return h(
      'span',
      { className: 'inline-field' },
      h('label', { for: id }, label),
      h('input', {
        id,
        type: key === 'padding' ? 'text' : 'number',
        min,
        max,
        step,
        value,
        placeholder,
        className: 'short',
        'data-field': key,
        'data-index': String(i),
        inputMode: key === 'padding' ? 'numeric' : undefined,
        title:
          key === 'padding'
            ? 'zeros per side, or "same"'
            : key === 'units'
              ? 'empty: one output per class (or one for regression)'
              : undefined,
      }),
    );
  });
  return h(
    'li',
    { 'data-type': String(layer.type) },
    h('span', { className: 'step-text layer-fields' }, type, ...fields),
    itemTools(i, count, 'layer', count === 1 ? 'The only layer cannot be removed' : ''),
    itemMessage(),
  );
}
