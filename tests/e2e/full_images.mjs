// The built-in Fashion-MNIST in the page: its 60,000 + 10,000 images fetched as the gzipped
// IDX files the set-up installs, read by the engine as images (never as CSV), the memory they
// take shown in the Data and Train steps, and the LeNet CNN of
// examples/full/fashion_mnist_cnn.experiment.json trained to the weights `lathe run` gives.
// In CI it trains a documented subset (data.limit: 3,000 training and 1,000 test images, one
// epoch); LATHE_E2E_FULL=1 trains the whole example (5 epochs on 60,000) and writes the
// timings and the tab's peak memory to build/test-logs/fashion-full.json (docs/benchmarks.md).
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { test, assert, nativeRun, root, logs, scratch } from './fixtures.mjs';

const FULL = process.env.LATHE_E2E_FULL === '1';
const EXAMPLE = path.join(root, 'examples/full/fashion_mnist_cnn.experiment.json');

/** The largest peak resident set (VmHWM, bytes) of Chromium's renderer processes alive now:
 * the tab that hosts the page and its worker. */
function rendererPeak() {
  let peak = 0;
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!cmd.includes('--type=renderer')) continue;
      const hwm = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (hwm) peak = Math.max(peak, Number(hwm[1]) * 1024);
    } catch {
      /* the process ended meanwhile */
    }
  }
  return peak;
}

/** Samples rendererPeak every 250 ms (a renderer that ends takes its VmHWM with it):
 * peak() is the largest seen so far. */
function peakSampler() {
  let peak = rendererPeak();
  const timer = setInterval(() => {
    peak = Math.max(peak, rendererPeak());
  }, 250);
  return {
    peak: () => Math.max(peak, rendererPeak()),
    stop: () => clearInterval(timer),
  };
}

test(
  `the built-in Fashion-MNIST (60,000 + 10,000 images) is fetched with a progress bar when chosen, read as images, its memory shown, and the CNN of examples/full trains ${FULL ? 'in full' : 'a subset'} to the CLI's weights`,
  async (s) => {
    const { page } = s;
    await s.step('data');
    const fetched = [];
    page.on('request', (r) => {
      if (r.url().includes('/data/fashion-mnist/')) fetched.push(path.basename(new URL(r.url()).pathname));
    });
    const sampler = peakSampler();
    try {
      await walk(s, fetched, sampler);
    } finally {
      sampler.stop();
    }
  },
  {
    timeout: FULL ? 2400000 : 600000,
    skip: () =>
      fs.existsSync(path.join(root, 'build/web/data/fashion-mnist/train-images-idx3-ubyte.gz'))
        ? null
        : 'build/web/data/fashion-mnist is missing: scripts/fetch_data.sh fetches it and scripts/build.sh copies it',
  },
);

/** The test above, from choosing the set to comparing the weights. */
async function walk(s, fetched, sampler) {
  const { page } = s;
  const started = Date.now();
  await s.setControl('[data-testid=dataset]', 'fashion-mnist');
  await page
    .waitForFunction(
      () => document.querySelector('[data-testid=data-summary]').textContent.startsWith('70,000 rows × 785 columns'),
      null,
      { timeout: 120000 },
    )
    .catch(async () => {
      throw new Error(
        `the built-in Fashion-MNIST: "${await page.textContent('[data-testid=data-summary]')}" ${await page.textContent('[data-testid=data-error]')}`,
      );
    });
  const loadSeconds = (Date.now() - started) / 1000;
  const loadPeak = sampler.peak();
  console.error(`Fashion-MNIST fetched and read in ${loadSeconds.toFixed(1)} s, renderer peak ${loadPeak >> 20} MiB`);
  assert(
    JSON.stringify(fetched.sort()) ===
      JSON.stringify([
        't10k-images-idx3-ubyte.gz',
        't10k-labels-idx1-ubyte.gz',
        'train-images-idx3-ubyte.gz',
        'train-labels-idx1-ubyte.gz',
      ]),
    `the page fetched ${fetched.join(', ')}, not the set's four gzipped IDX files`,
  );
  const memory = await page.textContent('[data-testid=data-memory]');
  const stored = [...fs.readdirSync(path.join(root, 'data/builtin/fashion-mnist'))]
    .map((f) => fs.statSync(path.join(root, 'data/builtin/fashion-mnist', f)).size)
    .reduce((a, b) => a + b, 0);
  const mb = (n) => Math.round(n / 1048576);
  assert(
    // the table: a byte per pixel and a float label per image
    memory.startsWith(`In this tab: ${mb(stored)} MiB of files, ${mb(70000 * (784 + 4))} MiB as a table`),
    `the Data step's memory: "${memory}"`,
  );
  await page.waitForFunction(() => document.querySelectorAll('#image-grid .image-class').length === 10, null, {
    timeout: 30000,
  });
  await page.locator('#image-grid').scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(logs, 'fashion-builtin-1-data.png') });

  const x = JSON.parse(fs.readFileSync(EXAMPLE, 'utf8'));
  if (!FULL) {
    x.data.limit = { train: 3000, test: 1000 };
    x.train.epochs = 1;
  }
  const text = JSON.stringify(x, null, 2);
  await s.setExperiment(text);
  await s.forgetStatus();
  const trainStarted = Date.now();
  await s.trainAndWait(FULL ? 1800000 : 300000);
  const trainSeconds = (Date.now() - trainStarted) / 1000;
  const note = await page.textContent('[data-testid=memory-note]');
  assert(
    /the engine holds \d[\d,]* MiB of the \d[\d,]* MiB it may grow to/.test(note),
    `the Train step's memory: "${note}"`,
  );
  await page.screenshot({ path: path.join(logs, 'fashion-builtin-2-train.png'), fullPage: false });
  const cliStarted = Date.now();
  const native = nativeRun(path.basename(EXAMPLE), text);
  const cliSeconds = (Date.now() - cliStarted) / 1000;
  const hash = await s.pageHash();
  assert(hash === native.weights_sha256, `Fashion-MNIST built in: page ${hash} != CLI ${native.weights_sha256}`);
  const peak = sampler.peak();
  console.error(
    `trained in ${trainSeconds.toFixed(1)} s in the page (CLI ${cliSeconds.toFixed(1)} s), test accuracy ${native.metrics.test.accuracy}, renderer peak ${mb(peak)} MiB`,
  );
  if (FULL) {
    fs.writeFileSync(
      path.join(logs, 'fashion-full.json'),
      JSON.stringify(
        {
          load_seconds: loadSeconds,
          page_train_seconds: trainSeconds,
          cli_seconds: cliSeconds,
          weights_sha256: hash,
          test_accuracy: native.metrics.test.accuracy,
          renderer_peak_bytes: peak,
          renderer_peak_after_load_bytes: loadPeak,
          memory_note: note,
          data_memory: memory,
        },
        null,
        2,
      ),
    );
  }
}

