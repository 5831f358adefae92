// Images: a folder of PNGs, Fashion-MNIST through every step, dropped JPEG files.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { execFileSync } from 'node:child_process';
import { test, assert, close, pngFile, root, cli, scratch, logs } from './fixtures.mjs';

test('a folder of PNG images (a sub-folder per class) uploads, trains, and is kept as an IDX set, and replays in the CLI from the CSV the page writes; a corrupt file is named and skipped', async (s) => {
  const { page } = s;
  // Two classes drawn here: 20 discs as grey 28 × 28 PNGs (converted to 1 × 28 × 28 unchanged,
  // so the CSV must hold exactly these pixels) and 20 squares as RGBA 40 × 40 PNGs (resampled).
  let seed = 7;
  const rand = (n) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const dir = path.join(scratch, 'shapes');
  for (const d of ['disc', 'square']) fs.mkdirSync(path.join(dir, d), { recursive: true });
  const discs = [];
  for (let i = 0; i < 20; i++) {
    const cx = 9 + rand(10),
      cy = 9 + rand(10),
      r = 4 + rand(4),
      ink = 128 + rand(128);
    const px = Buffer.alloc(28 * 28);
    for (let y = 0; y < 28; y++)
      for (let x = 0; x < 28; x++) if ((x - cx) ** 2 + (y - cy) ** 2 <= r * r) px[y * 28 + x] = ink;
    discs.push(px);
    fs.writeFileSync(path.join(dir, 'disc', `d${String(i).padStart(2, '0')}.png`), pngFile(28, 28, 0, px));
  }
  for (let i = 0; i < 20; i++) {
    const x0 = 4 + rand(16),
      y0 = 4 + rand(16),
      s = 10 + rand(10);
    const px = Buffer.alloc(40 * 40 * 4);
    for (let y = 0; y < 40; y++)
      for (let x = 0; x < 40; x++) {
        const inside = x >= x0 && x < x0 + s && y >= y0 && y < y0 + s;
        px.set(inside ? [40 + rand(200), 200, 40, 255] : [0, 0, 0, 255], 4 * (y * 40 + x));
      }
    fs.writeFileSync(path.join(dir, 'square', `s${String(i).padStart(2, '0')}.png`), pngFile(40, 40, 6, px));
  }
  fs.writeFileSync(path.join(dir, 'square', 'broken.png'), Buffer.from('\x89PNG\r\n\x1a\n this is not an image'));
  fs.writeFileSync(path.join(dir, 'notes.txt'), 'not an image\n');
  await s.step('data');
  await s.setControl('[data-testid=image-shape]', '1,28,28');
  await page.setInputFiles('[data-testid=upload-folder]', dir);
  await page.waitForFunction(
    () => document.querySelector('[data-testid=data-summary]').textContent.startsWith('40 rows × 785 columns'),
    null,
    { timeout: 30000 },
  );
  const note = await page.textContent('[data-testid=image-note]');
  assert(/40 images of 2 classes \(disc: 20, square: 20\)/.test(note), `the image note: "${note}"`);
  assert(
    /Skipped 1 file: shapes\/square\/broken\.png/.test(note),
    `the corrupt file is not named as skipped: "${note}"`,
  );
  assert(/Ignored 1 file/.test(note), `the text file is not counted as ignored: "${note}"`);
  const thumbs = await page.$$eval('[data-testid=image-grid] .image-class', (els) =>
    els.map((el) => [el.querySelector('p').textContent, el.querySelectorAll('canvas').length]),
  );
  assert(
    JSON.stringify(thumbs) ===
      JSON.stringify([
        ['disc: 20 images', 8],
        ['square: 20 images', 8],
      ]),
    `the image grid: ${JSON.stringify(thumbs)}`,
  );
  await page.screenshot({ path: path.join(logs, 'step-1-images.png') }); // the page is long: 784 pixel columns
  await page.locator('[data-testid=image-grid]').scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(logs, 'step-1-image-grid.png') });
  const data = await s.downloadText('[data-testid=download-data]');
  const lines = data.text.trim().split('\n');
  assert(
    lines.length === 41 &&
      lines[0] ===
        [...Array(784).keys()]
          .map((i) => `px${i}`)
          .concat('label')
          .join(','),
    `the CSV has ${lines.length} lines; header ${lines[0].slice(0, 40)}…`,
  );
  discs.forEach((px, i) => {
    assert(lines[1 + i] === [...px].join(',') + ',disc', `row ${i + 1} of the CSV is not the pixels of disc/d${i}.png`);
  });
  assert(
    lines.slice(21).every((l) => l.endsWith(',square') && l.split(',').length === 785),
    'the square rows are malformed',
  );
  const experiment = await s.experimentInPage();
  // the images are kept as an IDX set, never as CSV: the CSV above is written at the download
  assert(
    data.name === 'shapes-1x28x28.csv' &&
      JSON.stringify(experiment.data) ===
        '{"files":["shapes-1x28x28-images.idx","shapes-1x28x28-labels.idx"],"image":[1,28,28]}',
    `the experiment's data: ${JSON.stringify(experiment.data)} (the CSV: ${data.name})`,
  );
  const kept = await page.evaluate(() =>
    window.latheTest.stored('upload').then((u) => [u.classes, u.files.map((f) => f.bytes.byteLength)]),
  );
  assert(
    JSON.stringify(kept) ===
      JSON.stringify([
        ['disc', 'square'],
        [16 + 40 * 784 * 4, 8 + 40],
      ]),
    `IndexedDB keeps ${JSON.stringify(kept)}, not the images as float32 IDX and their labels`,
  );
  await s.forgetStatus();
  await s.trainAndWait();
  await s.step('deploy');
  const exp = await s.downloadText('[data-testid=download-experiment]');
  const native = JSON.parse(
    execFileSync(cli, ['run', exp.file, '--data', data.file, '--json', '--quiet'], { cwd: root }).toString(),
  );
  assert(
    (await s.pageHash()) === native.weights_sha256,
    `image upload: page ${await s.pageHash()} != CLI on the page's CSV ${native.weights_sha256}`,
  );
  // The augmentation preview: flips only, so each copy the core makes is the image or its mirror.
  const augmented = {
    ...experiment,
    prepare: [experiment.prepare[0], { op: 'augment', copies: 1, flip: true }, ...experiment.prepare.slice(1)],
  };
  await s.setExperiment(JSON.stringify(augmented, null, 2));
  await s.step('prepare');
  await page
    .waitForFunction(() => document.querySelectorAll('[data-testid=augment-preview] canvas').length === 16, null, {
      timeout: 30000,
    })
    .catch(async () => {
      throw new Error(
        `no augmentation preview: "${await page.textContent('[data-testid=augment-preview]').catch(() => 'missing')}"; ${s.errors.join(' | ')}`,
      );
    });
  const previews = await page.$$eval('[data-testid=augment-preview] ul', (uls) =>
    uls.map((ul) =>
      [...ul.querySelectorAll('canvas')].map((cv) =>
        Array.from(
          cv
            .getContext('2d')
            .getImageData(0, 0, cv.width, cv.height)
            .data.filter((_, i) => i % 4 === 0),
        ),
      ),
    ),
  );
  const mirror = (px) => px.map((_, i) => px[Math.floor(i / 28) * 28 + 27 - (i % 28)]);
  let flips = 0,
    same = 0;
  for (const [orig, ...copies] of previews) {
    for (const c of copies) {
      if (c.join() === orig.join()) same++;
      else if (c.join() === mirror(orig).join()) flips++;
      else throw new Error('an augmented copy (flip only) is neither the image nor its mirror');
    }
  }
  assert(flips > 0 && same > 0 && flips + same === 12, `flip-only copies: ${flips} mirrored, ${same} unchanged`);
  await page.locator('[data-testid=augment-preview]').scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(logs, 'step-2-augment.png') });
  // One class only, and no images at all: clear messages; the page keeps the data it had.
  await s.step('data');
  await page.setInputFiles('[data-testid=upload-folder]', path.join(dir, 'disc'));
  await page.waitForSelector('[data-testid=data-error]:not([hidden])');
  const one = await page.textContent('[data-testid=data-error]');
  assert(/one folder, 'disc'/.test(one) && /at least two/.test(one), `one class: "${one}"`);
  const empty = path.join(scratch, 'no-images');
  fs.mkdirSync(empty, { recursive: true });
  fs.writeFileSync(path.join(empty, 'readme.txt'), 'nothing here\n');
  await page.setInputFiles('[data-testid=upload-folder]', empty);
  await page.waitForFunction(
    () => /No PNG or JPEG images/.test(document.querySelector('[data-testid=data-error]').textContent),
    null,
    { timeout: 30000 },
  );
});

