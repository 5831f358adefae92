// The digests the kernel and maths unit tests print ("gemm digest: <hex>", and mathf's digest
// per function) must be the same natively, under ASan + UBSan and in wasm: the same bits on
// every target. Reads the JUnit files ctest wrote (ctest --output-junit) for each preset and
// follows the runner contract of scripts/test.sh: "TESTS N", then a PASS or FAIL per test.
// usage: node tests/parity/digests.mjs DIR (holding ctest-native.xml, ctest-native-asan.xml,
// ctest-wasm.xml)
import fs from 'node:fs';
import path from 'node:path';

const dir = process.argv[2] || 'build/test-logs';
const presets = ['native', 'native-asan', 'wasm'];
const tests = ['test_gemm', 'test_kernels', 'test_transcendental', 'test_mathf'];
console.log(`TESTS ${tests.length}`);

const unescape = (s) =>
  s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');

/** { testName: output } of one preset's JUnit file, or an Error naming what is missing. */
function outputs(preset) {
  const file = path.join(dir, `ctest-${preset}.xml`);
  if (!fs.existsSync(file)) return new Error(`${file} missing (ctest --preset ${preset} did not run)`);
  const xml = fs.readFileSync(file, 'utf8');
  const byName = {};
  for (const m of xml.matchAll(/<testcase name="([^"]+)"[^>]*>([\s\S]*?)<\/testcase>/g)) {
    const out = /<system-out>([\s\S]*?)<\/system-out>/.exec(m[2]);
    byName[m[1]] = out ? unescape(out[1]) : '';
  }
  return byName;
}

/** The digest lines of one test's output: "gemm digest: 7d7d…", "  exp  digest 1234…". */
const digestLines = (out) =>
  out
    .split('\n')
    .filter((l) => /\bdigest:? [0-9a-f]{16}\b/.test(l))
    .map((l) => l.trim().replace(/\s+/g, ' '));

const all = Object.fromEntries(presets.map((p) => [p, outputs(p)]));
let failed = 0;
for (const test of tests) {
  const lines = {};
  const problems = [];
  for (const p of presets) {
    if (all[p] instanceof Error) {
      problems.push(all[p].message);
      continue;
    }
    if (!(test in all[p])) {
      problems.push(`${p}: ${test} did not run`);
      continue;
    }
    lines[p] = digestLines(all[p][test]);
    if (lines[p].length === 0) problems.push(`${p}: ${test} printed no digest`);
  }
  if (problems.length === 0) {
    const [first, ...rest] = presets;
    for (const p of rest) {
      const a = lines[first].join('\n');
      const b = lines[p].join('\n');
      if (a !== b) {
        const i = lines[first].findIndex((l, k) => l !== lines[p][k]);
        problems.push(`${first} and ${p} differ: "${lines[first][i]}" vs "${lines[p][i] ?? '(none)'}"`);
      }
    }
  }
  const name = `digests ${test.replace(/^test_/, '')}`;
  if (problems.length === 0) {
    const last = lines[presets[0]].at(-1);
    console.log(`PASS ${name}: ${lines[presets[0]].length} digests agree on ${presets.join(', ')} (${last})`);
  } else {
    failed++;
    console.log(`FAIL ${name}: ${problems.join('; ')}`);
  }
}
process.exit(failed ? 1 : 0);
