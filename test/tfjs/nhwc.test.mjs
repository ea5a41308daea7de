// The tfjs backend's channel-last kernels (assembly/nhwc.ts): MaxPool and FusedBatchNorm straight on NHWC data —
// against tfjs's cpu backend on the shared test engine (every build; split over 2 and 3 threads in those setups),
// checking that the NHWC kernels ran.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { checkNoLeak, rng, spyKernels } from '../helpers.mjs';
import { useTfjsBackend } from './tfjs-helpers.mjs';

const NAME = 'simdnn-nhwc-test';
const useBackend = () => useTfjsBackend(NAME);

/** Runs f on cpu and on simdnn with the same inputs (plain arrays in, Float32Array out). */
async function both(f) {
  await tf.setBackend('cpu');
  const want = tf.tidy(() => f().dataSync().slice());
  await tf.setBackend(NAME);
  const got = tf.tidy(() => f().dataSync().slice());
  return { want, got };
}

/** f32 results of different summation orders: |got − want| ≤ 1e-5·(1 + |want|); NaN only where cpu has NaN. */
function assertClose(got, want, what) {
  assert.is(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    if (Number.isNaN(want[i])) { assert.ok(Number.isNaN(got[i]), `${what}[${i}]: NaN expected, got ${got[i]}`); continue; }
    const err = Math.abs(got[i] - want[i]);
    if (!(err <= 1e-5 * (1 + Math.abs(want[i])))) assert.unreachable(`${what}[${i}]: ${got[i]} vs cpu ${want[i]}`);
  }
}

const values = (n, seed) => { const r = rng(seed); return Array.from({ length: n }, () => r() * 2 - 1); };
const size = (s) => s.reduce((a, b) => a * b, 1);

test('NHWC MaxPool (2×2/2, 3×3/1 same, explicit padding, C not a multiple of 4, NaN) and FusedBatchNorm equal cpu', async () => {
  const { nn } = await useBackend();
  const s = spyKernels(nn);
  try {
    const pools = [
      { x: [2, 8, 8, 16], k: 2, strides: 2, pad: 'valid' },
      { x: [1, 7, 9, 6], k: 3, strides: 1, pad: 'same' },
      { x: [3, 5, 6, 7], k: [2, 3], strides: [1, 2], pad: 'same' },
    ];
    for (const [i, p] of pools.entries()) {
      const xv = values(size(p.x), 40 + i);
      const r = await both(() => tf.maxPool(tf.tensor4d(xv, p.x), p.k, p.strides, p.pad));
      assertClose(r.got, r.want, `maxPool x [${p.x}] k ${p.k} strides ${p.strides} ${p.pad}`);
    }
    // A NaN in a window is the window's maximum on simdnn (PyTorch's rule, docs/tfjs.md); cpu skips NaNs.
    await useBackend();
    const nanX = values(16, 5); nanX[5] = NaN;
    const pooled = tf.tidy(() => tf.maxPool(tf.tensor4d(nanX, [1, 4, 4, 1]), 2, 2, 'valid').dataSync().slice());
    assert.ok(Number.isNaN(pooled[0]) && pooled.slice(1).every((v) => !Number.isNaN(v)), `NaN window: ${pooled}`);

    for (const [i, shape] of [[4, 6, 5, 12], [2, 9, 9, 7], [64, 3]].entries()) {
      const C = shape[shape.length - 1];
      const xv = values(size(shape), 50 + i), mv = values(C, 60 + i), vv = values(C, 70 + i).map((v) => v * v + 0.1);
      const ov = values(C, 80 + i), sv = values(C, 90 + i);
      const r = await both(() => tf.batchNorm(tf.tensor(xv, shape), tf.tensor1d(mv), tf.tensor1d(vv), tf.tensor1d(ov), tf.tensor1d(sv), 1e-3));
      assertClose(r.got, r.want, `batchNorm x [${shape}]`);
    }
  } finally {
    s.restore();
  }
  assert.ok(s.seen.has('maxpool_nhwc'), 'the NHWC max-pool kernel ran');
  assert.ok(s.seen.has('channel_affine_nhwc'), 'the NHWC batch-norm kernel ran');
});

test('FusedBatchNorm: the per-channel parameter block is cached on mean for the same parameter tensors, rebuilt for others, freed with mean', async () => {
  const { nn } = await useBackend();
  const shape = [2, 8, 8, 12], C = 12;   // ≥ 1024 elements: the SIMD path
  const xv = values(size(shape), 11), mv = values(C, 12), ov = values(C, 13), sv = values(C, 14);
  const vv1 = values(C, 15).map((v) => v * v + 0.1), vv2 = vv1.map((v) => 4 * v);
  const want = async (vv) => (await both(() => tf.batchNorm(tf.tensor(xv, shape), tf.tensor1d(mv), tf.tensor1d(vv), tf.tensor1d(ov), tf.tensor1d(sv), 1e-3))).want;
  const [want1, want2] = [await want(vv1), await want(vv2)];
  await useBackend();
  const live = nn.memory().tensors;
  const x = tf.tensor(xv, shape), mean = tf.tensor1d(mv), offset = tf.tensor1d(ov), scale = tf.tensor1d(sv);
  const v1 = tf.tensor1d(vv1), v2 = tf.tensor1d(vv2);
  const run = (v) => tf.tidy(() => tf.batchNorm(x, mean, v, offset, scale, 1e-3).dataSync().slice());
  assertClose(run(v1), want1, 'first call');
  const afterFirst = nn.memory().tensors;
  assertClose(run(v1), want1, 'same parameters again (cached block)');
  assert.is(nn.memory().tensors, afterFirst, 'the second call with the same parameters allocates no new block');
  assertClose(run(v2), want2, 'another variance tensor: a block of its own');
  tf.dispose([x, mean, offset, scale, v1, v2]);
  assert.is(nn.memory().tensors, live, 'the cached blocks are freed with mean');
});

test.run();
