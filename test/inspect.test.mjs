// Seeing what a net learns (nn.inspect, nn.adversarial, model.activations / inputGradient): shapes against
// summary(), input gradients against a float64 finite difference, FGSM's step, images and PNG files, the demo's
// pictures. Every test checks that no tensor leaks.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PNG } from 'pngjs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync, rmSync, mkdtempSync } from 'node:fs';
import { getEngine, assertClose, checkNoLeak, rng, uniform } from './helpers.mjs';
import * as R from './reference.mjs';

/** A net with BN, ReLU, max-pool and dropout (eval-mode inspection must handle all of them). */
function cnn(nn, seed = 3) {
  const L = nn.layers;
  return nn.sequential([
    L.conv2d(4, 3, { padding: 1 }), L.batchNorm2d(), L.relu(), L.maxPool2d(2),
    L.conv2d(6, 3, { padding: 1 }), L.relu(), L.flatten(), L.dropout(0.3), L.linear(5),
  ], { inputShape: [2, 8, 8], seed });
}

function input(nn, shape, seed, lo = -1, hi = 1) {
  return nn.tensor(uniform(rng(seed), shape.reduce((a, b) => a * b, 1), lo, hi), shape);
}

test('activations: one tensor per layer, shapes as summary(), the last equal to predict(); mode, grads and BN stats untouched', async () => {
  const nn = await getEngine();
  await checkNoLeak(nn, () => {
    const model = cnn(nn);
    const x = input(nn, [3, 2, 8, 8], 1);
    // Give BN non-trivial running statistics, and leave a gradient in place to check it survives.
    const lab = nn.tensor([0, 1, 2], [3], 'int32'), opt = nn.optim.sgd(model, { lr: 0.01 });
    model.trainStep(x, lab, opt);
    lab.dispose(); opt.dispose();
    const state = [...model.stateDict().values()].map((t) => t.read());
    const grads = model.parameters().map((p) => p.grad?.read());
    const acts = model.activations(x);
    assert.is(acts.length, model.layers.length);
    model.summaryRows().forEach((row, i) => assert.equal(acts[i].shape, [3, ...row.outputShape], `layer ${i} (${row.type})`));
    assert.ok(model.training, 'the model stays in training mode');
    const p = model.predict(x);
    assertClose(acts.at(-1).read(), p.read(), 'last activation vs predict');
    [...model.stateDict().values()].forEach((t, i) => assert.equal(t.read(), state[i], 'state unchanged'));
    model.parameters().forEach((q, i) => assert.equal(q.grad?.read(), grads[i], 'grad unchanged'));
    // The same through nn.inspect, inside tidy.
    const shapes = nn.tidy(() => nn.inspect.activations(model, x).map((a) => a.shape));
    assert.equal(shapes, acts.map((a) => a.shape));
    for (const a of [...acts, p, x]) a.dispose();
    model.zeroGrad();
    model.dispose();
  });
});

