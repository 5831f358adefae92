/* Step 3, Model: a template (linear, logistic, MLP, CNN) or the layer list of the experiment
 * file; the engine builds the network on the prepared data and reports each layer's output
 * shape and parameters, or says why the design does not fit (inline, with the layer). */
import { $, h, fmt } from './dom.js';

/** Multiply-adds ×2 of one sample through a layer (elementwise layers: one per output). */
export function layerFlops(l) {
  const size = (s) => s.reduce((a, b) => a * b, 1);
  if (l.kind === 'dense') return 2 * l.weights;
  if (l.kind === 'conv2d') return 2 * size(l.out) * (l.weights / Math.max(1, l.out[0]));
  if (l.kind === 'flatten' || l.kind === 'dropout') return 0;
  if (l.kind === 'max_pool' || l.kind === 'avg_pool') return size(l.out) * l.kernel * l.kernel;
  return size(l.out) * (l.kind === 'batch_norm' ? 2 : 1);
}

export class ModelStep {
  constructor(app) {
    this.app = app;
    this.timer = 0;
    this.key = '';
    this.summary = null;
    this.onMemory = () => {}; // (bytes, error): the Train step shows them
  }

  wire() {
    const edit = (fn) => this.app.state.update(fn);
    $('template').addEventListener('change', (e) => edit((x) => {
      const t = e.target.value;
      const activation = (x.model && x.model.activation) || 'relu';
      if (t === 'layers') x.model = { layers: [{ type: 'dense', units: 32 }, { type: 'relu' }, { type: 'dense' }] };
      else if (t === 'mlp') x.model = { template: 'mlp', hidden: [32], activation };
      else if (t === 'cnn') x.model = { template: 'cnn', activation };
      else x.model = { template: t };
    }));
    $('hidden').addEventListener('change', (e) => {
      const sizes = e.target.value.split(/[\s,]+/).filter(Boolean).map(Number);
      if (sizes.length === 0 || sizes.some((n) => !Number.isInteger(n) || n < 1)) {
        this.showError('Hidden layers: give whole numbers ≥ 1 separated by commas, e.g. 64, 32.');
        return;
      }
      edit((x) => { x.model.hidden = sizes; });
    });
    $('activation').addEventListener('change', (e) => edit((x) => { x.model.activation = e.target.value; }));
    $('init').addEventListener('change', (e) => edit((x) => {
      if (e.target.value === 'default') delete x.model.init; else x.model.init = e.target.value;
    }));
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
    $('layers-note').hidden = t !== 'layers';
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.describe(), 150);
  }

  /** Asks the engine to build the network on the data; shows its layers or the reason. */
  async describe() {
    const { app } = this;
    if (!app.state.valid) return;
    const key = JSON.stringify(app.state.experiment) + (app.upload ? app.upload.name : '');
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
      this.render(shape, layers);
      app.memory = memory;
      this.onMemory(memory, null);
    } catch (e) {
      if (key !== this.key) return;
      this.showError(e.message);
    }
  }

  showError(message) {
    this.summary = null;
    this.app.memory = null;
    this.onMemory(null, message);
    $('model-error').textContent = message;
    $('model-error').hidden = false;
    $('layers').tBodies[0].replaceChildren();
    $('model-total').textContent = '';
    this.app.changed('model');
  }

  render(shape, layers) {
    $('model-error').hidden = true;
    const shapeText = (s) => (s.length === 3 ? `${s[0]} × ${s[1]} × ${s[2]}` : String(s[0]));
    const input = this.app.state.experiment.data.image;
    let params = 0, flops = 0;
    const rows = [h('tr', {}, h('td', {}, '—'), h('td', {}, 'input'),
      h('td', {}, input ? shapeText(input) : String(shape.features)), h('td', {}, '—'), h('td', {}, '—'))];
    layers.forEach((l, i) => {
      const p = l.weights + l.bias, f = layerFlops(l);
      params += p;
      flops += f;
      const name = l.kind === 'activation' ? l.activation
        : l.kind === 'conv2d' ? `conv2d ${l.kernel}×${l.kernel}${l.stride > 1 ? ` /${l.stride}` : ''}${l.pad ? ` pad ${l.pad}` : ''}`
          : l.kind.endsWith('pool') ? `${l.kind.replace('_', ' ')} ${l.kernel}` : l.kind.replace('_', ' ');
      rows.push(h('tr', {}, h('td', {}, String(i)), h('td', {}, name), h('td', {}, shapeText(l.out)), h('td', {}, fmt(p)), h('td', {}, fmt(f))));
    });
    $('layers').tBodies[0].replaceChildren(...rows);
    $('model-total').textContent = `${fmt(params)} parameters (${fmt(params * 4)} bytes as float32), ${fmt(flops)} FLOPs per sample forward; ` +
      `${shape.classes ? `${shape.classes} classes` : 'regression'}.`;
    this.summary = { parameters: params, flops };
    this.app.changed('model');
  }
}