test(
  "Fashion-MNIST images (the Debian package's IDX files) walk every step: image grid, prepare preview, CNN, curves, confusion matrix with thumbnails, a drawing pad, and the CLI replays the page's CSV to the same weights",
  async (s) => {
    const { page } = s;
    const dir = path.join(root, 'data/builtin/fashion-mnist');
    await s.step('data');
    await page.setInputFiles('[data-testid=upload]', [
      path.join(dir, 't10k-images-idx3-ubyte.gz'),
      path.join(dir, 't10k-labels-idx1-ubyte.gz'),
    ]);
    await page
      .waitForFunction(
        () => document.querySelector('[data-testid=data-summary]').textContent.startsWith('10,000 rows × 785 columns'),
        null,
        { timeout: 60000 },
      )
      .catch(async () => {
        throw new Error(
          `the Fashion-MNIST upload: "${await page.textContent('[data-testid=data-summary]')}" ${await page.textContent('[data-testid=data-error]')}`,
        );
      });
    await page.waitForFunction(() => document.querySelectorAll('#image-grid .image-class').length === 10, null, {
      timeout: 30000,
    });
    await page.locator('#image-grid').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(logs, 'fashion-1-data.png') });
    const data = await s.downloadText('[data-testid=download-data]');
    const labels = zlib.gunzipSync(fs.readFileSync(path.join(dir, 't10k-labels-idx1-ubyte.gz'))).subarray(8);
    const images = zlib.gunzipSync(fs.readFileSync(path.join(dir, 't10k-images-idx3-ubyte.gz'))).subarray(16);
    const lines = data.text.trim().split('\n');
    assert(lines.length === 10001, `the page's CSV has ${lines.length} lines`);
    for (const r of [0, 1, 4999, 9999]) {
      const expected = [...images.subarray(r * 784, (r + 1) * 784)].concat(labels[r]).join(',');
      assert(lines[1 + r] === expected, `row ${r} of the page's CSV is not image ${r} of the IDX file`);
    }
    const experiment = await s.experimentInPage();
    experiment.data.limit = { train: 2000, validation: 500, test: 1000 };
    experiment.prepare = [
      { op: 'split', test: 0.2, validation: 0.1, stratify: true },
      { op: 'minmax', per: 'all' },
    ];
    experiment.model = { template: 'cnn', activation: 'relu' };
    experiment.train = { optimizer: 'adam', learning_rate: 0.002, batch_size: 32, epochs: 2 };
    await s.setExperiment(JSON.stringify(experiment, null, 2));
    await s.step('prepare');
    await page
      .waitForFunction(
        () =>
          /After: 2,000 training, 500 validation and 1,000 test rows × 784 features; 10 classes/.test(
            (document.querySelector('[data-testid=prepare-summary]') || {}).textContent,
          ),
        null,
        { timeout: 30000 },
      )
      .catch(async () => {
        throw new Error(`the preview: "${await page.textContent('[data-testid=prepare-preview]')}"`);
      });
    const strips = await page.$$eval(
      '[data-testid=preview-before-images] canvas, [data-testid=preview-after-images] canvas',
      (cs) => cs.length,
    );
    assert(strips === 16, `the preview shows ${strips} images, not the first 8 training images before and after`);
    const all = await page.$eval('[data-testid=preview-stats] tr.total', (r) => [...r.cells].map((c) => c.textContent));
    assert(
      all[3] === '0' && all[4] === '255' && all[7] === '0' && all[8] === '1',
      `pixels before and after min-max over all: ${all}`,
    );
    await page.screenshot({ path: path.join(logs, 'fashion-2-prepare.png'), fullPage: true });
    await s.step('model');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=layers] tbody tr').length === 9, null, {
      timeout: 30000,
    });
    await page.screenshot({ path: path.join(logs, 'fashion-3-model.png'), fullPage: true });
    await s.forgetStatus();
    await s.trainAndWait(300000);
    await page.screenshot({ path: path.join(logs, 'fashion-4-train.png'), fullPage: true });
    await s.step('evaluate');
    const confusion = await page.$$eval('[data-testid=confusion] tr', (trs) =>
      trs.map((r) => r.querySelectorAll('button').length).filter((n) => n > 0),
    );
    assert(
      confusion.length === 10 && confusion.every((n) => n === 10),
      `the confusion matrix is ${confusion.length} × ${confusion[0]}`,
    );
    const thumbs = await page.$$eval('[data-testid=misclassified] canvas', (cs) => cs.map((c) => [c.width, c.height]));
    assert(
      thumbs.length > 0 && thumbs.every(([w, hh]) => w === 28 && hh === 28),
      `misclassified thumbnails: ${JSON.stringify(thumbs.slice(0, 3))}`,
    );
    const accuracy = Number(
      (await page.textContent('[data-testid=metrics] tbody tr:last-child td:last-child')).replace('%', ''),
    );
    await page.screenshot({ path: path.join(logs, 'fashion-5-evaluate.png'), fullPage: true });
    await s.step('deploy');
    const exp = await s.downloadText('[data-testid=download-experiment]');
    const native = JSON.parse(
      execFileSync(cli, ['run', exp.file, '--data', data.file, '--json', '--quiet'], { cwd: root }).toString(),
    );
    assert(
      (await s.pageHash()) === native.weights_sha256,
      `Fashion-MNIST: page ${await s.pageHash()} != CLI ${native.weights_sha256}`,
    );
    assert(
      native.metrics.test.accuracy > 0.6,
      `the CNN reaches only ${native.metrics.test.accuracy} after 2 epochs on 2,000 images (page: ${accuracy})`,
    );
    await page.click('[data-testid=try-trained]');
    await page.waitForSelector('[data-testid=pad]', { state: 'visible', timeout: 30000 });
    await page.locator('[data-testid=pad]').scrollIntoViewIfNeeded();
    const pad = await page.locator('[data-testid=pad]').boundingBox();
    // A pair of trousers: two strokes down from a waistband.
    for (const x of [0.38, 0.62]) {
      await page.mouse.move(pad.x + pad.width * 0.5, pad.y + pad.height * 0.15);
      await page.mouse.down();
      for (let k = 1; k <= 10; k++)
        await page.mouse.move(pad.x + pad.width * (0.5 + ((x - 0.5) * k) / 10), pad.y + pad.height * (0.15 + 0.07 * k));
      await page.mouse.up();
    }
    // the pad is busy until the prediction of the whole drawing (pointer up) is shown
    await page.waitForFunction(
      () =>
        !document.querySelector('[data-testid=pad]').dataset.busy &&
        document.querySelector('[data-testid=pad-input]').inputData,
      null,
      { timeout: 30000 },
    );
    const input = await page.$eval('[data-testid=pad-input]', (el) => el.inputData);
    assert(input.length === 784 && input.some((v) => v > 0), `the pad gives ${input.length} inputs`);
    const probs = JSON.parse(await page.getAttribute('[data-testid=try-result]', 'data-values'));
    assert(
      probs.length === 10 && Math.abs(probs.reduce((s, p) => s + p, 0) - 1) < 1e-4,
      `the pad's prediction: ${probs}`,
    );
    // An image file: image 0 of the IDX set as a 28 × 28 grey PNG (converted unchanged), predicted
    // as `lathe predict` predicts its pixels with the downloaded model file.
    const model = await s.downloadText('[data-testid=download-model]');
    const png = path.join(scratch, 'fashion-0.png');
    fs.writeFileSync(png, pngFile(28, 28, 0, Buffer.from(images.subarray(0, 784))));
    await page.evaluate(() => {
      delete document.querySelector('[data-testid=try-result]').dataset.values;
    });
    await page.setInputFiles('[data-testid=try-image]', png);
    await page
      .waitForFunction(() => document.querySelector('[data-testid=try-result]').dataset.values, null, {
        timeout: 30000,
      })
      .catch(async () => {
        throw new Error(`no prediction of the image file: ${await page.textContent('[data-testid=try-error]')}`);
      });
    const fromFile = JSON.parse(await page.getAttribute('[data-testid=try-result]', 'data-values'));
    fs.writeFileSync(
      path.join(scratch, 'fashion-0.csv'),
      `${lines[0].split(',').slice(0, 784).join(',')}\n${[...images.subarray(0, 784)].join(',')}\n`,
    );
    const predicted = execFileSync(cli, ['predict', model.file, path.join(scratch, 'fashion-0.csv')])
      .toString()
      .split('\n')[1]
      .split(',');
    const formatted = await s.g9(fromFile);
    assert(
      JSON.stringify(formatted) === JSON.stringify(predicted.slice(2)),
      `the image file: page ${formatted} != lathe predict ${predicted.slice(2)}`,
    );
    await page.screenshot({ path: path.join(logs, 'fashion-6-deploy.png'), fullPage: true });
  },
  {
    timeout: 600000,
    skip: () =>
      fs.existsSync(path.join(root, 'data/builtin/fashion-mnist/t10k-images-idx3-ubyte.gz'))
        ? null
        : 'data/builtin/fashion-mnist is missing: scripts/fetch_data.sh fetches it',
  },
);

