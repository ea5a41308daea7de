// The ops of issue #9: pooling with TensorFlow's padding 'same' / 'valid', adaptive average and max pooling with
// PyTorch's overlapping windows, and the locally connected 2-D op. PyTorch goldens (test/fixtures/ops9/*.json, written
// by gen_ops9.py) for forward and backward under DESIGN.md's rule (indices exactly); finite-difference gradient
// checks of locallyConnected2d against a float64 reference; the layers in nn.sequential (shapes, summary, save/load,
// training); every case checks that nn.memory() is back to its baseline.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { getEngine, assertClose, checkNoLeak, disposeAll, rng, uniform } from './helpers.mjs';

const nn = await getEngine();
const { ops } = nn;
const L = nn.layers;

function decode(a) {
  const bytes = Buffer.from(a.data, 'base64');
  const n = a.shape.reduce((p, d) => p * d, 1);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = a.dtype === 'int32' ? new Int32Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = a.dtype === 'int32' ? view.getInt32(4 * i, true) : view.getFloat32(4 * i, true);
  return out;
}

const load = (name) => JSON.parse(readFileSync(new URL(`./fixtures/ops9/${name}.json`, import.meta.url), 'utf8'));

/** Compares every output the runner returns with the case's, shapes included (int32 exactly). */
function compare(c, got) {
  assert.equal(Object.keys(got).sort(), Object.keys(c.outputs).sort(), `${c.name}: outputs`);
  for (const [k, t] of Object.entries(got)) {
    const w = c.outputs[k];
    assert.equal(t.shape, w.shape, `${c.name}: ${k} shape`);
    if (w.dtype === 'int32') assert.equal(Array.from(t.read()), Array.from(decode(w)), `${c.name}: ${k}`);
    else assertClose(t.read(), decode(w), `${c.name}: ${k}`);
  }
}

function goldens(family, run) {
  for (const c of load(family).cases) {
    test(`${family} golden: ${c.name}`, () => checkNoLeak(nn, () => {
      const made = [];
      const T = (k) => (c.inputs[k] ? (made.push(nn.tensor(decode(c.inputs[k]), c.inputs[k].shape)), made.at(-1)) : null);
      const got = run(c, T);
      try { compare(c, got); } finally { disposeAll([made, got]); }
    }));
  }
}

goldens('maxPool2dSame', (c, T) => {
  const x = T('x'), dy = T('dy');
  const { y, indices } = ops.maxPool2d(x, c.opts);
  const dx = ops.maxPool2dBackward(dy, indices, x.shape);
  const yValues = ops.maxPool2dValues(x, c.opts);
  try { assertClose(yValues.read(), y.read(), 'maxPool2dValues'); } finally { yValues.dispose(); }
  return { y, indices, dx };
});

goldens('avgPool2dSame', (c, T) => {
  const x = T('x'), dy = T('dy');
  return { y: ops.avgPool2d(x, c.opts), dx: ops.avgPool2dBackward(dy, x.shape, c.opts) };
});

goldens('adaptiveAvgPool2d', (c, T) => {
  const x = T('x'), dy = T('dy');
  return { y: ops.adaptiveAvgPool2d(x, c.opts.outputSize), dx: ops.adaptiveAvgPool2dBackward(dy, x.shape) };
});

goldens('adaptiveMaxPool2d', (c, T) => {
  const x = T('x'), dy = T('dy');
  const { y, indices } = ops.adaptiveMaxPool2d(x, c.opts.outputSize);
  return { y, indices, dx: ops.adaptiveMaxPool2dBackward(dy, indices, x.shape) };
});

goldens('locallyConnected2d', (c, T) => {
  const x = T('x'), w = T('w'), b = T('b'), dy = T('dy');
  const y = ops.locallyConnected2d(x, w, b, c.opts);
  const g = ops.locallyConnected2dBackward(dy, x, w, c.opts, { bias: b !== null });
  return { y, ...g };
});

