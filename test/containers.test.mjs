// nn.residual and nn.branches: PyTorch goldens for a ResNet basic block (identity and projection shortcut), an
// Inception-style block and an 'add' join (test/fixtures/arch/blocks.json from gen_arch.py: output, input gradient,
// every parameter gradient and the running statistics, train-mode BN); finite differences through nested
// containers; state_dict names, save/load, fuseForInference, summary, training, and shape errors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { getEngine, assertClose, checkNoLeak, disposeAll, rng, uniform } from './helpers.mjs';

const nn = await getEngine();
const L = nn.layers;

function decode(a) {
  const bytes = Buffer.from(a.data, 'base64');
  const n = a.shape.reduce((p, d) => p * d, 1);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, true);
  return out;
}

// The architectures of gen_arch.py's BLOCKS, built with nn.residual / nn.branches.
const BLOCKS = {
  basic: () => [nn.residual([L.conv2d(4, 3, { padding: 1, bias: false }), L.batchNorm2d(), L.relu(),
                             L.conv2d(4, 3, { padding: 1, bias: false }), L.batchNorm2d()]), L.relu()],
  'basic-projection': () => [nn.residual(
    [L.conv2d(6, 3, { stride: 2, padding: 1, bias: false }), L.batchNorm2d(), L.relu(), L.conv2d(6, 3, { padding: 1, bias: false }), L.batchNorm2d()],
    [L.conv2d(6, 1, { stride: 2, bias: false }), L.batchNorm2d()]), L.relu()],
  inception: () => [nn.branches([
    [L.conv2d(3, 1)],
    [L.conv2d(2, 1, { bias: false }), L.batchNorm2d(), L.relu(), L.conv2d(3, 3, { padding: 1 })],
    [L.maxPool2d(3, { stride: 1, padding: 1 }), L.conv2d(2, 1)],
  ], 'concat'), L.relu()],
  'branches-add': () => [nn.branches([[L.conv2d(4, 3, { padding: 1 })], [L.conv2d(4, 1, { bias: false }), L.batchNorm2d()]], 'add'), L.tanh()],
};

const fixture = JSON.parse(readFileSync(new URL('./fixtures/arch/blocks.json', import.meta.url), 'utf8'));

for (const c of fixture.cases) {
  test(`block golden vs PyTorch: ${c.name} (output, input gradient, every parameter gradient, running stats)`, () => checkNoLeak(nn, () => {
    const model = nn.sequential(BLOCKS[c.opts.block](), { inputShape: c.opts.inputShape, seed: 1 });
    const weights = {};
    for (const [k, v] of Object.entries(c.inputs)) if (k !== 'x' && k !== 'dy') weights[k] = decode(v);
    const names = [...model.stateDict().keys()].sort();
    assert.equal(names, Object.keys(weights).sort(), 'state_dict names equal PyTorch\'s');
    model.loadWeights(weights);
    const x = nn.tensor(decode(c.inputs.x), c.inputs.x.shape), dy = nn.tensor(decode(c.inputs.dy), c.inputs.dy.shape);
    const y = model.forward(x);
    assert.equal(y.shape, c.outputs.y.shape);
    assertClose(y.read(), decode(c.outputs.y), 'y');
    const dx = model.backward(dy, { inputGrad: true });
    assertClose(dx.read(), decode(c.outputs.dx), 'dx');
    let grads = 0, stats = 0;
    for (const [name, p] of model.namedParameters()) {
      assertClose(p.grad.read(), decode(c.outputs[`grad:${name}`]), `grad ${name}`);
      grads++;
    }
    for (const [name, t] of model.stateDict()) {
      if (c.outputs[`after:${name}`]) { assertClose(t.read(), decode(c.outputs[`after:${name}`]), `after ${name}`); stats++; }
    }
    assert.is(grads, Object.keys(c.outputs).filter((k) => k.startsWith('grad:')).length);
    assert.is(stats, Object.keys(c.outputs).filter((k) => k.startsWith('after:')).length);
    disposeAll([x, dy, y, dx]);
    model.dispose();
  }));
}

// --------------------------------------------------------------------------------------- finite differences

function randArr(seed, n) { return Float32Array.from(uniform(rng(seed), n)); }
function dot(out, r) { let s = 0; for (let i = 0; i < out.length; i++) s += out[i] * r[i]; return s; }

