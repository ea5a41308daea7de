// Layers and nn.sequential: shape inference and build-time errors, train/eval behaviour (batch norm statistics,
// dropout), gradients by finite differences through every layer type, initialisers and the seeded RNG,
// summary() formulas, fuseForInference, freezing. Every test checks nn.memory() returns to its baseline.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { getEngine, checkNoLeak, rng, uniform } from './helpers.mjs';

const randArr = (seed, n, lo = -1, hi = 1) => Float32Array.from(uniform(rng(seed), n, lo, hi));

// ----------------------------------------------------------------------------------------- shape inference

test('sequential infers every shape (conv, pool, flatten, linear) and PyTorch names', async () => {
  const nn = await getEngine();
  await checkNoLeak(nn, () => {
    const L = nn.layers;
    const m = nn.sequential([
      L.conv2d(8, 3, { padding: 1 }), L.batchNorm2d(), L.relu(), L.maxPool2d(2),
      L.conv2d({ outChannels: 12, kernel: [3, 5], stride: 2, padding: 'valid', dilation: [1, 2] }), L.leakyRelu(0.1),
      L.avgPool2d({ kernel: 2, stride: 1, padding: 1, ceilMode: true }), L.groupNorm(4), L.instanceNorm2d({ affine: true }),
      L.globalAvgPool2d(), L.flatten(), L.dropout(0.2), L.linear(7), L.batchNorm1d(), L.tanh(), L.linear({ outFeatures: 3, bias: false }),
    ], { inputShape: [3, 20, 18], seed: 3 });
    assert.equal(m.layers.map((l) => l.outputShape), [
      [8, 20, 18], [8, 20, 18], [8, 20, 18], [8, 10, 9], [12, 4, 1], [12, 4, 1], [12, 5, 2], [12, 5, 2], [12, 5, 2],
      [12, 1, 1], [12], [12], [7], [7], [7], [3],
    ]);
    assert.equal(m.outputShape, [3]);
    const names = [...m.stateDict().keys()];
    assert.equal(names, ['0.weight', '0.bias', '1.weight', '1.bias', '1.running_mean', '1.running_var', '4.weight', '4.bias',
      '7.weight', '7.bias', '8.weight', '8.bias', '12.weight', '12.bias', '13.weight', '13.bias', '13.running_mean',
      '13.running_var', '15.weight']);
    assert.equal([...m.stateDict().get('4.weight').shape], [12, 8, 3, 5]);
    assert.equal([...m.stateDict().get('12.weight').shape], [7, 12]);
    // A forward pass agrees with the inferred shape.
    const x = nn.tensor(randArr(1, 2 * 3 * 20 * 18), [2, 3, 20, 18]);
    const y = m.forward(x);
    assert.equal([...y.shape], [2, 3]);
    y.dispose(); x.dispose(); m.clearCache();
    const c1 = nn.sequential([L.conv1d(4, 3, { padding: 'same' }), L.layerNorm(), L.conv1d(2, 2, { stride: 2 }), L.flatten(), L.linear(2)],
                             { inputShape: [3, 9] });
    assert.equal(c1.layers.map((l) => l.outputShape), [[4, 9], [4, 9], [2, 4], [8], [2]]);
    const f = nn.sequential([L.flatten({ startDim: 2 })], { inputShape: [2, 3, 4] });
    assert.equal(f.outputShape, [2, 12]);
    m.dispose(); c1.dispose(); f.dispose();
  });
});

