/* Image uploads, loaded when first needed: PNG/JPEG files, or a folder with one sub-folder per
 * class, become an IDX set as an IDX upload is (images as float32 (n, C, H, W), labels as
 * bytes indexing the class names in byte order), so training, the data download (the CSV
 * the worker writes from it) and `lathe run --data` need nothing new; it never becomes CSV
 * text until the user downloads it.
 * The browser decodes each file; the engine's core converts its pixels to the input shape
 * (lathe_image_convert: BT.601 luma, area-weighted resampling, values 0…255). Also draws the
 * image grid (a few thumbnails per class) of any table of image data. */
import { h, fmt } from './dom.js';

export const MAX_IMAGES = 20000;
const MAX_CELLS = 16 * 1024 * 1024; // pixel values in one upload (4 bytes each as float32)
const BATCH_BYTES = 32 * 1024 * 1024; // decoded RGBA bytes sent to the worker at a time
const IMAGE_NAME = /\.(png|jpe?g)$/i;
const MISSING_LABEL = /^(|na|n\/a|nan|null|\?)$/i; // the core's CSV reader's missing values

/** Whether a file is one this module reads (by its name or type). */
export function isImage(file) {
  return IMAGE_NAME.test(file.name) || /^image\/(png|jpeg)$/.test(file.type);
}

/** The files under the entries of a drop (FileSystemEntry: files and directories, walked
 * depth first) as [{file, path}], path relative to the drop ("cats/1.png"). */
