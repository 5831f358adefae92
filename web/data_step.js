/* Step 1, Data: the built-in picker (CSV sets, and IDX image sets fetched only when chosen,
 * with a progress bar), CSV upload and drop, IDX upload (images and labels, gzipped or raw:
 * the page keeps the files as they came and the engine reads them, as `lathe run --data
 * IMAGES --data LABELS` does), PNG/JPEG images or a folder per class (image_upload.js, loaded
 * when needed, makes an IDX set of them), and what the engine read: size and the bytes it takes in the
 * tab, the class balance, an image grid for image data, each column's profile with a
 * histogram, and a preview table that renders only the rows in view (fast on 100,000 rows). */
import { $, h, fmt, download, CLASS_COLORS } from './dom.js';

const SYNTHETIC = ['spiral', 'moons', 'circles', 'xor', 'blobs', 'curve'];
const ROW_HEIGHT = 28; // px, fixed so the preview can compute what is in view
const MAX_UPLOAD = 512 * 1024 * 1024;

/** The first experiment of uploaded data: data {file, target} (a CSV) or {files} (an IDX
 * set); image [C, H, W] for pixels of a CSV. */
function uploadExperiment(data, image = null) {
  const experiment = {
    format: 'lathe-experiment',
    version: 1,
    seed: 42,
    data: data.files ? { files: data.files } : { ...data, task: 'classification' },
    prepare: [
      { op: 'split', test: 0.2, validation: 0.1, stratify: true },
      { op: 'impute', strategy: 'mean' },
      { op: 'standardize' },
    ],
    model: { template: 'mlp', hidden: [32], activation: 'relu' },
    train: { optimizer: 'adam', learning_rate: 0.01, batch_size: 32, epochs: 30 },
  };
  if (data.files || image) {
    // images: pixels scaled together, as the CLI's IDX sets are
    if (image) experiment.data.image = image;
    experiment.prepare = [
      { op: 'split', test: 0.2, validation: 0.1, stratify: true },
      { op: 'minmax', per: 'all' },
    ];
    experiment.model = { template: 'mlp', hidden: [128], activation: 'relu' };
    experiment.train = { optimizer: 'adam', learning_rate: 0.002, batch_size: 32, epochs: 10 };
  }
  return experiment;
}

let nextSet = 1;

/** IDX files [{name, bytes}] (images, labels, then optionally the test images and labels) as
 * the image set the worker reads; id names these very files for the worker's cache (the same
 * id, the same bytes: EngineClient sends them once). */
function idxData(files, classes, lastIsTest = files.length === 4, id = `set-${nextSet++}`) {
  const parts = [];
  for (let i = 0; i + 1 < files.length; i += 2) {
    parts.push({ images: files[i], labels: files[i + 1], test: lastIsTest && i + 2 === files.length });
  }
  return { kind: 'idx', id, parts, classes };
}

/** The bytes at url, reporting (received, total) as they arrive; errors name the set. */
async function fetchBytes(url, name, progress = null) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`the built-in data set '${name}' is not available on this page`);
  if (!progress || !response.body) return response.arrayBuffer();
  const total = Number(response.headers.get('content-length')) || 0;
  const reader = response.body.getReader();
  const chunks = [];
  let received = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    received += value.length;
    progress(received, total);
  }
  return new Blob(chunks).arrayBuffer();
}

/** The value of column col at row r as text. */
export function cellText(col, values, r) {
  const v = values[r];
  if (Number.isNaN(v)) return '';
  if (col.type === 'categorical') return col.categories[v] ?? '';
  if (col.type === 'boolean') return v ? 'true' : 'false';
  return String(Number(v.toPrecision(7))); // float32 holds about 7 digits
}

/** The experiment's target column index in the table (as the core picks it). */
export function targetIndex({ table, valid, experiment }) {
  if (!table) return -1;
  const data = (valid && experiment.data) || {};
  const names = table.info.columns.map((c) => c.name);
  const wanted = data.target || (data.synthetic === 'curve' ? 'y' : 'label');
  return names.indexOf(wanted);
}

