/* Step 6, Deploy: the experiment file (editable), the artefacts of the last run with their
 * sizes and how to use each (the experiment file, the model file, its C source zipped, its web
 * export zipped), its weights hash and the CLI command that reproduces it; "Make it smaller"
 * (make_smaller.js, int8 quantisation) loads on its first use, and "Try the model"
 * (try_model.js) the first time the step opens. */
import { $, download } from './dom.js';

export class DeployStep {
  constructor(app) {
    this.app = app;
    this.modelFile = null;
    this.tryer = null; // Promise of the TryModel, once the step has opened
    this.smallerPanel = null; // Promise of the MakeSmaller, once used
    this.smallModel = null; // the model file the panel was last reset for
  }

  /** The step is shown: load the model tryer once. */
  open() {
    if (!this.tryer) {
      this.tryer = import('./try_model.js').then((m) => {
        const t = new m.TryModel(this.app);
        t.wire();
        return t;
      });
      this.tryer.catch((e) => this.app.error(`The model tryer did not load: ${e.message}`));
    }
    this.tryer.then(
      (t) => t.sync(),
      () => {},
    );
  }

  wire() {
    const { state } = this.app;
    $('experiment').addEventListener('input', (e) => state.setText(e.target.value, 'editor'));
    $('download-experiment').addEventListener('click', () => download(state.fileName(), state.text));
    $('download-model').addEventListener('click', () => {
      if (this.modelFile) download(this.baseName() + '.lathe.json', this.modelFile);
    });
    $('download-c').addEventListener('click', () => this.downloadC());
    $('download-onnx').addEventListener('click', () => this.downloadOnnx());
    $('download-web').addEventListener('click', () => this.downloadWeb());
    // Make it smaller (make_smaller.js, loaded on the first use)
    const smaller = (fn) => () =>
      this.smaller().then(fn, (e) => {
        $('quant-error').textContent = `The quantiser did not load: ${e.message}`;
        $('quant-error').hidden = false;
      });
    $('quantize').addEventListener(
      'click',
      smaller((p) => p.run()),
    );
    $('quant-download').addEventListener(
      'click',
      smaller((p) => p.save()),
    );
    $('quant-try').addEventListener(
      'click',
      smaller((p) => p.tryIt()),
    );
    $('quant-calib').addEventListener('input', (e) => {
      e.target.dataset.edited = 'true'; // the person's choice outlives the next run's default
      this.quantCommand();
    });
    $('quant-max-drop').addEventListener('input', () => this.quantCommand());
  }

  /** `lathe quantize`'s command line for the panel's fields. */
  quantCommand() {
    const base = this.baseName();
    const calib = $('quant-calib').value.trim();
    const drop = $('quant-max-drop').value.trim();
    $('quant-command').textContent =
      `lathe quantize ${base}.lathe.json --out ${base}.int8.lathe.json --calib ${calib || 'N'}` +
      (drop ? ` --max-drop ${drop}` : '');
  }

  /** The Make it smaller panel (a Promise of its MakeSmaller). */
  smaller() {
    if (!this.smallerPanel) {
      this.smallerPanel = import('./make_smaller.js').then((m) => new m.MakeSmaller(this.app, this));
      this.smallerPanel.catch(() => {
        this.smallerPanel = null; // try again next time
      });
    }
    return this.smallerPanel;
  }

  /** The model shown changed: the panel's last result is not its; calibration rows default to
   * `lathe quantize`'s (256, or the training rows when fewer) unless the person set them. */
  resetSmaller(trainRows) {
    $('quant-result').hidden = true;
    $('quant-error').hidden = true;
    $('quantize').disabled = !this.modelFile;
    if (this.smallerPanel)
      this.smallerPanel.then(
        (p) => p.reset(),
        () => {},
      );
    const calib = $('quant-calib');
    if (trainRows > 0 && !calib.dataset.edited) calib.value = String(Math.min(256, trainRows));
    this.quantCommand();
  }

  /** The artefacts' base name: the experiment file's, before ".experiment.json". */
  baseName() {
    return this.app.state.fileName().replace(/\.experiment\.json$/, '');
  }

  /** The C prefix of the exported source: the base name as a C identifier. */
  cName() {
    const name = this.baseName()
      .replace(/[^A-Za-z0-9_]/g, '_')
      .slice(0, 63);
    return /^[0-9]/.test(name) ? `m${name.slice(0, 62)}` : name || 'model';
  }