test('inputGradient equals a float64 finite difference of the loss (smooth net: conv → tanh → avg-pool → linear)', async () => {
  const nn = await getEngine();
  const L = nn.layers;
  await checkNoLeak(nn, () => {
    const model = nn.sequential([L.conv2d(3, 3, { padding: 1 }), L.tanh(), L.avgPool2d(2), L.flatten(), L.linear(4)],
      { inputShape: [2, 6, 6], seed: 5 });
    const shape = [2, 2, 6, 6], labels = [1, 3];
    const xv = R.f32(uniform(rng(7), 144, -1, 1));
    const x = nn.tensor(xv, shape);
    const sd = model.stateDict();
    const W = (k) => R.T(sd.get(k).read(), [...sd.get(k).shape]);
    const [w0, b0, w1, b1] = ['0.weight', '0.bias', '4.weight', '4.bias'].map(W);
    // The same function in float64 (test/reference.mjs); its central difference with h = 1e-5 is accurate to ~1e-9,
    // far inside the 1e-4 rule, so the comparison below measures our backward pass alone.
    const lossRef = (v) => {
      let y = R.conv2d(R.T(v, shape), w0, b0, { padding: 1 });
      y = R.avgPool2d(R.tanh(y), { kernel: 2 });
      y = R.linear(R.T(y.data, [2, 27]), w1, b1);
      return R.softmaxCrossEntropy(y, labels).loss;
    };
    const h = 1e-5, fd = new Float64Array(xv.length);
    for (let i = 0; i < xv.length; i++) {
      const a = Float64Array.from(xv); a[i] += h; const lp = lossRef(a);
      a[i] -= 2 * h; const lm = lossRef(a);
      fd[i] = (lp - lm) / (2 * h);
    }
    const { loss, grad, logits } = nn.inspect.lossAndInputGradient(model, x, labels);
    assertClose([loss], [lossRef(xv)], 'loss');
    assertClose(grad.read(), fd, 'd loss / d x');
    const lab = nn.tensor(labels, [2], 'int32');
    const g2 = model.inputGradient(x, lab);   // a labels tensor works as well as an array
    assert.equal(g2.read(), grad.read());
    lab.dispose();
    model.parameters().forEach((p) => assert.is(p.grad, null, 'no parameter gradient'));
    for (const t of [grad, logits, g2, x]) t.dispose();
    model.dispose();
  });
});

test('inputGradient in training mode equals the input gradient of model.backward (BN, ReLU, max-pool)', async () => {
  const nn = await getEngine();
  await checkNoLeak(nn, () => {
    const L = nn.layers;
    const mk = () => nn.sequential([L.conv2d(4, 3, { padding: 1 }), L.batchNorm2d(), L.relu(), L.maxPool2d(2), L.flatten(), L.linear(5)],
      { inputShape: [2, 8, 8], seed: 9 });
    const a = mk(), b = mk();
    const x = input(nn, [4, 2, 8, 8], 2);
    const labels = nn.tensor([0, 4, 2, 1], [4], 'int32');
    const g = a.inputGradient(x, labels, { training: true });
    const y = b.forward(x);
    const ce = nn.ops.softmaxCrossEntropy(y, labels);
    const dx = b.backward(ce.dlogits, { inputGrad: true });
    assertClose(g.read(), dx.read(), 'dx');
    assert.ok(a.training);
    for (const t of [g, y, ce.dlogits, ce.probs, dx, x, labels]) t.dispose();
    a.dispose(); b.dispose();
  });
});

test('saliency: max over channels of |grad|', async () => {
  const nn = await getEngine();
  await checkNoLeak(nn, () => {
    const g = nn.tensor([1, -2, 3, -4, -5, 1, 0, 4], [1, 2, 2, 2]);
    const s = nn.inspect.saliency(g);
    assert.equal(s.shape, [1, 2, 2]);
    assert.equal(Array.from(s.read()), [5, 2, 3, 4]);
    const im = nn.inspect.saliencyImages(g)[0];
    assert.equal(Array.from(im.data), [1, 0.4, 0.6, 0.8].map(Math.fround));
    g.dispose(); s.dispose();
  });
});

test('FGSM: every pixel moves by exactly eps in the sign of the gradient (before clamping), then is clamped; the loss rises', async () => {
  const nn = await getEngine();
  await checkNoLeak(nn, () => {
    const model = cnn(nn, 4);
    const x = input(nn, [4, 2, 8, 8], 3, 0, 1);
    const labels = [0, 1, 2, 3], eps = 0.03;
    const { loss: before, grad, logits } = nn.inspect.lossAndInputGradient(model, x, labels);
    const g = grad.read(), xv = x.read();
    const free = nn.adversarial.fgsm(model, x, labels, eps, { range: null });
    const fv = free.read();
    let moved = 0;
    for (let i = 0; i < xv.length; i++) {
      const s = Math.sign(g[i]);
      assert.is(fv[i], Math.fround(xv[i] + eps * s), `pixel ${i}`);
      if (s !== 0) { moved++; assert.ok(Math.abs(Math.abs(fv[i] - xv[i]) - eps) < 1e-6, `pixel ${i} moved by eps`); }
    }
    assert.ok(moved > xv.length * 0.9, `${moved} of ${xv.length} pixels have a gradient`);
    const clamped = nn.adversarial.fgsm(model, x, labels, eps);   // default range [0, 1]
    const cv = clamped.read();
    for (let i = 0; i < xv.length; i++) assert.is(cv[i], Math.min(1, Math.max(0, fv[i])), `clamped pixel ${i}`);
    const r = nn.inspect.lossAndInputGradient(model, free, labels);
    assert.ok(r.loss > before, `loss ${before} → ${r.loss}`);
    const zero = nn.adversarial.fgsm(model, x, labels, 0);
    assert.equal(zero.read(), xv);
    for (const t of [grad, logits, free, clamped, r.grad, r.logits, zero, x]) t.dispose();
    model.dispose();
  });
});