export async function filesFromEntries(entries) {
  const out = [];
  const walk = async (entry) => {
    if (entry.isFile) {
      const file = await new Promise((resolve, reject) => entry.file(resolve, reject));
      out.push({ file, path: entry.fullPath.replace(/^\//, '') });
    } else if (entry.isDirectory) {
      const reader = entry.createReader();
      for (;;) {
        // readEntries answers in chunks (about 100 at a time) until an empty one
        const chunk = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
        if (!chunk.length) break;
        for (const e of chunk) await walk(e);
      }
    }
  };
  for (const entry of entries) await walk(entry);
  return out;
}

/** Each image's class: the first folder below the folders all files share (a folder per
 * class), else the part of the file name before the first '_' ("cat_01.png" → cat).
 * Returns {items: [{file, path, label}], unlabelled: [path], folders: bool}. */
export function labelFiles(files) {
  const dirs = files.map((f) => f.path.split('/').slice(0, -1));
  let common = dirs.length ? dirs[0].length : 0;
  for (const d of dirs) {
    let k = 0;
    while (k < common && k < d.length && d[k] === dirs[0][k]) k++;
    common = k;
  }
  const folders = dirs.some((d) => d.length > common);
  const items = [],
    unlabelled = [];
  files.forEach((f, i) => {
    const base = f.path.split('/').pop();
    const label = folders ? dirs[i][common] : base.includes('_') ? base.slice(0, base.indexOf('_')) : '';
    if (label === undefined || label === '') unlabelled.push(f.path);
    else items.push({ ...f, label });
  });
  return { items, unlabelled, folders };
}

/** At most `cap` items, taking the classes in turn so none is left out; path order kept. */
function capItems(items, cap) {
  if (items.length <= cap) return items;
  const byClass = new Map();
  for (const it of items) (byClass.get(it.label) || byClass.set(it.label, []).get(it.label)).push(it);
  const lists = [...byClass.values()];
  const kept = [];
  for (let k = 0; kept.length < cap; k++) {
    for (const list of lists) if (k < list.length && kept.length < cap) kept.push(list[k]);
  }
  return kept.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** A file's RGBA pixels as the browser decodes it (no colour management, straight alpha). */
async function decode(file) {
  const bitmap = await createImageBitmap(file, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  try {
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    ctx.drawImage(bitmap, 0, 0);
    const img = ctx.getImageData(0, 0, bitmap.width, bitmap.height);
    return { pixels: img.data.buffer, width: img.width, height: img.height };
  } finally {
    bitmap.close();
  }
}

/** Compares two strings by their UTF-8 bytes. */
function byteOrder(a, b) {
  const x = new TextEncoder().encode(a),
    y = new TextEncoder().encode(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

/** An IDX file: element type (0x08 u8, 0x0d float32), dims, and fill(view, offset) writing
 * the elements big-endian from offset. */
function idxBytes(type, dims, fill) {
  const element = type === 0x0d ? 4 : 1;
  const header = 4 + 4 * dims.length;
  const bytes = new ArrayBuffer(header + element * dims.reduce((a, b) => a * b, 1));
  const view = new DataView(bytes);
  view.setUint8(2, type);
  view.setUint8(3, dims.length);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  fill(view, header);
  return bytes;
}

/**
 * Reads image files ([{file, path}]) into an IDX set of shape [C, H, W] pixels and a label.
 * engine: the EngineClient; progress(text) reports how far it is.
 * Returns {images, labels (the IDX files' bytes: ArrayBuffers), names (the class names, label
 * k is names[k]), image, rows, classes: [[name, count]], skipped: [{path, reason}],
 * ignored: count of non-image files, capped: number of images left out}. Throws an Error with
 * a message for people when there is nothing to train on (no images, one class).
 */
export async function readImages(files, image, engine, progress = () => {}) {
  const [c, hgt, wid] = image;
  const size = c * hgt * wid;
  const pictures = files
    .filter((f) => isImage(f.file))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const ignored = files.length - pictures.length;
  if (!pictures.length) {
    throw new Error(
      files.length
        ? `No PNG or JPEG images among the ${fmt(files.length)} files chosen (e.g. ${files[0].path}).`
        : 'No files were chosen (an empty folder?).',
    );
  }
  const { items: labelled, unlabelled, folders } = labelFiles(pictures);
  if (!labelled.length) {
    const where = pictures[0].path.includes('/')
      ? `in one folder, '${pictures[0].path.split('/').slice(-2, -1)[0]}', `
      : '';
    throw new Error(
      `All ${fmt(pictures.length)} images are ${where}with no sub-folders and no '_' in their names, so they have no classes: training needs at least two. ` +
        'Choose the folder that holds one sub-folder per class, or name files class_… (e.g. cat_01.png).',
    );
  }
  const skipped = unlabelled.map((path) => ({
    path,
    reason: "no class: not in a class folder and no '_' in its name",
  }));
  // a class the CSV reader would take for a missing value would lose its images' labels
  const usable = labelled.filter((it) => {
    if (!MISSING_LABEL.test(it.label.trim())) return true;
    skipped.push({
      path: it.path,
      reason: `its class '${it.label}' reads as a missing value in a CSV: rename the ${folders ? 'folder' : 'file'}`,
    });
    return false;
  });
  const cap = Math.min(MAX_IMAGES, Math.floor(MAX_CELLS / size));
  const items = capItems(usable, cap);
  const capped = usable.length - items.length;

  // Decode in batches; the worker converts each batch with the core.
  const values = new Float32Array(items.length * size);
  const kept = []; // items whose pixels are in values, in order
  let batch = [],
    bytes = 0;
  const flush = async () => {
    if (!batch.length) return;
    const reply = await engine.ask(
      'image-convert',
      { images: batch.map((b) => b.decoded), shape: image },
      batch.map((b) => b.decoded.pixels),
    );
    const bad = new Map(reply.errors.map((e) => [e.index, e.message]));
    const converted = new Float32Array(reply.values);
    batch.forEach((b, i) => {
      if (bad.has(i)) {
        skipped.push({ path: b.item.path, reason: bad.get(i) });
        return;
      }
      values.set(converted.subarray(i * size, (i + 1) * size), kept.length * size);
      kept.push(b.item);
    });
    batch = [];
    bytes = 0;
  };
  for (let i = 0; i < items.length; i++) {
    if (i % 50 === 0) progress(`Reading images: ${fmt(i)} of ${fmt(items.length)}…`);
    let decoded;
    try {
      decoded = await decode(items[i].file);
    } catch {
      skipped.push({ path: items[i].path, reason: 'not a readable PNG or JPEG image' });
      continue;
    }
    batch.push({ item: items[i], decoded });
    bytes += decoded.pixels.byteLength;
    if (bytes >= BATCH_BYTES) await flush();
  }
  await flush();

  const counts = new Map();
  for (const it of kept) counts.set(it.label, (counts.get(it.label) || 0) + 1);
  // in byte order, as the core's CSV reader sorts categories, so the CSV replays the same labels
  const classes = [...counts.entries()].sort((a, b) => byteOrder(a[0], b[0]));
  const skippedText = skipped.length
    ? ` Skipped ${skipped.length}: ${skipped
        .slice(0, 3)
        .map((s) => s.path)
        .join(', ')}${skipped.length > 3 ? ', …' : ''}.`
    : '';
  if (!kept.length) throw new Error(`None of the ${fmt(pictures.length)} images could be used.${skippedText}`);
  if (classes.length < 2) {
    throw new Error(
      `All ${fmt(kept.length)} images are of one class, '${classes[0][0]}': training needs at least two. ` +
        (folders
          ? 'Choose the folder that holds one sub-folder per class.'
          : 'Put each class in its own sub-folder, or name files class_… (e.g. cat_01.png).'),
    );
  }

  if (classes.length > 256) throw new Error(`${fmt(classes.length)} classes: an image set has at most 256.`);
  const names = classes.map(([k]) => k);
  const index = new Map(names.map((k, i) => [k, i]));
  const images = idxBytes(0x0d, c === 1 ? [kept.length, hgt, wid] : [kept.length, c, hgt, wid], (view, at) => {
    for (let i = 0; i < kept.length * size; i++) view.setFloat32(at + 4 * i, values[i], false);
  });
  const labels = idxBytes(0x08, [kept.length], (view, at) => {
    kept.forEach((it, r) => view.setUint8(at + r, index.get(it.label)));
  });
  return {
    images,
    labels,
    names,
    image,
    rows: kept.length,
    classes,
    skipped,
    ignored,
    capped,
    cap,
  };
}

/** One image (values:(C·H·W) floats in NCHW order, times scale to 0…255) on a canvas. */
export function imageCanvas(values, image, scale, label) {
  const [c, hgt, wid] = image;
  const canvas = h('canvas', { width: wid, height: hgt, role: 'img', 'aria-label': label });
  const ctx = canvas.getContext('2d');
  if (!ctx) return canvas; // no 2-D context: an empty canvas with its label
  const img = ctx.createImageData(wid, hgt);
  const plane = hgt * wid;
  for (let p = 0; p < plane; p++) {
    for (let k = 0; k < 3; k++) img.data[4 * p + k] = values[(c === 3 ? k : 0) * plane + p] * scale; // clamped by the array
    img.data[4 * p + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  return canvas;
}

/** The factor that shows pixels as 0…255: 1 for 0…255 data, else 255 / the largest value
 * (digits hold 0…16). */
export function displayScale(max) {
  return max > 0 && (max <= 16 || max > 255) ? 255 / max : 1;
}

/** One image of a table (values of columns px… of row r) on a canvas. */
function thumbnail(columns, first, image, r, scale, label) {
  const values = Float32Array.from({ length: image[0] * image[1] * image[2] }, (_, i) => columns[first + i][r]);
  return imageCanvas(values, image, scale, label);
}

/**
 * The image grid of a table whose columns px0 … hold [C, H, W] images: up to `per` thumbnails
 * of each class (classes from the target column t, categorical), with the class's count.
 * Returns an element, or null when the table does not hold such images.
 */
export function imageGrid(table, image, t, per = 8) {
  const { info, columns } = table;
  const [c, hgt, wid] = image;
  const size = c * hgt * wid;
  if ((c !== 1 && c !== 3) || !info.rows) return null;
  const first = info.columns.findIndex((col) => col.name === 'px0');
  if (first < 0 || first + size > info.columns.length) return null;
  const target = info.columns[t];
  // Classes: the categories of the target, or the values of a numeric target (digits 0…9).
  let values = null;
  if (target && target.type === 'numeric' && target.distinct <= 50) {
    values = [...new Set(columns[t])].filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  }
  const classed = target && (target.type !== 'numeric' || values);
  const names = !classed
    ? ['']
    : values
      ? values.map(String)
      : target.type === 'boolean'
        ? ['false', 'true']
        : target.categories;
  const index = values ? new Map(values.map((v, k) => [v, k])) : null;
  const rows = names.map(() => []);
  const counts = names.map(() => 0);
  for (let r = 0; r < info.rows; r++) {
    const k = !classed ? 0 : index ? index.get(columns[t][r]) : columns[t][r];
    if (k === undefined || Number.isNaN(k)) continue;
    counts[k]++;
    if (rows[k].length < per) rows[k].push(r);
  }
  let max = 0; // pixels of 0…16 (digits) or 0…1 are shown brightened to 0…255
  for (const list of rows)
    for (const r of list) for (let i = 0; i < size; i++) max = Math.max(max, columns[first + i][r] || 0);
  const scale = displayScale(max);
  const shown = names
    .map((name, k) => [name, k])
    .filter(([, k]) => counts[k] > 0)
    .slice(0, 20);
  return h(
    'div',
    { 'data-testid': 'image-grid' },
    h('h3', {}, `Sample images (${c === 3 ? 'colour' : 'grey'}, ${hgt} × ${wid})`),
    shown.map(([name, k]) =>
      h(
        'div',
        { className: 'image-class' },
        h(
          'p',
          { className: 'hint' },
          classed ? `${name}: ${fmt(counts[k])} image${counts[k] === 1 ? '' : 's'}` : `${fmt(counts[k])} images`,
        ),
        h(
          'ul',
          { className: 'thumbs' },
          rows[k].map((r) =>
            h(
              'li',
              {},
              thumbnail(columns, first, image, r, scale, `${classed ? name : 'image'}, row ${r + 1}`),
              `#${r + 1}`,
            ),
          ),
        ),
      ),
    ),
    names.length > shown.length
      ? h('p', { className: 'hint' }, `…and ${names.length - shown.length} more classes.`)
      : null,
  );
}

/** The augmentation preview: a few rows of a table of [C, H, W] images (columns px0 …) and
 * `copies` augmented copies of each, made by the core (the worker's 'augment-images') with the
 * augment step's settings and the experiment's seed. Returns an element, or null. */
export async function augmentPreview(engine, table, op, image, seed, copies = 3) {
  const size = image[0] * image[1] * image[2];
  const { info, columns } = table;
  const first = info.columns.findIndex((c) => c.name === 'px0');
  if (first < 0 || first + size > info.columns.length || !info.rows) return null;
  const n = Math.min(4, info.rows);
  const rows = Array.from({ length: n }, (_, k) => Math.floor((k * info.rows) / n));
  const pixels = new Float32Array(n * size);
  rows.forEach((r, k) => {
    for (let i = 0; i < size; i++) pixels[k * size + i] = columns[first + i][r] || 0;
  });
  const reply = await engine.ask('augment-images', {
    pixels: pixels.buffer.slice(0),
    image,
    settings: op,
    seed,
    copies,
  });
  const out = new Float32Array(reply.values);
  const scale = displayScale(pixels.reduce((a, b) => Math.max(a, b), 0));
  return h(
    'div',
    {},
    h('h3', {}, 'Augmentation preview'),
    h(
      'p',
      { className: 'hint' },
      `Rows ${rows.map((r) => r + 1).join(', ')} and ${copies} copies of each as the augment step makes them (shift, flip, rotation and noise drawn from the seed; training draws its own copies of the training rows).`,
    ),
    rows.map((r, k) =>
      h(
        'ul',
        { className: 'thumbs' },
        h(
          'li',
          {},
          imageCanvas(pixels.subarray(k * size, (k + 1) * size), image, scale, `row ${r + 1}`),
          `row ${r + 1}`,
        ),
        Array.from({ length: copies }, (_, j) =>
          h(
            'li',
            {},
            imageCanvas(
              out.subarray((j * n + k) * size, (j * n + k + 1) * size),
              image,
              scale,
              `row ${r + 1}, augmented copy ${j + 1}`,
            ),
            `copy ${j + 1}`,
          ),
        ),
      ),
    ),
  );
}

/** What an image upload read, in words: classes and counts, images left out, files skipped. */
export function describeRead(result) {
  const plural = (n, one, many) => `${fmt(n)} ${n === 1 ? one : many}`;
  const parts = [
    `${fmt(result.rows)} images of ${result.classes.length} classes (${result.classes.map(([k, n]) => `${k}: ${fmt(n)}`).join(', ')}) at ${result.image.join(' × ')}.`,
  ];
  if (result.capped)
    parts.push(
      `Only ${fmt(result.cap)} images are read at this size; ${fmt(result.capped)} were left out (taken evenly from each class).`,
    );
  if (result.skipped.length) {
    parts.push(
      `Skipped ${plural(result.skipped.length, 'file', 'files')}: ${result.skipped
        .slice(0, 5)
        .map((s) => `${s.path} (${s.reason})`)
        .join('; ')}${result.skipped.length > 5 ? '; …' : ''}.`,
    );
  }
  if (result.ignored)
    parts.push(`Ignored ${plural(result.ignored, 'file that is', 'files that are')} not PNG or JPEG.`);
  return parts.join(' ');
}
