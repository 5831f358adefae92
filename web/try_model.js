/* Deploy → Try the model (loaded when the Deploy step first opens): a model file — the one
 * just trained, an uploaded *.lathe.json, checked by the engine's loader, or an uploaded ONNX
 * network imported by the deploy tools (lathe_import_onnx) — predicts on a
 * form built from its raw inputs (numbers; a select for categories), on every row of an
 * uploaded CSV (downloadable in the CLI's `lathe predict` format, byte for byte), and, for
 * grey 28 × 28 or 8 × 8 image models, on a drawing. The worker loads the model for each
 * request, so nothing stays allocated in the engine between them. */
import { $, h, download } from './dom.js';

const PAD_MS = 120; // at most one prediction per this many milliseconds while drawing

/** A CSV field as the CLI writes it: quoted when it holds a comma, a quote or a newline. */
export function csvField(text) {
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** C's printf("%.9g", v) for a finite double: 9 significant digits, trailing zeros dropped,
 * exponent form below 1e-4 or from 1e9. */
export function g9(v) {
  if (Number.isNaN(v)) return v < 0 ? '-nan' : 'nan';
  if (!Number.isFinite(v)) return v < 0 ? '-inf' : 'inf';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  const [mantissa, exp] = v.toExponential(8).split('e');
  const e = Number(exp);
  const strip = (s) => (s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s);
  if (e < -4 || e >= 9) return `${strip(mantissa)}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  return strip(v.toFixed(8 - e));
}

/** Predictions as `lathe predict` writes them (CSV): row, prediction, p(class) per class. */
export function predictionsCsv(info, p) {
  const lines = [];
  const classification = info.task === 'classification';
  lines.push(['row', 'prediction', ...(classification ? info.classes.map((c) => csvField(`p(${c})`)) : [])].join(','));
  for (let r = 0; r < p.rows; r++) {
    const row = p.values.subarray(r * p.outputs, (r + 1) * p.outputs);
    if (classification) {
      lines.push(`${r + 1},${csvField(info.classes[argmax(row)])},${Array.from(row, g9).join(',')}`);
    } else {
      lines.push(`${r + 1},${g9(row[0])}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

function argmax(row) {
  let best = 0;
  for (let c = 1; c < row.length; c++) if (row[c] > row[best]) best = c;
  return best;
}

export class TryModel {
  constructor(app) {
    this.app = app;
    this.model = null; // {text, info, name}
    this.imported = null; // {name, text}: the model file of the last ONNX import
    this.batch = null; // CSV text of the last batch prediction
    this.padTimer = 0;
    this.padBusy = false;
  }

  wire() {
    $('try-trained').addEventListener('click', () => {
      const r = this.app.state.result;
      if (r && r.modelFile)
        this.use(
          r.modelFile,
          'the model trained in step 4',
          this.app.state.fileName().replace(/\.experiment\.json$/, '.lathe.json'),
        );
    });
    $('model-upload').addEventListener('change', async (e) => {
      const file = e.target.files[0];
      e.target.value = '';
      if (file) this.use(await file.text(), file.name, file.name);
    });
    $('onnx-upload').addEventListener('change', async (e) => {
      const file = e.target.files[0];
      e.target.value = '';
      if (file) this.importOnnx(file);
    });
    $('onnx-save').addEventListener('click', () => {
      if (this.imported) download(this.imported.name, this.imported.text, 'application/json');
    });
    $('try-finetune').addEventListener('click', () => this.fineTune());
    $('try-form').addEventListener('submit', (e) => {
      e.preventDefault();
      this.predictForm();
    });
    $('batch-upload').addEventListener('change', async (e) => {
      const file = e.target.files[0];
      e.target.value = '';
      if (file) this.predictFile(file);
    });
    $('batch-download').addEventListener('click', () => {
      if (this.batch) download(this.batch.name, this.batch.text, 'text/csv');
    });
    $('try-image').addEventListener('change', (e) => {
      const file = e.target.files[0];
      e.target.value = '';
      if (file) this.predictImageFile(file);
    });
    this.wirePad();
    this.sync();
  }

  /** Imports an ONNX file with the deploy tools (lathe_import_onnx) and uses the model file
   * it gives; the import's notes are shown, and the file can be downloaded. On an error (the
   * node and the reason) the model in use stays. */
  async importOnnx(file) {
    $('try-error').hidden = true;
    $('onnx-notes').hidden = true;
    let result;
    try {
      const bytes = await file.arrayBuffer();
      const names = (id) =>
        $(id)
          .value.split(',')
          .map((s) => s.trim())
          .filter(Boolean)
          .join(',');
      result = await this.app.engine.ask(
        'onnx-import',
        { bytes, classes: names('onnx-classes'), inputs: names('onnx-inputs') },
        [bytes],
      );
    } catch (e) {
      $('try-error').textContent = `${file.name}: ${e.message}`;
      $('try-error').hidden = false;
      return;
    }
    const name = `${file.name.replace(/\.onnx$/i, '')}.lathe.json`;
    this.imported = { name, text: result.model };
    $('onnx-save').hidden = false;
    $('onnx-save').textContent = `Download ${name}`;
    if (result.notes) {
      $('onnx-notes').textContent = `Imported ${file.name}: ${result.notes.split('\n').join('; ')}.`;
      $('onnx-notes').hidden = false;
    }
    await this.use(result.model, `${file.name} (imported)`, name);
  }

  /** Fine-tunes the model in use: the experiment takes its layers (and its image shape when
   * the data declares none), and the next training run starts from its weights and fitted
   * preparation (state.init), as `lathe train --init` does. */
  fineTune() {
    const { state } = this.app;
    if (!this.model) return;
    const embedded = JSON.parse(this.model.text).experiment || {};
    state.update((x) => {
      x.model = structuredClone(embedded.model);
      const image = embedded.data && embedded.data.image;
      if (image && !(x.data && x.data.image)) x.data.image = image;
    });
    state.set({
      init: {
        name: this.model.name,
        file: this.model.file,
        text: this.model.text,
        sha: this.model.info.weights_sha256,
      },
    });
    this.app.show('train');
  }

  /** The trained model changed (or went away). */
  sync() {
    $('try-trained').disabled = !(this.app.state.result && this.app.state.result.modelFile);
  }

  /** Loads model text (the engine validates every field); on an error the model in use stays.
   * name says what it is; file is the model file's name (a command line refers to it). */
  async use(text, name, file = 'model.lathe.json') {
    $('try-error').hidden = true;
    let info;
    try {
      info = await this.app.engine.ask('model-info', { model: text });
    } catch (e) {
      $('try-error').textContent = `${name}: ${e.message}`;
      $('try-error').hidden = false;
      return;
    }
    this.model = { text, info, name, file };
    this.batch = null;
    $('batch-download').disabled = true;
    $('batch-summary').textContent = '';
    this.clearResult(); // the last model's prediction is not this one's
    const what =
      info.task === 'classification'
        ? `classifies into ${info.classes.length} classes (${info.classes.slice(0, 6).join(', ')}${info.classes.length > 6 ? ', …' : ''})`
        : `predicts '${info.target}' (regression)`;
    $('try-source').textContent =
      `Using ${name}: it ${what} from ${info.inputs.length} input column${info.inputs.length === 1 ? '' : 's'}; weights ${info.weights_sha256.slice(0, 12)}….`;
    $('try-body').hidden = false;
    $('try-finetune').hidden = false;
    const pad = this.padShape();
    $('pad-box').hidden = !pad;
    $('try-form').hidden = !!pad;
    $('try-predict-row').hidden = !!pad;
    $('try-image-row').hidden = !this.imageShape();
    if (pad) this.clearPad();
    else this.buildForm(info);
  }

  /** [C, H, W] of a model on images: its image shape, or (an MLP on pixels) 64 or 784
   * numeric inputs px0, px1, … in order as one grey square; else null. */
  imageShape() {
    const info = this.model && this.model.info;
    if (!info) return null;
    const n = info.inputs.length;
    if (info.image) return info.image;
    if ((n === 64 || n === 784) && info.inputs.every((c, i) => c.type === 'numeric' && c.column === `px${i}`))
      return [1, Math.sqrt(n), Math.sqrt(n)];
    return null;
  }

  /** Predicts an image file as the model's input: the browser decodes it, the core resizes
   * it (as image uploads are) and the model predicts; a grey input is drawn beside the pad. */
  async predictImageFile(file) {
    const shape = this.imageShape();
    if (!shape) return;
    $('try-error').hidden = true;
    let pixels;
    try {
      const bitmap = await createImageBitmap(file);
      const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
      const ctx = canvas.getContext('2d');
      ctx.drawImage(bitmap, 0, 0);
      pixels = ctx.getImageData(0, 0, bitmap.width, bitmap.height);
      bitmap.close();
    } catch {
      $('try-error').textContent = `${file.name}: not a readable PNG or JPEG image`;
      $('try-error').hidden = false;
      return;
    }
    try {
      const { model } = this;
      const p = await this.app.engine.ask(
        'model-predict-image',
        { model: model.text, pixels: pixels.data.buffer, width: pixels.width, height: pixels.height, shape },
        [pixels.data.buffer],
      );
      if (model !== this.model) return;
      this.showOne(p);
      $('try-result').prepend(
        h(
          'p',
          { className: 'hint' },
          `${file.name} (${pixels.width} × ${pixels.height}) as ${shape.join(' × ')} input:`,
        ),
      );
      if (this.padShape()) drawInput($('pad-input'), p.input, shape.slice(1), shape[1] === 8 ? 16 : 255);
    } catch (e) {
      $('try-error').textContent = `${file.name}: ${e.message}`;
      $('try-error').hidden = false;
    }
  }

  /** [H, W] when the model takes a grey 28 × 28 or 8 × 8 image (the drawing pad's), else null. */
  padShape() {
    const image = this.imageShape();
    if (!image || image[0] !== 1) return null;
    const [, hgt, wid] = image;
    return (hgt === 28 && wid === 28) || (hgt === 8 && wid === 8) ? [hgt, wid] : null;
  }

  buildForm(info) {
    const fields = info.inputs.map((input, i) => {
      const id = `try-input-${i}`;
      let control;
      if (input.type === 'categorical') {
        control = h(
          'select',
          { id, name: input.column },
          h('option', { value: '' }, '(missing)'),
          input.categories.map((c) => h('option', { value: c }, c)),
        );
        if (input.categories.length) control.value = input.categories[0];
      } else if (input.type === 'boolean') {
        control = h(
          'select',
          { id, name: input.column },
          h('option', { value: 'true' }, 'true'),
          h('option', { value: 'false' }, 'false'),
          h('option', { value: '' }, '(missing)'),
        );
      } else {
        control = h('input', { id, name: input.column, type: 'number', step: 'any', placeholder: 'empty: missing' });
      }
      control.dataset.column = input.column;
      return [h('label', { for: id }, input.column), control];
    });
    $('try-form').replaceChildren(...fields.flat());
  }

  /** The form as a one-row CSV of raw values: the model prepares it as it did its training. */
  async predictForm() {
    const controls = [...$('try-form').querySelectorAll('[data-column]')];
    const header = controls.map((c) => csvField(c.dataset.column)).join(',');
    const row = controls.map((c) => csvField(c.value.trim())).join(',');
    await this.predictRows(new TextEncoder().encode(`${header}\n${row}\n`), (p) => this.showOne(p));
  }

  async predictRows(bytes, show) {
    const { model } = this;
    $('try-error').hidden = true;
    try {
      const p = await this.app.engine.ask('model-predict', { model: model.text, data: bytes.buffer }, [bytes.buffer]);
      if (model === this.model) show(p);
    } catch (e) {
      $('try-error').textContent = e.message;
      $('try-error').hidden = false;
    }
  }

  /** The prediction of one row: the class and each class's probability, or the value. */
  showOne(p) {
    const { info } = this.model;
    const out = $('try-result');
    out.dataset.values = JSON.stringify(Array.from(p.values)); // what is shown, for tests
    if (info.task !== 'classification') {
      out.replaceChildren(
        h('p', { className: 'prediction', 'data-testid': 'prediction' }, `${info.target} ≈ ${g9(p.values[0])}`),
      );
      return;
    }
    const best = argmax(p.values);
    const items = info.classes.map((c, k) => {
      const fill = h('span', { className: 'fill' });
      fill.style.width = `${(100 * p.values[k]).toFixed(1)}%`;
      return h(
        'li',
        { className: k === best ? 'best' : '' },
        h('span', {}, c),
        h('span', { className: 'bar' }, fill),
        h('span', {}, `${(100 * p.values[k]).toFixed(1)}%`),
      );
    });
    const note = p.unseen
      ? `${p.unseen} value${p.unseen === 1 ? ' was' : 's were'} never seen in training (encoded as none of the known categories).`
      : '';
    out.replaceChildren(
      h('p', { className: 'prediction', 'data-testid': 'prediction' }, `${info.target}: ${info.classes[best]}`),
      h('ul', { className: 'probs', 'aria-label': 'probability of each class' }, items),
      h('p', { className: 'hint', hidden: !note }, note),
    );
  }

  async predictFile(file) {
    const bytes = new Uint8Array(await file.arrayBuffer());
    $('batch-summary').textContent = `Predicting ${file.name}…`;
    await this.predictRows(bytes, (p) => {
      const base = file.name.replace(/\.[^.]*$/, '');
      this.batch = { name: `${base}.predictions.csv`, text: predictionsCsv(this.model.info, p) };
      $('batch-download').disabled = false;
      $('batch-summary').textContent =
        `${p.rows.toLocaleString('en-US')} rows of ${file.name} predicted` +
        (p.unseen ? `; ${p.unseen} cells held categories never seen in training` : '') +
        '.';
    });
    if (!this.batch) $('batch-summary').textContent = '';
  }

  wirePad() {
    const pad = $('pad');
    const ctx = pad.getContext('2d');
    if (!ctx) {
      pad.hidden = true;
      pad.after(h('p', { className: 'note' }, 'No drawing pad: this browser does not draw on a canvas here.'));
      return;
    }
    let last = null;
    const at = (e) => {
      const r = pad.getBoundingClientRect();
      return [((e.clientX - r.left) * pad.width) / r.width, ((e.clientY - r.top) * pad.height) / r.height];
    };
    pad.addEventListener('pointerdown', (e) => {
      pad.setPointerCapture(e.pointerId);
      last = at(e);
      this.stroke(ctx, last, last);
    });
    pad.addEventListener('pointermove', (e) => {
      if (!last) return;
      const p = at(e);
      this.stroke(ctx, last, p);
      last = p;
      this.schedulePad();
    });
    const end = () => {
      if (!last) return;
      last = null;
      this.schedulePad(true);
    };
    pad.addEventListener('pointerup', end);
    pad.addEventListener('pointercancel', end);
    $('pad-clear').addEventListener('click', () => this.clearPad());
  }

  stroke(ctx, a, b) {
    const shape = this.padShape() || [28, 28];
    ctx.strokeStyle = '#fff';
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.lineWidth = shape[0] === 8 ? 30 : 22; // about 2 pixels of a 28 × 28 digit; 1 of 8 × 8
    ctx.beginPath();
    ctx.moveTo(a[0], a[1]);
    ctx.lineTo(b[0], b[1]);
    ctx.stroke();
    this.inked = true;
  }

  clearPad() {
    const pad = $('pad');
    const ctx = pad.getContext('2d');
    if (!ctx) return;
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, pad.width, pad.height);
    $('pad-input').getContext('2d').clearRect(0, 0, 112, 112);
    this.clearResult();
    this.inked = false;
  }

  clearResult() {
    $('try-result').replaceChildren();
    delete $('try-result').dataset.values;
  }

  /** data-busy on the pad: a prediction of the drawing is due or running (tests wait for it to go). */
  schedulePad(now = false) {
    clearTimeout(this.padTimer);
    $('pad').dataset.busy = '1';
    this.padTimer = setTimeout(
      () => {
        this.padTimer = 0;
        this.predictPad();
      },
      now ? 0 : PAD_MS,
    );
  }

  /** The drawing framed as the data set's images were: MNIST centres a digit's 20 × 20 box by
   * its centre of mass in 28 × 28; scikit-learn's 8 × 8 digits fill their box. The engine
   * then resamples it to the model's input by area, as image uploads are. */
  async predictPad() {
    if (this.padBusy) {
      this.schedulePad();
      return;
    }
    this.padBusy = true;
    try {
      const shape = this.padShape();
      const framed = shape && this.inked && frame($('pad'), shape[0]);
      if (!framed) return;
      const { model } = this;
      const p = await this.app.engine.ask(
        'model-predict-image',
        {
          model: model.text,
          pixels: framed.data.buffer,
          width: framed.width,
          height: framed.height,
          shape: [1, ...shape],
        },
        [framed.data.buffer],
      );
      if (model !== this.model) return;
      this.showOne(p);
      drawInput($('pad-input'), p.input, shape, shape[0] === 8 ? 16 : 255);
      $('pad-input').inputData = Array.from(p.input); // what the model saw, for tests
    } catch (e) {
      $('try-error').textContent = e.message;
      $('try-error').hidden = false;
    } finally {
      this.padBusy = false;
      if (!this.padTimer) delete $('pad').dataset.busy;
    }
  }
}

/** The pad's ink cropped, scaled into the data set's box and centred, as RGBA pixels of a
 * square canvas 10 × the model's side; null when the pad is empty. */
function frame(pad, side) {
  const pctx = pad.getContext('2d');
  if (!pctx) return null;
  const src = pctx.getImageData(0, 0, pad.width, pad.height);
  let x0 = pad.width,
    y0 = pad.height,
    x1 = -1,
    y1 = -1;
  for (let y = 0; y < pad.height; y++) {
    for (let x = 0; x < pad.width; x++) {
      if (src.data[4 * (y * pad.width + x)] > 20) {
        x0 = Math.min(x0, x);
        x1 = Math.max(x1, x);
        y0 = Math.min(y0, y);
        y1 = Math.max(y1, y);
      }
    }
  }
  if (x1 < 0) return null;
  const size = side * 10;
  const box = side === 28 ? 200 : size; // MNIST: a 20 × 20 box in 28 × 28
  const w = x1 - x0 + 1,
    hgt = y1 - y0 + 1;
  const k = box / Math.max(w, hgt);
  const out = new OffscreenCanvas(size, size);
  const ctx = out.getContext('2d');
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, size, size);
  let dx = (size - w * k) / 2,
    dy = (size - hgt * k) / 2;
  ctx.drawImage(pad, x0, y0, w, hgt, dx, dy, w * k, hgt * k);
  if (side === 28) {
    // shift the centre of mass to the centre, as MNIST did
    const img = ctx.getImageData(0, 0, size, size);
    let m = 0,
      mx = 0,
      my = 0;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const v = img.data[4 * (y * size + x)];
        m += v;
        mx += v * x;
        my += v * y;
      }
    }
    if (m > 0) {
      dx += size / 2 - mx / m;
      dy += size / 2 - my / m;
      ctx.fillRect(0, 0, size, size);
      ctx.drawImage(pad, x0, y0, w, hgt, dx, dy, w * k, hgt * k);
    }
  }
  return ctx.getImageData(0, 0, size, size);
}

/** The model's input (H × W values in 0…max) drawn as grey pixels. */
function drawInput(canvas, input, [hgt, wid], max) {
  const small = new OffscreenCanvas(wid, hgt);
  const sctx = small.getContext('2d');
  const img = sctx.createImageData(wid, hgt);
  for (let i = 0; i < hgt * wid; i++) {
    const v = Math.round((255 * Math.min(max, Math.max(0, input[i]))) / max);
    img.data.set([v, v, v, 255], 4 * i);
  }
  sctx.putImageData(img, 0, 0);
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(small, 0, 0, canvas.width, canvas.height);
}