test('mismatched shapes are reported at build time with the layer index and both shapes', async () => {
  const nn = await getEngine();
  const L = nn.layers;
  await checkNoLeak(nn, () => {
    assert.throws(() => nn.sequential([L.conv2d(8, 3), L.flatten(), L.linear({ outFeatures: 10, inFeatures: 100 })], { inputShape: [1, 12, 12] }),
      (e) => /layer 2 \(linear\) expects input \[100\], got \[800\] from the output of layer 1 \(flatten\)/.test(e.message));
    assert.throws(() => nn.sequential([L.conv2d({ outChannels: 4, kernel: 3, inChannels: 3 })], { inputShape: [1, 28, 28] }),
      (e) => /layer 0 \(conv2d\) expects input \[3, H, W\], got \[1, 28, 28\] from the model input/.test(e.message));
    assert.throws(() => nn.sequential([L.flatten(), L.batchNorm2d()], { inputShape: [2, 4, 4] }),
      (e) => /layer 1 \(batchNorm2d\) expects input \[C, H, W\], got \[32\]/.test(e.message));
    assert.throws(() => nn.sequential([L.maxPool2d(2), L.maxPool2d(2), L.maxPool2d(2)], { inputShape: [1, 5, 5] }),
      (e) => /layer 2 \(maxPool2d\).*got \[1, 1, 1\].*does not fit/.test(e.message));
    assert.throws(() => nn.sequential([L.conv2d(4, 7)], { inputShape: [1, 5, 5] }), /layer 0 \(conv2d\).*\[1, 5, 5\].*output would be -1×-1/);
    assert.throws(() => nn.sequential([L.conv2d(4, 3, { groups: 2 })], { inputShape: [3, 5, 5] }), /layer 0 \(conv2d\).*not divisible by groups 2/);
    assert.throws(() => nn.sequential([L.conv2d(4, 3, { padding: 3, paddingMode: 'reflect' })], { inputShape: [1, 3, 3] }), /layer 0.*reflect/);
    assert.throws(() => nn.sequential([L.groupNorm(3)], { inputShape: [4, 2, 2] }), /layer 0 \(groupNorm\).*groups 3/);
    assert.throws(() => nn.sequential([L.linear(3), L.linear({ outFeatures: 2, inFeatures: 4 })], { inputShape: [5] }),
      /layer 1 \(linear\) expects input \[4\], got \[3\]/);
    // Nothing was allocated by the failed builds (checkNoLeak), and the layers can be reused.
  });
});

test('bad layer options and bad model arguments are clear errors', async () => {
  const nn = await getEngine();
  const L = nn.layers;
  assert.throws(() => L.conv2d({ outChannels: 4 }), /conv2d: kernel must be a positive integer or a pair/);
  assert.throws(() => L.conv2d(0, 3), /conv2d: outChannels must be a positive integer, got 0/);
  assert.throws(() => L.conv2d(4, 3, { pading: 1 }), /conv2d: unknown option 'pading'/);
  assert.throws(() => L.conv2d(4, 3, { padding: 'sam' }), /conv2d: padding must be/);
  assert.throws(() => L.conv2d(4, 3, { paddingMode: 'mirror' }), /paddingMode must be one of/);
  assert.throws(() => L.conv2d(4, 3, { weightInit: 'kaiming' }), /weightInit must be a function, one of/);
  assert.throws(() => L.linear(-1), /linear: outFeatures must be a positive integer, got -1/);
  assert.throws(() => L.dropout(1.5), /dropout: p must be a number in \[0, 1\], got 1.5/);
  assert.throws(() => L.maxPool2d({ kernel: 2, padding: 2 }), /maxPool2d: padding must be at most half the kernel/);
  assert.throws(() => L.batchNorm2d({ momentum: -1 }), /batchNorm2d: momentum must be a number in \[0, 1\]/);
  assert.throws(() => nn.sequential([]), /sequential: layers must be a non-empty array/);
  assert.throws(() => nn.sequential([L.relu(), {}]), /sequential: layers\[1\] must be a layer/);
  assert.throws(() => nn.sequential([L.relu()], { inputShape: [0, 3] }), /inputShape must be a non-empty array of positive integers/);
  assert.throws(() => nn.sequential([L.relu()], { input: [3] }), /unknown option 'input'/);
  await checkNoLeak(nn, () => {
    const shared = L.relu();
    const m = nn.sequential([shared], { inputShape: [3] });
    assert.throws(() => nn.sequential([shared], { inputShape: [3] }), /layers\[0\] \(relu\) is already used/);
    const x = nn.tensor([1, 2, 3, 4], [1, 4]);
    assert.throws(() => m.forward(x), /forward: x must have shape \[N, 3\].*got \[1, 4\]/);
    assert.throws(() => m.backward(x), /backward: no training forward/);
    x.dispose();
    m.dispose();
    assert.throws(() => m.forward(x), /model was disposed/);
  });
});

test('a model without inputShape is built on its first forward', async () => {
  const nn = await getEngine();
  await checkNoLeak(nn, () => {
    const m = nn.sequential([nn.layers.conv2d(2, 3), nn.layers.flatten(), nn.layers.linear(4)], { seed: 1 });
    assert.is(m.built, false);
    assert.throws(() => m.summary(), /not built yet/);
    const x = nn.tensor(randArr(2, 2 * 5 * 5), [2, 1, 5, 5]);
    const y = m.eval().forward(x);
    assert.equal(m.inputShape, [1, 5, 5]);
    assert.equal([...y.shape], [2, 4]);
    x.dispose(); y.dispose(); m.dispose();
  });
});

