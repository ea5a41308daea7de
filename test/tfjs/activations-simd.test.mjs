// Issue 7: the tfjs backend's float32 Exp, Softmax, Elu, EluGrad, Selu, Softplus, Prelu, the fused elu / leakyrelu /
// prelu epilogues, and Add / Sub / Mul / RealDiv with every broadcast pattern run on simdnn's wasm kernels (SIMD in
// the SIMD builds) — checked against float64 JS references on odd sizes and NaN / ±Inf, with a spy proving that the
// wasm kernel ran and no JS loop read the inputs (backend.values is how the JS loops read them).
// Tolerances:
//  - +, −, ×, ÷ and prelu are one IEEE float32 operation per element: bit-exact, got === fround(float64 result).
//  - Exp (exp4: Cephes' range reduction and degree-6 polynomial) is within 2.5e-7 relative of Math.exp (measured
//    1.2e-7 in the SIMD builds, about one float32 ulp; the scalar build's Mathf.exp 6e-8); the test prints and
//    asserts it on a sweep over [−87, 88].
//  - Elu / Selu / Softplus / EluGrad: 1e-6 relative (expm1 and log1p built from exp4-class polynomials, each ≤ 2.5e-7,
//    plus the float32 roundings of the products; expm1 near 0 is taken from the polynomial itself, so there is no
//    cancellation near x = 0).
//  - Softmax: 2e-6 relative (exp4, a float32 sum of K terms in 8 lanes, one division).
// Non-finite values must match exactly (NaN with NaN).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { checkNoLeak, rng, uniform, spyWasm, BACKEND } from '../helpers.mjs';
import { useTfjsBackend, onWasm, assertRel } from './tfjs-helpers.mjs';

const NAME = 'simdnn-activations-test';
const useBackend = () => useTfjsBackend(NAME);

const SIZES = [1, 3, 5, 17, 1000];
const SPECIAL = [NaN, Infinity, -Infinity, 0, -0, 1e-7, -1e-7, -1e-30, 13.9, -13.9, 14, -14, 88, -88, -104, 20, -20];

/** n float32 inputs in [lo, hi), with the special values spread over them when n allows. */
function inputs(seed, n, lo = -30, hi = 30) {
  const x = Float32Array.from(uniform(rng(seed), n, lo, hi));
  if (n >= 17) SPECIAL.forEach((v, i) => { x[Math.floor((i * n) / SPECIAL.length)] = v; });
  return x;
}

// float64 references.
const SELU_SCALE = 1.0507009873554804934193349852946, SELU_SCALEALPHA = 1.7580993408473768599402175208123;
const SOFTPLUS_T = Math.log(1.1920928955078125e-7) + 2;
const REF = {
  elu: (v) => (v >= 0 ? v : Math.expm1(v)),
  selu: (v) => (v >= 0 ? SELU_SCALE * v : SELU_SCALEALPHA * Math.expm1(v)),
  softplus: (v) => (v < SOFTPLUS_T ? Math.exp(v) : v > -SOFTPLUS_T ? v : Math.log1p(Math.exp(v))),
};
const map = (x, f) => Float64Array.from(x, f);

test('Exp: within 2.5e-7 relative of Math.exp over [−87, 88] (exp4); 0 below −104, +Inf above 88.73, NaN stays', async () => {
  const { nn, b } = await useBackend();
  await checkNoLeak(nn, () => {
    const n = 200001, x = Float32Array.from({ length: n }, (_, i) => -87 + (175 * i) / (n - 1));
    const got = onWasm(nn, b, ['exp_forward'], () => tf.exp(tf.tensor1d(x)));
    const worst = assertRel(got, map(x, Math.exp), 2.5e-7, 'exp');
    console.log(`  Exp (${BACKEND} build; exp4 in the SIMD builds): max relative error vs Math.exp ${worst.toExponential(2)} over [−87, 88]`);
    const s = Float32Array.from([NaN, Infinity, -Infinity, -105, 89, 0, -0]);
    assertRel(onWasm(nn, b, ['exp_forward'], () => tf.exp(tf.tensor1d(s))), [NaN, Infinity, 0, 0, Infinity, 1, 1], 0, 'exp specials');
  });
});

