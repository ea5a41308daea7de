// Fine-tuning: layer.trainable = false, model.freeze(end) / unfreeze(end), frozen BatchNorm in eval mode, backward
// stopping below the first trainable layer, model.slice(a, b) as a weight-sharing feature extractor, model.replace
// (a new head), and the whole workflow: load weights, freeze the body, train a new head — the frozen weights and
// running statistics stay bit-identical.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { getEngine, assertClose, checkNoLeak, disposeAll, rng, uniform } from './helpers.mjs';

const nn = await getEngine();
const L = nn.layers;

const randArr = (seed, n) => Float32Array.from(uniform(rng(seed), n));

function cnn(seed = 1) {
  return nn.sequential([
    L.conv2d(4, 3, { padding: 1 }), L.batchNorm2d(), L.relu(), L.maxPool2d(2),
    nn.residual([L.conv2d(4, 3, { padding: 1, bias: false }), L.batchNorm2d(), L.relu(), L.conv2d(4, 3, { padding: 1, bias: false }), L.batchNorm2d()]),
    L.relu(), L.flatten(), L.linear(3),
  ], { inputShape: [1, 8, 8], seed });
}

function data(n, seed) {
  const r = rng(seed), x = new Float32Array(n * 64), y = new Int32Array(n);
  for (let i = 0; i < n; i++) { y[i] = i % 3; for (let p = 0; p < 64; p++) x[i * 64 + p] = r() - 0.5 + (p % 3 === y[i] ? 0.8 : 0); }
  return { x, y, shape: [1, 8, 8] };
}

const snapshot = (model) => new Map([...model.stateDict()].map(([k, t]) => [k, t.read()]));

test('freeze(-1): after fit, frozen weights and BN running stats are bit-identical; the head moved', () => checkNoLeak(nn, async () => {
  const model = cnn();
  // give the BNs non-trivial running stats first
  const warm = nn.optim.sgd({ lr: 0.05, momentum: 0.5 });
  await model.fit(data(24, 1), { optimizer: warm, epochs: 1, batchSize: 8, verbose: 0 });
  warm.dispose();
  model.freeze(-1);
  assert.equal(model.layers.map((l) => l.trainable), [false, false, false, false, false, false, false, true]);
  assert.is(model.countParams(true), 64 * 3 + 3);
  const before = snapshot(model);
  const counters = model.save();
  const opt = nn.optim.sgd({ lr: 0.1, momentum: 0.9 });
  await model.fit(data(32, 2), { optimizer: opt, epochs: 2, batchSize: 8, verbose: 0 });
  const after = snapshot(model);
  for (const [k, v] of before) {
    if (k.startsWith('7.')) assert.not.equal(after.get(k), v, `${k} trained`);
    else assert.equal(after.get(k), v, `${k} bit-identical`);
  }
  // num_batches_tracked of frozen BNs unchanged too: the checkpoints match byte for byte except the head
  const again = nn.load(counters);
  again.loadWeights(Object.fromEntries([...after].filter(([k]) => k.startsWith('7.'))), { strict: false });
  assert.equal(again.save(), model.save());
  assert.is(opt.stateSize, 2, 'the optimizer only holds state for the head');
  opt.dispose(); model.dispose(); again.dispose();
}));

test('a frozen BatchNorm runs in eval mode while the model trains; unfreeze brings batch statistics back', () => checkNoLeak(nn, () => {
  const model = nn.sequential([L.batchNorm2d(), L.flatten(), L.linear(2)], { inputShape: [2, 3, 3], seed: 3 });
  const x = nn.tensor(randArr(4, 4 * 18).map((v) => 3 * v + 1), [4, 2, 3, 3]);
  model.layers[0].trainable = false;
  model.train();
  const yTrain = model.forward(x);
  model.clearCache();
  model.eval();
  const yEval = model.forward(x);
  assert.equal(yTrain.read(), yEval.read());
  const rm = model.stateDict().get('0.running_mean').read();
  assert.equal(Array.from(rm), [0, 0], 'running mean untouched');
  model.unfreeze();
  model.train();
  const yBatch = model.forward(x);
  model.clearCache();
  assert.not.equal(yBatch.read(), yEval.read());
  assert.not.equal(Array.from(model.stateDict().get('0.running_mean').read()), [0, 0]);
  disposeAll([x, yTrain, yEval, yBatch]);
  model.dispose();
}));