test('bad input: clear errors, nothing leaks', async () => {
  const nn = await getEngine();
  await checkNoLeak(nn, () => {
    const model = cnn(nn);
    const x = input(nn, [2, 2, 8, 8], 1), bad = input(nn, [2, 1, 8, 8], 1);
    assert.throws(() => model.activations(bad), /activations: x must have shape \[N, 2, 8, 8\].*got \[2, 1, 8, 8\]/);
    assert.throws(() => model.inputGradient(x, [0]), /inputGradient: labels has 1 entries, expected 2/);
    assert.throws(() => model.inputGradient(x, [0, 9]), /label|class/);
    assert.throws(() => nn.adversarial.fgsm(model, x, [0, 1], -1), /fgsm: eps must be a finite number ≥ 0/);
    assert.throws(() => nn.adversarial.fgsm(model, x, [0, 1], 0.1, { range: [1, 0] }), /fgsm: range must be/);
    assert.throws(() => model.activations(x, { mode: 'eval' }), /unknown option 'mode'/);
    assert.throws(() => nn.inspect.filterImages(model, { layer: 2 }), /layer 2 \(relu\) has no 4-D conv weight/);
    assert.throws(() => nn.inspect.featureMapImages(x, { sample: 2 }), /sample must be an integer in \[0, 2\)/);
    model.parameters().forEach((p) => assert.ok(p.trainable, 'trainable flags restored'));
    x.dispose(); bad.dispose();
    model.dispose();
  });
});

test('images: filters, feature maps, grid, colour maps and plots have the expected sizes and ranges; PNGs decode', async () => {
  const nn = await getEngine();
  await checkNoLeak(nn, async () => {
    const model = cnn(nn);
    const I = nn.inspect;
    const filters = I.filterImages(model);
    assert.is(filters.length, 4);
    for (const f of filters) { assert.is(f.width, 6); assert.is(f.height, 3); assert.ok(f.data.every((v) => v >= 0 && v <= 1)); }
    // Shared min-max scale: the smallest weight maps to 0 and the largest to 1.
    const all = filters.flatMap((f) => Array.from(f.data));
    assert.is(Math.min(...all), 0); assert.is(Math.max(...all), 1);
    const w = model.stateDict().get('0.weight').read();
    const mn = Math.min(...w), mx = Math.max(...w);
    assert.ok(Math.abs(filters[1].data[0 * 6 + 3] - (w[(1 * 2 + 1) * 9] - mn) / (mx - mn)) < 1e-6, 'input channel 1 sits right of channel 0');
    const x = input(nn, [2, 2, 8, 8], 4);
    const acts = model.activations(x);
    const maps = I.featureMapImages(acts[2], { sample: 1 });
    assert.is(maps.length, 4);
    assert.equal([maps[0].width, maps[0].height], [8, 8]);
    const g = I.grid(maps, { cols: 2, pad: 1, scale: 3 });
    assert.equal([g.width, g.height], [2 * 24 + 3, 2 * 24 + 3]);
    const rgba = I.toRGBA(g, 'hot');
    assert.is(rgba.data.length, g.width * g.height * 4);
    const plot = I.linePlot([{ values: [1, 0.5, 0.3] }, { values: [1.1, 0.7, 0.6] }], { width: 200, height: 120 });
    assert.equal([plot.width, plot.height], [200, 120]);
    const side = I.hstack([rgba, plot], 4);
    assert.equal([side.width, side.height], [g.width + 200 + 4, 120]);
    for (const img of [filters[0], g, rgba, plot, side]) {
      const png = PNG.sync.read(Buffer.from(await I.encodePng(img)));
      assert.equal([png.width, png.height], [img.width, img.height]);
    }
    const dir = mkdtempSync(join(tmpdir(), 'simdnn-inspect-'));
    const path = await I.writePng(join(dir, 'sub', 'grid.png'), g);
    const back = PNG.sync.read(readFileSync(path));
    assert.equal([back.width, back.height], [g.width, g.height]);
    assert.is(back.data[0], Math.round(255 * g.data[0]));   // the padding is white
    rmSync(dir, { recursive: true, force: true });
    for (const a of [...acts, x]) a.dispose();
    model.dispose();
  });
});

