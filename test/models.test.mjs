// nn.models and nn.summary: parameter counts, multiply-adds, buffers and output shapes of LeNet-5, AlexNet, VGG-11/16,
// ResNet-18 and ResNet-8 equal the torch/torchvision figures in test/fixtures/models/models.json (gen_models.py),
// computed from shapes alone (no weights allocated); ResNet-18's state_dict names and shapes equal torchvision's; a
// torchvision ResNet-18 saved as safetensors (random weights, written by gen_models.py into build/ when
// python3-torchvision is there) loads by name and gives PyTorch's logits; nn.named / residual names survive
// save/load and fuseForInference; adaptiveAvgPool2d; a ResNet-8 trains.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { getEngine, assertClose, checkNoLeak, rng, uniform } from './helpers.mjs';

const nn = await getEngine();
const L = nn.layers;
const fixture = JSON.parse(readFileSync(new URL('./fixtures/models/models.json', import.meta.url), 'utf8'));

for (const name of ['lenet5', 'alexnet', 'vgg11', 'vgg16', 'resnet18', 'resnet8']) {
  test(`nn.summary(nn.models.${name}({ build: false })) equals torch's parameters, multiply-adds, buffers, output shape; nothing allocated`, () => checkNoLeak(nn, () => {
    const want = fixture.models[name];
    const heap = nn.memory().heapBytes;
    const spec = nn.models[name]({ build: false });
    assert.is(spec.built, false);
    const r = nn.summary(spec, want.inputShape, { print: false });
    assert.is(r.params, want.params, 'parameters');
    assert.is(r.macs, want.macs, 'multiply-adds (conv + linear + batch norm)');
    assert.is(r.buffers, want.buffers, 'buffers');
    assert.equal(r.outputShape, want.output);
    assert.is(r.trainableParams, want.params);
    assert.is(r.rows.reduce((a, row) => a + row.params, 0), want.params);
    assert.is(r.rows.reduce((a, row) => a + row.macs, 0), want.macs);
    assert.is(nn.memory().heapBytes, heap, 'the wasm memory did not grow');
    assert.is(spec.built, false, 'the spec is left unbuilt');
    assert.match(r.text, /shapes only, no weights allocated/);
    // The state_dict it would have: torch's names and shapes (num_batches_tracked is not a tensor here).
    const sd = want.state_dict.filter(([k]) => !k.endsWith('num_batches_tracked'));
    const got = new Map(r.stateShapes.map((p) => [p.name, p.shape]));
    assert.equal([...got.keys()].sort(), sd.map(([k]) => k).sort());
    for (const [k, s] of sd) assert.equal(got.get(k), s, k);
  }));
}

test('nn.summary: the conv + linear part equals the commonly quoted figures (torchvision hooks)', () => {
  for (const name of ['alexnet', 'vgg16', 'resnet18']) {
    const want = fixture.models[name];
    const r = nn.summary(nn.models[name]({ build: false }), want.inputShape, { print: false });
    const bnMacs = want.macs_by_type.bn;
    assert.is(r.macs - bnMacs, want.macs_conv_linear, name);
  }
  // torchvision's documented figures ("GFLOPS", really multiply-adds): AlexNet 0.71, VGG-16 15.47, ResNet-18 1.81.
  assert.is(Math.round(fixture.models.alexnet.macs_conv_linear / 1e7) / 100, 0.71);
  assert.is(Math.round(fixture.models.vgg16.macs_conv_linear / 1e7) / 100, 15.47);
  assert.is(Math.round(fixture.models.resnet18.macs_conv_linear / 1e7) / 100, 1.81);
});

test('resnet18: state_dict names and shapes equal torchvision\'s (num_batches_tracked in the checkpoint)', () => checkNoLeak(nn, () => {
  const model = nn.models.resnet18({ seed: 1 });
  try {
    const sd = fixture.models.resnet18.state_dict;
    const want = new Map(sd.filter(([k]) => !k.endsWith('num_batches_tracked')));
    const got = new Map([...model.stateDict()].map(([k, t]) => [k, t.shape]));
    assert.equal([...got.keys()].sort(), [...want.keys()].sort());
    for (const [k, s] of want) assert.equal(got.get(k), s, k);
    assert.equal(model.namedParameters().slice(0, 3).map(([k]) => k), ['conv1.weight', 'bn1.weight', 'bn1.bias']);
    assert.ok(got.has('layer2.0.downsample.0.weight') && got.has('layer1.1.bn2.running_var') && got.has('fc.bias'));
    const r = model.summaryRows();
    assert.equal(r.map((x) => x.name), ['conv1', 'bn1', 'relu', 'maxpool', 'layer1', 'layer2', 'layer3', 'layer4', 'avgpool', 'flatten', 'fc']);
    assert.equal(r[7].receptiveField, [435, 435]);
    assert.equal(nn.summary(model, undefined, { print: false }).rows, r, 'nn.summary of a built model is its summary');
  } finally {
    model.dispose();
  }
}));

