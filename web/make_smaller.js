/* Deploy → Make it smaller (loaded on the first "Quantise to int8"): post-training int8
 * quantisation of the last run's model, as `lathe quantize` makes it (native_cli/cmd_quantize.c),
 * in one table, `lathe compress-report`'s — float and int8, test accuracy or R², the drop, the
 * weights' and the model file's bytes, the C export's flash and RAM, and the milliseconds of a
 * prediction of 1 and 256 test rows in this browser's wasm — with the max drop as a gate, the
 * int8 model file to download, and "Try it".
 *
 * The worker quantises a session of its own ('model-quantize'): opened on the model file's
 * embedded experiment and the run's data, built from the model file as fine-tuning starts
 * (its weights and fitted preparation: the CLI's lathe_session_build(s, model)), quantised,
 * written and freed. The run's result, its checkpoint and any training in progress are never
 * touched, and the int8 file is the CLI's for the same model file and calibration rows. */
import { $, h, download } from './dom.js';

const MAX_ROWS = 4096; // LATHE_CALIBRATION_MAX_ROWS

export class MakeSmaller {
  constructor(app, deploy) {
    this.app = app;
    this.deploy = deploy; // the Deploy step: its model file, base name and model tryer
    this.made = null; // {model, report, file, rows, maxDrop, fails}
    this.busy = false;
  }

  /** Reads the panel's fields: {rows, maxDrop (null: none)}, or throws an Error saying which
   * field is wrong and why. */
  fields() {
    const rowsText = $('quant-calib').value.trim();
    const rows = Number(rowsText);
    if (!rowsText || !Number.isInteger(rows) || rows < 1 || rows > MAX_ROWS)
      throw new Error(`Calibration rows: '${rowsText}' is not a whole number from 1 to ${MAX_ROWS}.`);
    const dropText = $('quant-max-drop').value.trim();
    const maxDrop = dropText === '' ? null : Number(dropText);
    if (maxDrop !== null && !(Number.isFinite(maxDrop) && maxDrop >= 0))
      throw new Error(`Max drop: '${dropText}' is not a number of points, 0 or more.`);
    return { rows, maxDrop };
  }

  /** Quantises the model shown; an error is shown in the panel and nothing else changes. */
  async run() {
    if (this.busy) return;
    const { app, deploy } = this;
    const model = deploy.modelFile;
    const fail = (message) => {
      $('quant-error').textContent = message;
      $('quant-error').hidden = false;
    };
    $('quant-error').hidden = true;
    if (!model) return fail('There is no model to quantise yet: train one in step 4 first.');
    let fields;
    try {
      fields = this.fields();
    } catch (e) {
      return fail(e.message);
    }
    this.busy = true;
    $('quantize').disabled = true;
    $('quant-status').textContent = `Calibrating on ${fields.rows} training rows…`;
    try {
      // the data the model file's experiment names (the worker opens the session on it)
      const { experiment } = JSON.parse(model);
      const { message, transfer } = app.engine.data(await app.dataBytes(experiment));
      const reply = await app.engine.ask(
        'model-quantize',
        { model, data: message, rows: fields.rows, percentile: 100 },
        transfer,
      );
      if (model !== deploy.modelFile) return; // another run's model came meanwhile
      const drop = reply.report.drop_points;
      const fails = fields.maxDrop !== null && !(drop <= fields.maxDrop);
      const made = { model, ...reply, ...fields, fails, measured: {} };
      this.made = made;
      this.show();
      // then what `lathe compress-report` adds: each model's C footprint and speed, one
      // model at a time (the worker times 5 × 2 × ≥ 0.1 s each, answering between timings)
      $('quant-status').textContent = 'Measuring the C export and the speed…';
      for (const [variant, file] of [
        ['float', model],
        ['int8', reply.file],
      ]) {
        const { message, transfer } = app.engine.data(await app.dataBytes(experiment));
        made.measured[variant] = await app.engine
          .ask('model-measure', { model: file, data: message }, transfer)
          .catch((e) => {
            if (made === this.made) fail(`The ${variant} model could not be measured: ${e.message}`);
            return { error: true };
          });
        if (made !== this.made) return; // reset meanwhile
        this.show();
      }
    } catch (e) {
      if (model === deploy.modelFile) fail(`The model could not be quantised: ${e.message}`);
    } finally {
      this.busy = false;
      $('quant-status').textContent = '';
      $('quantize').disabled = !deploy.modelFile;
    }
  }

