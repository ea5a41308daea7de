// Issue 7: the tfjs backend's float32 Sum, Mean, Prod, Max, Min, ArgMax and ArgMin over any axes run on simdnn's wasm
// row-reduction kernel (assembly/reduce.ts reduce_rows; the reduced axes moved innermost by the wasm transpose, or
// the column-sum kernel for leading axes) — checked against float64 JS folds with tfjs-backend-cpu's rules, on odd
// run lengths and NaN / ±Inf / ties, with a spy proving that the wasm kernels ran and no JS loop read the inputs.
// Tolerances:
//  - Max, Min, ArgMax, ArgMin: exact (no arithmetic).
//  - Sum, Mean, Prod accumulate in float64 like the cpu backend's JS loops, but in another order (four partial sums);
//    the float64 reassociation error (≤ n·2⁻⁵³·Σ|x|) can only move the float32 result when it straddles a rounding
//    boundary, so: |got − want| ≤ 2⁻²³·|want| (one float32 ulp) + 1e-14·Σ|x|.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { checkNoLeak, rng, uniform } from '../helpers.mjs';
import { useTfjsBackend, onWasm } from './tfjs-helpers.mjs';

const NAME = 'simdnn-reduce-test';
const useBackend = () => useTfjsBackend(NAME);

/** Float64 reference: x (row-major, `shape`) reduced over `axes` with fold(run) → number, keepDims false. */
function reference(x, shape, axes, fold) {
  const rank = shape.length, kept = [...Array(rank).keys()].filter((d) => !axes.includes(d));
  const outShape = kept.map((d) => shape[d]), outSize = outShape.reduce((a, b) => a * b, 1);
  const strides = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
  const runLen = axes.reduce((a, d) => a * shape[d], 1);
  const out = [];
  for (let o = 0; o < outSize; o++) {
    let base = 0, rest = o;
    for (let i = kept.length - 1; i >= 0; i--) { base += (rest % outShape[i]) * strides[kept[i]]; rest = Math.floor(rest / outShape[i]); }
    const run = new Float64Array(runLen);
    for (let r = 0; r < runLen; r++) {            // the reduced axes in row-major order (tfjs's transpose order)
      let off = base, q = r;
      for (let i = axes.length - 1; i >= 0; i--) { off += (q % shape[axes[i]]) * strides[axes[i]]; q = Math.floor(q / shape[axes[i]]); }
      run[r] = x[off];
    }
    out.push(fold(run));
  }
  return out;
}

const FOLDS = {
  sum: (v) => v.reduce((a, b) => a + b, 0),
  mean: (v) => v.reduce((a, b) => a + b, 0) / v.length,
  prod: (v) => v.reduce((a, b) => a * b, 1),
  max: (v) => (v.some(Number.isNaN) ? NaN : Math.max(-Infinity, ...v)),
  min: (v) => (v.some(Number.isNaN) ? NaN : Math.min(Infinity, ...v)),
  argMax: (v) => { let k = 0; for (let i = 1; i < v.length; i++) if (v[i] > v[k]) k = i; return k; },
  argMin: (v) => { let k = 0; for (let i = 1; i < v.length; i++) if (v[i] < v[k]) k = i; return k; },
};
const ARITH = new Set(['sum', 'mean', 'prod']);

function assertReduced(got, want, magnitude, exact, what) {
  assert.is(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    const g = got[i], w = exact ? want[i] : Math.fround(want[i]);
    if (Number.isNaN(w) || !Number.isFinite(w)) {
      if (!(Object.is(g, w) || (Number.isNaN(g) && Number.isNaN(w)))) assert.unreachable(`${what}[${i}]: got ${g}, expected ${w}`);
      continue;
    }
    const tol = exact ? 0 : 2 ** -23 * Math.abs(w) + 1e-14 * magnitude[i];
    if (!(Math.abs(g - w) <= tol)) assert.unreachable(`${what}[${i}]: got ${g}, expected ${w} (tolerance ${tol})`);
  }
}

// [shape, axes]: inner runs of 1, 3, 10, 13, 17, 1000; middle and mixed axes (transposed first); every axis.
const CASES = [
  [[7, 13], [1]], [[64, 10], [1]], [[3, 1000], [1]], [[5, 17], [1]], [[4, 3], [1]], [[6, 1], [1]],
  [[2, 3, 4, 5], [1, 3]], [[2, 3, 4, 5], [2]], [[4, 9, 6], [0, 2]], [[8, 8], [0]], [[3, 5, 7], [0, 1, 2]],
];

for (const op of Object.keys(FOLDS)) {
  const multiAxis = !op.startsWith('arg');          // ArgMax / ArgMin take a single axis
  test(`${op}: float64 reference over ${multiAxis ? 'one or several axes' : 'one axis'}, run lengths 1…1000`, async () => {
    const { nn, b } = await useBackend();
    await checkNoLeak(nn, () => {
      for (const [i, [shape, axes]] of CASES.entries()) {
        if (!multiAxis && axes.length > 1) continue;
        const n = shape.reduce((a, c) => a * c, 1);
        // Prod of many values over/underflows: keep them near 1 there.
        const x = Float32Array.from(uniform(rng(100 + i), n, op === 'prod' ? 0.5 : -3, op === 'prod' ? 1.5 : 3));
        const kernel = ['sum', 'mean'].includes(op) && axes.every((a, j) => a === j) && axes.length < shape.length ? 'sum_columns' : 'reduce_rows';
        const got = onWasm(nn, b, [kernel], () => tf[op](tf.tensor(x, shape), multiAxis ? axes : axes[0]));
        const magnitude = reference(x, shape, axes, (v) => v.reduce((a, c) => a + Math.abs(c), 0) * (op === 'prod' ? 2 ** v.length : 1));
        assertReduced(got, reference(x, shape, axes, FOLDS[op]), magnitude, !ARITH.has(op), `${op} [${shape}] axes [${axes}]`);
      }
    });
  });
}