test('frozen layers get no gradients; backward stops below the first trainable layer; inputGrad still works', () => checkNoLeak(nn, () => {
  const model = cnn(4);
  const x = nn.tensor(randArr(5, 2 * 64), [2, 1, 8, 8]), dy = nn.tensor(randArr(6, 6), [2, 3]);
  // a frozen layer in the middle: the conv inside the residual gets no weight gradient, layers around it do
  model.layers[4].trainable = false;
  let y = model.forward(x);
  assert.is(model.backward(dy), null);
  const grads = Object.fromEntries(model.namedParameters().map(([k, p]) => [k, p.grad]));
  assert.is(grads['4.body.0.weight'], null);
  assert.is(grads['4.body.1.weight'], null);
  assert.ok(grads['0.weight'] && grads['7.weight'], 'trainable layers around it have gradients');
  model.zeroGrad();
  y.dispose();
  // a frozen body: nothing below the head is run backward, and the input gradient is still exact when asked for
  model.layers[4].trainable = true;
  model.freeze(7);
  y = model.forward(x);
  assert.is(model.backward(dy), null);
  assert.ok(model.namedParameters().every(([k, p]) => k.startsWith('7.') ? p.grad : p.grad === null));
  y.dispose();
  model.zeroGrad();
  // asked for, the input gradient goes through the frozen layers (saliency of a frozen net); still no weight grads
  y = model.forward(x);
  const dxFrozen = model.backward(dy, { inputGrad: true });
  y.dispose();
  assert.equal(dxFrozen.shape, [2, 1, 8, 8]);
  assert.ok(dxFrozen.read().some((v) => v !== 0));
  assert.ok(model.namedParameters().every(([k, p]) => k.startsWith('7.') ? p.grad : p.grad === null));
  model.zeroGrad();
  disposeAll([x, dy, dxFrozen]);
  model.dispose();
}));

test('freeze / unfreeze / trainable: argument errors', () => checkNoLeak(nn, () => {
  const model = cnn();
  assert.throws(() => model.freeze(9), /freeze: end must be an integer in \[-8, 8\] \(the model has 8 layers; layers \[0, end\) are frozen\), got 9/);
  assert.throws(() => model.freeze(-9), /freeze: end must be an integer in \[-8, 8\]/);
  assert.throws(() => model.freeze(1.5), /got 1.5/);
  assert.throws(() => model.unfreeze('2'), /unfreeze: end must be an integer in \[-8, 8\].*got '2'/);
  assert.throws(() => { model.layers[0].trainable = 'no'; }, /layer 0 \(conv2d\): trainable must be a boolean, got 'no'/);
  model.freeze(0);
  assert.ok(model.layers.every((l) => l.trainable));
  model.freeze();
  assert.ok(model.layers.every((l) => !l.trainable));
  assert.is(model.countParams(true), 0);
  model.unfreeze(2);
  assert.equal(model.layers.map((l) => l.trainable).slice(0, 3), [true, true, false]);
  // freezing before the model is built applies to the parameters it creates
  const lazy = nn.sequential([L.linear(3), L.linear(2)], { seed: 1 });
  lazy.freeze(1);
  lazy.build([4]);
  assert.equal(lazy.parameters().map((p) => p.trainable), [false, false, true, true]);
  lazy.dispose();
  model.dispose();
}));

