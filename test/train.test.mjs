// The training loop: fit / evaluate / predict on in-memory data and (async) iterables, callbacks and stopping,
// validation, seeded reproducibility, augmentation, progress lines, memory flat over 1,000 steps, bad input
// (labels out of range, empty data, batch size ≤ 0, NaN loss), and the MNIST demo on a short budget.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { getEngine, checkNoLeak, rng, uniform } from './helpers.mjs';

/** A separable toy problem: class k has a bright pixel at position 3k of an 1×6×6 image, plus noise. */
function toyData(n, seed = 1, classes = 4) {
  const r = rng(seed);
  const x = new Float32Array(n * 36), y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = Math.floor(r() * classes);
    for (let p = 0; p < 36; p++) x[i * 36 + p] = 0.3 * (r() - 0.5);
    x[i * 36 + 3 * y[i] + 6] += 2;
  }
  return { x, y, shape: [1, 6, 6] };
}

/** Awaits a promise that must reject with a message matching re. */
async function rejects(promise, re) {
  let err = null;
  try { await promise; } catch (e) { err = e; }
  assert.ok(err, `expected a rejection matching ${re}`);
  assert.match(err.message, re);
}

function toyModel(nn, seed = 1, extra = []) {
  const L = nn.layers;
  return nn.sequential([L.conv2d(4, 3, { padding: 1 }), L.batchNorm2d(), L.relu(), L.maxPool2d(2), ...extra, L.flatten(), L.linear(4)],
                       { inputShape: [1, 6, 6], seed });
}

test('fit learns a toy problem; history, callbacks, validation, evaluate and predict', async () => {
  const nn = await getEngine();
  await checkNoLeak(nn, async () => {
    const data = toyData(256), val = toyData(64, 2);
    const model = toyModel(nn);
    const opt = nn.optim.adam({ lr: 0.01 });
    const seen = { trainBegin: 0, epochBegin: [], batches: 0, epochEnd: [], trainEnd: null };
    const history = await model.fit(data, {
      optimizer: opt, epochs: 4, batchSize: 32, validation: val, verbose: 0,
      callbacks: {
        onTrainBegin: () => { seen.trainBegin++; },
        onEpochBegin: (e) => { seen.epochBegin.push(e); },
        onBatchEnd: async (b, logs) => {
          seen.batches++;
          assert.ok(Number.isFinite(logs.loss) && logs.accuracy >= 0 && logs.accuracy <= 1 && logs.imagesPerSec > 0 && logs.size === 32);
        },
        onEpochEnd: (e, logs) => { seen.epochEnd.push([e, logs]); },
        onTrainEnd: (h) => { seen.trainEnd = h; },
      },
    });
    assert.is(seen.trainBegin, 1);
    assert.equal(seen.epochBegin, [0, 1, 2, 3]);
    assert.is(seen.batches, 4 * 8);
    assert.is(seen.trainEnd, history);
    assert.equal(history.epochs, [0, 1, 2, 3]);
    const h = history.history;
    assert.is(h.loss.length, 4);
    assert.ok(h.loss[3] < h.loss[0], 'loss decreases');
    assert.ok(h.accuracy[3] > 0.9, `train accuracy ${h.accuracy[3]}`);
    assert.ok(h.valAccuracy[3] > 0.9, `validation accuracy ${h.valAccuracy[3]}`);
    assert.ok(h.seconds.every((s) => s > 0) && h.imagesPerSec.every((v) => v > 0));
    assert.is(opt.iterations, 32);
    assert.is(model.training, true, 'mode restored');
    assert.ok(model.parameters().every((p) => p.grad === null), 'gradients freed after fit');
    const ev = await model.evaluate(val);
    assert.ok(Math.abs(ev.accuracy - h.valAccuracy[3]) < 1e-12 && ev.count === 64);
    // predict: whole or in batches (25 + 25 + 14, or 7s), from a Tensor or an array: the same outputs.
    const xt = nn.tensor(val.x, [64, 1, 6, 6]);
    const p1 = model.predict(xt), p2 = model.predict(val.x, { batchSize: 25 }), p3 = model.predict(xt, { batchSize: 7 });
    assert.equal([...p1.shape], [64, 4]);
    assert.equal(p1.read(), p2.read());
    assert.equal(p1.read(), p3.read());
    let correct = 0;
    const pv = p1.read();
    for (let i = 0; i < 64; i++) {
      let best = 0;
      for (let k = 1; k < 4; k++) if (pv[i * 4 + k] > pv[i * 4 + best]) best = k;
      if (best === val.y[i]) correct++;
    }
    assert.is(correct / 64, ev.accuracy);
    for (const t of [xt, p1, p2, p3]) t.dispose();
    opt.dispose(); model.dispose();
  });
});