test('the MNIST demo writes its pictures (filters, feature maps, saliency, adversarial pair, curves) as decodable PNGs', async () => {
  const nn = await getEngine();
  const { main } = await import('../examples/mnist.mjs');
  const dir = mkdtempSync(join(tmpdir(), 'simdnn-visuals-'));
  await checkNoLeak(nn, async () => {
    const r = await main({ nn, epochs: 2, train: 600, test: 500, quiet: true, out: null, visuals: dir });
    const names = r.visuals.files.map((f) => f.slice(dir.length + 1));
    const size = (n) => { const p = PNG.sync.read(readFileSync(join(dir, n))); return [p.width, p.height]; };
    assert.equal(size('filters.png'), [8 * 36 + 9 * 2, 2 * 36 + 3 * 2]);
    assert.equal(size('feature-maps-layer2-relu.png'), [8 * 84 + 9 * 2, 2 * 84 + 3 * 2]);
    assert.equal(size('feature-maps-layer6-relu.png'), [8 * 70 + 9 * 2, 4 * 70 + 5 * 2]);
    assert.ok(names.some((n) => /^digit-\d\.png$/.test(n)));
    const sal = names.find((n) => /^saliency-\d\.png$/.test(n));
    assert.equal(size(sal), [2 * 224 + 8, 224]);
    assert.equal(size('curves-loss.png'), [480, 320]);
    assert.equal(size('curves-accuracy.png'), [480, 320]);
    const adv = names.find((n) => n.startsWith('adversarial-'));
    if (adv) {
      const m = adv.match(/^adversarial-eps([\d.]+)-true(\d)-pred(\d)-adv(\d)\.png$/);
      assert.ok(m, adv);
      assert.is(m[2], m[3], 'the original is classified correctly');
      assert.is.not(m[4], m[2], 'the adversarial one is not');
      assert.equal(size(adv), [3 * 224 + 2 * 8, 224]);
    }
    assert.is(r.visuals.fgsm[0].eps, 0);
    assert.ok(Math.abs(r.visuals.fgsm[0].accuracy - r.testAccuracy) < 1e-9, 'eps 0 is the plain accuracy');
    for (let i = 1; i < r.visuals.fgsm.length; i++) assert.ok(r.visuals.fgsm[i].accuracy <= r.visuals.fgsm[i - 1].accuracy + 0.02);
  });
  rmSync(dir, { recursive: true, force: true });
});


