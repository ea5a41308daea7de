// ops.add, ops.concat and ops.split: PyTorch goldens (test/fixtures/arch/{add,concat,split}.json, written by
// gen_arch.py), forward and backward (add's backward is dy for both inputs; concat's is split and split's is
// concat), random shapes against plain JS, and argument errors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { getEngine, assertClose, checkNoLeak, disposeAll, rng, uniform } from './helpers.mjs';

const nn = await getEngine();
const { ops } = nn;

export function decode(a) {
  const bytes = Buffer.from(a.data, 'base64');
  const n = a.shape.reduce((p, d) => p * d, 1);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = a.dtype === 'int32' ? new Int32Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = a.dtype === 'int32' ? view.getInt32(4 * i, true) : view.getFloat32(4 * i, true);
  return out;
}

const load = (name) => JSON.parse(readFileSync(new URL(`./fixtures/arch/${name}.json`, import.meta.url), 'utf8'));
const T = (c, k) => nn.tensor(decode(c.inputs[k]), c.inputs[k].shape);
const want = (c, k) => decode(c.outputs[k]);

for (const c of load('add').cases) {
  test(`add golden: ${c.name}`, () => checkNoLeak(nn, () => {
    const a = T(c, 'a'), b = T(c, 'b'), dy = T(c, 'dy');
    const y = ops.add(a, b);
    assert.equal(y.shape, c.outputs.y.shape);
    assertClose(y.read(), want(c, 'y'), 'y');
    // backward: identity for both inputs
    assertClose(dy.read(), want(c, 'da'), 'da');
    assertClose(dy.read(), want(c, 'db'), 'db');
    disposeAll([a, b, dy, y]);
  }));
}

for (const c of load('concat').cases) {
  test(`concat golden: ${c.name}`, () => checkNoLeak(nn, () => {
    const names = Object.keys(c.inputs).filter((k) => k.startsWith('x'));
    const xs = names.map((k) => T(c, k)), dy = T(c, 'dy');
    const y = ops.concat(xs, c.opts.axis);
    assert.equal(y.shape, c.outputs.y.shape);
    assertClose(y.read(), want(c, 'y'), 'y');
    const ax = c.opts.axis < 0 ? c.opts.axis + dy.rank : c.opts.axis;
    const dxs = ops.split(dy, xs.map((x) => x.shape[ax]), c.opts.axis);   // concat's backward
    dxs.forEach((dx, i) => { assert.equal(dx.shape, xs[i].shape); assertClose(dx.read(), want(c, `dx${i}`), `dx${i}`); });
    disposeAll([xs, dy, y, dxs]);
  }));
}

for (const c of load('split').cases) {
  test(`split golden: ${c.name}`, () => checkNoLeak(nn, () => {
    const x = T(c, 'x');
    const dys = c.opts.sizes.map((_, i) => T(c, `dy${i}`));
    const ys = ops.split(x, c.opts.sizes, c.opts.axis);
    ys.forEach((y, i) => { assert.equal(y.shape, c.outputs[`y${i}`].shape); assertClose(y.read(), want(c, `y${i}`), `y${i}`); });
    const dx = ops.concat(dys, c.opts.axis);   // split's backward
    assertClose(dx.read(), want(c, 'dx'), 'dx');
    disposeAll([x, dys, ys, dx]);
  }));
}

test('add: random sizes (vector body and scalar tail) match plain JS exactly', () => checkNoLeak(nn, () => {
  const r = rng(7);
  for (const n of [1, 3, 4, 5, 8, 9, 15, 16, 17, 33, 1000]) {
    const a = uniform(r, n), b = uniform(r, n);
    const ta = nn.tensor(a, [n]), tb = nn.tensor(b, [n]);
    const yt = ops.add(ta, tb), y = yt.read();
    yt.dispose();
    const fa = Float32Array.from(a), fb = Float32Array.from(b);
    for (let i = 0; i < n; i++) assert.is(y[i], Math.fround(fa[i] + fb[i]), `n=${n} [${i}]`);
    disposeAll([ta, tb]);
  }
}));