for (const name of ['elu', 'selu', 'softplus']) {
  test(`${name[0].toUpperCase()}${name.slice(1)}: float64 reference within 1e-6 relative, sizes ${SIZES}, NaN / ±Inf`, async () => {
    const { nn, b } = await useBackend();
    const kernel = name === 'softplus' ? 'softplus_forward' : 'elu_forward';
    await checkNoLeak(nn, () => {
      for (const n of SIZES) {
        for (const [lo, hi] of [[-30, 30], [-1e-3, 1e-3], [-0.5, 0.5]]) {   // near 0: where eˣ − 1 cancels
          const x = inputs(n + 7, n, lo, hi);
          const got = onWasm(nn, b, [kernel], () => tf[name](tf.tensor1d(x)));
          assertRel(got, map(x, (v) => Math.fround(REF[name](v))), 1e-6, `${name} n=${n} [${lo}, ${hi})`);
        }
      }
      const s = Float32Array.from([NaN, Infinity, -Infinity]);
      const want = { elu: [NaN, Infinity, -1], selu: [NaN, Infinity, Math.fround(-SELU_SCALEALPHA)], softplus: [NaN, Infinity, 0] }[name];
      assertRel(onWasm(nn, b, [kernel], () => tf[name](tf.tensor1d(s))), want, 0, `${name} NaN/±Inf`);
    });
  });
}

test('EluGrad: dy where y ≥ 0, dy·(y + 1) elsewhere, sizes 1…1000, NaN / ±Inf', async () => {
  const { nn, b } = await useBackend();
  await checkNoLeak(nn, () => {
    for (const n of SIZES) {
      const x = inputs(n, n, -5, 5), dy = Float32Array.from(uniform(rng(n + 1), n, -2, 2));
      const y = Float32Array.from(x, REF.elu);
      const got = onWasm(nn, b, ['elu_backward'], () => tf.engine().runKernel('EluGrad', { dy: tf.tensor1d(dy), y: tf.tensor1d(y) }));
      assertRel(got, Float64Array.from(y, (v, i) => (v >= 0 ? dy[i] : dy[i] * (v + 1))), 1e-6, `eluGrad n=${n}`);
    }
  });
});

test('Softmax over the last axis: K = 1, 3, 5, 10, 17, 1000 against float64; +Inf / NaN rows all NaN, −Inf entries 0', async () => {
  const { nn, b } = await useBackend();
  await checkNoLeak(nn, () => {
    for (const K of [1, 3, 5, 10, 17, 1000]) {
      const rows = 7, x = Float32Array.from(uniform(rng(K), rows * K, -20, 20));
      const got = onWasm(nn, b, ['softmax_forward'], () => tf.softmax(tf.tensor2d(x, [rows, K])));
      const want = new Float64Array(rows * K);
      for (let r = 0; r < rows; r++) {
        const row = x.subarray(r * K, (r + 1) * K), m = Math.max(...row);
        // x − max rounds in float32 in every float32 softmax (cpu too): e^{fround(x − m)}, the rest in float64.
        const e = Array.from(row, (v) => Math.exp(Math.fround(v - m))), s = e.reduce((p, q) => p + q, 0);
        e.forEach((v, k) => { want[r * K + k] = v / s; });
      }
      assertRel(got, want, 2e-6, `softmax K=${K}`);
    }
    // Rows: a +Inf (Inf − Inf), a NaN, only −Inf: all NaN, as tfjs's cpu backend; a −Inf among finite values: 0.
    const x = [1, Infinity, 2, 3, 1, NaN, 2, 3, -Infinity, -Infinity, -Infinity, -Infinity, 0, -Infinity, 0, Math.log(2)];
    const got = onWasm(nn, b, ['softmax_forward'], () => tf.softmax(tf.tensor2d(x, [4, 4])));
    assertRel(got, [NaN, NaN, NaN, NaN, NaN, NaN, NaN, NaN, NaN, NaN, NaN, NaN, 0.25, 0, 0.25, 0.5], 2e-6, 'softmax non-finite rows');
  });
});

/** Broadcast cases: output-shaped a with a repeating b, and the reverse (leading, middle and column repeats). */
const BROADCASTS = [
  [[5], [5]], [[], [17]], [[3, 5], [1]],
  [[2, 5, 7, 6], [1, 5, 7, 1]],       // [N, H, W, C] ∘ [1, H, W, 1]
  [[2, 6, 5, 7], [1, 6, 1, 1]],       // [N, C, H, W] ∘ [1, C, 1, 1]
  [[3, 4, 17], [3, 1, 17]],           // [B, M, K] ∘ [B, 1, K]
  [[9, 17], [9, 1]],                  // [M, K] ∘ [M, 1]: a column
  [[4, 14, 14, 3], [1, 14, 1, 3]],    // [N, H, W, C] ∘ [1, H, 1, C]
  [[2, 3, 4, 5, 6], [3, 1, 5, 1]],    // rank 5, alternating
  [[1, 5], [3, 1]],                   // both repeat: an outer product
  [[4, 3, 1000], [1000]],             // trailing (the earlier fast path)
];
const BINARY = 'broadcast_f32|broadcast_strided_f32';
const OPS = { add: (p, q) => p + q, sub: (p, q) => p - q, mul: (p, q) => p * q, div: (p, q) => p / q };