test('adaptiveAvgPool2d: identity, exact average pooling and global average; other sizes use ops.adaptiveAvgPool2d', () => checkNoLeak(nn, () => {
  const r = rng(3);
  const x = nn.tensor(uniform(r, 2 * 3 * 6 * 6), [2, 3, 6, 6]);
  const run = (size) => {
    const m = nn.sequential([L.adaptiveAvgPool2d(size)], { inputShape: [3, 6, 6] });
    const y = m.forward(x);
    const dy = nn.tensor(uniform(r, y.size), y.shape);
    const dx = m.backward(dy, { inputGrad: true });
    const out = { y: y.read(), shape: y.shape, dx: dx.read() };
    y.dispose(); dy.dispose(); dx.dispose(); m.dispose();
    return out;
  };
  const id = run(6);
  assert.equal(id.shape, [2, 3, 6, 6]);
  assertClose(id.y, x.read(), 'identity');
  const p = run([3, 2]);
  const want = nn.ops.avgPool2d(x, { kernel: [2, 3], stride: [2, 3] });
  assert.equal(p.shape, [2, 3, 3, 2]);
  assertClose(p.y, want.read(), 'pool');
  want.dispose();
  const g = run(1);
  const wg = nn.ops.globalAvgPool2d(x);
  assertClose(g.y, wg.read(), 'global');
  wg.dispose();
  // 6×6 → 4×4 needs PyTorch's overlapping windows (issue #9; goldens in test/ops9.test.mjs)
  const o = run(4);
  const wo = nn.ops.adaptiveAvgPool2d(x, 4);
  assert.equal(o.shape, [2, 3, 4, 4]);
  assertClose(o.y, wo.read(), 'overlapping');
  wo.dispose();
  x.dispose();
}));

test('nn.named / residual names: save → load, fuseForInference keep torchvision paths and outputs', () => checkNoLeak(nn, () => {
  const model = nn.models.resnet8({ seed: 3 });
  const r = rng(5);
  const x = nn.tensor(uniform(r, 2 * 28 * 28), [2, 1, 28, 28]);
  const y = nn.tensor(new Int32Array([1, 7]), [2], 'int32');
  const opt = nn.optim.sgd({ lr: 0.05, momentum: 0.9 });
  try {
    for (let i = 0; i < 2; i++) model.trainStep(x, y, opt);   // non-trivial running statistics
    model.eval();
    const want = model.forward(x);
    const again = nn.load(model.save());
    const fused = model.fuseForInference();
    try {
      assert.equal([...again.stateDict().keys()], [...model.stateDict().keys()]);
      assert.ok(again.stateDict().has('layer2.0.downsample.1.running_mean'));
      const y2 = again.eval().forward(x), y3 = fused.forward(x);
      assertClose(y2.read(), want.read(), 'reloaded');
      assertClose(y3.read(), want.read(), 'fused', 1e-4);
      assert.ok([...fused.stateDict().keys()].includes('layer1.0.conv1.bias'), 'fused conv keeps its name and gains a bias');
      y2.dispose(); y3.dispose();
    } finally {
      want.dispose(); again.dispose(); fused.dispose();
    }
  } finally {
    opt.dispose(); x.dispose(); y.dispose(); model.dispose();
  }
}));

test('resnet8 (MNIST-sized) trains a few steps: the loss falls, nothing leaks', () => checkNoLeak(nn, async () => {
  const model = nn.models.resnet8({ seed: 11 });
  const r = rng(9);
  const n = 16;
  const xs = new Float32Array(n * 28 * 28), ys = new Int32Array(n);
  for (let i = 0; i < n; i++) {   // class k: a bright k-th horizontal band plus noise
    ys[i] = i % 4;
    for (let p = 0; p < 28 * 28; p++) xs[i * 784 + p] = 0.2 * r() + (Math.floor(p / 28 / 7) === ys[i] ? 1 : 0);
  }
  const opt = nn.optim.sgd({ lr: 0.05, momentum: 0.9 });
  try {
    const h = await model.fit({ x: xs, y: ys, shape: [1, 28, 28] }, { optimizer: opt, epochs: 4, batchSize: 8, verbose: 0, seed: 1 });
    assert.ok(h.history.loss[3] < h.history.loss[0], `loss ${h.history.loss}`);
    model.freeze(-1).replace(-1, L.linear(4));   // fine-tuning a named model: the new head keeps the name
    assert.equal(model.namedParameters().filter(([, p]) => p.trainable).map(([k]) => k), ['fc.weight', 'fc.bias']);
  } finally {
    opt.dispose();
    model.dispose();
  }
}));