test('an image set too big for the tab is refused from its header, with the numbers, and the page keeps working', async (s) => {
  const { page } = s;
  // 150,000 colour images of 64 × 64 (all black, so the gzipped file is small): 1.8 GB of
  // pixels and 3.7 GB as a table and its prepared copy, more than a wasm32 heap's 4 GiB. The
  // worker refuses it from the header, before it inflates the file.
  const n = 150000;
  const pixels = 3 * 64 * 64;
  const header = (type, dims) => {
    const b = Buffer.alloc(4 + 4 * dims.length);
    b[2] = type;
    b[3] = dims.length;
    dims.forEach((d, i) => b.writeUInt32BE(d, 4 + 4 * i));
    return b;
  };
  const images = path.join(scratch, 'huge-images-idx4-ubyte.gz');
  const labels = path.join(scratch, 'huge-labels-idx1-ubyte.gz');
  const gzip = zlib.createGzip({ level: 1 });
  const out = fs.createWriteStream(images);
  const done = new Promise((resolve, reject) => out.on('finish', resolve).on('error', reject));
  gzip.pipe(out);
  gzip.write(header(8, [n, 3, 64, 64]));
  const block = Buffer.alloc(pixels * 1000);
  for (let i = 0; i < n / 1000; i++) if (!gzip.write(block)) await new Promise((r) => gzip.once('drain', r));
  gzip.end();
  await done;
  fs.writeFileSync(
    labels,
    zlib.gzipSync(Buffer.concat([header(8, [n]), Buffer.from(Array.from({ length: n }, (_, i) => i % 10))])),
  );
  await s.step('data');
  await page.setInputFiles('[data-testid=upload]', [images, labels]);
  await page.waitForSelector('[data-testid=data-error]:not([hidden])', { timeout: 120000 });
  const message = await page.textContent('[data-testid=data-error]');
  // the set's pixels (a byte each), then the table and its prepared copy (a byte a pixel, a
  // float label)
  const need = Math.floor((n * pixels + 2 * n * (pixels + 4)) / 1048576);
  assert(
    new RegExp(`^${n} images need ${need} MiB once read and prepared; this engine has \\d+ MiB left`).test(message),
    `the refusal: "${message}"`,
  );
  // nothing of it was kept, and other data still reads
  assert((await page.evaluate(() => window.latheTest.stored('upload'))) === undefined, 'the refused set was kept');
  await s.setControl('[data-testid=dataset]', 'iris');
  await page.waitForFunction(
    () => document.querySelector('[data-testid=data-summary]').textContent.startsWith('150 rows × 5 columns'),
    null,
    { timeout: 30000 },
  );
});

test('the built-in MNIST-10k is fetched as its two gzipped IDX files and trains to the CLI weights of examples/mnist10k_mlp', async (s) => {
  const { page } = s;
  const fetched = [];
  page.on('request', (r) => {
    if (r.url().includes('/data/mnist-10k/')) fetched.push(path.basename(new URL(r.url()).pathname));
  });
  await s.step('data');
  await s.setControl('[data-testid=dataset]', 'mnist-10k');
  await page.waitForFunction(
    () => document.querySelector('[data-testid=data-summary]').textContent.startsWith('10,000 rows × 785 columns'),
    null,
    { timeout: 60000 },
  );
  assert(
    JSON.stringify(fetched.sort()) === JSON.stringify(['images-idx3-ubyte.gz', 'labels-idx1-ubyte.gz']),
    `the page fetched ${fetched.join(', ')}`,
  );
  const text = fs.readFileSync(path.join(root, 'examples/mnist10k_mlp.experiment.json'), 'utf8');
  const x = JSON.parse(text);
  x.train.epochs = 1;
  const one = JSON.stringify(x, null, 2);
  await s.setExperiment(one);
  await s.forgetStatus();
  await s.trainAndWait(300000);
  const native = nativeRun('mnist10k_mlp.experiment.json', one);
  const hash = await s.pageHash();
  assert(hash === native.weights_sha256, `MNIST-10k: page ${hash} != CLI ${native.weights_sha256}`);
  assert(
    (await page.evaluate(() => window.latheTest.stored('upload'))) === undefined,
    'a built-in set was stored as an upload',
  );
});