test('slice: a feature extractor sharing the weights; names keep the original indices; disposing it frees no weights', () => checkNoLeak(nn, () => {
  const model = cnn(8);
  model.eval();
  const x = nn.tensor(randArr(9, 3 * 64), [3, 1, 8, 8]);
  const body = model.slice(0, -1);
  assert.equal(body.outputShape, [64]);
  assert.equal(body.inputShape, [1, 8, 8]);
  const feats = body.forward(x);
  const acts = model.slice(0, 7).forward(x);   // the same layers again
  assert.equal(feats.read(), acts.read());
  const mid = model.slice(4, 6);
  assert.equal(mid.namedParameters().map(([k]) => k)[0], '4.body.0.weight');
  assert.equal(mid.inputShape, [4, 4, 4]);
  // head on top of the features = the whole model
  const logits = model.forward(x);
  const head = model.slice(-1);
  const viaHead = head.forward(feats);
  assertClose(viaHead.read(), logits.read(), 'head(features)');
  // shared weights: a change in the model shows in the slice
  const w = model.stateDict().get('7.weight');
  w.write(new Float32Array(w.size));
  const zero = head.forward(feats);
  const bias = Array.from(model.stateDict().get('7.bias').read());
  assert.equal(Array.from(zero.read()), [...bias, ...bias, ...bias], 'zero weights: the bias only');
  assert.throws(() => model.slice(3, 3), /slice: \[3, 3\) selects no layer of the 8/);
  assert.throws(() => model.slice(0, 9), /slice: end must be an integer in \[-8, 8\], got 9/);
  assert.throws(() => body.replace(0, L.relu()), /replace: this model is a slice of another/);
  for (const m of [body, mid, head]) m.dispose();
  const again = model.forward(x);   // still alive
  disposeAll([x, feats, acts, logits, viaHead, zero, again]);
  model.dispose();
}));

test('the workflow: load weights, freeze the body, replace the head, train it; the body stays bit-identical', () => checkNoLeak(nn, async () => {
  const pre = cnn(11);
  const adam = nn.optim.adam({ lr: 0.01 });
  await pre.fit(data(24, 3), { optimizer: adam, epochs: 1, batchSize: 8, verbose: 0 });
  adam.dispose();
  const bytes = pre.save();
  pre.dispose();
  const model = nn.load(bytes);
  model.freeze(-1).replace(-1, L.linear(5));
  assert.equal(model.outputShape, [5]);
  assert.equal(model.namedParameters().filter(([, p]) => p.trainable).map(([k]) => k), ['7.weight', '7.bias']);
  const body = snapshot(model.slice(0, -1));
  const d = data(40, 4);
  d.y = d.y.map((v, i) => (v + i) % 5);
  const sgd = nn.optim.sgd({ lr: 0.1, momentum: 0.9 });
  const h = await model.fit(d, { optimizer: sgd, epochs: 4, batchSize: 8, verbose: 0, seed: 2 });
  sgd.dispose();
  assert.ok(h.history.loss[3] < h.history.loss[0], `loss ${h.history.loss}`);
  for (const [k, v] of snapshot(model.slice(0, -1))) assert.equal(v, body.get(k), `${k} bit-identical`);
  assert.throws(() => model.replace(2, L.conv2d(8, 1)), /replace: the new layer 2 \(conv2d\) outputs \[8, 8, 8\], but layer 3 \(maxPool2d\) takes \[4, 8, 8\]/);
  assert.throws(() => model.replace(8, L.relu()), /replace: index must be an integer in \[-8, 7\], got 8/);
  assert.throws(() => model.replace(-1, L.linear({ outFeatures: 2, inFeatures: 3 })), /replace: the new layer 7 \(linear\) expects input \[3\], got \[64\]/);
  model.dispose();
}));

// Issue #9: frozen linear and norm layers (and locallyConnected2d) compute no parameter gradients at all: their
// backward op is called with the gradient flags off and returns no dW / dγ / dβ; after fit with weight decay and
// momentum their parameters are bit-identical while the trainable ones moved.

/** Records the backward op calls of one layer (its engine seen through a proxy whose ops are wrapped). */
function spyBackward(layer) {
  const calls = [];
  const e = layer.e;
  const ops = Object.fromEntries(Object.entries(e.ops).map(([k, f]) => [k, !k.endsWith('Backward') ? f
    : (...args) => { const r = f(...args); calls.push({ op: k, args, keys: Object.keys(r).sort() }); return r; }]));
  layer.e = new Proxy(e, { get: (t, k) => (k === 'ops' ? ops : Reflect.get(t, k)) });
  return { calls, restore: () => { layer.e = e; } };
}