test('nn.summary of a list or object of layers; a spec summarised, then built; errors name the problem', () => checkNoLeak(nn, () => {
  const r = nn.summary({ conv: L.conv2d(4, 3), flatten: L.flatten(), fc: L.linear(2) }, [1, 5, 5], { print: false });
  assert.equal(r.stateShapes.map((p) => p.name), ['conv.weight', 'conv.bias', 'fc.weight', 'fc.bias']);
  assert.is(r.params, 4 * 9 + 4 + 36 * 2 + 2);
  assert.is(r.macs, 4 * 3 * 3 * 9 + 36 * 2);
  assert.equal(r.rows.map((x) => x.name), ['conv', 'flatten', 'fc']);
  assert.equal(nn.summary([L.conv2d(2, 3), L.relu()], [1, 4, 4], { print: false }).rows.map((x) => x.name), ['0', '1']);
  const spec = nn.models.lenet5({ build: false, seed: 4 });
  assert.throws(() => nn.summary(spec, [1, 28, 28], { print: false }), /summary: layer 0 \(named\) with input \[1, 28, 28\] from the model input: named 6 \(conv2d\) expects input \[C, H, W\], got \[16, 4, 4\] from the output of 5 \(avgPool2d\): the dilated kernel does not fit: output would be 0×0/);
  assert.throws(() => nn.summary(spec, undefined, { print: false }), /summary: inputShape must be a non-empty array of positive integers/);
  assert.is(nn.summary(spec, [1, 32, 32], { print: false }).params, 61706);
  spec.build([1, 32, 32]);   // the summary left the spec as it was
  assert.is(spec.countParams(), 61706);
  assert.equal([...spec.stateDict().keys()], ['features.0.weight', 'features.0.bias', 'features.3.weight', 'features.3.bias', 'features.6.weight',
    'features.6.bias', 'classifier.0.weight', 'classifier.0.bias', 'classifier.2.weight', 'classifier.2.bias']);
  spec.dispose();
  const m28 = nn.models.lenet5({ inputShape: [1, 28, 28], seed: 1 });
  assert.is(m28.countParams(), 61706, 'the 28×28 variant pads C1 by 2: the same parameters');
  m28.dispose();
  const a = L.relu();
  assert.throws(() => nn.named([a, a]), /named: layers\[1\] \(relu\) is already used; make a new layer object/);
  assert.throws(() => nn.residual([L.relu()], null, { bodyname: '' }), /residual: unknown option 'bodyname' \(known: bodyName, shortcutName\)/);
  assert.throws(() => nn.models.resnet18({ classes: 10 }), /resnet18: unknown option 'classes' \(known: numClasses, inputShape, dropout, seed, build\)/);
}));

// A torchvision ResNet-18 with random weights as safetensors, generated once into build/ by gen_models.py (≈ 4 s,
// 47 MB; kept out of git). Skipped when Debian's python3-torchvision is not installed.
const root = fileURLToPath(new URL('..', import.meta.url));
const weights = `${root}build/test-models/resnet18.safetensors`;
const script = `${root}test/fixtures/gen_models.py`;
function ensureWeights() {
  if (existsSync(`${weights}.json`) && statSync(`${weights}.json`).mtimeMs >= statSync(script).mtimeMs) return true;
  mkdirSync(`${root}build/test-models`, { recursive: true });
  const p = spawnSync('/usr/bin/python3', [script, '--resnet18-weights', weights], { encoding: 'utf8' });
  if (p.status !== 0) { console.log(`(skipping the torchvision ResNet-18 weights test: ${(p.stderr || p.error?.message || '').trim().split('\n').pop()})`); return false; }
  return true;
}

test('a torchvision resnet18 state_dict (safetensors) loads by name and gives PyTorch\'s logits', () => {
  if (!ensureWeights()) return;
  return checkNoLeak(nn, () => {
    const ref = JSON.parse(readFileSync(`${weights}.json`, 'utf8'));
    const model = nn.models.resnet18({ seed: 1 });
    const x = nn.tensor(ref.x, ref.shape);
    try {
      model.loadWeights(readFileSync(weights));   // strict: every name present, num_batches_tracked accepted
      const y = model.eval().forward(x);
      assert.equal(y.shape, [1, 1000]);
      assertClose(y.read(), ref.logits, 'logits');
      y.dispose();
    } finally {
      x.dispose();
      model.dispose();
    }
  });
});

test.run();