export function defaultExperiment(set) {
  const classification = set.task !== 'regression';
  if (set.format === 'idx') {
    // the LeNet-style CNN of examples/full/fashion_mnist_cnn.experiment.json, on the set's own
    // test split when it has one
    const split =
      set.splits && set.splits.test
        ? { op: 'split', validation: 0.1 }
        : { op: 'split', test: 0.2, validation: 0.1, stratify: true };
    return {
      format: 'lathe-experiment',
      version: 1,
      seed: 42,
      data: { builtin: set.name },
      prepare: [split, { op: 'minmax', per: 'all' }],
      model: { template: 'cnn', activation: 'relu' },
      train: { optimizer: 'adam', learning_rate: 0.002, batch_size: 64, epochs: 5 },
    };
  }
  const data =
    set.format === 'synthetic' ? { synthetic: set.name } : { builtin: set.name, target: set.target, task: set.task };
  return {
    format: 'lathe-experiment',
    version: 1,
    seed: 42,
    data,
    prepare: [{ op: 'split', test: 0.2, validation: 0.1, stratify: classification }, { op: 'standardize' }],
    model: { template: 'mlp', hidden: [32], activation: 'relu' },
    train: { optimizer: 'adam', learning_rate: 0.01, batch_size: 32, epochs: 50 },
  };
}

export class DataStep {
  constructor(app) {
    this.app = app;
    this.datasets = [];
    this.requested = '';
    this.first = 0;
    this.builtins = new Map(); // built-in set name -> the read of its CSV bytes (one at a time)
  }

  /** The data the experiment reads, for the worker: CSV bytes (a copy it may take), an image
   * set {kind: 'idx', parts: [{images, labels: {name, bytes}, test}], classes} (the files as
   * they came, gzipped or not), or null for a synthetic set. */
  async bytes(experiment) {
    const data = experiment.data || {};
    const { upload } = this.app.state;
    if (data.synthetic) return null;
    if (data.file || data.files) {
      const names = data.files || [data.file];
      const have = upload ? (upload.files || [upload]).map((f) => f.name) : [];
      if (names.length !== have.length || names.some((n, i) => n !== have[i])) {
        throw new Error(
          `The experiment reads ${names.map((n) => `'${n}'`).join(' and ')}: choose ${names.length > 1 ? 'them' : 'it'} in step 1, Data ("use your own data").`,
        );
      }
      if (!upload.files) return upload.bytes.slice(0);
      // one image set per upload, so the worker reads its files once
      if (!this.uploadData || this.uploadData.upload !== upload)
        this.uploadData = { upload, data: idxData(upload.files, upload.classes || []) };
      return this.uploadData.data;
    }
    if (data.builtin) {
      let read = this.builtins.get(data.builtin);
      if (!read) {
        // the steps that ask while it is read share it; a failed read is tried again
        const set = this.datasets.find((d) => d.name === data.builtin);
        read =
          set && set.format === 'idx' ? this.fetchImages(set) : fetchBytes(`data/${data.builtin}.csv`, data.builtin);
        this.builtins.set(data.builtin, read);
        read.catch(() => this.builtins.delete(data.builtin));
      }
      const got = await read;
      return got instanceof ArrayBuffer ? got.slice(0) : got;
    }
    throw new Error('data needs one of builtin, file, files or synthetic');
  }

  /** A built-in IDX set's files (training parts, then the test part), fetched with a progress
   * bar: the image set the worker reads. */
  async fetchImages(set) {
    const splits = Object.entries(set.splits || {}).sort(([a], [b]) => (a === 'test') - (b === 'test'));
    const files = splits.flatMap(([, s]) => [s.images, s.labels]);
    const bar = $('data-progress');
    const loaded = files.map(() => 0);
    const totals = files.map(() => 0);
    const show = () => {
      const total = totals.reduce((a, b) => a + b, 0);
      const done = loaded.reduce((a, b) => a + b, 0);
      bar.hidden = false;
      bar.max = total || 1;
      bar.value = done;
      $('data-summary').textContent =
        `Fetching ${set.title || set.name}: ${fmt(Math.round(done / 1048576))} of ${total ? fmt(Math.round(total / 1048576)) : '?'} MB…`;
    };
    try {
      const bytes = await Promise.all(
        files.map((path, i) =>
          fetchBytes(`data/${path}`, set.name, (got, total) => {
            loaded[i] = got;
            totals[i] = total;
            show();
          }),
        ),
      );
      const named = files.map((path, i) => ({ name: path.split('/').pop(), bytes: bytes[i] }));
      return idxData(
        named,
        set.classes || [],
        splits.some(([name]) => name === 'test'),
      );
    } finally {
      bar.hidden = true;
    }
  }

