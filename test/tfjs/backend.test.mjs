// The tfjs backend's storage and plumbing on the shared test engine (SIMDNN_BACKEND / SIMDNN_THREADS): data
// round trips and reference counts, the SIMD batched transpose against a JS reference, conv filters packed
// once per filter value, errors, and no leaks. tfjs-core's own specs (test/suites/tfjs.run.mjs) check the
// kernels' results.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { checkNoLeak, rng, uniform } from '../helpers.mjs';
import { useTfjsBackend } from './tfjs-helpers.mjs';

/** The shared engine as tfjs backend 'simdnn-test'. */
const useBackend = () => useTfjsBackend('simdnn-test');

test('write/read round trips float32, int32 and bool; refCount, incRef, disposeData, numDataIds', async () => {
  const { nn, b } = await useBackend();
  await checkNoLeak(nn, () => {
    const ids0 = b.numDataIds();
    const f = b.write(new Float32Array([1.5, -2, 3]), [3], 'float32');
    const i = b.write(new Int32Array([7, -8]), [2], 'int32');
    const t = b.write(new Uint8Array([1, 0, 1]), [3], 'bool');
    assert.equal(Array.from(b.readSync(f)), [1.5, -2, 3]);
    assert.ok(b.readSync(i) instanceof Int32Array);
    assert.equal(Array.from(b.readSync(i)), [7, -8]);
    assert.ok(b.readSync(t) instanceof Uint8Array, 'bool reads back as Uint8Array');
    assert.equal(Array.from(b.readSync(t)), [1, 0, 1]);
    assert.is(b.numDataIds(), ids0 + 3);
    assert.is(b.refCount(f), 1);
    b.incRef(f);
    assert.is(b.disposeData(f), false, 'still referenced');
    assert.is(b.disposeData(f), true);
    assert.is(b.refCount(f), 0);
    b.disposeData(i);
    b.disposeData(t, true);
    assert.is(b.numDataIds(), ids0);
    assert.is(b.floatPrecision(), 32);
    assert.ok(b.epsilon() > 0 && b.epsilon() < 1e-6);
  });
});

test('tfjs tensors on the backend: values, tidy, dispose, empty tensors; the engine returns to its baseline', async () => {
  const { nn } = await useBackend();
  await checkNoLeak(nn, async () => {
    const y = tf.tidy(() => tf.add(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.scalar(10)));
    assert.equal(Array.from(await y.data()), [11, 12, 13, 14]);
    const empty = tf.zeros([0, 3]);
    assert.is((await empty.data()).length, 0);
    tf.dispose([y, empty]);
  });
});

test('a tensor made on another backend (cpu) moves to simdnn when a kernel reads it', async () => {
  const { nn } = await useBackend();
  await checkNoLeak(nn, async () => {
    await tf.setBackend('cpu');
    const a = tf.tensor1d([1, 2, 3]);
    await tf.setBackend('simdnn-test');
    const two = tf.scalar(2);
    const y = tf.mul(a, two);
    assert.equal(Array.from(await y.data()), [2, 4, 6]);
    tf.dispose([a, two, y]);
  });
  await tf.setBackend('simdnn-test');
});

test('transpose2d kernel: batched transposes of odd and tiled sizes equal a JS transpose', async () => {
  const { nn } = await useBackend();
  const rand = rng(3);
  await checkNoLeak(nn, () => {
    for (const [B, R, C] of [[1, 1, 1], [2, 7, 13], [3, 4, 4], [1, 33, 65], [2, 64, 3], [1, 5, 70]]) {
      const src = nn.tensor(uniform(rand, B * R * C), [B, R, C]);
      const dst = nn.zeros([B, C, R]);
      nn.kernels.transpose2d(src.offset, dst.offset, B, R, C);
      const s = src.read(), d = dst.read();
      for (let b = 0; b < B; b++) {
        for (let r = 0; r < R; r++) {
          for (let c = 0; c < C; c++) {
            if (d[b * R * C + c * R + r] !== s[b * R * C + r * C + c]) assert.unreachable(`[${B}, ${R}, ${C}]: (${b}, ${r}, ${c}) misplaced`);
          }
        }
      }
      src.dispose();
      dst.dispose();
    }
  });
});