// ------------------------------------------------------------------------------------------ train / eval

test('batch norm: batch statistics in training (running stats updated), running statistics in eval', async () => {
  const nn = await getEngine();
  await checkNoLeak(nn, () => {
    const m = nn.sequential([nn.layers.batchNorm2d({ momentum: 0.25 })], { inputShape: [2, 3, 3] });
    const N = 4, C = 2, HW = 9;
    const data = randArr(5, N * C * HW, -2, 3);
    const x = nn.tensor(data, [N, C, 3, 3]);
    const mean = [0, 0], varU = [0, 0], varB = [0, 0];
    for (let c = 0; c < C; c++) {
      const vals = [];
      for (let n = 0; n < N; n++) for (let i = 0; i < HW; i++) vals.push(data[(n * C + c) * HW + i]);
      mean[c] = vals.reduce((a, b) => a + b, 0) / vals.length;
      const ss = vals.reduce((a, b) => a + (b - mean[c]) ** 2, 0);
      varB[c] = ss / vals.length; varU[c] = ss / (vals.length - 1);
    }
    // Training: output normalised with the batch statistics, running stats moved by momentum.
    const y = m.train().forward(x);
    const yv = y.read();
    for (let c = 0; c < C; c++) {
      for (let n = 0; n < N; n++) for (let i = 0; i < HW; i++) {
        const k = (n * C + c) * HW + i;
        assert.ok(Math.abs(yv[k] - (data[k] - mean[c]) / Math.sqrt(varB[c] + 1e-5)) < 1e-4);
      }
    }
    const rm = m.stateDict().get('0.running_mean').read(), rv = m.stateDict().get('0.running_var').read();
    for (let c = 0; c < C; c++) {
      assert.ok(Math.abs(rm[c] - 0.25 * mean[c]) < 1e-5, 'running mean');
      assert.ok(Math.abs(rv[c] - (0.75 + 0.25 * varU[c])) < 1e-5, 'running var (unbiased)');
    }
    assert.is(m.layers[0].numBatchesTracked, 1);
    m.clearCache();
    // Eval: normalised with the running statistics, which stay put.
    const ye = m.eval().forward(x);
    const ev = ye.read();
    for (let c = 0; c < C; c++) for (let n = 0; n < N; n++) for (let i = 0; i < HW; i++) {
      const k = (n * C + c) * HW + i;
      assert.ok(Math.abs(ev[k] - (data[k] - rm[c]) / Math.sqrt(rv[c] + 1e-5)) < 1e-4);
    }
    assert.equal(m.stateDict().get('0.running_mean').read(), rm);
    assert.is(m.layers[0].numBatchesTracked, 1);
    // predict() always runs in eval mode, whatever the model's mode.
    m.train();
    const p = m.predict(x);
    assert.equal(p.read(), ev);
    assert.is(m.training, true);
    for (const t of [x, y, ye, p]) t.dispose();
    m.dispose();
  });
});

test('dropout: identity in eval; in training zeroes ≈ p, scales the rest by 1/(1 − p), backward uses the same mask, seeded', async () => {
  const nn = await getEngine();
  await checkNoLeak(nn, () => {
    const run = (seed) => {
      const m = nn.sequential([nn.layers.dropout(0.3)], { inputShape: [1000], seed });
      const data = randArr(9, 4000, 0.5, 1.5);
      const x = nn.tensor(data, [4, 1000]);
      const ye = m.eval().forward(x);
      assert.equal(ye.read(), data, 'eval: identity');
      const y = m.train().forward(x);
      const yv = y.read();
      let zeros = 0;
      for (let i = 0; i < yv.length; i++) {
        if (yv[i] === 0) zeros++;
        else assert.ok(Math.abs(yv[i] - data[i] / 0.7) < 1e-5, 'survivors scaled by 1/(1 − p)');
      }
      assert.ok(Math.abs(zeros / 4000 - 0.3) < 0.03, `drop fraction ${zeros / 4000}`);
      const dy = nn.tensor(new Float32Array(4000).fill(1), [4, 1000]);
      const dxT = m.backward(dy, { inputGrad: true });
      const dx = dxT.read();
      dxT.dispose();
      for (let i = 0; i < 4000; i++) assert.ok(yv[i] === 0 ? dx[i] === 0 : Math.abs(dx[i] - 1 / 0.7) < 1e-5);
      for (const t of [x, ye, y, dy]) t.dispose();
      m.dispose();
      return yv;
    };
    const a = run(11), b = run(11), c = run(12);
    assert.equal(a, b, 'same seed, same mask');
    assert.not.equal(a, c, 'different seed, different mask');
  });
});