test('a seeded fit is reproducible (weights, shuffling, dropout, augmentation)', async () => {
  const nn = await getEngine();
  await checkNoLeak(nn, async () => {
    const data = toyData(96, 3);
    const run = async (seed) => {
      const model = toyModel(nn, 7, [nn.layers.dropout(0.3)]);
      const opt = nn.optim.sgd({ lr: 0.05, momentum: 0.9 });
      const aug = nn.augment.compose(nn.augment.randomShift({ max: 1 }), nn.augment.randomFlip({ p: 0.5 }));
      await model.fit(data, { optimizer: opt, epochs: 2, batchSize: 16, seed, augment: aug, verbose: 0 });
      const w = model.parameters().map((p) => Array.from(p.value.read()));
      opt.dispose(); model.dispose();
      return w;
    };
    const a = await run(5), b = await run(5), c = await run(6);
    assert.equal(a, b);
    assert.not.equal(a, c);
  });
});

test('fit takes an async iterable (or a function returning one) of batches; model.stopTraining / false stop it', async () => {
  const nn = await getEngine();
  await checkNoLeak(nn, async () => {
    const data = toyData(128, 4);
    const model = toyModel(nn);
    const opt = nn.optim.adam({ lr: 0.01, schedule: nn.optim.schedules.cosine() });
    async function* batches() {
      for (let i = 0; i < 128; i += 32) {
        // Mixed forms: arrays, and tensors the caller owns.
        if (i === 32) {
          const x = nn.tensor(data.x.subarray(i * 36, (i + 32) * 36), [32, 1, 6, 6]);
          const y = nn.tensor(data.y.subarray(i, i + 32), [32], 'int32');
          yield { x, y };
          x.dispose(); y.dispose();
        } else {
          yield { x: data.x.subarray(i * 36, (i + 32) * 36), y: data.y.subarray(i, i + 32) };
        }
      }
    }
    const h = await model.fit(() => batches(), { optimizer: opt, epochs: 3, stepsPerEpoch: 4, verbose: 0 });
    assert.is(h.epochs.length, 3);
    assert.is(opt.iterations, 12);
    assert.ok(opt.lr < 0.01 * 0.1, 'cosine over stepsPerEpoch × epochs ends near 0');
    const ev = await model.evaluate(batches());
    assert.is(ev.count, 128);
    let epochs = 0;
    const h2 = await model.fit(data, { optimizer: opt, epochs: 5, batchSize: 16, verbose: 0,
      callbacks: { onEpochEnd: () => { epochs++; if (epochs === 2) model.stopTraining = true; } } });
    assert.is(h2.epochs.length, 2);
    let batchesRun = 0;
    const h3 = await model.fit(data, { optimizer: opt, epochs: 5, batchSize: 16, verbose: 0,
      callbacks: { onBatchEnd: () => ++batchesRun < 3 } });
    assert.is(batchesRun, 3);
    assert.is(h3.epochs.length, 1);
    opt.dispose(); model.dispose();
  });
});

test('1,000 training steps: nn.memory() is flat after the first', async () => {
  const nn = await getEngine();
  await checkNoLeak(nn, async () => {
    const L = nn.layers;
    const model = nn.sequential([L.conv2d(2, 3, { padding: 1 }), L.batchNorm2d(), L.relu(), L.maxPool2d(2), L.dropout(0.1),
                                 L.flatten(), L.linear(3)], { inputShape: [1, 4, 4], seed: 1 });
    const opt = nn.optim.adamw(model, { lr: 1e-3, clipGradNorm: 5 });
    const r = rng(9);
    const x = nn.tensor(uniform(r, 4 * 16), [4, 1, 4, 4]);
    const y = nn.tensor([0, 1, 2, 1], [4], 'int32');
    model.trainStep(x, y, opt);
    const after1 = nn.memory();
    for (let i = 1; i < 1000; i++) {
      model.trainStep(x, y, opt);
      if (i % 100 === 0 || i === 999) {
        const m = nn.memory();
        assert.is(m.tensors, after1.tensors, `tensors after step ${i + 1}`);
        assert.is(m.bytes, after1.bytes, `bytes after step ${i + 1}`);
        assert.is(m.heapBytes, after1.heapBytes, `heap after step ${i + 1}`);
      }
    }
    // Inside nn.tidy: the model's and optimizer's long-lived tensors survive the scope, the rest does not.
    for (let i = 0; i < 3; i++) nn.tidy(() => { model.trainStep(x, y, opt); });
    assert.is(nn.memory().tensors, after1.tensors);
    // fit() too: same footprint after every epoch.
    const data = { x: uniform(r, 40 * 16), y: Int32Array.from({ length: 40 }, (_, i) => i % 3) };
    const sizes = [];
    await model.fit(data, { optimizer: opt, epochs: 4, batchSize: 8, verbose: 0, callbacks: { onEpochEnd: () => { sizes.push(nn.memory().tensors); } } });
    assert.ok(sizes.every((s) => s === sizes[0]), `tensors per epoch ${sizes}`);
    x.dispose(); y.dispose(); model.zeroGrad(); opt.dispose(); model.dispose();
  });
});