  /** The model's C source zipped (NAME.h, NAME.c), made by the engine from the model file:
   * {name, bytes}, or null without a model. */
  async cZip() {
    const model = this.modelFile;
    if (!model) return null;
    if (this.cArchive && this.cArchive.model === model) return this.cArchive;
    const name = this.cName();
    const [{ header, source }, { zip }] = await Promise.all([
      this.app.engine.ask('model-export-c', { model, name }),
      import('./zip.js'),
    ]);
    const bytes = zip([
      { name: `${name}/${name}.h`, data: header },
      { name: `${name}/${name}.c`, data: source },
    ]);
    this.cArchive = { model, name, bytes };
    return this.cArchive;
  }

  /** The model's ONNX file, made by the engine's deploy tools: {model, bytes}, or null. */
  async onnx() {
    const model = this.modelFile;
    if (!model) return null;
    if (this.onnxFile && this.onnxFile.model === model) return this.onnxFile;
    const bytes = new Uint8Array(await this.app.engine.ask('model-export-onnx', { model }));
    this.onnxFile = { model, bytes };
    return this.onnxFile;
  }

  /** The model's web export zipped, the files `lathe export --format web` writes: the runtime
   * (fetched from this site's web_runtime/ only now, never up front) and the model file:
   * {model, name, bytes}, or null without a model. */
  async webZip() {
    const model = this.modelFile;
    if (!model) return null;
    if (this.webArchive && this.webArchive.model === model) return this.webArchive;
    const files = ['lathe_web.js', 'lathe_infer.js', 'lathe_infer.wasm', 'index.html'];
    const [runtime, { zip }] = await Promise.all([
      Promise.all(
        files.map(async (f) => {
          const r = await fetch(`web_runtime/${f}`);
          if (!r.ok) throw new Error(`web_runtime/${f}: HTTP ${r.status}`);
          return new Uint8Array(await r.arrayBuffer());
        }),
      ),
      import('./zip.js'),
    ]);
    const name = `${this.baseName()}_web`;
    const bytes = zip([
      ...files.map((f, i) => ({ name: `${name}/${f}`, data: runtime[i] })),
      { name: `${name}/model.lathe.json`, data: model },
    ]);
    this.webArchive = { model, name, bytes };
    return this.webArchive;
  }

  async downloadWeb() {
    $('artefact-error').hidden = true;
    try {
      const w = await this.webZip();
      if (!w) return;
      if (w.model === this.modelFile) $('web-size').textContent = `${(w.bytes.length / 1024).toFixed(1)} KB`;
      download(`${w.name}.zip`, w.bytes, 'application/zip');
    } catch (e) {
      $('artefact-error').textContent = `The web export could not be made: ${e.message}`;
      $('artefact-error').hidden = false;
    }
  }

  async downloadOnnx() {
    $('artefact-error').hidden = true;
    try {
      const f = await this.onnx();
      if (f) download(`${this.baseName()}.onnx`, f.bytes, 'application/octet-stream');
    } catch (e) {
      $('artefact-error').textContent = `The ONNX file could not be made: ${e.message}`;
      $('artefact-error').hidden = false;
    }
  }

  async downloadC() {
    $('artefact-error').hidden = true;
    try {
      const c = await this.cZip();
      if (c) download(`${c.name}_c.zip`, c.bytes, 'application/zip');
    } catch (e) {
      $('artefact-error').textContent = `The C source could not be made: ${e.message}`;
      $('artefact-error').hidden = false;
    }
  }