function frozenNet(seed) {
  return nn.sequential([
    L.conv2d(4, 3, { padding: 1 }), L.batchNorm2d(), L.groupNorm(2), L.instanceNorm2d({ affine: true }), L.relu(),
    L.locallyConnected2d(3, 2, { stride: 2 }), L.flatten(), L.linear(6), L.layerNorm(), L.relu(), L.linear(3),
  ], { inputShape: [1, 6, 6], seed });
}
const FROZEN = [1, 2, 3, 5, 7, 8];

test('frozen linear / norm / locallyConnected2d layers: backward ops called without parameter gradients', () => checkNoLeak(nn, () => {
  const model = frozenNet(21);
  for (const i of FROZEN) model.layers[i].trainable = false;
  const spies = FROZEN.map((i) => spyBackward(model.layers[i]));
  const trainableSpies = [0, 10].map((i) => spyBackward(model.layers[i]));
  const x = nn.tensor(randArr(22, 4 * 36), [4, 1, 6, 6]), dy = nn.tensor(randArr(23, 12), [4, 3]);
  model.train();
  const y = model.forward(x);
  model.backward(dy);
  const seen = spies.map((s) => s.calls.map((c) => `${c.op}: ${c.keys.join(',')}`));
  assert.equal(seen, [
    ['batchNorm2dBackward: dx'], ['groupNormBackward: dx'], ['instanceNormBackward: dx'], ['locallyConnected2dBackward: dx'],
    ['linearBackward: dx'], ['layerNormBackward: dx'],
  ]);
  // the flags that asked for it
  assert.equal(spies[0].calls[0].args[5], { training: false, params: false }, 'frozen BatchNorm: eval statistics, no dγ/dβ');
  assert.equal(spies[4].calls[0].args[3], { bias: false, weight: false });
  assert.equal(spies[3].calls[0].args[4], { bias: false, input: true, weight: false });
  // trainable layers around them still get theirs (the first conv needs no dx)
  assert.equal(trainableSpies.map((s) => s.calls[0].keys), [['db', 'dw'], ['db', 'dw', 'dx']]);
  for (const [k, p] of model.namedParameters()) {
    const layer = Number(k.split('.')[0]);
    if (FROZEN.includes(layer)) assert.is(p.grad, null, `${k} has no gradient`);
    else assert.ok(p.grad, `${k} has a gradient`);
  }
  // unfrozen again: the same layers compute all their gradients
  model.zeroGrad();
  for (const s of spies) s.calls.length = 0;
  model.unfreeze();
  const y2 = model.forward(x);
  model.backward(dy);
  assert.equal(spies.map((s) => s.calls[0].keys), [
    ['dbeta', 'dgamma', 'dx'], ['dbeta', 'dgamma', 'dx'], ['dbeta', 'dgamma', 'dx'], ['db', 'dw', 'dx'], ['db', 'dw', 'dx'], ['dbeta', 'dgamma', 'dx'],
  ]);
  model.zeroGrad();
  for (const s of [...spies, ...trainableSpies]) s.restore();
  disposeAll([x, dy, y, y2]);
  model.dispose();
}));

for (const [name, makeOpt] of [['sgd (momentum, weight decay)', () => nn.optim.sgd({ lr: 0.05, momentum: 0.9, weightDecay: 0.01 })],
                               ['adamw', () => nn.optim.adamw({ lr: 0.01, weightDecay: 0.05 })]]) {
  test(`frozen linear / norm / locallyConnected2d weights stay bit-identical through fit with ${name}`, () => checkNoLeak(nn, async () => {
    const model = frozenNet(31);
    for (const i of FROZEN) model.layers[i].trainable = false;
    const before = snapshot(model);
    const opt = makeOpt();
    const d = { ...data(24, 5), shape: [1, 8, 8] };
    // 6×6 inputs for this net: crop the 8×8 digits of data()
    const x = new Float32Array(24 * 36);
    for (let n = 0; n < 24; n++) for (let h = 0; h < 6; h++) for (let w = 0; w < 6; w++) x[n * 36 + h * 6 + w] = d.x[n * 64 + (h + 1) * 8 + w + 1];
    await model.fit({ x, y: d.y, shape: [1, 6, 6] }, { optimizer: opt, epochs: 2, batchSize: 8, verbose: 0 });
    const after = snapshot(model);
    for (const [k, v] of before) {
      const layer = Number(k.split('.')[0]);
      if (FROZEN.includes(layer)) assert.equal(after.get(k), v, `${k} bit-identical`);
      else assert.not.equal(after.get(k), v, `${k} trained`);
    }
    opt.dispose();
    model.dispose();
  }));
}