test('bad input: labels out of range, empty data, batch size ≤ 0, shape mismatches, NaN loss — clear errors, nothing leaked', async () => {
  const nn = await getEngine();
  await checkNoLeak(nn, async () => {
    const model = toyModel(nn);
    const opt = nn.optim.sgd({ lr: 0.1 });
    const data = toyData(20);
    const fit = (d, o = {}) => model.fit(d, { optimizer: opt, verbose: 0, ...o });
    const bad = toyData(20); bad.y[7] = 4;
    await rejects(fit(bad), /fit: y\[7\] = 4 is not a class index in \[0, 4\) \(the model outputs 4 classes\)/);
    const neg = toyData(20); neg.y[0] = -1;
    await rejects(fit(neg), /y\[0\] = -1 is not a class index/);
    await rejects(fit({ x: new Float32Array(0), y: new Int32Array(0) }), /fit: the data is empty \(0 samples\)/);
    await rejects(fit(data, { batchSize: 0 }), /fit: batchSize must be a positive integer, got 0/);
    await rejects(fit(data, { batchSize: -4 }), /batchSize must be a positive integer, got -4/);
    await rejects(fit(data, { epochs: 1.5 }), /epochs must be a positive integer/);
    await rejects(fit({ x: data.x.subarray(1), y: data.y }), /x has 719 values, expected 20 samples × 36/);
    await rejects(fit({ x: data.x, y: data.y, shape: [1, 5, 5] }), /shape \[1, 5, 5\] do not match the model's input \[1, 6, 6\]/);
    await rejects(model.fit(data, { verbose: 0 }), /fit: optimizer is required/);
    await rejects(fit(data, { epoch: 2 }), /fit: unknown option 'epoch'/);
    await rejects(fit(data, { validationSplit: 1 }), /validationSplit must be in \(0, 1\)/);
    const nanX = toyData(20); nanX.x[40] = NaN;
    await rejects(fit(nanX), /fit: x\[40\] = NaN is not finite \(sample 1\)/);
    await rejects(model.evaluate({ x: data.x, y: data.y }, { batchSize: 0 }), /evaluate: batchSize must be a positive integer/);
    assert.throws(() => model.predict(new Float32Array(35)), /predict: x must hold samples of the model's input \[1, 6, 6\]/);
    // NaN loss: a learning rate that blows the weights up stops training with the step, and leaves no tensor behind.
    const big = nn.optim.sgd({ lr: 1e30 });
    const err = await fit(data, { optimizer: big, epochs: 3, batchSize: 4 }).then(() => null, (e) => e);
    assert.ok(err, 'diverging training must throw');
    assert.match(err.message, /^fit: epoch \d\/3, batch \d\/5: the loss is (NaN|Infinity) at optimizer step \d+/);
    assert.match(err.message, /Lower the learning rate/);
    assert.ok(model.parameters().every((p) => p.grad === null));
    // trainStep on its own.
    const x = nn.tensor(data.x.subarray(0, 72), [2, 1, 6, 6]);
    const l9 = nn.tensor([0, 9], [2], 'int32'), lf = nn.tensor([0, 1], [2]);
    assert.throws(() => model.trainStep(x, l9, opt), /softmaxCrossEntropy: labels\[1\] must be in \[0, 4\), got 9/);
    assert.throws(() => model.trainStep(x, lf, opt), /trainStep: labels must be an int32 Tensor/);
    const stranger = toyModel(nn, 2), bound = nn.optim.sgd(stranger, { lr: 0.1 });
    assert.throws(() => model.trainStep(x, l9, bound), /optimizer is bound to parameters of another model/);
    stranger.dispose();
    for (const t of [x, l9, lf]) t.dispose();
    opt.dispose(); big.dispose(); model.dispose();
  });
});

test('progress: plain lines when stdout is not a terminal (one per epoch, with loss, accuracy, images/s)', async () => {
  const nn = await getEngine();
  await checkNoLeak(nn, async () => {
    const model = toyModel(nn);
    const opt = nn.optim.adam({ lr: 0.01 });
    const lines = [];
    await model.fit(toyData(64), { optimizer: opt, epochs: 2, batchSize: 16, validationSplit: 0.25, print: (s) => lines.push(s) });
    assert.is(lines.length, 2);
    assert.match(lines[0], /^epoch 1\/2  loss \d\.\d{4}  acc \d+\.\d\d%  val_loss \d\.\d{4}  val_acc \d+\.\d\d%  \d+\.\d s  [\d,]+ img\/s  lr 0\.0100$/);
    // lineInterval 0: a line after every batch too.
    const more = [];
    await model.fit(toyData(32), { optimizer: opt, epochs: 1, batchSize: 16, verbose: 'lines', print: (s) => more.push(s), lineInterval: 0 });
    assert.equal(more.length, 3);
    assert.match(more[0], /^ {2}epoch 1\/1  batch 1\/2  loss/);
    // 'bar' loads cli-progress (which draws nothing on a non-terminal stream); the epoch lines still come.
    const withBar = [];
    await model.fit(toyData(32), { optimizer: opt, epochs: 2, batchSize: 16, verbose: 'bar', print: (s) => withBar.push(s) });
    assert.is(withBar.length, 2);
    assert.match(withBar[1], /^epoch 2\/2  loss/);
    opt.dispose(); model.dispose();
  });
});

test('augmentation transforms: shapes kept, seeded, flips and shifts move pixels as stated', async () => {
  const nn = await getEngine();
  const { Rng } = await import('simdnn');
  const A = nn.augment;
  const img = Float32Array.from({ length: 2 * 1 * 3 * 4 }, (_, i) => i + 1);
  const flipped = img.slice();
  A.randomFlip({ p: 1 })(flipped, [2, 1, 3, 4], new Rng(1));
  assert.equal(Array.from(flipped.subarray(0, 4)), [4, 3, 2, 1]);
  const vflip = img.slice();
  A.randomFlip({ horizontal: false, vertical: true, p: 1 })(vflip, [2, 1, 3, 4], new Rng(1));
  assert.equal(Array.from(vflip.subarray(0, 4)), [9, 10, 11, 12]);
  const shifted = img.slice();
  A.randomShift({ max: 1, fill: -1 })(shifted, [2, 1, 3, 4], new Rng(3));
  for (let n = 0; n < 2; n++) {
    const s = shifted.subarray(n * 12, n * 12 + 12), o = img.subarray(n * 12, n * 12 + 12);
    // Every value is either the fill or an original pixel of the same sample, and the multiset shrinks only by fill.
    assert.ok(Array.from(s).every((v) => v === -1 || o.includes(v)));
  }
  const rot = img.slice();
  A.randomRotation({ degrees: 0 })(rot, [2, 1, 3, 4], new Rng(1));
  assert.equal(rot, img, '0° rotation is the identity');
  const r1 = img.slice(), r2 = img.slice();
  const t = A.compose(A.randomCrop({ padding: 1 }), A.randomRotation({ degrees: 15 }), A.gaussianNoise({ std: 0.1 }));
  t(r1, [2, 1, 3, 4], new Rng(8)); t(r2, [2, 1, 3, 4], new Rng(8));
  assert.equal(r1, r2, 'seeded');
  assert.match(t.description, /randomCrop\(padding 1\) → randomRotation\(±15°\) → gaussianNoise\(0.1\)/);
  assert.throws(() => A.randomShift({ max: -1 }), /max must be a non-negative integer/);
  assert.throws(() => A.compose(3), /compose: argument 0 must be a transform/);
});

test('the MNIST demo on a short budget: 1 epoch on 2,000 digits reaches > 90 % on 1,000 held out, and its checkpoint reloads', async () => {
  const nn = await getEngine();
  const { main } = await import('../examples/mnist.mjs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { rmSync } = await import('node:fs');
  const out = join(tmpdir(), `simdnn-demo-${process.pid}.safetensors`);
  await checkNoLeak(nn, async () => {
    const r = await main({ nn, epochs: 1, train: 2000, test: 1000, quiet: true, out });
    assert.ok(r.testAccuracy > 0.9, `test accuracy ${r.testAccuracy}`);
    assert.is(r.checkpoint, out);
  });
  rmSync(out, { force: true });
});

test.run();