  /** The artefacts' sizes and commands, for the model shown (the C source's once made). */
  async showArtefacts() {
    const base = this.baseName();
    const name = this.cName();
    const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
    $('experiment-size').textContent = kb(new TextEncoder().encode(this.app.state.text).length);
    const init = this.app.state.init ? ` --init ${this.app.state.init.file}` : '';
    $('use-experiment').textContent = `lathe ${init ? 'train' : 'run'} ${base}.experiment.json${init}`;
    $('use-model').textContent = `lathe predict ${base}.lathe.json rows.csv`;
    this.quantCommand();
    $('use-c').textContent = `cc -std=c99 -O2 -ffp-contract=off -c ${name}/${name}.c`;
    $('c-hash-name').textContent = `${name}_WEIGHTS_SHA256`;
    $('use-export').textContent = `lathe export ${base}.lathe.json --format c --out ${name}`;
    $('c-main').textContent = [
      `#include "${name}.h"`,
      `float raw[${name}_N_INPUTS] = {0}; /* one value per column of ${name}_input_names */`,
      `float out[${name}_N_OUTPUTS];`,
      'int main(void) {',
      `    return ${name}_predict(raw, out); /* out: ${name}_output_names's probabilities, or the value */`,
      '}',
    ].join('\n');
    $('use-onnx').textContent = `onnxruntime: session.run({ input }) on ${base}.onnx`;
    $('onnx-snippet').textContent = [
      "import * as ort from 'onnxruntime-node'; // or onnxruntime-web",
      `const session = await ort.InferenceSession.create('${base}.onnx');`,
      `// one row per sample: ${this.features ? featureList(this.features) : 'the raw features (metadata lathe.features)'}; NaN where missing`,
      `const input = new ort.Tensor('float32', Float32Array.from(rows.flat()), [rows.length, ${this.features ? this.features.length : 'F'}]);`,
      'const { [session.outputNames[0]]: out } = await session.run({ input });',
      'console.log(out.data); // the class probabilities (metadata lathe.classes), or the values',
    ].join('\n');
    $('use-web').textContent = `const m = await load('./model.lathe.json'); m.predict(rows) — serve ${base}_web/`;
    $('download-c').disabled = $('download-onnx').disabled = $('download-web').disabled = !this.modelFile;
    $('c-size').textContent = $('onnx-size').textContent = '';
    // the web export's size once made: its runtime downloads only when asked for
    const web = this.webArchive && this.webArchive.model === this.modelFile;
    $('web-size').textContent = web ? kb(this.webArchive.bytes.length) : this.modelFile ? 'on download' : '';
    if (!this.modelFile) return;
    const model = this.modelFile;
    const size = async (id, make) => {
      try {
        const made = await make();
        if (made && made.model === this.modelFile) $(id).textContent = kb(made.bytes.length);
      } catch (e) {
        if (model === this.modelFile) $(id).textContent = '—';
      }
    };
    await Promise.all([size('c-size', () => this.cZip()), size('onnx-size', () => this.onnx())]);
  }

  sync(source) {
    const { state } = this.app;
    if (source !== 'editor') $('experiment').value = state.text;
    $('experiment-error').hidden = state.valid;
    if (!state.valid) {
      try {
        JSON.parse(state.text);
      } catch (e) {
        $('experiment-error').textContent = `The experiment is not valid JSON: ${e.message}`;
      }
    }
    if (!state.valid) return;
    const file = state.experiment.data && state.experiment.data.file;
    const init = state.init ? ` --init ${state.init.file}` : ''; // fine-tuning starts from that model file
    $('cli-command').textContent =
      `lathe ${init ? 'train' : 'run'} ${state.fileName()}${init}` +
      (file ? `   (with ${file} in the same folder)` : '');
    this.showArtefacts();
  }

  render(result) {
    this.modelFile = result.modelFile || null;
    this.features = featureNames(this.modelFile);
    $('weights-hash').textContent = result.weightsSha256;
    $('data-hash').textContent = result.dataSha256 || '(synthetic: generated from the seed)';
    $('download-model').disabled = !this.modelFile;
    $('model-size').textContent = this.modelFile ? `${(this.modelFile.length / 1024).toFixed(1)} KB` : '';
    if (this.smallModel !== this.modelFile) this.resetSmaller(result.progress ? result.progress.trainRows : 0);
    this.smallModel = this.modelFile;
    this.showArtefacts();
    if (this.tryer)
      this.tryer.then(
        (t) => t.sync(),
        () => {},
      );
  }

  clear() {
    this.modelFile = null;
    this.features = null;
    $('weights-hash').textContent = '—';
    $('download-model').disabled = true;
    $('model-size').textContent = '';
    this.smallModel = null;
    this.resetSmaller(0);
    this.showArtefacts();
    if (this.tryer)
      this.tryer.then(
        (t) => t.sync(),
        () => {},
      );
  }
}

/** The prepared feature names of a model file's text (its preparation's "features"), or
 * null. */
function featureNames(text) {
  try {
    const names = JSON.parse(text).preparation.features;
    return Array.isArray(names) ? names : null;
  } catch {
    return null;
  }
}

/** Feature names for a comment: all of up to six, else the first three and the last. */
function featureList(names) {
  return names.length <= 6 ? names.join(', ') : `${names.slice(0, 3).join(', ')}, …, ${names[names.length - 1]}`;
}