test('locallyConnected2dBackward flags: each gradient alone equals the full call; none asked gives {}', () => checkNoLeak(nn, () => {
  const c = load('locallyConnected2d').cases.find((k) => k.name === 'k3 s2 p1');
  const t = Object.fromEntries(Object.entries(c.inputs).map(([k, a]) => [k, nn.tensor(decode(a), a.shape)]));
  const all = ops.locallyConnected2dBackward(t.dy, t.x, t.w, c.opts);
  for (const [flag, key] of [['input', 'dx'], ['weight', 'dw'], ['bias', 'db']]) {
    const flags = { input: false, weight: false, bias: false, [flag]: true };
    const one = ops.locallyConnected2dBackward(t.dy, t.x, t.w, c.opts, flags);
    assert.equal(Object.keys(one), [key]);
    assert.equal(Array.from(one[key].read()), Array.from(all[key].read()), `${key} alone`);
    disposeAll(one);
  }
  assert.equal(ops.locallyConnected2dBackward(t.dy, t.x, t.w, c.opts, { input: false, weight: false, bias: false }), {});
  disposeAll([t, all]);
}));

// -------------------------------------------------------------------------------------------------------------
// Finite differences: L = Σ y·r on a float64 reference forward (loops straight from the definition), at the float32
// values the engine holds; the engine's backward with dy = r must match (rtol 1e-4). y is linear in x and in w, so
// central differences are exact up to rounding.

/** Float64 locally connected forward from the definition (padding [top, bottom, left, right]). */
function localRef(x, xs, w, b, Cout, [KH, KW], [SH, SW], [PT, PB, PL, PR]) {
  const [N, C, H, W] = xs;
  const OH = Math.floor((H + PT + PB - KH) / SH) + 1, OW = Math.floor((W + PL + PR - KW) / SW) + 1;
  const K = C * KH * KW, P = OH * OW;
  const y = new Float64Array(N * Cout * P);
  for (let n = 0; n < N; n++) for (let co = 0; co < Cout; co++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
    const p = oh * OW + ow;
    let s = b ? b[co * P + p] : 0;
    for (let c = 0; c < C; c++) for (let kh = 0; kh < KH; kh++) for (let kw = 0; kw < KW; kw++) {
      const h = oh * SH - PT + kh, ww = ow * SW - PL + kw;
      if (h < 0 || h >= H || ww < 0 || ww >= W) continue;
      s += w[(p * Cout + co) * K + (c * KH + kh) * KW + kw] * x[((n * C + c) * H + h) * W + ww];
    }
    y[(n * Cout + co) * P + p] = s;
  }
  return { y, OH, OW };
}

function numGrad(f, arr, r) {
  const h = 1e-6, g = new Float64Array(arr.length);
  const Lr = () => { const y = f(); let s = 0; for (let i = 0; i < y.length; i++) s += y[i] * r[i]; return s; };
  for (let i = 0; i < arr.length; i++) {
    const v = arr[i];
    arr[i] = v + h; const lp = Lr();
    arr[i] = v - h; const lm = Lr();
    arr[i] = v;
    g[i] = (lp - lm) / (2 * h);
  }
  return g;
}

const gradCases = [
  { N: 2, C: 2, H: 5, W: 6, Cout: 3, kernel: [3, 3], stride: [1, 1], pad: [1, 1, 1, 1], padding: 1 },
  { N: 3, C: 3, H: 7, W: 5, Cout: 2, kernel: [2, 3], stride: [2, 1], pad: [0, 0, 1, 1], padding: [0, 1] },
  { N: 1, C: 4, H: 6, W: 7, Cout: 5, kernel: [3, 2], stride: [2, 3], pad: [0, 1, 0, 1], padding: 'same' },
  { N: 5, C: 1, H: 4, W: 4, Cout: 4, kernel: [2, 2], stride: [1, 1], pad: [2, 0, 0, 1], padding: [2, 0, 0, 1] },
];