/** Checks every parameter's and the input's gradient at a few points against central differences of Σ y·r. */
function gradCheck(model, xShape, seed) {
  const x = nn.tensor(randArr(seed, xShape.reduce((a, b) => a * b, 1)), xShape);
  const y0 = model.forward(x);
  const r = randArr(seed + 1, y0.size);
  const dy = nn.tensor(r, y0.shape);
  const dx = model.backward(dy, { inputGrad: true });
  const analytic = new Map(model.namedParameters().map(([k, p]) => [k, p.grad.read()]));
  const dxv = dx.read();
  disposeAll([y0, dy, dx]);
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
      const tol = 2e-2 * (Math.abs(fd) + 0.05 * Math.max(...grad.map(Math.abs))) + 1e-6 * (1 + Math.abs(l0)) / h;
      assert.ok(Math.abs(fd - grad[i]) <= tol, `${name}[${i}]: backward ${grad[i]}, finite difference ${fd}`);
    }
  };
  for (const [name, p] of model.namedParameters()) {
    check(name, (i) => p.value.read()[i], (i, v) => { const a = p.value.read(); a[i] = v; p.value.write(a); }, Array.from(analytic.get(name)), 3);
  }
  const xv = x.read();
  check('x', (i) => xv[i], (i, v) => { xv[i] = v; x.write(xv); }, Array.from(dxv), 8);
  model.zeroGrad();
  x.dispose();
}

test('finite differences through nested residual (identity and projection) and branches (concat and add)', () => checkNoLeak(nn, () => {
  const model = nn.sequential([
    L.conv2d(4, 3, { padding: 1, bias: false }), L.batchNorm2d(), L.tanh(),
    nn.residual([L.conv2d(4, 3, { padding: 1 }), L.tanh(), L.conv2d(4, 3, { padding: 1 })]),
    L.tanh(),
    nn.residual([L.conv2d(6, 3, { stride: 2, padding: 1, bias: false }), L.batchNorm2d(), L.tanh(), L.conv2d(6, 1)],
                [L.avgPool2d(2), L.conv2d(6, 1)]),
    nn.branches([
      [L.conv2d(2, 1)],
      [nn.residual([L.conv2d(6, 3, { padding: 1 }), L.sigmoid()]), L.conv2d(3, 1)],
      [L.avgPool2d({ kernel: 3, stride: 1, padding: 1 }), L.conv2d(2, 1), L.tanh()],
    ]),
    nn.branches([[L.conv2d(3, 1)], [L.conv2d(3, 3, { padding: 1 }), L.tanh()]], 'add'),
    L.globalAvgPool2d(), L.flatten(), L.linear(3),
  ], { inputShape: [2, 6, 6], seed: 5 });
  gradCheck(model, [3, 2, 6, 6], 300);
  model.dispose();
}));

test('a fan-out adds gradients: residual around an identity doubles dy; branches add / concat of identity paths', () => checkNoLeak(nn, () => {
  const id = () => L.dropout(0);   // the identity, in training too
  const x = nn.tensor([1, 2, 3, 4, 5], [1, 5]), dy = nn.tensor([1, -1, 0.5, 2, 3], [1, 5]);
  for (const [blocks, yWant, dxWant] of [
    [[nn.residual([id()])], [2, 4, 6, 8, 10], [2, -2, 1, 4, 6]],
    [[nn.residual([id()], [id(), id()])], [2, 4, 6, 8, 10], [2, -2, 1, 4, 6]],
    [[nn.branches([[id()], [id()], [id()]], 'add')], [3, 6, 9, 12, 15], [3, -3, 1.5, 6, 9]],
  ]) {
    const model = nn.sequential(blocks, { inputShape: [5], seed: 1 });
    const y = model.forward(x);
    assert.equal(Array.from(y.read()), yWant);
    const dx = model.backward(dy, { inputGrad: true });
    assert.equal(Array.from(dx.read()), dxWant);
    disposeAll([y, dx]);
    model.dispose();
  }
  const model = nn.sequential([nn.branches([[id()], [id()]])], { inputShape: [5], seed: 1 });
  const y = model.forward(x), dy2 = nn.tensor([1, 2, 3, 4, 5, 10, 20, 30, 40, 50], [1, 10]);
  assert.equal(Array.from(y.read()), [1, 2, 3, 4, 5, 1, 2, 3, 4, 5]);
  const dx = model.backward(dy2, { inputGrad: true });
  assert.equal(Array.from(dx.read()), [11, 22, 33, 44, 55]);
  disposeAll([x, dy, y, dx, dy2]);
  model.dispose();
}));

// --------------------------------------------------------------------------------------- model features

