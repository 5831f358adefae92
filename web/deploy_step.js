/* Step 6, Deploy: the experiment file (editable, downloadable), the model file of the last
 * run, its weights hash and the CLI command that reproduces it; "Try the model" (try_model.js)
 * is loaded the first time the step opens. */
import { $, download } from './dom.js';

export class DeployStep {
  constructor(app) {
    this.app = app;
    this.modelFile = null;
    this.tryer = null; // Promise of the TryModel, once the step has opened
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
      if (this.modelFile) download(state.fileName().replace(/\.experiment\.json$/, '.lathe.json'), this.modelFile);
    });
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
    $('cli-command').textContent =
      `lathe run ${state.fileName()}` + (file ? `   (with ${file} in the same folder)` : '');
  }

  render(result) {
    this.modelFile = result.modelFile || null;
    $('weights-hash').textContent = result.weightsSha256;
    $('data-hash').textContent = result.dataSha256 || '(synthetic: generated from the seed)';
    $('download-model').disabled = !this.modelFile;
    $('model-size').textContent = this.modelFile ? `${(this.modelFile.length / 1024).toFixed(1)} KB` : '';
    if (this.tryer)
      this.tryer.then(
        (t) => t.sync(),
        () => {},
      );
  }

  clear() {
    this.modelFile = null;
    $('weights-hash').textContent = '—';
    $('download-model').disabled = true;
    $('model-size').textContent = '';
    if (this.tryer)
      this.tryer.then(
        (t) => t.sync(),
        () => {},
      );
  }
}