for (const [i, g] of gradCases.entries()) {
  test(`locallyConnected2d finite differences ${i}: ${JSON.stringify({ ...g, pad: undefined })}`, () => checkNoLeak(nn, () => {
    const rand = rng(900 + i);
    const f32 = (n) => Float32Array.from(uniform(rand, n));
    const xs = [g.N, g.C, g.H, g.W];
    const { OH, OW } = localRef(new Float64Array(g.N * g.C * g.H * g.W), xs, new Float64Array(1e5), null, g.Cout, g.kernel, g.stride, g.pad);
    const K = g.C * g.kernel[0] * g.kernel[1], P = OH * OW;
    const xv = Float64Array.from(f32(g.N * g.C * g.H * g.W)), wv = Float64Array.from(f32(P * g.Cout * K)), bv = Float64Array.from(f32(g.Cout * P));
    const r = Float64Array.from(f32(g.N * g.Cout * P));
    const opts = { kernel: g.kernel, stride: g.stride, padding: g.padding };
    const x = nn.tensor(xv, xs), w = nn.tensor(wv, [P, g.Cout, K]), b = nn.tensor(bv, [g.Cout, OH, OW]), dy = nn.tensor(r, [g.N, g.Cout, OH, OW]);
    const y = ops.locallyConnected2d(x, w, b, opts);
    const fwd = () => localRef(xv, xs, wv, bv, g.Cout, g.kernel, g.stride, g.pad).y;
    assertClose(y.read(), fwd(), 'y vs reference');
    const grads = ops.locallyConnected2dBackward(dy, x, w, opts);
    assertClose(grads.dx.read(), numGrad(fwd, xv, r), 'dx');
    assertClose(grads.dw.read(), numGrad(fwd, wv, r), 'dw');
    assertClose(grads.db.read(), numGrad(fwd, bv, r), 'db');
    disposeAll([x, w, b, dy, y, grads]);
  }));
}

// -------------------------------------------------------------------------------------------------------------
// Random shapes against float64 references written from the definitions (forward, and backward as the adjoint).

/** PyTorch's adaptive window [start, end) of output o. */
const win = (o, L, O) => [Math.floor((o * L) / O), Math.ceil(((o + 1) * L) / O)];

/** Adaptive avg / max pooling reference: y, argmax indices (first maximum), and dx for dy. */
function adaptiveRef(x, [N, C, H, W], [OH, OW], dy, isMax) {
  const y = new Float64Array(N * C * OH * OW), idx = new Int32Array(y.length), dx = new Float64Array(x.length);
  for (let p = 0; p < N * C; p++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
    const [hs, he] = win(oh, H, OH), [ws, we] = win(ow, W, OW), o = (p * OH + oh) * OW + ow;
    let s = 0, best = -Infinity, bi = hs * W + ws;
    for (let h = hs; h < he; h++) for (let w = ws; w < we; w++) {
      const v = x[p * H * W + h * W + w];
      s += v;
      if (v > best) { best = v; bi = h * W + w; }
    }
    const n = (he - hs) * (we - ws);
    y[o] = isMax ? best : s / n;
    idx[o] = bi;
    if (isMax) dx[p * H * W + bi] += dy[o];
    else for (let h = hs; h < he; h++) for (let w = ws; w < we; w++) dx[p * H * W + h * W + w] += dy[o] / n;
  }
  return { y, idx, dx };
}