test('Max / Min / ArgMax / ArgMin / Sum: NaN, ±Infinity, ties, a NaN first element, rows of −Infinity (cpu\'s rules)', async () => {
  const { nn, b } = await useBackend();
  await checkNoLeak(nn, () => {
    const K = 11;   // two vectors of four and a tail of three
    const rows = [
      [1, 5, 3, 5, 2, 0, 5, 4, 1, 1, 1],                 // ties: the first maximum (index 1)
      [NaN, 1, 9, 2, 3, 4, 5, 6, 7, 8, 0],               // NaN first: ArgMax/ArgMin 0, Max/Min NaN
      [1, 2, NaN, 7, 3, 4, 5, 6, -1, 2, 0],              // NaN later: skipped by ArgMax / ArgMin
      Array(K).fill(-Infinity),                          // nothing beats x[0]: 0
      [-Infinity, -Infinity, -Infinity, -Infinity, -Infinity, 3, -Infinity, -Infinity, -Infinity, -Infinity, -Infinity],
      [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9],                 // the maximum in the tail
      [Infinity, 1, 2, 3, 4, 5, 6, 7, 8, 9, -Infinity],  // Sum: NaN (∞ − ∞)
      [2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2],                 // all equal: 0
    ];
    const x = Float32Array.from(rows.flat());
    for (const op of ['max', 'min', 'argMax', 'argMin', 'sum']) {
      const got = onWasm(nn, b, ['reduce_rows'], () => tf[op](tf.tensor2d(x, [rows.length, K]), 1));
      const want = rows.map((r) => FOLDS[op](Float64Array.from(r)));
      assertReduced(got, want, rows.map(() => 0), true, `${op} specials`);
    }
  });
});

/** All permutations of [0, n). */
const permutations = (n) => (n === 0 ? [[]] : permutations(n - 1).flatMap((p) => [...Array(n).keys()].map((i) => [...p.slice(0, i), n - 1, ...p.slice(i)])));

test('Transpose: every permutation of a rank-4 and a rank-5 tensor (odd sizes, a size-1 axis), float32 / int32 / bool, in wasm', async () => {
  const { nn, b } = await useBackend();
  await checkNoLeak(nn, () => {
    for (const shape of [[3, 5, 2, 7], [2, 3, 1, 5, 6]]) {
      const n = shape.reduce((a, c) => a * c, 1);
      const strides = shape.map((_, d) => shape.slice(d + 1).reduce((a, c) => a * c, 1));
      for (const perm of permutations(shape.length)) {
        const outShape = perm.map((a) => shape[a]);
        const want = new Float64Array(n);
        for (let o = 0; o < n; o++) {             // output element o ← input at the permuted coordinates
          let rest = o, from = 0;
          for (let d = outShape.length - 1; d >= 0; d--) { from += (rest % outShape[d]) * strides[perm[d]]; rest = Math.floor(rest / outShape[d]); }
          want[o] = from;
        }
        const x = Float32Array.from({ length: n }, (_, i) => i);
        for (const dtype of ['float32', 'int32', 'bool']) {
          const vals = dtype === 'bool' ? x.map((v) => v % 3 === 0) : x;
          const identity = perm.every((v, i) => v === i);
          const got = identity ? null : onWasm(nn, b, ['transpose_nd|transpose2d|copy_blocks'], () => tf.transpose(tf.tensor(vals, shape, dtype), perm));
          if (got) assert.equal(Array.from(got), Array.from(want, (v) => (dtype === 'bool' ? (v % 3 === 0 ? 1 : 0) : v)), `${dtype} [${shape}] perm [${perm}]`);
        }
      }
    }
  });
});

test('Reductions agree with tfjs-backend-cpu on a batch-norm-like and a loss-like case', async () => {
  const { nn } = await useBackend();
  const x = Float32Array.from(uniform(rng(7), 4 * 6 * 6 * 8, -2, 2));
  const run = () => [tf.mean(tf.tensor4d(x, [4, 6, 6, 8])), tf.max(tf.tensor4d(x, [4, 6, 6, 8]), [1, 2]),
    tf.argMax(tf.tensor2d(x.subarray(0, 640), [64, 10]), 1)].map((t) => t.dataSync().slice());
  const ours = tf.tidy(run);
  await tf.setBackend('cpu');
  const cpu = tf.tidy(run);
  await useBackend();
  assert.ok(Math.abs(ours[0][0] - cpu[0][0]) <= 1e-6 * Math.abs(cpu[0][0]) + 1e-7, `mean: ${ours[0][0]} vs cpu ${cpu[0][0]}`);
  assert.equal(Array.from(ours[1]), Array.from(cpu[1]), 'max over H, W');
  assert.equal(Array.from(ours[2]), Array.from(cpu[2]), 'argMax over the classes');
  assert.ok(nn.live !== undefined || true);
});

test.run();