/** The NumPy-broadcast reference of f over the float32 inputs, in float64, rounded to float32. */
function broadcastRef(a, as, bv, bs, f) {
  const shape = as.length >= bs.length ? as.map((d, i) => Math.max(d, bs[i - (as.length - bs.length)] ?? 1))
    : bs.map((d, i) => Math.max(d, as[i - (bs.length - as.length)] ?? 1));
  const n = shape.reduce((p, q) => p * q, 1), want = new Float64Array(n), idx = new Array(shape.length).fill(0);
  const index = (s, v) => {                          // the flat index into an operand of shape s
    let k = 0;
    for (let d = 0, off = shape.length - s.length; d < s.length; d++) k = k * s[d] + (s[d] === 1 ? 0 : idx[d + off]);
    return v[k];
  };
  for (let i = 0; i < n; i++) {
    want[i] = f(index(as, a), index(bs, bv));
    for (let d = shape.length - 1; d >= 0 && ++idx[d] === shape[d]; d--) idx[d] = 0;
  }
  return Float64Array.from(want, Math.fround);
}

test('Add / Sub / Mul / RealDiv float32 broadcasts (leading, middle, column, trailing): bit-exact, in wasm', async () => {
  const { nn, b } = await useBackend();
  await checkNoLeak(nn, () => {
    let seed = 1;
    for (const [s0, s1] of BROADCASTS) {
      for (const [as, bs] of [[s0, s1], [s1, s0]]) {
        const size = (s) => s.reduce((p, q) => p * q, 1);
        const a = inputs(seed++, size(as), -3, 3), bv = inputs(seed++, size(bs), -3, 3);
        for (const [op, f] of Object.entries(OPS)) {
          const want = broadcastRef(a, as, bv, bs, f);
          const got = onWasm(nn, b, [BINARY], () => tf[op](tf.tensor(a, as), tf.tensor(bv, bs)));
          assertRel(got, want, 0, `${op} [${as}] ∘ [${bs}]`);
        }
      }
    }
    // A middle-axis repeat takes the strided kernel.
    onWasm(nn, b, ['broadcast_strided_f32'], () => tf.add(tf.ones([2, 6, 5, 7]), tf.ones([1, 6, 1, 1])));
  });
});

test('Maximum / Minimum (NaN wins, as cpu) and SquaredDifference (in float64, as cpu) broadcasts: bit-exact, in wasm', async () => {
  const { nn, b } = await useBackend();
  await checkNoLeak(nn, () => {
    let seed = 101;
    const fns = {
      maximum: [(p, q) => (Number.isNaN(p) || Number.isNaN(q) ? NaN : Math.max(p, q)), 0],
      minimum: [(p, q) => (Number.isNaN(p) || Number.isNaN(q) ? NaN : Math.min(p, q)), 0],
      squaredDifference: [(p, q) => (p - q) * (p - q), 0],
    };
    for (const [s0, s1] of BROADCASTS) {
      for (const [as, bs] of [[s0, s1], [s1, s0]]) {
        const size = (sh) => sh.reduce((p, q) => p * q, 1);
        const a = inputs(seed++, size(as), -3, 3), bv = inputs(seed++, size(bs), -3, 3);
        for (const [op, [f, rtol]] of Object.entries(fns)) {
          const got = onWasm(nn, b, [BINARY], () => tf[op](tf.tensor(a, as), tf.tensor(bv, bs)));
          assertRel(got, broadcastRef(a, as, bv, bs, f), rtol, `${op} [${as}] ∘ [${bs}]`);
        }
      }
    }
  });
});