/** TensorFlow 'same' pooling reference (max: −inf padding; avg: in-range count), y and dx for dy. */
function samePoolRef(x, [N, C, H, W], k, s, d, dy, isMax) {
  const pads = (L, K, S, D) => { const O = Math.ceil(L / S); return [O, Math.floor(Math.max((O - 1) * S + (K - 1) * D + 1 - L, 0) / 2)]; };
  const [OH, PT] = pads(H, k[0], s[0], d[0]), [OW, PL] = pads(W, k[1], s[1], d[1]);
  const y = new Float64Array(N * C * OH * OW), dx = new Float64Array(x.length);
  for (let p = 0; p < N * C; p++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
    const o = (p * OH + oh) * OW + ow, cells = [];
    for (let i = 0; i < k[0]; i++) for (let j = 0; j < k[1]; j++) {
      const h = oh * s[0] - PT + i * d[0], w = ow * s[1] - PL + j * d[1];
      if (h >= 0 && h < H && w >= 0 && w < W) cells.push(p * H * W + h * W + w);
    }
    if (isMax) {
      let bi = cells[0];
      for (const c of cells) if (x[c] > x[bi]) bi = c;
      y[o] = x[bi];
      dx[bi] += dy[o];
    } else {
      y[o] = cells.reduce((a, c) => a + x[c], 0) / cells.length;
      for (const c of cells) dx[c] += dy[o] / cells.length;
    }
  }
  return { y, dx, OH, OW };
}

test('random shapes: adaptive avg / max pooling and padding-same pooling against float64 references', () => checkNoLeak(nn, () => {
  const rand = rng(77), ri = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));
  let compared = 0;
  for (let t = 0; t < 60; t++) {
    const N = ri(1, 3), C = ri(1, 4), H = ri(1, 13), W = ri(1, 13);
    const xs = [N, C, H, W];
    const xv = Float32Array.from(uniform(rand, N * C * H * W, -2, 2));
    const x = nn.tensor(xv, xs);
    const what = [];
    try {
      // adaptive: output sizes below, equal to and above the input
      const out = [ri(1, H + 3), ri(1, W + 3)];
      for (const isMax of [false, true]) {
        what[0] = `adaptive${isMax ? 'Max' : 'Avg'} ${JSON.stringify(xs)} → ${JSON.stringify(out)}`;
        const dyv = Float32Array.from(uniform(rand, N * C * out[0] * out[1]));
        const ref = adaptiveRef(xv, xs, out, dyv, isMax);
        const dy = nn.tensor(dyv, [N, C, ...out]);
        const r = isMax ? ops.adaptiveMaxPool2d(x, out) : { y: ops.adaptiveAvgPool2d(x, out), indices: null };
        const dx = isMax ? ops.adaptiveMaxPool2dBackward(dy, r.indices, xs) : ops.adaptiveAvgPool2dBackward(dy, xs);
        assertClose(r.y.read(), ref.y, `${what[0]}: y`);
        if (isMax) assert.equal(Array.from(r.indices.read()), Array.from(ref.idx), `${what[0]}: indices`);
        assertClose(dx.read(), ref.dx, `${what[0]}: dx`);
        disposeAll([dy, r, dx]);
      }
      // padding 'same' (dilation only for max pooling, where every window keeps an input element)
      const k = [ri(1, 4), ri(1, 4)], st = [ri(1, 3), ri(1, 3)];
      for (const isMax of [false, true]) {
        const d = isMax && rand() < 0.3 ? [ri(1, 2), ri(1, 2)] : [1, 1];
        const opts = { kernel: k, stride: st, padding: 'same', ...(isMax ? { dilation: d } : {}) };
        what[0] = `${isMax ? 'max' : 'avg'}Pool2d same ${JSON.stringify(xs)} ${JSON.stringify(opts)}`;
        const dyv = Float32Array.from(uniform(rand, N * C * Math.ceil(H / st[0]) * Math.ceil(W / st[1])));
        const ref = samePoolRef(xv, xs, k, st, d, dyv, isMax);
        if (ref.y.some((v) => !Number.isFinite(v))) continue;   // a window of padding only: rejected by the op (errors test)
        compared++;
        const dy = nn.tensor(dyv, [N, C, ref.OH, ref.OW]);
        const r = isMax ? ops.maxPool2d(x, opts) : { y: ops.avgPool2d(x, opts), indices: null };
        const dx = isMax ? ops.maxPool2dBackward(dy, r.indices, xs) : ops.avgPool2dBackward(dy, xs, opts);
        assertClose(r.y.read(), ref.y, `${what[0]}: y`);
        assertClose(dx.read(), ref.dx, `${what[0]}: dx`);
        disposeAll([dy, r, dx]);
      }
    } catch (err) {
      err.message = `${what[0]}: ${err.message}`;
      throw err;
    } finally {
      x.dispose();
    }
  }
  assert.ok(compared >= 110, `only ${compared} of 120 'same' pooling cases were compared`);
}));