  /** The table, the gate's warning, the download and the CLI command of the last result. */
  show() {
    const m = this.made;
    const r = m.report;
    const accuracy = r.metric === 'accuracy';
    const value = (v) => (v === null || v === undefined ? '—' : accuracy ? `${(100 * v).toFixed(2)}%` : v.toFixed(4));
    const kb = (n) => (n < 1024 ? `${n} B` : `${(n / 1024).toFixed(1)} KB`);
    const points = (v) => (v === 0 ? '0.00' : `${v > 0 ? '+' : '−'}${Math.abs(v).toFixed(2)}`);
    const delta = r.float.test === null ? null : -r.drop_points;
    const ms = (v) => Number(v.toPrecision(2));
    // C flash / RAM and ms at batch 1 / 256: "measuring…" until the worker answers
    const measures = (variant) => {
      const c = m.measured[variant] || {};
      const cell = (props, text) => h('td', { className: 'n', ...props }, m.measured[variant] ? text : 'measuring…');
      return [
        cell({ 'data-flash': c.flash, 'data-ram': c.ram }, c.error ? '—' : `${kb(c.flash)} / ${kb(c.ram)}`),
        cell(
          { 'data-ms1': c.ms1, 'data-msn': c.msN, 'data-rows': c.rows },
          c.rows ? `${ms(c.ms1)} / ${ms(c.msN)}${c.rows < 256 ? ` (${c.rows} rows)` : ''}` : '—',
        ),
      ];
    };
    const row = (variant, test, change, weights, file, ratio) =>
      h(
        'tr',
        { 'data-variant': variant },
        h('th', { scope: 'row' }, variant),
        h('td', { className: 'n', 'data-value': test === null ? '' : test }, value(test)),
        h(
          'td',
          { className: 'n', 'data-points': change === null ? '' : change },
          change === null ? '—' : points(change),
        ),
        h('td', { className: 'n', 'data-bytes': weights }, kb(weights), ratio ? ` (${ratio})` : ''),
        h('td', { className: 'n', 'data-bytes': file }, kb(file)),
        ...measures(variant),
      );
    const ratio = `${(r.weight_bytes.int8 / r.weight_bytes.float).toFixed(2)}×`;
    // the model files as they download: the Deploy step's, and the int8 one (the report's
    // model_bytes measure files with the session's own metrics, not these)
    const bytes = (text) => new TextEncoder().encode(text).length;
    $('quant-metric').textContent = accuracy ? 'test accuracy' : 'test R²';
    $('quant-table')
      .querySelector('tbody')
      .replaceChildren(
        row('float', r.float.test, r.float.test === null ? null : 0, r.weight_bytes.float, bytes(m.model)),
        row('int8', r.int8.test, delta, r.weight_bytes.int8, bytes(m.file), ratio),
      );
    $('quant-warning').hidden = !m.fails;
    if (m.fails)
      $('quant-warning').replaceChildren(
        `The int8 model loses ${Number(r.drop_points.toPrecision(3))} points on the test split, more than the max drop of ${m.maxDrop}: ` +
          'it fails the limit (',
        h('code', {}, `lathe quantize --max-drop ${m.maxDrop}`),
        ' writes no file). The download below is still offered.',
      );
    const base = this.deploy.baseName();
    $('quant-report-command').textContent = `lathe compress-report ${base}.lathe.json ${base}.int8.lathe.json`;
    $('quant-download').textContent = m.fails
      ? 'Download the int8 model file (fails the max drop)'
      : 'Download the int8 model file';
    $('quant-result').hidden = false;
  }

  fileName() {
    return `${this.deploy.baseName()}.int8.lathe.json`;
  }

  save() {
    if (this.made) download(this.fileName(), this.made.file);
  }

  /** Loads the int8 model into Try the model. */
  async tryIt() {
    if (!this.made) return;
    this.deploy.open(); // loads the model tryer when it has not loaded yet
    const tryer = await this.deploy.tryer;
    await tryer.use(this.made.file, 'the int8 model (Make it smaller)', this.fileName());
    $('try-title').scrollIntoView({ block: 'start' });
  }

  /** The model shown changed (a new run, or none): the last result is not its. */
  reset() {
    this.made = null;
    $('quant-result').hidden = true;
    $('quant-error').hidden = true;
  }
}
