// Copies Fashion-MNIST's gzipped IDX files into data/builtin/fashion-mnist/.
//
//   node scripts/tools/data_fashion_mnist.mjs <folder with the .gz files> <data/builtin> <version>
//
// The folder is Debian's dataset-fashion-mnist (/usr/share/datasets/fashion-mnist). Steps:
//   1. gunzip each file in memory and check its IDX header: images (N,28,28) and labels (N)
//      with N = 60000 (train) and 10000 (test), labels in 0..9;
//   2. copy the .gz bytes unchanged (the page and the CLI read gzipped IDX);
//   3. write the manifest record data/builtin/.fetch/fashion-mnist.json.
// A missing file skips the set (exit 0); a wrong header fails it (exit 1).

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DataError, parseIdx, removeSet, skip, writeOutput, writeRecord } from './data_common.mjs';

const NAME = 'fashion-mnist';
const SPLITS = { train: 60000, test: 10000 }; // Fashion-MNIST README: 60,000 + 10,000
const PREFIX = { train: 'train', test: 't10k' };
// Label descriptions from the package's README.md, in label order.
const CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

function files(split) {
  return {
    images: `${NAME}/${PREFIX[split]}-images-idx3-ubyte.gz`,
    labels: `${NAME}/${PREFIX[split]}-labels-idx1-ubyte.gz`,
  };
}

function check(where, gz, expectDims) {
  const idx = parseIdx(NAME, where, gunzipSync(gz));
  if (idx.dims.join() !== expectDims.join()) {
    throw new DataError(`${NAME}: ${where}: dims [${idx.dims}], expected [${expectDims}]`);
  }
  return idx;
}

function main() {
  const [srcDir, outDir, version] = process.argv.slice(2);
  if (!srcDir || !outDir || !version) {
    process.stderr.write('usage: data_fashion_mnist.mjs <source folder> <out dir> <version>\n');
    process.exitCode = 2;
    return;
  }
  const all = Object.keys(SPLITS).flatMap((s) => Object.values(files(s)));
  const source = (rel) => join(srcDir, rel.slice(NAME.length + 1));
  const missing = all.filter((rel) => !existsSync(source(rel)));
  if (missing.length) {
    removeSet(outDir, NAME, all);
    skip(NAME, `${missing.map(source).join(', ')} missing`);
    return;
  }

  const digests = {};
  const splits = {};
  try {
    for (const [split, n] of Object.entries(SPLITS)) {
      const f = files(split);
      const images = readFileSync(source(f.images));
      const labels = readFileSync(source(f.labels));
      check(f.images, images, [n, 28, 28]);
      const { data } = check(f.labels, labels, [n]);
      if (data.some((k) => k > 9)) {
        throw new DataError(`${NAME}: ${f.labels}: a label is not in 0..9`);
      }
      digests[f.images] = writeOutput(outDir, f.images, images);
      digests[f.labels] = writeOutput(outDir, f.labels, labels);
      splits[split] = { rows: n, images: f.images, labels: f.labels };
    }
  } catch (e) {
    if (!(e instanceof DataError)) throw e;
    removeSet(outDir, NAME, all);
    process.stderr.write(`[fetch_data] error: ${e.message}\n`);
    process.exitCode = 1;
    return;
  }

  writeRecord(outDir, {
    name: NAME,
    title: 'Fashion-MNIST',
    description: '70,000 clothing images (60,000 train + 10,000 test), 28×28 grey, 10 classes',
    format: 'idx',
    files: all,
    rows: SPLITS.train + SPLITS.test,
    splits,
    columns: 28 * 28,
    image_shape: [28, 28],
    task: 'classification',
    classes: CLASSES,
    source_package: 'dataset-fashion-mnist (Debian)',
    source_version: version,
    license: 'MIT', // debian/copyright: Expat
    sha256: digests,
  });
}

main();