  /** Reads the data again (a restarted worker dropped the request). */
  refresh() {
    this.requested = '';
    this.sync();
  }

  async loadDatasets() {
    let manifest = { datasets: [] };
    try {
      const response = await fetch('data/manifest.json');
      if (response.ok) manifest = await response.json();
    } catch {
      /* no built-in files: synthetic sets still work */
    }
    this.datasets = manifest.datasets
      .filter((d) => d.format === 'csv' || d.format === 'idx')
      .concat(
        SYNTHETIC.map((name) => ({
          name,
          format: 'synthetic',
          task: name === 'curve' ? 'regression' : 'classification',
          description: `Synthetic ${name === 'curve' ? '1-D regression curve' : `2-D ${name} classes`}, generated by the engine from the seed`,
        })),
      );
    $('dataset').replaceChildren(...this.datasets.map((d) => new Option(`${d.title || d.name} (${d.task})`, d.name)));
  }

  async experimentFor(name) {
    const set = this.datasets.find((d) => d.name === name);
    // an image set's default is the CNN of examples/full (no example file has its name)
    if (set && set.format === 'idx') return JSON.stringify(defaultExperiment(set), null, 2);
    const response = await fetch(`examples/${name}.experiment.json`);
    if (response.ok) return await response.text();
    return JSON.stringify(defaultExperiment(this.datasets.find((d) => d.name === name)), null, 2);
  }

  wire() {
    $('dataset').addEventListener('change', async (e) => {
      if (e.target.value.startsWith('upload:')) return;
      this.app.state.setText(await this.experimentFor(e.target.value), 'dataset');
    });
    this.addImageControls();
    $('upload').addEventListener('change', (e) => {
      if (e.target.files.length) this.useFiles([...e.target.files]);
    });
    $('download-data').addEventListener('click', () => this.downloadCsv());
    const zone = $('drop-zone');
    zone.addEventListener('dragover', (e) => {
      e.preventDefault();
      zone.classList.add('dragging');
    });
    zone.addEventListener('dragleave', () => zone.classList.remove('dragging'));
    zone.addEventListener('drop', (e) => {
      e.preventDefault();
      zone.classList.remove('dragging');
      // Entries must be taken during the event; a folder is only reachable through them.
      const entries = [...(e.dataTransfer.items || [])]
        .map((it) => it.webkitGetAsEntry && it.webkitGetAsEntry())
        .filter(Boolean);
      if (entries.some((entry) => entry.isDirectory)) this.useImageEntries(entries);
      // without webkitGetAsEntry a dropped folder is a File with no type that cannot be read
      else if (!entries.length && [...e.dataTransfer.files].some((f) => !f.type && !f.name.includes('.'))) {
        this.showError('This browser does not give dropped folders to pages: use the folder button above.');
      } else if (e.dataTransfer.files.length) this.useFiles([...e.dataTransfer.files]);
    });
    $('preview-scroll').addEventListener('scroll', () => {
      if (!this.frame)
        this.frame = requestAnimationFrame(() => {
          this.frame = 0;
          this.renderRows();
        });
    });
  }

  /** Shows the picker's choice and reads the data again when the experiment's data changed. */
  sync() {
    const { state } = this.app;
    if (!state.valid) return;
    const data = state.experiment.data || {};
    const name = data.builtin || data.synthetic;
    if (name && this.datasets.some((d) => d.name === name)) $('dataset').value = name;
    const set = this.datasets.find((d) => d.name === name);
    if (set) $('dataset-description').textContent = set.description || '';
    const key = JSON.stringify([data, data.synthetic ? state.experiment.seed : 0, state.upload && state.upload.name]);
    if (key !== this.requested) {
      this.requested = key;
      this.read(key);
    }
  }