// --------------------------------------------------------------------------------------- gradients

/** Σ out·r as a float64 scalar. */
function dot(out, r) {
  let s = 0;
  for (let i = 0; i < out.length; i++) s += out[i] * r[i];
  return s;
}

/** Checks param and input gradients of model on x against central differences of L = Σ y·r. */
function gradCheck(nn, model, xShape, seed) {
  const n = xShape.reduce((a, b) => a * b, 1);
  const xData = randArr(seed, n);
  const x = nn.tensor(xData, xShape);
  const y0 = model.forward(x);
  const r = randArr(seed + 1, y0.size);
  const dy = nn.tensor(r, y0.shape);
  const dx = model.backward(dy, { inputGrad: true });
  const analytic = new Map(model.namedParameters().map(([k, p]) => [k, p.grad.read()]));
  const dxv = dx.read();
  for (const t of [y0, dy, dx]) t.dispose();
  const loss = () => { const y = model.forward(x); const v = dot(y.read(), r); y.dispose(); model.clearCache(); return v; };
  const h = 1e-2, pick = rng(seed + 2), l0 = loss();
  const check = (name, get, set, grad, count) => {
    for (let k = 0; k < count; k++) {
      const i = Math.floor(pick() * grad.length);
      const v0 = get(i);
      set(i, v0 + h); const lp = loss();
      set(i, v0 - h); const lm = loss();
      set(i, v0);
      const fd = (lp - lm) / (2 * h);
      // Relative to the value and the array's scale, plus float32 rounding of L over 2h.
      const tol = 2e-2 * (Math.abs(fd) + 0.05 * Math.max(...grad.map(Math.abs))) + 1e-6 * (1 + Math.abs(l0)) / h;
      assert.ok(Math.abs(fd - grad[i]) <= tol, `${name}[${i}]: backward ${grad[i]}, finite difference ${fd}`);
    }
  };
  for (const [name, p] of model.namedParameters()) {
    const g = Array.from(analytic.get(name));
    check(name, (i) => p.value.read()[i], (i, v) => { const a = p.value.read(); a[i] = v; p.value.write(a); }, g, 4);
  }
  const xv = Float32Array.from(xData);
  check('x', (i) => xv[i], (i, v) => { xv[i] = v; x.write(xv); }, Array.from(dxv), 6);
  model.zeroGrad();
  x.dispose();
}

test('gradients through every smooth layer type match finite differences', async () => {
  const nn = await getEngine();
  const L = nn.layers;
  await checkNoLeak(nn, () => {
    const m2 = nn.sequential([
      // No bias before a normalisation (its exact gradient is 0). Kinks (ReLU, max-pool) have their own test below: finite differences across a kink are meaningless. Instance
      // norm comes first: normalising near-constant maps is ill-conditioned, which finite differences cannot follow.
      L.conv2d(4, 3, { padding: 1, paddingMode: 'circular', bias: false }), L.instanceNorm2d({ affine: true }), L.tanh(),
      L.conv2d(4, [2, 3], { stride: [1, 2], groups: 2, padding: [1, 0, 1, 1], paddingMode: 'replicate' }), L.groupNorm(2), L.sigmoid(),
      L.avgPool2d({ kernel: 2, stride: 1, padding: 1, countIncludePad: false }), L.batchNorm2d(), L.tanh(),
      L.globalAvgPool2d(), L.flatten(), L.linear(5, { weightInit: 'xavierUniform' }), L.layerNorm(), L.linear(3),
    ], { inputShape: [2, 5, 6], seed: 21 });
    gradCheck(nn, m2, [3, 2, 5, 6], 100);
    m2.dispose();
    const m1 = nn.sequential([
      L.conv1d(3, 3, { padding: 'same', paddingMode: 'reflect', bias: false }), L.batchNorm1d(), L.tanh(), L.conv1d(2, 2, { dilation: 2 }),
      L.flatten(), L.linear(4, { bias: false }), L.batchNorm1d(), L.sigmoid(), L.linear(2),
    ], { inputShape: [2, 7], seed: 22 });
    gradCheck(nn, m1, [4, 2, 7], 200);
    m1.dispose();
  });
});