test('Rsqrt (≤ 1.5 ulp), Reciprocal (exact), Log (≤ 2.5e-7 relative; 0 → −Inf, < 0 → NaN, subnormals) and ClipByValue (exact), in wasm', async () => {
  const { nn, b } = await useBackend();
  await checkNoLeak(nn, () => {
    for (const n of SIZES) {
      const pos = Float32Array.from(uniform(rng(n + 201), n, 1e-3, 1e3));
      assertRel(onWasm(nn, b, ['unary_f32'], () => tf.rsqrt(tf.tensor1d(pos))), map(pos, (v) => Math.fround(1 / Math.sqrt(v))), 1.5 * 2 ** -23, `rsqrt n=${n}`);
      const x = inputs(n + 202, n, -30, 30);
      assertRel(onWasm(nn, b, ['unary_f32'], () => tf.reciprocal(tf.tensor1d(x))), map(x, (v) => Math.fround(1 / v)), 0, `reciprocal n=${n}`);
      assertRel(onWasm(nn, b, ['clip_f32'], () => tf.clipByValue(tf.tensor1d(x), -2.5, 7)),
        map(x, (v) => (Number.isNaN(v) ? NaN : Math.min(Math.max(v, -2.5), 7))), 0, `clipByValue n=${n}`);
    }
    // Log: a sweep over the normal range and the special values.
    const m = 100001, sweep = Float32Array.from({ length: m }, (_, i) => Math.fround(2 ** (-126 + (253 * i) / (m - 1))));
    const worst = assertRel(onWasm(nn, b, ['unary_f32'], () => tf.log(tf.tensor1d(sweep))), map(sweep, Math.log), 2.5e-7, 'log sweep');
    console.log(`  Log: max relative error vs Math.log ${worst.toExponential(2)} over [2⁻¹²⁶, 2¹²⁷]`);
    const special = Float32Array.from([0, -0, -1, -Infinity, Infinity, NaN, 1, 1e-40, 1.4e-45, 3.4e38, 0.5, 2]);
    assertRel(onWasm(nn, b, ['unary_f32'], () => tf.log(tf.tensor1d(special))), map(special, (v) => Math.fround(Math.log(v))), 2.5e-7, 'log specials');
  });
});

test('Prelu: alpha per channel, a scalar, or any NumPy broadcast; bit-exact, NaN / ±Inf', async () => {
  const { nn, b } = await useBackend();
  await checkNoLeak(nn, () => {
    const prelu = (v, a) => (v < 0 ? a * v : v);
    for (const n of SIZES) {
      for (const [xs, as] of [[[n], [1]], [[2, n], [n]], [[n, 3], [n, 1]], [[2, 3, n], [3, 1]]]) {
        const size = (s) => s.reduce((p, q) => p * q, 1);
        const x = inputs(n, size(xs), -5, 5), a = Float32Array.from(uniform(rng(n + 3), size(as), 0, 0.5));
        const got = onWasm(nn, b, [BINARY], () => tf.prelu(tf.tensor(x, xs), tf.tensor(a, as)));
        assertRel(got, broadcastRef(x, xs, a, as, prelu), 0, `prelu [${xs}] · [${as}]`);
      }
    }
  });
});

test('fused matMul epilogues elu / leakyrelu / prelu run on the wasm kernels and match cpu', async () => {
  const { nn, b } = await useBackend();
  await checkNoLeak(nn, async () => {
    const A = Float32Array.from(uniform(rng(5), 5 * 7, -1, 1)), B = Float32Array.from(uniform(rng(6), 7 * 9, -1, 1));
    const alpha = Float32Array.from(uniform(rng(7), 9, 0, 0.5));
    const cases = [
      ['elu', {}, 'elu_forward'],
      ['leakyrelu', { leakyreluAlpha: 0.3 }, 'leaky_relu_forward'],
      ['prelu', { preluActivationWeights: () => tf.tensor1d(alpha) }, 'broadcast_f32'],
    ];
    for (const [activation, extra, kernel] of cases) {
      const run = () => tf.fused.matMul({
        a: tf.tensor2d(A, [5, 7]), b: tf.tensor2d(B, [7, 9]), activation,
        ...(extra.leakyreluAlpha ? { leakyreluAlpha: extra.leakyreluAlpha } : {}),
        ...(extra.preluActivationWeights ? { preluActivationWeights: extra.preluActivationWeights() } : {}),
      });
      await tf.setBackend('cpu');
      const want = tf.tidy(() => run().dataSync().slice());
      await tf.setBackend(NAME);
      const spy = spyWasm(nn);
      const got = tf.tidy(() => run().dataSync().slice());
      spy.restore();
      assert.ok(spy.seen.has(kernel), `fused ${activation}: ${kernel} did not run`);
      for (let i = 0; i < want.length; i++) {
        assert.ok(Math.abs(got[i] - want[i]) <= 1e-5 * (1 + Math.abs(want[i])), `fused ${activation}[${i}]: ${got[i]} vs cpu ${want[i]}`);
      }
    }
  });
});

test.run();
