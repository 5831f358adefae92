// Writes data/builtin/manifest.json from the per-set records in data/builtin/.fetch/.
//
//   node scripts/tools/data_manifest.mjs <data/builtin>
//
// Steps:
//   1. read .fetch/<name>.json for each known set, in picker order;
//   2. keep a set only if every file its record lists is there;
//   3. write {"format": "lathe-datasets", "version": 1, "datasets": [...]} and print one
//      summary line on stderr.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { RECORD_DIR, readJson, writeOutput } from './data_common.mjs';

const ORDER = ['iris', 'wine', 'breast_cancer', 'digits', 'diabetes', 'fashion-mnist', 'mnist-10k'];

function main() {
  const [outDir] = process.argv.slice(2);
  if (!outDir) {
    process.stderr.write('usage: data_manifest.mjs <data/builtin>\n');
    process.exitCode = 2;
    return;
  }
  const datasets = [];
  for (const name of ORDER) {
    const record = join(outDir, RECORD_DIR, `${name}.json`);
    if (!existsSync(record)) continue;
    const entry = readJson(record);
    if (entry.files.every((f) => existsSync(join(outDir, f)))) datasets.push(entry);
  }
  const text = `${JSON.stringify({ format: 'lathe-datasets', version: 1, datasets }, null, 2)}\n`;
  writeOutput(outDir, 'manifest.json', text);
  const names = datasets.map((d) => d.name).join(', ') || 'none';
  process.stderr.write(`[fetch_data] manifest.json: ${datasets.length} data sets (${names})\n`);
}

main();