  async read(key) {
    const { app } = this;
    const experiment = app.state.experiment;
    $('data-error').hidden = true;
    $('data-summary').textContent = 'Reading the data…';
    let bytes;
    try {
      bytes = await app.dataBytes(experiment);
    } catch (e) {
      this.showError(e.message);
      return;
    }
    const minimal = {
      format: 'lathe-experiment',
      version: 1,
      seed: experiment.seed ?? 0,
      data: experiment.data,
      prepare: [{ op: 'split' }],
      model: { layers: [{ type: 'dense' }] },
      train: {},
    };
    try {
      const table = await app.engine.request('table', JSON.stringify(minimal), bytes);
      if (key !== this.requested) return; // a newer request is on its way
      app.state.set({ table });
      this.render();
    } catch (e) {
      if (key !== this.requested) return;
      const file = experiment.data && experiment.data.file;
      this.showError(file ? `${file}: ${e.message}` : e.message);
      this.requested = key; // this data's error stands until the data changes
      app.state.set({ table: null });
    }
  }

  showError(message) {
    $('data-summary').textContent = 'No data read.';
    $('data-error').textContent = message;
    $('data-error').hidden = false;
    $('data-details').hidden = true;
    $('data-memory').hidden = true;
    this.requested = ''; // a failed upload: choosing the set shown again reads it again
  }

  /** The folder picker and the image shape, added to the upload box. */
  addImageControls() {
    $('upload').accept += ',.png,.jpg,.jpeg,image/png,image/jpeg';
    const folder = h('input', {
      id: 'upload-folder',
      type: 'file',
      multiple: true,
      webkitdirectory: true,
      'data-testid': 'upload-folder',
    });
    const shape = h(
      'select',
      { id: 'image-shape', 'data-testid': 'image-shape' },
      new Option('grey 28 × 28 (1 × 28 × 28)', '1,28,28'),
      new Option('grey 8 × 8 (1 × 8 × 8)', '1,8,8'),
      new Option('colour 32 × 32 (3 × 32 × 32)', '3,32,32'),
    );
    folder.addEventListener('change', (e) => {
      if (e.target.files.length)
        this.useImages([...e.target.files].map((file) => ({ file, path: file.webkitRelativePath || file.name })));
    });
    shape.addEventListener('change', () => {
      if (this.images) this.useImages(this.images);
    });
    $('download-data').before(
      h('label', { for: 'upload-folder' }, '…or a folder of PNG or JPEG images with one sub-folder per class'),
      folder,
      h('p', { className: 'row' }, h('label', { for: 'image-shape', className: 'inline' }, 'Images become'), shape),
      h('p', { id: 'image-note', className: 'hint', 'data-testid': 'image-note', 'aria-live': 'polite', hidden: true }),
    );
  }

  async imageModule() {
    this.imageLoad ||= import('./image_upload.js');
    return this.imageLoad;
  }

  async useImageEntries(entries) {
    try {
      const mod = await this.imageModule();
      await this.useImages(await mod.filesFromEntries(entries));
    } catch (e) {
      this.showError(`Could not read the dropped folder: ${e.message}`);
    }
  }

  /** Image files ([{file, path}]) as an IDX set (float32 pixels and byte labels), at the chosen
   * shape, kept as the upload. */
  async useImages(files) {
    this.images = files;
    const image = $('image-shape').value.split(',').map(Number);
    const note = $('image-note');
    note.hidden = true;
    $('data-error').hidden = true;
    $('data-summary').textContent = `Reading ${fmt(files.length)} files…`;
    let result;
    try {
      const mod = await this.imageModule();
      result = await mod.readImages(files, image, this.app.engine, (text) => {
        $('data-summary').textContent = text;
      });
    } catch (e) {
      this.showError(e.message);
      return;
    }
    const top = files[0].path.includes('/') ? files[0].path.split('/')[0] : 'images';
    const name = `${top}-${image.join('x')}`;
    const upload = {
      name,
      files: [
        { name: `${name}-images.idx`, bytes: result.images },
        { name: `${name}-labels.idx`, bytes: result.labels },
      ],
      classes: result.names,
      rows: result.rows,
      image,
      fromImages: true,
    };
    this.useData(upload, uploadExperiment({ files: upload.files.map((f) => f.name) }, image));
    note.textContent = (await this.imageModule()).describeRead(result);
    note.hidden = false;
  }