test('Conv2D filters and one-row matmul weights are packed once per value, not once per call', async () => {
  const { nn } = await useBackend();
  const rand = rng(5);
  let packs = 0;
  const get = nn.packs.get;
  nn.packs.get = function (t, key, bytes, what, pack) {
    return get.call(this, t, key, bytes, what, (dst) => { packs++; pack(dst); });
  };
  try {
    await checkNoLeak(nn, async () => {
      // 4 input channels × 3×3 = 36 taps: a GEMM conv (≤ 27 taps run directly, with no packed weights).
      const x = tf.tensor4d(Float32Array.from(uniform(rand, 2 * 6 * 6 * 4)), [2, 6, 6, 4]);
      const f1 = tf.tensor4d(Float32Array.from(uniform(rand, 3 * 3 * 4 * 8)), [3, 3, 4, 8]);
      const y1 = tf.conv2d(x, f1, 1, 'same');
      assert.is(packs, 1, 'the first call packs the filter');
      const y2 = tf.conv2d(x, f1, 1, 'same');
      const y3 = tf.conv2d(x, f1, 2, 'valid');
      assert.is(packs, 1, 'later calls with the same filter value reuse the packed copy');
      assert.equal(Array.from(await y2.data()), Array.from(await y1.data()));
      // A training step gives the variable a new value (a new dataId): packed once more, then reused.
      const v = tf.variable(f1);
      tf.tidy(() => v.assign(tf.mul(f1, 2)));
      const y4 = tf.conv2d(x, v, 1, 'same');
      const y5 = tf.conv2d(x, v, 1, 'same');
      assert.is(packs, 2, 'a new filter value is packed once');
      const a = await y4.data(), b1 = await y1.data();
      for (let i = 0; i < a.length; i++) if (Math.abs(a[i] - 2 * b1[i]) > 1e-5 * (1 + Math.abs(a[i]))) assert.unreachable(`y4[${i}] is not 2·y1`);
      tf.dispose([x, f1, y1, y2, y3, y4, y5, v]);

      // One-row matmuls (a dense layer on one sample) pack the weights once per value too, in both orientations.
      const before = packs;
      const row = tf.tensor2d(Float32Array.from(uniform(rand, 6)), [1, 6]);
      const w = tf.tensor2d(Float32Array.from(uniform(rand, 6 * 5)), [6, 5]), wt = tf.transpose(w);
      const m1 = tf.matMul(row, w), m2 = tf.matMul(row, w), m3 = tf.matMul(row, wt, false, true);
      assert.is(packs, before + 2, 'w packed once for two calls, its transpose once');
      const want = tf.tidy(() => tf.sum(tf.mul(tf.reshape(row, [6, 1]), w), 0));
      for (const m of [m1, m2, m3]) {
        const got = await m.data(), exp = await want.data();
        got.forEach((g, i) => assert.ok(Math.abs(g - exp[i]) <= 1e-5 * (1 + Math.abs(exp[i])), `matMul row: ${g} vs ${exp[i]}`));
      }
      tf.dispose([row, w, wt, m1, m2, m3, want]);
    });
  } finally {
    nn.packs.get = get;
  }
});

test('layout copies are cached per dims: a reshape sharing the data is not read with the other dims', async () => {
  const { nn } = await useBackend();
  const rand = rng(9);
  await checkNoLeak(nn, async () => {
    const a = tf.tensor4d(Float32Array.from(uniform(rand, 2 * 4 * 4 * 3)), [2, 4, 4, 3]);
    const f = tf.tensor4d(Float32Array.from(uniform(rand, 3 * 3 * 3 * 2)), [3, 3, 3, 2]);
    const y = tf.conv2d(a, f, 1, 'same');             // caches a in NCHW as 2 images of 16 pixels
    const shared = tf.reshape(a, [4, 2, 4, 3]);      // same data, 4 images of 8 pixels
    const fresh = tf.add(shared, 0);                  // a copy with its own data
    const p1 = tf.maxPool(shared, 2, 2, 'valid'), p2 = tf.maxPool(fresh, 2, 2, 'valid');
    assert.equal(Array.from(await p1.data()), Array.from(await p2.data()));
    tf.dispose([a, f, y, shared, fresh, p1, p2]);
  });
});