function smallResNet(seed = 3) {
  return nn.sequential([
    L.conv2d(4, 3, { padding: 1, bias: false }), L.batchNorm2d(), L.relu(),
    nn.residual([L.conv2d(4, 3, { padding: 1, bias: false }), L.batchNorm2d(), L.relu(), L.conv2d(4, 3, { padding: 1, bias: false }), L.batchNorm2d()]),
    L.relu(),
    nn.residual([L.conv2d(8, 3, { stride: 2, padding: 1, bias: false }), L.batchNorm2d(), L.relu(), L.conv2d(8, 3, { padding: 1, bias: false }), L.batchNorm2d()],
                [L.conv2d(8, 1, { stride: 2, bias: false }), L.batchNorm2d()]),
    nn.branches([[L.conv2d(4, 1)], [L.conv2d(2, 1, { bias: false }), L.batchNorm2d(), L.relu(), L.conv2d(4, 3, { padding: 1 })]]),
    L.globalAvgPool2d(), L.flatten(), L.linear(3),
  ], { inputShape: [1, 8, 8], seed });
}

test('state_dict names follow PyTorch module paths; save → nn.load round trip (nested num_batches_tracked)', () => checkNoLeak(nn, () => {
  const model = smallResNet();
  const names = [...model.stateDict().keys()];
  for (const n of ['3.body.0.weight', '3.body.1.running_mean', '3.body.4.bias', '5.shortcut.0.weight', '5.shortcut.1.running_mean',
                   '5.shortcut.1.running_var', '6.branches.0.0.weight', '6.branches.0.0.bias', '6.branches.1.0.weight', '6.branches.1.1.weight',
                   '6.branches.1.3.bias', '9.weight']) assert.ok(names.includes(n), `${n} in ${names.join(', ')}`);
  assert.ok(model.namedParameters().some(([k]) => k === '5.body.3.weight'));
  // train a step so running stats and counters move
  const x = nn.tensor(randArr(9, 4 * 64), [4, 1, 8, 8]), labels = nn.tensor([0, 1, 2, 1], [4], 'int32');
  const opt = nn.optim.sgd(model, { lr: 0.1, momentum: 0.9 });
  model.trainStep(x, labels, opt);
  model.trainStep(x, labels, opt);
  const bytes = model.save();
  const header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true)))).toString());
  assert.ok(header['5.shortcut.1.num_batches_tracked'], 'nested num_batches_tracked saved');
  assert.equal(header['3.body.1.num_batches_tracked'].dtype, 'I64');
  const again = nn.load(bytes);
  assert.equal(again.toJSON(), model.toJSON());
  model.eval(); again.eval();
  const a = model.forward(x), b = again.forward(x);
  assert.equal(a.read(), b.read());
  disposeAll([x, labels, a, b]);
  opt.dispose(); model.dispose(); again.dispose();
}));

test('fuseForInference folds BatchNorm inside bodies, shortcuts and branches', () => checkNoLeak(nn, () => {
  const model = smallResNet(4);
  const x = nn.tensor(randArr(19, 6 * 64), [6, 1, 8, 8]), labels = nn.tensor([0, 1, 2, 1, 0, 2], [6], 'int32');
  const opt = nn.optim.sgd(model, { lr: 0.05 });
  for (let i = 0; i < 3; i++) model.trainStep(x, labels, opt);
  model.eval();
  const fused = model.fuseForInference();
  const bnCount = (m) => JSON.stringify(m.toJSON()).split('batchNorm2d').length - 1;
  assert.is(bnCount(model), 7);
  assert.is(bnCount(fused), 0);
  const a = model.forward(x), b = fused.forward(x);
  assertClose(b.read(), a.read(), 'fused logits');
  disposeAll([x, labels, a, b]);
  opt.dispose(); model.dispose(); fused.dispose();
}));

test('summary: a row per container with its parameters and multiply-adds; totals match', () => checkNoLeak(nn, () => {
  const model = smallResNet();
  const rows = model.summaryRows();
  assert.equal(rows.map((r) => r.type).slice(3, 7), ['residual', 'relu', 'residual', 'branches']);
  assert.equal(rows[5].outputShape, [8, 4, 4]);
  assert.equal(rows[6].outputShape, [8, 4, 4]);
  // residual 3: two 3×3 convs 4→4 on 8×8 (+ 2 BN of 4 channels: weight and bias)
  assert.is(rows[3].params, 2 * 4 * 4 * 9 + 2 * 8);
  assert.is(rows[3].macs, 2 * (4 * 64 * 4 * 9) + 2 * 4 * 64);
  assert.is(rows.reduce((a, r) => a + r.params, 0), model.countParams());
  // receptive field: stem 3, residual body 3+2+2 → 7, projection block stride 2: 7 + 2 + 2·2 = 13
  assert.equal(rows[3].receptiveField, [7, 7]);
  assert.equal(rows[5].receptiveField, [13, 13]);
  const text = model.summary({ print: false });
  assert.match(text, /residual/);
  model.dispose();
}));

