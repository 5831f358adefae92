// Converts scikit-learn's bundled toy data sets into plain CSV files with a header row.
//
//   node scripts/tools/data_sklearn.mjs <sklearn/datasets/data folder> <data/builtin> <version>
//
// The folder comes from Debian's python3-sklearn .deb (extracted by scripts/fetch_data.sh,
// never installed). For each set:
//   1. read sklearn's file(s): iris/wine/breast_cancer start with a line
//      `n_samples,n_features,class names...` followed by rows of features + integer class;
//      digits.csv.gz is rows of 64 pixels + digit; diabetes is two whitespace-separated files
//      (features, target);
//   2. check the shape and the class counts against scikit-learn's documentation;
//   3. write <name>.csv (header, LF line endings, classes as names, numbers as in the source)
//      and its manifest record data/builtin/.fetch/<name>.json.
// A missing source file skips that set (exit 0); a shape that does not match fails it (exit 1,
// after the other sets are written).

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import {
  DataError,
  csvText,
  fail,
  numberToken,
  removeSet,
  sha256,
  skip,
  writeOutput,
  writeRecord,
} from './data_common.mjs';

const SOURCE_PACKAGE = 'python3-sklearn (Debian)';
const LICENSE = 'BSD-3-Clause'; // debian/copyright: "Files: *" of scikit-learn

const BREAST_CANCER_FEATURES = [
  'radius',
  'texture',
  'perimeter',
  'area',
  'smoothness',
  'compactness',
  'concavity',
  'concave points',
  'symmetry',
  'fractal dimension',
];

// Shapes and class counts as documented in sklearn/datasets/descr/*.rst and load_*().
const SETS = [
  {
    name: 'iris',
    title: 'Iris',
    description: '150 iris flowers, 4 measurements, 3 species',
    sources: ['iris.csv'],
    read: readHeadedClassification,
    features: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'],
    target: 'species',
    classes: ['setosa', 'versicolor', 'virginica'],
    classCounts: [50, 50, 50],
  },
  {
    name: 'wine',
    title: 'Wine',
    description: '178 Italian wines, 13 chemical measurements, 3 cultivars',
    sources: ['wine_data.csv'],
    read: readHeadedClassification,
    features: [
      'alcohol',
      'malic_acid',
      'ash',
      'alcalinity_of_ash',
      'magnesium',
      'total_phenols',
      'flavanoids',
      'nonflavanoid_phenols',
      'proanthocyanins',
      'color_intensity',
      'hue',
      'od280_od315_of_diluted_wines',
      'proline',
    ],
    target: 'cultivar',
    classes: ['class_0', 'class_1', 'class_2'],
    classCounts: [59, 71, 48],
  },
  {
    name: 'breast_cancer',
    title: 'Breast cancer (Wisconsin diagnostic)',
    description: '569 breast tumour samples, 30 cell-nucleus measurements, malignant or benign',
    sources: ['breast_cancer.csv'],
    read: readHeadedClassification,
    // sklearn's names ("mean radius", "radius error", "worst radius") with '_' for ' '.
    features: ['mean', 'error', 'worst'].flatMap((kind) =>
      BREAST_CANCER_FEATURES.map((f) => (kind === 'error' ? `${f} error` : `${kind} ${f}`).replaceAll(' ', '_')),
    ),
    target: 'diagnosis',
    classes: ['malignant', 'benign'],
    classCounts: [212, 357],
  },
  {
    name: 'digits',
    title: 'Handwritten digits (8×8)',
    description: '1,797 handwritten digits as 8×8 images with 17 grey levels, 10 classes',
    sources: ['digits.csv.gz'],
    read: readDigits,
    features: Array.from({ length: 64 }, (_, i) => `px${i}`),
    imageShape: [8, 8],
    target: 'digit',
    classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    // np.bincount(load_digits().target)
    classCounts: [178, 182, 177, 183, 181, 182, 181, 179, 174, 180],
  },
  {
    name: 'diabetes',
    title: 'Diabetes',
    description: '442 diabetes patients, 10 baseline measurements, disease progression after a year',
    sources: [['diabetes_data_raw.csv.gz', 'diabetes_data.csv.gz'], 'diabetes_target.csv.gz'],
    read: readDiabetes,
    features: ['age', 'sex', 'bmi', 'bp', 's1', 's2', 's3', 's4', 's5', 's6'],
    target: 'progression',
    rows: 442,
  },
];