/** Runs fn on cpu and on simdnn-test with the same input values; returns both results' values. */
async function onBoth(inputs, fn) {
  const out = {};
  for (const name of ['cpu', 'simdnn-test']) {
    await tf.setBackend(name);
    const ts = inputs.map(({ values, shape, dtype }) => tf.tensor(values, shape, dtype));
    const y = fn(...ts);
    out[name] = { values: await y.data(), shape: y.shape, dtype: y.dtype };
    tf.dispose([...ts, y]);
  }
  await tf.setBackend('simdnn-test');
  return [out['simdnn-test'], out.cpu];
}

function randomShape(rand, rank) {
  return Array.from({ length: rank }, () => 1 + Math.floor(rand() * 5));
}

test('random broadcasts, reductions, slices, batch norms and transposes agree with tfjs\'s cpu backend', async () => {
  const { nn } = await useBackend();
  const rand = rng(21);
  const values = (shape) => Float32Array.from(uniform(rand, shape.reduce((a, b) => a * b, 1), -2, 2));
  await checkNoLeak(nn, async () => {
    const binaries = ['add', 'sub', 'mul', 'div', 'maximum', 'squaredDifference', 'greater'];
    for (let i = 0; i < 40; i++) {
      const out = randomShape(rand, 1 + Math.floor(rand() * 4));
      // Each side: a suffix of the output shape with some dims set to 1.
      const side = () => out.slice(Math.floor(rand() * out.length)).map((d) => (rand() < 0.3 ? 1 : d));
      const [as, bs] = rand() < 0.5 ? [out, side()] : [side(), out];
      const op = binaries[i % binaries.length];
      const [got, want] = await onBoth([{ values: values(as), shape: as }, { values: values(bs), shape: bs }], (a, b) => tf[op](a, b));
      assert.equal(got.shape, want.shape, `${op} [${as}] [${bs}] shape`);
      assert.is(got.dtype, want.dtype, `${op} dtype`);
      assert.equal(Array.from(got.values), Array.from(want.values), `${op} [${as}] with [${bs}]`);
    }
    const reductions = ['sum', 'mean', 'max', 'min', 'argMax'];
    for (let i = 0; i < 30; i++) {
      const shape = randomShape(rand, 1 + Math.floor(rand() * 4));
      const op = reductions[i % reductions.length];
      const axes = op === 'argMax' ? Math.floor(rand() * shape.length) : shape.map((_, k) => k).filter(() => rand() < 0.5);
      const keep = op !== 'argMax' && rand() < 0.5;
      const [got, want] = await onBoth([{ values: values(shape), shape }], (x) => (op === 'argMax' ? tf.argMax(x, axes) : tf[op](x, axes, keep)));
      assert.equal(got.shape, want.shape, `${op} [${shape}] axes ${axes} shape`);
      const w = Array.from(want.values), g = Array.from(got.values);
      // Sums may associate differently: the 1e-4 rule of the project (DESIGN.md), exact for the others.
      if (op === 'sum' || op === 'mean') {
        const m = Math.max(0, ...w.map(Math.abs));
        g.forEach((v, k) => assert.ok(Math.abs(v - w[k]) <= 1e-4 * (Math.abs(w[k]) + m), `${op} [${shape}] axes ${axes}: ${v} vs ${w[k]}`));
      } else assert.equal(g, w, `${op} [${shape}] axes ${axes}`);
    }
    // Slices (block copies for runs of ≥ 16 elements, element loops below).
    for (let i = 0; i < 20; i++) {
      const shape = Array.from({ length: 1 + Math.floor(rand() * 4) }, () => 1 + Math.floor(rand() * 9));
      const begin = shape.map((d) => Math.floor(rand() * d));
      const size = shape.map((d, k) => (rand() < 0.5 ? d - begin[k] : 1 + Math.floor(rand() * (d - begin[k]))));
      const [got, want] = await onBoth([{ values: values(shape), shape }], (x) => tf.slice(x, begin, size));
      assert.equal(Array.from(got.values), Array.from(want.values), `slice [${shape}] at [${begin}] size [${size}]`);
    }
    // Block copies: a batch slice (one run), runs inside a partial dim, runs under partial leading dims.
    for (const [shape, begin, size] of [[[10, 4, 4], [3, 0, 0], [5, 4, 4]], [[6, 5, 8], [2, 1, 0], [3, 3, 8]],
                                        [[3, 4, 5, 6], [1, 2, 1, 0], [2, 2, 3, 6]]]) {
      const [got, want] = await onBoth([{ values: values(shape), shape }], (x) => tf.slice(x, begin, size));
      assert.equal(Array.from(got.values), Array.from(want.values), `slice [${shape}] at [${begin}] size [${size}]`);
    }
    // Batch norm with per-channel statistics: small tensors (JS) and a large NHWC one (the SIMD kernel).
    for (const shape of [[2, 3, 3, 4], [4, 16, 16, 20], [3, 40, 50]]) {
      const C = shape[shape.length - 1];
      const ch = (lo, hi) => ({ values: Float32Array.from(uniform(rand, C, lo, hi)), shape: [C] });
      const [got, want] = await onBoth([{ values: values(shape), shape }, ch(-1, 1), ch(0.1, 2), ch(-1, 1), ch(0.5, 2)],
        (x, mean, variance, offset, scale) => tf.batchNorm(x, mean, variance, offset, scale, 1e-3));
      const w = Array.from(want.values), m = Math.max(...w.map(Math.abs));
      Array.from(got.values).forEach((v, k) => assert.ok(Math.abs(v - w[k]) <= 1e-4 * (Math.abs(w[k]) + m), `batchNorm [${shape}][${k}]: ${v} vs ${w[k]}`));
    }
    for (let i = 0; i < 20; i++) {
      const shape = randomShape(rand, 2 + Math.floor(rand() * 3));
      const perm = shape.map((_, k) => k).sort(() => rand() - 0.5);
      const [got, want] = await onBoth([{ values: values(shape), shape }], (x) => tf.transpose(x, perm));
      assert.equal(Array.from(got.values), Array.from(want.values), `transpose [${shape}] by [${perm}]`);
    }
  });
});