test('a small ResNet trains: the loss falls; memory is flat across steps', async () => checkNoLeak(nn, async () => {
  const model = smallResNet(7);
  const N = 32, r = rng(5);
  const xs = new Float32Array(N * 64), ys = new Int32Array(N);
  for (let n = 0; n < N; n++) {   // class = which third of the image is bright
    ys[n] = n % 3;
    for (let p = 0; p < 64; p++) xs[n * 64 + p] = 0.3 * (r() - 0.5) + (Math.floor((p % 8) / 3) === ys[n] ? 1 : 0);
  }
  const opt = nn.optim.adam({ lr: 0.01 });
  const h = await model.fit({ x: xs, y: ys, shape: [1, 8, 8] }, { optimizer: opt, epochs: 8, batchSize: 8, verbose: 0, seed: 1 });
  assert.ok(h.history.loss[7] < h.history.loss[0] * 0.7, `loss ${h.history.loss.join(', ')}`);
  const x = nn.tensor(xs.subarray(0, 8 * 64), [8, 1, 8, 8]), l = nn.tensor(ys.subarray(0, 8), [8], 'int32');
  model.trainStep(x, l, opt);
  const before = nn.memory();
  for (let i = 0; i < 5; i++) model.trainStep(x, l, opt);
  const after = nn.memory();
  assert.is(after.tensors, before.tensors);
  assert.is(after.bytes, before.bytes);
  disposeAll([x, l]);
  opt.dispose(); model.zeroGrad(); model.dispose();
}));

test('bad input: shapes named with the block and both shapes; bad arguments', () => checkNoLeak(nn, () => {
  assert.throws(() => nn.sequential([L.conv2d(4, 3), nn.residual([L.conv2d(8, 3, { stride: 2, padding: 1 })])], { inputShape: [1, 8, 8] }),
    /sequential: layer 1 \(residual\) with input \[4, 6, 6\] from the output of layer 0 \(conv2d\): residual: the body's output \[8, 3, 3\] and the identity shortcut \(the input\) \[4, 6, 6\] differ/);
  assert.throws(() => nn.sequential([nn.residual([L.conv2d(8, 3, { padding: 1 })], [L.conv2d(8, 1, { stride: 2 })])], { inputShape: [1, 8, 8] }),
    /layer 0 \(residual\).*the body's output \[8, 8, 8\] and the shortcut's output \[8, 4, 4\] differ/);
  assert.throws(() => nn.sequential([nn.branches([[L.conv2d(2, 1)], [L.maxPool2d(2)]])], { inputShape: [1, 8, 8] }),
    /layer 0 \(branches\).*branch 1 output \[1, 4, 4\] does not match branch 0 output \[2, 8, 8\] in spatial size/);
  assert.throws(() => nn.sequential([nn.branches([[L.conv2d(2, 1)], [L.conv2d(3, 1)]], 'add')], { inputShape: [1, 8, 8] }),
    /branches: branch 1 output \[3, 8, 8\] and branch 0 output \[2, 8, 8\] differ; mode 'add' needs equal shapes/);
  assert.throws(() => nn.sequential([nn.residual([L.linear(3)])], { inputShape: [1, 8, 8] }), /residual/);
  assert.throws(() => nn.sequential([nn.residual([L.conv2d(2, 1), L.linear(3, { inFeatures: 5 })])], { inputShape: [1, 8, 8] }),
    /layer 0 \(residual\).*residual body\.1 \(linear\) expects input \[5\], got \[2, 8, 8\] from the output of body\.0 \(conv2d\)/);
  assert.throws(() => nn.residual([]), /residual: body must be a layer or a non-empty array of layers/);
  assert.throws(() => nn.residual([L.relu(), 3]), /residual: body\[1\] must be a layer/);
  assert.throws(() => nn.branches([[L.relu()]], 'max'), /branches: mode must be 'concat' or 'add', got 'max'/);
  const shared = L.relu();
  assert.throws(() => nn.branches([[shared], [shared]]), /appears twice/);
  const used = L.relu();
  nn.residual([used]);
  assert.throws(() => nn.sequential([used]), /already used/);
  assert.equal(nn.memory().tensors, nn.memory().tensors);
}));

test.run();