test('norm and linear backward ops without parameter gradients give the same dx, bit for bit', () => checkNoLeak(nn, () => {
  const o = nn.ops;
  const x = nn.tensor(randArr(41, 3 * 4 * 5 * 6).map((v) => 2 * v + 0.3), [3, 4, 5, 6]), dy = nn.tensor(randArr(42, 3 * 4 * 5 * 6), [3, 4, 5, 6]);
  const c4 = nn.tensor(randArr(43, 4).map((v) => v + 1.5), [4]), b4 = nn.tensor(randArr(44, 4), [4]);
  const ln = nn.tensor(randArr(45, 30).map((v) => v + 1.5), [5, 6]);
  const made = [x, dy, c4, b4, ln];
  const cases = {
    'batchNorm2d (training)': (params) => { const f = o.batchNorm2d(x, c4, b4, null, null, { training: true }); made.push(f);
      return o.batchNorm2dBackward(dy, x, c4, f.mean, f.invStd, { training: true, params }); },
    'batchNorm2d (eval statistics)': (params) => { const f = o.batchNorm2d(x, c4, b4, null, null, { training: true }); made.push(f);
      return o.batchNorm2dBackward(dy, x, c4, f.mean, f.invStd, { training: false, params }); },
    layerNorm: (params) => { const f = o.layerNorm(x, [5, 6], ln, null); made.push(f); return o.layerNormBackward(dy, x, [5, 6], ln, f, { params }); },
    groupNorm: (params) => { const f = o.groupNorm(x, 2, c4, b4); made.push(f); return o.groupNormBackward(dy, x, 2, c4, f, { params }); },
    instanceNorm: (params) => { const f = o.instanceNorm(x, c4, b4); made.push(f); return o.instanceNormBackward(dy, x, c4, f, { params }); },
  };
  for (const [name, run] of Object.entries(cases)) {
    const all = run(true), dxOnly = run(false);
    made.push(all, dxOnly);
    assert.equal(Object.keys(all).sort(), ['dbeta', 'dgamma', 'dx'], name);
    assert.equal(Object.keys(dxOnly), ['dx'], name);
    assert.equal(Array.from(dxOnly.dx.read()), Array.from(all.dx.read()), `${name}: dx`);
  }
  const xl = nn.tensor(randArr(46, 12), [3, 4]), w = nn.tensor(randArr(47, 8), [2, 4]), dyl = nn.tensor(randArr(48, 6), [3, 2]);
  const all = o.linearBackward(dyl, xl, w), dxOnly = o.linearBackward(dyl, xl, w, { bias: false, weight: false });
  assert.equal(Object.keys(dxOnly), ['dx']);
  assert.equal(Array.from(dxOnly.dx.read()), Array.from(all.dx.read()), 'linear: dx');
  assert.throws(() => o.linearBackward(dyl, xl, w, { weight: 'no' }), /linearBackward: opts.weight must be a boolean, got 'no'/);
  const f = o.layerNorm(x, [5, 6], ln, null);
  assert.throws(() => o.layerNormBackward(dy, x, [5, 6], ln, f, { params: 1 }), /layerNormBackward: flags.params must be a boolean, got 1/);
  assert.throws(() => o.batchNorm2dBackward(dy, x, c4, c4, c4, { params: 'no' }), /batchNorm2dBackward: params must be a boolean, got 'no'/);
  disposeAll([made, xl, w, dyl, all, dxOnly, f]);
}));

test.run();