/** locallyConnected2d adjoint reference: dx, dw, db for dy (padding [top, bottom, left, right]). */
function localBackwardRef(x, xs, w, dy, Cout, [KH, KW], [SH, SW], [PT, PB, PL, PR]) {
  const [N, C, H, W] = xs;
  const OH = Math.floor((H + PT + PB - KH) / SH) + 1, OW = Math.floor((W + PL + PR - KW) / SW) + 1;
  const K = C * KH * KW, P = OH * OW;
  const dx = new Float64Array(x.length), dw = new Float64Array(w.length), db = new Float64Array(Cout * P);
  for (let n = 0; n < N; n++) for (let co = 0; co < Cout; co++) for (let p = 0; p < P; p++) {
    const g = dy[(n * Cout + co) * P + p], oh = Math.floor(p / OW), ow = p % OW;
    db[co * P + p] += g;
    for (let c = 0; c < C; c++) for (let kh = 0; kh < KH; kh++) for (let kw = 0; kw < KW; kw++) {
      const h = oh * SH - PT + kh, ww = ow * SW - PL + kw;
      if (h < 0 || h >= H || ww < 0 || ww >= W) continue;
      const xi = ((n * C + c) * H + h) * W + ww, wi = (p * Cout + co) * K + (c * KH + kh) * KW + kw;
      dx[xi] += g * w[wi];
      dw[wi] += g * x[xi];
    }
  }
  return { dx, dw, db };
}

test('random shapes: locallyConnected2d forward and backward against float64 references', () => checkNoLeak(nn, () => {
  const rand = rng(78), ri = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));
  let compared = 0;
  for (let t = 0; t < 40; t++) {
    const N = ri(1, 9), C = ri(1, 6), H = ri(1, 9), W = ri(1, 9), Cout = ri(1, 7);
    const k = [ri(1, Math.min(4, H + 2)), ri(1, Math.min(4, W + 2))], st = [ri(1, 3), ri(1, 3)];
    const pad = [ri(0, 2), ri(0, 2), ri(0, 2), ri(0, 2)];
    const OH = Math.floor((H + pad[0] + pad[1] - k[0]) / st[0]) + 1, OW = Math.floor((W + pad[2] + pad[3] - k[1]) / st[1]) + 1;
    if (OH < 1 || OW < 1) continue;
    const K = C * k[0] * k[1], P = OH * OW, xs = [N, C, H, W];
    const opts = { kernel: k, stride: st, padding: pad };
    const name = JSON.stringify({ xs, Cout, ...opts });
    const xv = Float32Array.from(uniform(rand, N * C * H * W)), wv = Float32Array.from(uniform(rand, P * Cout * K));
    const bv = Float32Array.from(uniform(rand, Cout * P)), dyv = Float32Array.from(uniform(rand, N * Cout * P));
    compared++;
    const x = nn.tensor(xv, xs), w = nn.tensor(wv, [P, Cout, K]), b = nn.tensor(bv, [Cout, OH, OW]), dy = nn.tensor(dyv, [N, Cout, OH, OW]);
    const y = ops.locallyConnected2d(x, w, b, opts), g = ops.locallyConnected2dBackward(dy, x, w, opts);
    try {
      assertClose(y.read(), localRef(xv, xs, wv, bv, Cout, k, st, pad).y, `${name}: y`);
      const ref = localBackwardRef(xv, xs, wv, dyv, Cout, k, st, pad);
      assertClose(g.dx.read(), ref.dx, `${name}: dx`);
      assertClose(g.dw.read(), ref.dw, `${name}: dw`);
      assertClose(g.db.read(), ref.db, `${name}: db`);
    } finally {
      disposeAll([x, w, b, dy, y, g]);
    }
  }
  assert.ok(compared >= 30, `only ${compared} of 40 random configurations had a positive output size`);
}));