test('concat then split along channels round-trips random NCHW shapes', () => checkNoLeak(nn, () => {
  const r = rng(11);
  for (let trial = 0; trial < 10; trial++) {
    const N = 1 + Math.floor(r() * 3), H = 1 + Math.floor(r() * 5), W = 1 + Math.floor(r() * 5);
    const Cs = Array.from({ length: 1 + Math.floor(r() * 4) }, () => 1 + Math.floor(r() * 5));
    const data = Cs.map((C) => Float32Array.from(uniform(r, N * C * H * W)));
    const xs = Cs.map((C, i) => nn.tensor(data[i], [N, C, H, W]));
    const y = ops.concat(xs);
    const Ct = Cs.reduce((a, b) => a + b, 0);
    assert.equal(y.shape, [N, Ct, H, W]);
    const yv = y.read();
    // reference: y[n, off + c, h, w] = xs[i][n, c, h, w]
    let off = 0;
    Cs.forEach((C, i) => {
      for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let p = 0; p < H * W; p++) {
        assert.is(yv[((n * Ct) + off + c) * H * W + p], data[i][(n * C + c) * H * W + p]);
      }
      off += C;
    });
    const parts = ops.split(y, Cs);
    parts.forEach((t, i) => assert.equal(t.read(), data[i]));
    disposeAll([xs, y, parts]);
  }
}));

test('gradient accumulation (Param.accumulate) uses the axpy kernel: sums exactly', () => checkNoLeak(nn, () => {
  const model = nn.sequential([nn.layers.linear(3)], { inputShape: [5], seed: 1 });
  const x = nn.tensor(uniform(rng(3), 10), [2, 5]), dy = nn.tensor(uniform(rng(4), 6), [2, 3]);
  model.forward(x).dispose(); model.backward(dy);
  const g1 = model.parameters()[0].grad.read();
  model.forward(x).dispose(); model.backward(dy);
  const g2 = model.parameters()[0].grad.read();
  for (let i = 0; i < g1.length; i++) assert.is(g2[i], Math.fround(g1[i] + g1[i]));
  disposeAll([x, dy]);
  model.dispose();
}));

test('argument errors name the op, the argument and both shapes', () => checkNoLeak(nn, () => {
  const a = nn.zeros([2, 3, 4, 4]), b = nn.zeros([2, 3, 4, 5]), c = nn.zeros([2, 5, 2, 2]), i = nn.zeros([2, 3, 4, 4], 'int32');
  assert.throws(() => ops.add(a, b), /add: b must have the shape of a \[2, 3, 4, 4\], got \[2, 3, 4, 5\]/);
  assert.throws(() => ops.add(a, 1), /add: b must be a Tensor, got 1/);
  assert.throws(() => ops.add(a, i), /add: b must have dtype float32, got int32/);
  assert.throws(() => ops.concat([a, c]), /concat: tensors\[1\] \[2, 5, 2, 2\] does not match tensors\[0\] \[2, 3, 4, 4\] in batch and spatial sizes/);
  assert.throws(() => ops.concat([]), /concat: tensors must be a non-empty array of Tensors, got \[\]/);
  assert.throws(() => ops.concat([a, b], 4), /concat: axis must be an integer in \[-4, 3\] for rank 4, got 4/);
  const v = nn.zeros([3]);
  assert.throws(() => ops.concat([a, v]), /concat: tensors\[1\] \[3\] does not match/);
  v.dispose();
  assert.throws(() => ops.split(a, [1, 1]), /split: sizes \[1, 1\] must sum to x.shape\[1\] = 3 \(x \[2, 3, 4, 4\]\), got 2/);
  assert.throws(() => ops.split(a, [0, 3]), /split: sizes must be a non-empty array of positive integers, got \[0, 3\]/);
  assert.throws(() => ops.split(a, [3], 1.5), /split: axis must be an integer/);
  disposeAll([a, b, c, i]);
}));

test.run();