test('relu, leaky relu and max-pool layers route the gradient as PyTorch (slope / 1 / argmax)', async () => {
  const nn = await getEngine();
  const L = nn.layers;
  await checkNoLeak(nn, () => {
    const data = randArr(31, 2 * 2 * 4 * 4);
    const x = nn.tensor(data, [2, 2, 4, 4]);
    const dyData = randArr(32, 2 * 2 * 4 * 4);
    for (const [layer, slope] of [[L.relu(), 0], [L.leakyRelu({ negativeSlope: 0.2 }), 0.2]]) {
      const m = nn.sequential([layer], { inputShape: [2, 4, 4] });
      const y = m.forward(x), dy = nn.tensor(dyData, [2, 2, 4, 4]);
      const dx = m.backward(dy, { inputGrad: true });
      const yv = y.read(), dxv = dx.read();
      for (let i = 0; i < data.length; i++) {
        assert.ok(Math.abs(yv[i] - (data[i] > 0 ? data[i] : slope * data[i])) < 1e-7);
        assert.ok(Math.abs(dxv[i] - (data[i] > 0 ? dyData[i] : slope * dyData[i])) < 1e-7);
      }
      for (const t of [y, dy, dx]) t.dispose();
      m.dispose();
    }
    const m = nn.sequential([L.maxPool2d(2)], { inputShape: [2, 4, 4] });
    const y = m.forward(x), dy = nn.tensor(randArr(33, 2 * 2 * 2 * 2), [2, 2, 2, 2]);
    const dx = m.backward(dy, { inputGrad: true });
    const dyv = dy.read(), dxv = dx.read(), yv = y.read();
    for (let p = 0; p < 4; p++) for (let oy = 0; oy < 2; oy++) for (let ox = 0; ox < 2; ox++) {
      let best = -Infinity, at = -1;
      for (let ky = 0; ky < 2; ky++) for (let kx = 0; kx < 2; kx++) {
        const i = p * 16 + (2 * oy + ky) * 4 + 2 * ox + kx;
        if (data[i] > best) { best = data[i]; at = i; }
      }
      assert.is(yv[p * 4 + oy * 2 + ox], best);
      for (let ky = 0; ky < 2; ky++) for (let kx = 0; kx < 2; kx++) {
        const i = p * 16 + (2 * oy + ky) * 4 + 2 * ox + kx;
        assert.is(dxv[i], i === at ? dyv[p * 4 + oy * 2 + ox] : 0);
      }
    }
    for (const t of [x, y, dy, dx]) t.dispose();
    m.dispose();
  });
});

test('frozen parameters get no gradient and are not updated', async () => {
  const nn = await getEngine();
  await checkNoLeak(nn, () => {
    const m = nn.sequential([nn.layers.conv2d(2, 3), nn.layers.flatten(), nn.layers.linear(3)], { inputShape: [1, 4, 4], seed: 2 });
    const [w0, b0] = m.parameters();
    w0.trainable = false;
    const before = w0.value.read();
    const opt = nn.optim.sgd(m, { lr: 0.5 });
    const x = nn.tensor(randArr(3, 2 * 16), [2, 1, 4, 4]);
    const y = nn.tensor([0, 2], [2], 'int32');
    m.trainStep(x, y, opt);
    assert.equal(w0.value.read(), before);
    assert.is(w0.grad, null);
    assert.ok(b0.grad !== null);
    assert.is(m.countParams(true), m.countParams() - 18);
    x.dispose(); y.dispose(); m.zeroGrad(); opt.dispose(); m.dispose();
  });
});

// ----------------------------------------------------------------------------------- initialisers and RNG