// -------------------------------------------------------------------------------------------------------------
// Layers

test("maxPool2d / avgPool2d layers with padding 'same' / 'valid': inferShape, summary and the op agree", () => checkNoLeak(nn, () => {
  const specs = [
    [() => L.maxPool2d(3, { stride: 2, padding: 'same' }), [3, 7, 5], [3, 4, 3]],
    [() => L.maxPool2d(2, { stride: 1, padding: 'same' }), [2, 5, 6], [2, 5, 6]],
    [() => L.maxPool2d(3, { stride: 2, padding: 'valid' }), [2, 8, 7], [2, 3, 3]],
    [() => L.avgPool2d(3, { stride: 2, padding: 'same' }), [3, 7, 5], [3, 4, 3]],
    [() => L.avgPool2d([4, 2], { stride: [3, 2], padding: 'same' }), [1, 10, 9], [1, 4, 5]],
  ];
  for (const [make, inShape, outShape] of specs) {
    const model = nn.sequential([make()], { inputShape: inShape, seed: 1 });
    assert.equal(model.outputShape, outShape);
    assert.equal(nn.summary([make()], inShape, { print: false }).outputShape, outShape);
    const x = nn.tensor(Float32Array.from(uniform(rng(3), 2 * inShape.reduce((a, b) => a * b))), [2, ...inShape]);
    model.train();
    const y = model.forward(x);
    assert.equal(y.shape, [2, ...outShape]);
    const ones = nn.tensor(new Float32Array(y.size).fill(1), y.shape);
    const dx = model.backward(ones, { inputGrad: true });
    assert.equal(dx.shape, x.shape);
    // save / load keeps the padding
    const again = nn.load(model.save());
    assert.equal(again.layers[0].config(), model.layers[0].config());
    disposeAll([x, y, ones, dx]);
    model.dispose(); again.dispose();
  }
}));

test('adaptiveAvgPool2d layer: overlapping windows use ops.adaptiveAvgPool2d; fast modes unchanged; matches the op', () => checkNoLeak(nn, () => {
  const x = nn.tensor(Float32Array.from(uniform(rng(5), 2 * 3 * 7 * 9)), [2, 3, 7, 9]);
  for (const size of [3, [4, 5], [7, 9], [1, 1], [7, 3], [null, 4], [10, 11]]) {
    const model = nn.sequential([L.adaptiveAvgPool2d(size)], { inputShape: [3, 7, 9] });
    const want = ops.adaptiveAvgPool2d(x, size);
    assert.equal(model.outputShape, want.shape.slice(1), `outputSize ${JSON.stringify(size)}`);
    model.train();
    const y = model.forward(x);
    assertClose(y.read(), want.read(), `layer vs op, outputSize ${JSON.stringify(size)}`);
    const dy = nn.tensor(Float32Array.from(uniform(rng(6), y.size)), y.shape);
    const dx = model.backward(dy, { inputGrad: true });
    const dxOp = ops.adaptiveAvgPool2dBackward(dy, x.shape);
    assertClose(dx.read(), dxOp.read(), `backward, outputSize ${JSON.stringify(size)}`);
    const again = nn.load(model.save());
    assert.equal(again.layers[0].config(), { type: 'adaptiveAvgPool2d', outputSize: Array.isArray(size) ? size : [size, size] });
    disposeAll([want, y, dy, dx, dxOp]);
    model.dispose(); again.dispose();
  }
  x.dispose();
}));