test("JPEG files dropped on the data step become images of the class their names give, close to the pixels drawn; a folder's entries are walked however many chunks they come in", async (s) => {
  const { page } = s;
  await s.step('data');
  await s.setControl('[data-testid=image-shape]', '1,28,28');
  const drawn = await page.evaluate(async () => {
    const files = [],
      pixels = {};
    for (let i = 0; i < 24; i++) {
      const cv = document.createElement('canvas');
      cv.width = cv.height = 28;
      const g = cv.getContext('2d');
      g.fillStyle = '#000';
      g.fillRect(0, 0, 28, 28);
      g.fillStyle = '#fff';
      if (i % 2) g.fillRect(4 + (i % 7) * 2, 4, 6, 20);
      else {
        g.beginPath();
        g.arc(14, 14, 5 + (i % 5), 0, 2 * Math.PI);
        g.fill();
      }
      const name = `${i % 2 ? 'bar' : 'ring'}_${String(i).padStart(2, '0')}.jpg`;
      pixels[name] = Array.from(g.getImageData(0, 0, 28, 28).data.filter((_, k) => k % 4 === 0));
      const blob = await new Promise((resolve) => cv.toBlob(resolve, 'image/jpeg', 0.95));
      files.push(new File([blob], name, { type: 'image/jpeg' }));
    }
    // two more whose class would read as a missing value in the CSV: skipped, and named
    for (const name of ['NA_90.jpg', 'null_91.jpg']) files.push(new File([files[0]], name, { type: 'image/jpeg' }));
    const dt = new DataTransfer();
    files.forEach((f) => dt.items.add(f));
    const zone = document.getElementById('drop-zone');
    zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
    zone.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    return { pixels, types: files.map((f) => f.type) };
  });
  await page
    .waitForFunction(
      () => document.querySelector('[data-testid=data-summary]').textContent.startsWith('24 rows × 785 columns'),
      null,
      { timeout: 30000 },
    )
    .catch(async () => {
      throw new Error(
        `the JPEG drop: "${await page.textContent('[data-testid=data-summary]')}" ${await page.textContent('[data-testid=data-error]')}`,
      );
    });
  const note = await page.textContent('[data-testid=image-note]');
  assert(/24 images of 2 classes \(bar: 12, ring: 12\)/.test(note), `the image note: "${note}"`);
  assert(
    /Skipped 2 files: NA_90\.jpg \(its class 'NA' reads as a missing value in a CSV: rename the file\); null_91\.jpg/.test(
      note,
    ),
    `the files of classes NA and null: "${note}"`,
  );
  const data = await s.downloadText('[data-testid=download-data]');
  const rows = data.text
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split(','));
  const names = Object.keys(drawn.pixels).sort();
  assert(rows.length === 24, `${rows.length} rows`);
  rows.forEach((r, i) => {
    const want = drawn.pixels[names[i]];
    const error = want.reduce((s, v, k) => s + Math.abs(v - Number(r[k])), 0) / want.length;
    assert(r[784] === names[i].split('_')[0], `row ${i} is labelled ${r[784]}, its file is ${names[i]}`);
    assert(
      error < 4,
      `row ${i} (${names[i]}) differs from the drawing by ${error.toFixed(2)} grey levels per pixel on average`,
    );
  });
  // A dropped folder is read through FileSystemEntry objects, whose directories answer in
  // chunks (about 100 entries each): walked here with entries that answer in chunks of 100.
  const walked = await page.evaluate(async () => {
    const mod = await import('./image_upload.js');
    const file = (fullPath) => ({
      isFile: true,
      isDirectory: false,
      fullPath,
      file: (ok) =>
        queueMicrotask(() => ok(new File([new Uint8Array([1])], fullPath.split('/').pop(), { type: 'image/png' }))),
    });
    const dir = (fullPath, children) => ({
      isFile: false,
      isDirectory: true,
      fullPath,
      createReader: () => {
        let at = 0;
        return {
          readEntries: (ok) => {
            const chunk = children.slice(at, at + 100);
            at += chunk.length;
            queueMicrotask(() => ok(chunk));
          },
        };
      },
    });
    const cats = Array.from({ length: 250 }, (_, i) => file(`/pets/cat/${i}.png`));
    const top = dir('/pets', [
      dir('/pets/cat', cats),
      dir('/pets/dog', [file('/pets/dog/a.png')]),
      file('/pets/notes.txt'),
    ]);
    const files = await mod.filesFromEntries([top]);
    const { items, unlabelled } = mod.labelFiles(files);
    return { n: files.length, first: files[0].path, labels: [...new Set(items.map((x) => x.label))], unlabelled };
  });
  assert(
    walked.n === 252 &&
      walked.first === 'pets/cat/0.png' &&
      walked.labels.join() === 'cat,dog' &&
      walked.unlabelled.join() === 'pets/notes.txt',
    `the folder walk: ${JSON.stringify(walked)}`,
  );
});