test('initialisers: PyTorch default bounds, Kaiming/He and Xavier/Glorot statistics, seeded', async () => {
  const nn = await getEngine();
  await checkNoLeak(nn, () => {
    const L = nn.layers;
    const made = [];
    const make = (seed, init) => {
      const m = nn.sequential([L.conv2d(64, 3, { weightInit: init }), L.flatten(), L.linear(10)], { inputShape: [32, 8, 8], seed });
      made.push(m);
      return m;
    };
    const stats = (a) => {
      let s = 0, s2 = 0, mx = 0;
      for (const v of a) { s += v; s2 += v * v; mx = Math.max(mx, Math.abs(v)); }
      return { mean: s / a.length, std: Math.sqrt(s2 / a.length - (s / a.length) ** 2), max: mx };
    };
    const fanIn = 32 * 9, fanOut = 64 * 9;
    const d = make(1, undefined);
    const w = stats(d.stateDict().get('0.weight').read()), b = stats(d.stateDict().get('0.bias').read());
    const bound = 1 / Math.sqrt(fanIn);
    assert.ok(w.max <= bound && w.max > 0.98 * bound, `default weight bound ${w.max} vs ${bound}`);
    assert.ok(b.max <= bound, 'default bias bound 1/√fanIn');
    assert.ok(Math.abs(w.std - bound / Math.sqrt(3)) < 0.03 * bound);
    const same = make(1, undefined), other = make(2, undefined);
    assert.equal(same.stateDict().get('0.weight').read(), d.stateDict().get('0.weight').read(), 'same seed, same weights');
    assert.equal(same.stateDict().get('2.weight').read(), d.stateDict().get('2.weight').read());
    assert.not.equal(other.stateDict().get('0.weight').read(), d.stateDict().get('0.weight').read());
    const kn = stats(make(3, 'kaimingNormal').stateDict().get('0.weight').read());
    assert.ok(Math.abs(kn.std - Math.sqrt(2 / fanIn)) < 0.03 * Math.sqrt(2 / fanIn), `kaiming normal std ${kn.std}`);
    assert.ok(Math.abs(kn.mean) < 0.01 * Math.sqrt(2 / fanIn) * 3);
    const ku = stats(make(4, { type: 'kaimingUniform', mode: 'fanOut', nonlinearity: 'relu' }).stateDict().get('0.weight').read());
    assert.ok(ku.max <= Math.sqrt(6 / fanOut) && ku.max > 0.98 * Math.sqrt(6 / fanOut));
    const xu = stats(make(5, 'xavierUniform').stateDict().get('0.weight').read());
    const xb = Math.sqrt(6 / (fanIn + fanOut));
    assert.ok(xu.max <= xb && xu.max > 0.98 * xb, 'xavier uniform bound');
    const xn = stats(make(6, { type: 'glorotNormal', gain: 2 }).stateDict().get('0.weight').read());
    assert.ok(Math.abs(xn.std - 2 * Math.sqrt(2 / (fanIn + fanOut))) < 0.03 * xn.std);
    const c = make(7, (shape, fans) => new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(fans.fanIn));
    assert.ok(c.stateDict().get('0.weight').read().every((v) => v === fanIn), 'custom initialiser gets the fans');
    assert.throws(() => make(8, () => [1, 2]), /custom initialiser must return 18432 values/);
    for (const m of made) m.dispose();
  });
});