  /** One CSV file, or the two files of an IDX set (images and labels, in either order), or
   * PNG/JPEG images (their class is the part of the name before the first '_'). */
  async useFiles(files) {
    if (files.some((f) => /\.(png|jpe?g)$/i.test(f.name) || /^image\/(png|jpeg)$/.test(f.type))) {
      return this.useImages(files.map((file) => ({ file, path: file.webkitRelativePath || file.name })));
    }
    this.images = null;
    $('image-note').hidden = true;
    const idx = (f) => /idx|ubyte|\.gz$/i.test(f.name);
    if (files.length === 1 && !idx(files[0])) return this.useUpload(files[0]);
    if (files.length !== 2 || !files.every(idx)) {
      this.showError(
        files.some(idx)
          ? `An IDX set is two files, the images and their labels (e.g. train-images-idx3-ubyte.gz and train-labels-idx1-ubyte.gz): choose both at once. Chosen: ${files.map((f) => f.name).join(', ')}.`
          : `Choose one CSV file, or the two files of an IDX set. Chosen: ${files.map((f) => f.name).join(', ')}.`,
      );
      return;
    }
    const big = files.find((f) => f.size > MAX_UPLOAD);
    if (big) {
      this.showError(`${big.name} is ${(big.size / 1048576).toFixed(0)} MB; this page takes files up to 512 MB.`);
      return;
    }
    $('data-error').hidden = true;
    $('data-summary').textContent = `Reading ${files[0].name} and ${files[1].name}…`;
    // the labels file is the one named so; the engine says so if the two are swapped
    const ordered = [...files].sort((a, b) => /label/i.test(a.name) - /label/i.test(b.name));
    let upload;
    try {
      const read = await Promise.all(ordered.map(async (f) => ({ name: f.name, bytes: await f.arrayBuffer() })));
      const experiment = uploadExperiment({ files: read.map((f) => f.name) });
      const table = await this.app.engine.request('table', JSON.stringify(experiment), idxData(read, []));
      upload = { name: read[0].name, files: read, rows: table.info.rows, image: table.info.image };
    } catch (e) {
      this.showError(e.message);
      return;
    }
    // data.image too, so that `lathe run --data` replays it on the CSV the page writes
    this.useData(upload, uploadExperiment({ files: upload.files.map((f) => f.name) }, upload.image));
  }

  /** The uploaded data (kept in IndexedDB) with its first experiment. */
  useData(upload, experiment) {
    const { app } = this;
    app.state.set({ upload });
    app.store.put('upload', upload); // kept in IndexedDB with the experiment
    this.showUpload(upload);
    this.requested = ''; // the same name may hold new bytes
    app.state.setText(JSON.stringify(experiment, null, 2), 'upload');
    const files = upload.files || [upload];
    const size = files.reduce((n, f) => n + f.bytes.byteLength, 0);
    $('dataset-description').textContent = upload.files
      ? `${files.map((f) => f.name).join(' and ')}: ${fmt(upload.rows)} images, ${(size / 1048576).toFixed(1)} MB, read in this tab only.`
      : `${upload.name}: ${(size / 1024).toFixed(1)} KB, read in this tab only. Target: '${experiment.data.target}' (the last column; choose another in Prepare).`;
    app.status(`Loaded ${upload.name}.`);
  }

  /** The data as CSV for `lathe run --data FILE`: an upload's bytes, or an image set's table
   * written out by the worker (only now, when asked). */
  async downloadCsv() {
    const { app } = this;
    const { upload } = app.state;
    if (!upload) return;
    if (!upload.files) {
      download(upload.name, upload.bytes, 'text/csv');
      return;
    }
    const name = upload.fromImages
      ? `${upload.name}.csv`
      : `${upload.name.replace(/\.gz$/i, '').replace(/[.-]idx[0-9]*[.-]ubyte$|\.idx[0-9]*$/i, '')}.csv`;
    app.status(`Writing ${name}…`);
    try {
      const experiment = uploadExperiment({ files: upload.files.map((f) => f.name) });
      const blob = await app.engine.request('data-csv', JSON.stringify(experiment), await this.bytes(experiment));
      download(name, blob, 'text/csv');
      app.status(`Downloaded ${name}.`);
    } catch (e) {
      app.error(`Could not write the CSV: ${e.message}`);
    }
  }

