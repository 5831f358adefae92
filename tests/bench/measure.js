/* The timing method every bench harness in this folder shares with `lathe bench models`
 * (native_cli/cmd_bench.c), so that the figures compare: a unit of work runs in groups of calls
 * that last at least 2 ms, each repetition runs groups for at least `seconds`, one unmeasured
 * warm-up repetition comes first, and a case reports the median over `reps` repetitions. */
'use strict';

const { performance } = require('node:perf_hooks');

/** Median of a list of numbers. */
function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
}

/**
 * Units per second of `unit` (a function running one unit of work; it may return a promise,
 * then every call is awaited), one rate per repetition.
 */
async function measureUnits(unit, { seconds, reps, isAsync }) {
  const runGroup = isAsync
    ? async (n) => {
        for (let i = 0; i < n; i++) await unit();
      }
    : async (n) => {
        for (let i = 0; i < n; i++) unit();
      };
  let group = 1;
  for (;;) {
    const t0 = performance.now();
    await runGroup(group);
    if (performance.now() - t0 >= 2 || group >= 1 << 30) break;
    group *= 2;
  }
  const rates = [];
  for (let r = 0; r <= reps; r++) {
    const t0 = performance.now();
    let units = 0;
    let dt;
    do {
      await runGroup(group);
      units += group;
      dt = (performance.now() - t0) / 1e3;
    } while (dt < seconds);
    if (r > 0) rates.push(units / dt);
  }
  return rates;
}

/** The figure of a case from a rate of units per second (as cmd_bench.c's figure()). */
function figure(kase, rate) {
  if (kase.unit === 'GFLOPS') return rate * 2 * kase.n ** 3 * 1e-9;
  if (kase.unit === 'samples/s') return rate * kase.n;
  return 1e3 / rate; /* ms per unit */
}

/** The case list shared by every engine: the ids, shapes and units of cmd_bench.c. */
const CASES = [
  { id: 'gemm_64', unit: 'GFLOPS', n: 64 },
  { id: 'gemm_128', unit: 'GFLOPS', n: 128 },
  { id: 'gemm_256', unit: 'GFLOPS', n: 256 },
  { id: 'gemm_512', unit: 'GFLOPS', n: 512 },
  { id: 'gemm_1024', unit: 'GFLOPS', n: 1024 },
  { id: 'mlp_train', unit: 'samples/s', n: 64 },
  { id: 'mlp_infer_1', unit: 'ms', n: 1 },
  { id: 'mlp_infer_256', unit: 'ms', n: 256 },
  { id: 'cnn_train', unit: 'samples/s', n: 32 },
  { id: 'cnn_infer_1', unit: 'ms', n: 1 },
  { id: 'cnn_infer_256', unit: 'ms', n: 256 },
  { id: 'mlp_startup', unit: 'ms', n: 64 },
  { id: 'cnn_startup', unit: 'ms', n: 32 },
];

/** 1 when id is selected by a comma-separated list as `lathe bench --only` reads it. */
function selected(list, id) {
  if (!list) return true;
  return list
    .split(',')
    .filter(Boolean)
    .some((p) => id === p || id.startsWith(`${p}_`) || (p === 'startup' && id.endsWith('_startup')));
}

/** A seeded generator of floats in [0, 1) (the same LCG as cmd_bench.c's, not the same stream). */
function uniformFill(n, seed) {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s >>> 9) * 2 ** -23;
  }
  return out;
}

module.exports = { median, measureUnits, figure, CASES, selected, uniformFill };