test('Rng: deterministic, uniform and normal moments, independent forks', async () => {
  const { Rng } = await import('simdnn');
  const a = new Rng(42), b = new Rng(42);
  const xs = Array.from({ length: 20000 }, () => a.next());
  assert.equal(xs.slice(0, 100), Array.from({ length: 100 }, () => b.next()));
  const mean = xs.reduce((s, v) => s + v, 0) / xs.length;
  assert.ok(Math.abs(mean - 0.5) < 0.01 && xs.every((v) => v >= 0 && v < 1));
  const ns = Array.from({ length: 20000 }, () => a.normal());
  const nm = ns.reduce((s, v) => s + v, 0) / ns.length, nv = ns.reduce((s, v) => s + (v - nm) ** 2, 0) / ns.length;
  assert.ok(Math.abs(nm) < 0.03 && Math.abs(nv - 1) < 0.05, `normal mean ${nm} var ${nv}`);
  assert.not.equal(new Rng(42).fork('x').next(), new Rng(42).fork('y').next());
  assert.is(new Rng(42).fork('x').next(), new Rng(42).fork('x').next());
  const perm = new Rng(1).shuffle(Array.from({ length: 10 }, (_, i) => i));
  assert.equal([...perm].sort((p, q) => p - q), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.throws(() => new Rng(NaN), /seed must be a finite number/);
});

// --------------------------------------------------------------------------------------------- summary

test('summary: output shapes, parameters, multiply-adds, activation memory and receptive fields by the formulas', async () => {
  const nn = await getEngine();
  await checkNoLeak(nn, () => {
    const L = nn.layers;
    const m = nn.sequential([
      L.conv2d(16, 3, { padding: 1 }), L.batchNorm2d(), L.relu(), L.maxPool2d(2),
      L.conv2d(32, 5, { stride: 2, padding: 2 }), L.relu(), L.conv2d(8, 3, { dilation: 2, padding: 2, bias: false }),
      L.flatten(), L.linear(10),
    ], { inputShape: [3, 32, 32], seed: 1 });
    const rows = m.summaryRows();
    assert.equal(rows.map((r) => r.outputShape), [[16, 32, 32], [16, 32, 32], [16, 32, 32], [16, 16, 16], [32, 8, 8], [32, 8, 8], [8, 8, 8], [512], [10]]);
    assert.equal(rows.map((r) => r.params), [16 * 3 * 9 + 16, 32, 0, 0, 32 * 16 * 25 + 32, 0, 8 * 32 * 9, 0, 512 * 10 + 10]);
    assert.equal(rows.map((r) => r.macs), [16 * 32 * 32 * 3 * 9, 16 * 32 * 32, 0, 0, 32 * 8 * 8 * 16 * 25, 0, 8 * 8 * 8 * 32 * 9, 0, 5120]);
    assert.is(rows[0].activationKB, (16 * 32 * 32 * 4) / 1024);
    // r ← r + (K_eff − 1)·jump, jump ← jump·S: 3 → 3 → 3 → 4 (j 2) → 12 (j 4) → 12 → 12 + 4·4 = 28 → 28 → all.
    assert.equal(rows.map((r) => r.receptiveField), [[3, 3], [3, 3], [3, 3], [4, 4], [12, 12], [12, 12], [28, 28], [28, 28], 'all']);
    const lines = [];
    const text = m.summary({ print: (s) => lines.push(s) });
    assert.is(lines.join('\n'), text);
    assert.match(text, /parameters: 20,746 \(20,746 trainable/);
    assert.match(text, /batch-norm running statistics/);
    assert.match(text, /28×28/);
    m.dispose();
  });
});

// ------------------------------------------------------------------------------------------------ fusion

test('fuseForInference folds BatchNorm into the conv/linear before it: outputs equal to 1e-5', async () => {
  const nn = await getEngine();
  await checkNoLeak(nn, () => {
    const L = nn.layers;
    const m = nn.sequential([
      L.conv2d(6, 3, { padding: 1 }), L.batchNorm2d(), L.relu(), L.maxPool2d(2),
      L.conv2d(8, 3, { bias: false, paddingMode: 'reflect', padding: 1 }), L.batchNorm2d({ eps: 1e-3 }), L.relu(),
      L.flatten(), L.linear(12), L.batchNorm1d(), L.relu(), L.linear(4), L.batchNorm1d({ affine: false }),
    ], { inputShape: [2, 8, 8], seed: 5 });
    // Non-trivial BN parameters and running statistics.
    const w = {};
    for (const [k, t] of m.stateDict()) {
      if (k.endsWith('running_var')) w[k] = randArr(k.length, t.size, 0.3, 2);
      else if (k.endsWith('running_mean') || (k.endsWith('bias') && !['0', '4', '8', '11'].includes(k.split('.')[0]))) w[k] = randArr(k.length + 1, t.size, -0.5, 0.5);
      else if (k.endsWith('weight') && ['1', '5', '9'].includes(k.split('.')[0])) w[k] = randArr(k.length + 2, t.size, 0.5, 1.5);
    }
    m.loadWeights(w, { strict: false });
    const fused = m.fuseForInference();
    assert.equal(fused.layers.map((l) => l.type), ['conv2d', 'relu', 'maxPool2d', 'conv2d', 'relu', 'flatten', 'linear', 'relu', 'linear']);
    assert.is(fused.training, false);
    const x = nn.tensor(randArr(77, 5 * 2 * 8 * 8, -2, 2), [5, 2, 8, 8]);
    const aT = m.predict(x), a = aT.read(), b = fused.predict(x);
    aT.dispose();
    const bv = b.read();
    const scale = Math.max(1, ...a.map(Math.abs));
    for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - bv[i]) <= 1e-5 * scale, `[${i}] ${a[i]} vs ${bv[i]}`);
    x.dispose(); b.dispose(); m.dispose(); fused.dispose();
  });
});

test.run();