  async useUpload(file) {
    if (file.size > MAX_UPLOAD) {
      this.showError(`${file.name} is ${(file.size / 1048576).toFixed(0)} MB; this page takes files up to 512 MB.`);
      return;
    }
    const bytes = await file.arrayBuffer();
    this.useData({ name: file.name, bytes }, uploadExperiment({ file: file.name, target: lastColumnName(bytes) }));
  }

  /** The uploaded file as the picker's first choice (also for one kept from a past visit). */
  showUpload(upload) {
    const select = $('dataset');
    select.querySelector('option[data-upload]')?.remove();
    const option = new Option(`${upload.name} (your file)`, `upload:${upload.name}`);
    option.dataset.upload = 'true';
    select.prepend(option);
    select.value = option.value;
    $('download-data').hidden = !upload.files;
  }

  render() {
    const { info, columns, memory } = this.app.state.table;
    const t = targetIndex(this.app.state);
    $('data-summary').textContent =
      `${fmt(info.rows)} rows × ${info.columns.length} columns` +
      (t >= 0 ? `; target '${info.columns[t].name}'.` : '.');
    const mb = (n) => (n < 1048576 ? `${fmt(Math.ceil(n / 1024))} KiB` : `${fmt(Math.round(n / 1048576))} MiB`);
    $('data-memory').textContent = memory
      ? `In this tab: ${memory.stored ? `${mb(memory.stored)} of files, ` : ''}${mb(memory.table)} as a table, about ${mb(2 * memory.table)} with its prepared copy; the engine holds ${mb(memory.heap.used)} now and may grow to ${mb(memory.heap.max)}.`
      : '';
    $('data-memory').hidden = !memory;
    $('data-details').hidden = false;
    this.renderBalance(t);
    this.renderImages(t);
    $('profile').tBodies[0].replaceChildren(
      ...info.columns.map((col, j) => {
        const summary =
          col.type === 'numeric'
            ? `${fmt(col.min)} … ${fmt(col.max)}, mean ${fmt(col.mean)}, sd ${fmt(col.std)}`
            : col.top
                .map(([k, n]) => `${col.type === 'boolean' ? (k ? 'true' : 'false') : col.categories[k]} (${fmt(n)})`)
                .join(', ');
        const canvas = h('canvas', {
          width: 120,
          height: 28,
          className: 'spark',
          role: 'img',
          'aria-label': `distribution of ${col.name}`,
        });
        drawHistogram(canvas, col, columns[j]);
        return h(
          'tr',
          {},
          h('th', { scope: 'row' }, col.name, j === t ? h('span', { className: 'tag' }, 'target') : null),
          h('td', {}, col.type),
          h('td', {}, fmt(col.missing)),
          h('td', {}, fmt(col.distinct)),
          h('td', {}, summary),
          h('td', {}, canvas),
        );
      }),
    );
    const head = h(
      'tr',
      {},
      h('th', { scope: 'col', className: 'rownum' }, '#'),
      ...info.columns.map((c) => h('th', { scope: 'col' }, c.name)),
    );
    $('preview').tHead.replaceChildren(head);
    $('preview-scroll').scrollTop = 0;
    this.first = -1;
    this.renderRows();
  }

  /** For image data (data.image): a few thumbnails of each class, drawn from the table. */
  async renderImages(t) {
    let box = $('image-grid');
    if (!box) {
      box = h('div', { id: 'image-grid' });
      $('balance').after(box);
    }
    const table = this.app.state.table;
    const image = this.app.state.imageShape();
    box.replaceChildren();
    if (!image) return;
    const mod = await this.imageModule();
    if (this.app.state.table !== table) return; // a newer table arrived meanwhile
    const grid = mod.imageGrid(table, image, t);
    if (grid) box.replaceChildren(grid);
  }