test('SIMD broadcast arithmetic, Step, Square, unary ops, Tile and leading-axes Sum/Mean on large NHWC shapes agree with cpu exactly', async () => {
  const { nn } = await useBackend();
  const rand = rng(37);
  const values = (shape) => Float32Array.from(uniform(rand, shape.reduce((a, b) => a * b, 1), -2, 2));
  await checkNoLeak(nn, async () => {
    // Periods of 1 (scalars), of multiples of 8 (the flat loop: 8, 16, 24), of 4 (12) and not (10, 7: the scalar
    // tail), on either side; sizes with SIMD tails (n mod 8 ≠ 0); RealDiv by values that include zeros and −0.
    const cases = [
      [[4, 6, 6, 16], [16]], [[16], [4, 6, 6, 16]], [[3, 5, 5, 12], [1, 1, 1, 12]], [[1, 1, 12], [3, 5, 5, 12]],
      [[2, 9, 7, 10], [10]], [[7], [5, 3, 7]], [[5, 3, 7], [5, 3, 7]], [[333], [333]], [[4, 7, 7, 8], []], [[], [4, 7, 7, 8]],
      [[1], [2, 3, 3, 5]], [[9, 10], [9, 10]], [[6, 20], [6, 1]], [[2, 5, 5, 24], [24]], [[8], [3, 4, 8]],
    ];
    for (const [as, bs] of cases) {
      for (const op of ['add', 'sub', 'mul', 'div']) {
        const bv = values(bs);
        if (op === 'div') for (let i = 0; i < bv.length; i += 5) bv[i] = i % 10 ? 0 : -0;
        const [got, want] = await onBoth([{ values: values(as), shape: as }, { values: bv, shape: bs }], (a, b) => tf[op](a, b));
        assert.equal(got.shape, want.shape, `${op} [${as}] [${bs}] shape`);
        assert.equal(Array.from(got.values), Array.from(want.values), `${op} [${as}] with [${bs}]`);
      }
    }
    for (const shape of [[4, 6, 6, 16], [3, 5, 5, 7], [333]]) {
      const x = values(shape);
      x[3] = NaN; x[4] = 0; x[5] = -0;
      for (const alpha of [0, 0.3]) {
        const [got, want] = await onBoth([{ values: x, shape }], (t) => tf.step(t, alpha));
        assert.equal(Array.from(got.values), Array.from(want.values), `step [${shape}] alpha ${alpha}`);
      }
      const [got, want] = await onBoth([{ values: x, shape }], (t) => tf.square(t));
      assert.equal(Array.from(got.values), Array.from(want.values), `square [${shape}]`);
      // The exact unary ops of the SIMD kernel (halves for round's ties to even, the NaN for relu6's propagation).
      const u = Float32Array.from(x, (v, i) => (i % 7 === 0 ? Math.round(v * 4) / 2 + 0.5 : v * 4));
      u[3] = NaN;
      for (const op of ['floor', 'ceil', 'round', 'neg', 'abs', 'sqrt', 'relu6']) {
        const [g, w] = await onBoth([{ values: u, shape }], (t) => tf[op](t));
        assert.equal(Array.from(g.values), Array.from(w.values), `${op} [${shape}]`);
      }
    }
    // A slice of the whole tensor shares its data: it outlives the input, and the engine frees the data once.
    {
      const x = tf.tensor3d(values([2, 3, 4]), [2, 3, 4]);
      const before = nn.memory().tensors;
      const whole = tf.slice(x, [0, 0, 0], [2, 3, 4]);
      assert.is(nn.memory().tensors, before, 'no new engine tensor for a whole-tensor slice');
      const want = Array.from(await x.data());
      x.dispose();
      assert.equal(Array.from(await whole.data()), want, 'the slice outlives its input');
      whole.dispose();
    }
    // Tile along leading axes of size 1 (SIMD block copies of the whole input), float32 and int32.
    for (const [shape, reps, dtype] of [[[1, 1, 1, 16], [4, 5, 5, 1], 'float32'], [[1, 7], [9, 1], 'int32'], [[1, 3, 5], [4, 1, 1], 'float32']]) {
      const vals = dtype === 'int32' ? Int32Array.from(values(shape), (v) => Math.round(v * 100)) : values(shape);
      const [got, want] = await onBoth([{ values: vals, shape, dtype }], (t) => tf.tile(t, reps));
      assert.equal(got.shape, want.shape, `tile [${shape}] by [${reps}] shape`);
      assert.equal(Array.from(got.values), Array.from(want.values), `tile [${shape}] by [${reps}]`);
    }
    // Sum over the leading axes: float64 accumulation in row order, as cpu's loop (exact); Mean: cpu divides each
    // element before summing, simdnn divides the sum — the 1e-4 rule.
    for (const [shape, axes] of [[[8, 12, 12, 16], [0, 1, 2]], [[5, 9, 9, 7], [0, 1, 2]], [[6, 10, 3], [0]], [[40, 3, 6], [0, 1]]]) {
      for (const keep of [false, true]) {
        const [got, want] = await onBoth([{ values: values(shape), shape }], (t) => tf.sum(t, axes, keep));
        assert.equal(got.shape, want.shape, `sum [${shape}] shape`);
        assert.equal(Array.from(got.values), Array.from(want.values), `sum [${shape}] axes ${axes}`);
      }
      const [got, want] = await onBoth([{ values: values(shape), shape }], (t) => tf.mean(t, axes));
      const w = Array.from(want.values), m = Math.max(...w.map(Math.abs));
      Array.from(got.values).forEach((v, k) => assert.ok(Math.abs(v - w[k]) <= 1e-4 * (Math.abs(w[k]) + m), `mean [${shape}][${k}]: ${v} vs ${w[k]}`));
    }
  });
});

test('errors name the kernel and the problem', async () => {
  const { b } = await useBackend();
  assert.throws(() => b.write(new Float32Array(4), [2, 2], 'complex64'), /complex64 tensors are not supported/);
  assert.throws(() => b.write(new Float32Array(3), [2, 2], 'float32'), /write of 3 values for shape \[2,2\]/);
  const x = tf.tensor2d([1, 2, 3, 4], [2, 2]);
  assert.throws(() => tf.engine().runKernel('Softmax', { logits: x }, { dim: 0 }), /Softmax \(simdnn\): dim must be the last axis/);
  x.dispose();
});

test.run();