/* Text lines of a (possibly gzipped) file, without the empty line after the last LF. */
function readLines(path) {
  let bytes = readFileSync(path);
  if (path.endsWith('.gz')) bytes = gunzipSync(bytes);
  const lines = bytes.toString('latin1').split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/* Integer class index in [0, n), from a token such as "2" or "2.0". */
function classIndex(set, where, token, n) {
  const v = Number(numberToken(set, where, token));
  if (!Number.isInteger(v) || v < 0 || v >= n) {
    fail(set, `${where}: class '${token}' not in 0..${n - 1}`);
  }
  return v;
}

function checkCounts(spec, labels) {
  const counts = spec.classes.map(() => 0);
  for (const k of labels) counts[k]++;
  if (counts.join() !== spec.classCounts.join()) {
    fail(spec.name, `class counts [${counts}], scikit-learn documents [${spec.classCounts}]`);
  }
}

/* iris, wine, breast_cancer: `n,p,class names...` then rows of p features + class index. */
function readHeadedClassification(spec, [path]) {
  const [head, ...body] = readLines(path);
  const [n, p, ...names] = head.split(',');
  const rows = spec.classCounts.reduce((a, b) => a + b, 0);
  if (Number(n) !== rows || Number(p) !== spec.features.length || body.length !== rows) {
    fail(
      spec.name,
      `${body.length} rows (header says ${n}×${p}), scikit-learn documents ` + `${rows}×${spec.features.length}`,
    );
  }
  if (names.join() !== spec.classes.join()) {
    fail(spec.name, `class names '${names}', expected '${spec.classes}'`);
  }
  const labels = [];
  const out = body.map((line, i) => {
    const cells = line.split(',');
    const where = `line ${i + 2}`;
    if (cells.length !== spec.features.length + 1) fail(spec.name, `${where}: ${cells.length} fields`);
    const k = classIndex(spec.name, where, cells.pop(), spec.classes.length);
    labels.push(k);
    return [...cells.map((c) => numberToken(spec.name, where, c)), spec.classes[k]];
  });
  checkCounts(spec, labels);
  return out;
}

/* digits: rows of 64 pixels in 0..16 (8×8, row-major) + the digit. */
function readDigits(spec, [path]) {
  const lines = readLines(path);
  const rows = spec.classCounts.reduce((a, b) => a + b, 0);
  if (lines.length !== rows) fail(spec.name, `${lines.length} rows, scikit-learn documents ${rows}`);
  const labels = [];
  const out = lines.map((line, i) => {
    const cells = line.split(',');
    const where = `line ${i + 1}`;
    if (cells.length !== 65) fail(spec.name, `${where}: ${cells.length} fields, expected 65`);
    const k = classIndex(spec.name, where, cells.pop(), 10);
    labels.push(k);
    for (const c of cells) {
      if (!/^\d+$/.test(c) || Number(c) > 16) {
        fail(spec.name, `${where}: pixel '${c}' not in 0..16`);
      }
    }
    return [...cells, String(k)];
  });
  checkCounts(spec, labels);
  return out;
}

function splitFields(line) {
  const t = line.trim();
  return t.includes(',') ? t.split(',').map((s) => s.trim()) : t.split(/\s+/);
}

/* diabetes: 10 features per line (raw: whitespace-separated) and one target per line. */
function readDiabetes(spec, [dataPath, targetPath]) {
  const data = readLines(dataPath);
  const target = readLines(targetPath);
  if (data.length !== spec.rows || target.length !== spec.rows) {
    fail(
      spec.name,
      `${data.length} feature rows and ${target.length} targets, scikit-learn ` + `documents ${spec.rows}`,
    );
  }
  return data.map((line, i) => {
    const cells = splitFields(line);
    const where = `line ${i + 1}`;
    if (cells.length !== spec.features.length) {
      fail(spec.name, `${where}: ${cells.length} fields, expected ${spec.features.length}`);
    }
    const t = splitFields(target[i]);
    if (t.length !== 1) fail(spec.name, `target ${where}: ${t.length} fields`);
    // Targets are stored as %.18e ("1.510000000000000000e+02"); the shortest form of the
    // same double ("151") reads back to the identical value.
    const y = String(Number(numberToken(spec.name, `target ${where}`, t[0])));
    return [...cells.map((c) => numberToken(spec.name, where, c)), y];
  });
}

/* Resolves spec.sources (a name, or a list of alternatives) to paths; null if one is missing. */
function findSources(dir, spec) {
  const paths = [];
  for (const source of spec.sources) {
    const found = [source]
      .flat()
      .map((f) => join(dir, f))
      .find((p) => existsSync(p));
    if (!found) return null;
    paths.push(found);
  }
  return paths;
}

function convert(dir, outDir, version, spec) {
  const file = `${spec.name}.csv`;
  const paths = findSources(dir, spec);
  if (!paths) {
    removeSet(outDir, spec.name, [file]);
    skip(spec.name, `${spec.sources.flat().join(' / ')} not in the package`);
    return;
  }
  const rows = spec.read(spec, paths);
  const header = [...spec.features, spec.target];
  const text = csvText(header, rows);
  const digest = writeOutput(outDir, file, text);
  if (sha256(readFileSync(join(outDir, file))) !== digest) {
    fail(spec.name, `${file} did not read back as written`);
  }

  const scaled = spec.name === 'diabetes' && !paths[0].endsWith('_raw.csv.gz');
  writeRecord(outDir, {
    name: spec.name,
    title: spec.title,
    description: spec.description + (scaled ? ' (features mean-centred and scaled)' : ''),
    format: 'csv',
    files: [file],
    rows: rows.length,
    columns: spec.features.length,
    ...(spec.imageShape ? { image_shape: spec.imageShape } : {}),
    task: spec.classes ? 'classification' : 'regression',
    target: spec.target,
    ...(spec.classes ? { classes: spec.classes } : {}),
    feature_names: spec.features,
    source_package: SOURCE_PACKAGE,
    source_version: version,
    license: LICENSE,
    sha256: { [file]: digest },
  });
}

function main() {
  const [dir, outDir, version] = process.argv.slice(2);
  if (!dir || !outDir || !version) {
    process.stderr.write('usage: data_sklearn.mjs <sklearn/datasets/data> <out dir> <version>\n');
    process.exitCode = 2;
    return;
  }
  let failed = false;
  for (const spec of SETS) {
    try {
      convert(dir, outDir, version, spec);
    } catch (e) {
      if (!(e instanceof DataError)) throw e;
      removeSet(outDir, spec.name, [`${spec.name}.csv`]);
      process.stderr.write(`[fetch_data] error: ${e.message}\n`);
      failed = true;
    }
  }
  process.exitCode = failed ? 1 : 0;
}

main();