test('adaptiveMaxPool2d layer: forward, backward, eval without indices, summary, save/load', () => checkNoLeak(nn, () => {
  const model = nn.sequential([L.conv2d(4, 3), L.adaptiveMaxPool2d([3, 4]), L.flatten(), L.linear(2)], { inputShape: [2, 9, 8], seed: 2 });
  assert.equal(model.layers[1].outputShape, [4, 3, 4]);
  const s = nn.summary(model, [2, 9, 8], { print: false });
  assert.equal(s.rows[1].outputShape, [4, 3, 4]);
  assert.is(s.rows[1].params, 0);
  const x = nn.tensor(Float32Array.from(uniform(rng(7), 3 * 2 * 9 * 8)), [3, 2, 9, 8]);
  model.eval();
  const yEval = model.forward(x);
  const again = nn.load(model.save());
  again.eval();
  const y2 = again.forward(x);
  assert.equal(Array.from(y2.read()), Array.from(yEval.read()));
  model.train();
  const y = model.forward(x);
  assert.equal(Array.from(y.read()), Array.from(yEval.read()));
  const dy = nn.tensor(new Float32Array(y.size).fill(1), y.shape);
  model.backward(dy);
  assert.ok(model.namedParameters().every(([, p]) => p.grad), 'every parameter has a gradient');
  model.zeroGrad();
  disposeAll([x, yEval, y2, y, dy]);
  model.dispose(); again.dispose();
}));

test('locallyConnected2d layer: shapes, parameters, multiply-adds, equals the op, save/load, trains', () => checkNoLeak(nn, async () => {
  const make = () => [L.locallyConnected2d(4, 3, { stride: 2, padding: 1 }), L.relu(), L.locallyConnected2d(3, [2, 2]), L.flatten(), L.linear(2)];
  const model = nn.sequential(make(), { inputShape: [2, 8, 7], seed: 3 });
  const lc = model.layers[0];
  // out 4×4: weight [16, 4, 2·3·3], bias [4, 4, 4]; second: 3×3 out, weight [9, 3, 4·2·2], bias [3, 3, 3]
  assert.equal(model.stateDict().get('0.weight').shape, [16, 4, 18]);
  assert.equal(model.stateDict().get('0.bias').shape, [4, 4, 4]);
  assert.equal(model.stateDict().get('2.weight').shape, [9, 3, 16]);
  const s = nn.summary(make(), [2, 8, 7], { print: false });
  assert.is(s.rows[0].params, 16 * 4 * 18 + 64);
  assert.is(s.rows[0].macs, 4 * 16 * 18);
  assert.is(s.rows[2].macs, 3 * 9 * 16);
  assert.is(s.params, model.countParams());
  const x = nn.tensor(Float32Array.from(uniform(rng(8), 4 * 2 * 8 * 7)), [4, 2, 8, 7]);
  // the layer equals the op with its weights
  const y0 = lc.forward(x, false);
  const yOp = ops.locallyConnected2d(x, lc.weightTensor, lc.biasTensor, { kernel: 3, stride: 2, padding: 1 });
  assert.equal(Array.from(y0.read()), Array.from(yOp.read()));
  // save / load: same outputs
  model.eval();
  const y = model.forward(x);
  const again = nn.load(model.save());
  again.eval();
  const y2 = again.forward(x);
  assert.equal(Array.from(y2.read()), Array.from(y.read()));
  // a few steps of training lower the loss
  const labels = new Int32Array([0, 1, 0, 1]);
  const opt = nn.optim.sgd({ lr: 0.1, momentum: 0.9 });
  const h = await model.fit({ x: x.read(), y: labels, shape: [2, 8, 7] }, { optimizer: opt, epochs: 8, batchSize: 4, verbose: 0 });
  const losses = h.history.loss;
  assert.ok(losses[losses.length - 1] < losses[0], `loss ${losses[0]} → ${losses[losses.length - 1]}`);
  opt.dispose();
  disposeAll([x, y0, yOp, y, y2]);
  model.dispose(); again.dispose();
}));

test.run();