test('FGSM against PyTorch (test/fixtures/gen_inspect.py): input gradient by the 1e-4 rule, accuracy under attack within 1 point', async () => {
  const nn = await getEngine();
  const FX = JSON.parse(readFileSync(new URL('./fixtures/inspect/fgsm.json', import.meta.url), 'utf8'));
  const decode = (a) => {
    const b = Buffer.from(a.data, 'base64'), n = a.shape.reduce((p, d) => p * d, 1);
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const out = a.dtype === 'int32' ? new Int32Array(n) : new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = a.dtype === 'int32' ? v.getInt32(4 * i, true) : v.getFloat32(4 * i, true);
    return out;
  };
  await checkNoLeak(nn, () => {
    const model = nn.sequential(FX.layers.map(({ type, ...o }) => (Object.keys(o).length ? nn.layers[type](o) : nn.layers[type]())),
      { inputShape: FX.inputShape, seed: 1 });
    model.loadWeights(Object.fromEntries(Object.entries(FX.state).map(([k, v]) => [k, decode(v)])));
    const x = nn.tensor(decode(FX.x), FX.x.shape), labels = decode(FX.labels), N = labels.length;
    const { loss, grad, logits } = nn.inspect.lossAndInputGradient(model, x, labels);
    assertClose([loss], [FX.loss], 'loss');
    assertClose(grad.read(), decode(FX.grad), 'd loss / d x');
    for (const run of FX.fgsm) {
      const adv = nn.adversarial.fgsm(model, x, labels, run.eps);
      const p = model.predict(adv), v = p.read(), K = v.length / N;
      let correct = 0;
      for (let i = 0; i < N; i++) {
        let b = 0;
        for (let c = 1; c < K; c++) if (v[i * K + c] > v[i * K + b]) b = c;
        if (b === labels[i]) correct++;
      }
      assert.ok(Math.abs(correct / N - run.accuracy) <= 0.01, `eps ${run.eps}: accuracy ${correct / N} vs PyTorch's ${run.accuracy}`);
      adv.dispose(); p.dispose();
    }
    for (const t of [grad, logits, x]) t.dispose();
    model.dispose();
  });
});


test('through a residual container and with frozen layers: activations per top-level layer, input gradient = float64 finite difference', async () => {
  const nn = await getEngine();
  const L = nn.layers;
  await checkNoLeak(nn, () => {
    const model = nn.sequential([nn.residual([L.conv2d(2, 3, { padding: 1 }), L.tanh()]), L.flatten(), L.linear(3)],
      { inputShape: [2, 5, 5], seed: 2 });
    model.freeze(1);   // the residual block: no weight gradients, as in fine-tuning
    const shape = [2, 2, 5, 5], labels = [2, 0];
    const xv = R.f32(uniform(rng(11), 100, -1, 1));
    const x = nn.tensor(xv, shape);
    const acts = model.activations(x);
    assert.equal(acts.map((a) => a.shape), [[2, 2, 5, 5], [2, 50], [2, 3]]);
    assert.is(nn.inspect.filterImages(model).length, 2, 'the first conv2d, inside the residual block');
    const P = Object.fromEntries(model.namedParameters().map(([k, p]) => [k, R.T(p.value.read(), [...p.value.shape])]));
    const lossRef = (v) => {
      const t = R.tanh(R.conv2d(R.T(v, shape), P['0.body.0.weight'], P['0.body.0.bias'], { padding: 1 }));
      const y = t.data.map((a, i) => a + v[i]);   // body(x) + x
      return R.softmaxCrossEntropy(R.linear(R.T(y, [2, 50]), P['2.weight'], P['2.bias']), labels).loss;
    };
    const h = 1e-5, fd = new Float64Array(xv.length);
    for (let i = 0; i < xv.length; i++) {
      const a = Float64Array.from(xv); a[i] += h; const lp = lossRef(a);
      a[i] -= 2 * h; fd[i] = (lp - lossRef(a)) / (2 * h);
    }
    const before = model.parameters().map((p) => p.trainable);
    const g = model.inputGradient(x, labels);
    assertClose(g.read(), fd, 'd loss / d x through the residual block');
    assert.equal(model.parameters().map((p) => p.trainable), before, 'trainable flags as they were (frozen block stays frozen)');
    model.parameters().forEach((p) => assert.is(p.grad, null));
    for (const t of [...acts, g, x]) t.dispose();
    model.dispose();
  });
});

test.run();