  renderBalance(t) {
    const box = $('balance');
    const { info, columns } = this.app.state.table;
    const col = info.columns[t];
    if (!col || col.type === 'numeric') {
      box.replaceChildren(
        h(
          'p',
          { className: 'hint' },
          col ? `The target '${col.name}' is numeric: see its histogram below.` : 'Choose a target in Prepare.',
        ),
      );
      return;
    }
    const names = col.type === 'boolean' ? ['false', 'true'] : col.categories;
    const counts = new Array(names.length).fill(0);
    for (const v of columns[t]) if (!Number.isNaN(v)) counts[v]++;
    const max = Math.max(1, ...counts);
    box.replaceChildren(
      h('h3', {}, `Class balance of '${col.name}'`),
      h(
        'ul',
        { className: 'bars', 'data-testid': 'balance' },
        names.map((name, k) =>
          h(
            'li',
            {},
            h('span', { className: 'bar-label' }, name),
            h('span', { className: 'bar' }, h('span', { className: 'fill' })),
            h(
              'span',
              { className: 'bar-value' },
              `${fmt(counts[k])} (${((100 * counts[k]) / Math.max(1, info.rows)).toFixed(1)}%)`,
            ),
          ),
        ),
      ),
    );
    box.querySelectorAll('.fill').forEach((el, k) => {
      el.style.width = `${((100 * counts[k]) / max).toFixed(1)}%`;
      el.style.background = CLASS_COLORS[k % CLASS_COLORS.length];
    });
  }

  /** Renders the rows in view of the preview, with spacers standing for the others. */
  renderRows() {
    if (!this.app.state.table) return;
    const { info, columns } = this.app.state.table;
    const scroll = $('preview-scroll');
    const visible = Math.ceil(scroll.clientHeight / ROW_HEIGHT) + 1 || 12;
    const first = Math.max(0, Math.min(info.rows - visible, Math.floor(scroll.scrollTop / ROW_HEIGHT) - 4));
    if (first === this.first && this.count === visible) return;
    this.first = first;
    this.count = visible;
    const last = Math.min(info.rows, first + visible + 8);
    const spacer = (rows) => {
      const tr = h('tr', { className: 'spacer', 'aria-hidden': 'true' });
      tr.style.height = `${rows * ROW_HEIGHT}px`;
      return tr;
    };
    const rows = [spacer(Math.max(0, first))];
    for (let r = Math.max(0, first); r < last; r++) {
      rows.push(
        h(
          'tr',
          {},
          h('th', { scope: 'row', className: 'rownum' }, String(r + 1)),
          ...info.columns.map((col, j) => {
            const text = cellText(col, columns[j], r);
            return h('td', { className: text === '' ? 'missing' : '' }, text === '' ? '—' : text);
          }),
        ),
      );
    }
    rows.push(spacer(info.rows - last));
    $('preview').tBodies[0].replaceChildren(...rows);
  }
}

/** A 20-bin histogram of a numeric column, or bars of the most frequent categories. */
function drawHistogram(canvas, col, values) {
  const ctx = canvas.getContext('2d');
  if (!ctx) return; // a browser that gives no 2-D context: the column's numbers stay
  let counts;
  if (col.type === 'numeric') {
    counts = new Array(20).fill(0);
    const span = col.max - col.min;
    for (const v of values) {
      if (Number.isNaN(v)) continue;
      counts[span > 0 ? Math.min(19, Math.floor(((v - col.min) / span) * 20)) : 0]++;
    }
  } else {
    counts = col.top.map(([, n]) => n);
  }
  const max = Math.max(1, ...counts);
  const w = canvas.width / counts.length;
  ctx.fillStyle = '#4b74b8';
  counts.forEach((n, i) => {
    const bh = (n / max) * (canvas.height - 2);
    ctx.fillRect(i * w + 0.5, canvas.height - bh, Math.max(1, w - 1), bh);
  });
}

/** The header's last column name, read the way the engine does for plain headers. */
function lastColumnName(bytes) {
  const head = new TextDecoder().decode(bytes.slice(0, 65536)).replace(/^\uFEFF/, '');
  const line = head.split(/\r?\n/)[0] || '';
  const counts = [',', ';', '\t'].map((d) => [d, line.split(d).length]);
  const [delimiter] = counts.sort((a, b) => b[1] - a[1])[0];
  const last = line.split(delimiter).pop() || '';
  return last.trim().replace(/^"(.*)"$/, '$1');
}
