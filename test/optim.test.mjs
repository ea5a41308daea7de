// Optimizers (over ops.sgdStep / ops.adamStep), learning-rate schedules (checked against torch.optim.lr_scheduler
// values), gradient clipping and zeroing, argument errors. PyTorch parity of whole training steps is in
// train-e2e.test.mjs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { getEngine, assertClose, checkNoLeak, rng, uniform } from './helpers.mjs';

const randArr = (seed, n, lo = -1, hi = 1) => Float32Array.from(uniform(rng(seed), n, lo, hi));

function tinyModel(nn, seed = 1) {
  return nn.sequential([nn.layers.linear(3), nn.layers.tanh(), nn.layers.linear(2)], { inputShape: [4], seed });
}

/** Gives every parameter of the model the gradient of one backward pass on fixed data. */
function backwardOnce(nn, model, seed = 5) {
  const x = nn.tensor(randArr(seed, 8 * 4), [8, 4]);
  const y = model.forward(x);
  const dy = nn.tensor(randArr(seed + 1, y.size), y.shape);
  model.backward(dy);
  for (const t of [x, y, dy]) t.dispose();
}

/** LR sequence of a schedule over n optimizer steps. */
function lrs(nn, schedule, n, lr = 0.1, context = { stepsPerEpoch: null, totalSteps: null }) {
  const m = tinyModel(nn);
  const opt = nn.optim.sgd(m, { lr, schedule });
  opt.context = context;
  const out = [];
  for (let i = 0; i < n; i++) {
    out.push(opt.currentLr());
    backwardOnce(nn, m);
    opt.step();
    assert.is(opt.lr, out[i]);
    m.zeroGrad();
  }
  opt.dispose(); m.dispose();
  return out;
}

test('sgd / adam / adamw step the parameters exactly as the ops do', async () => {
  const nn = await getEngine();
  await checkNoLeak(nn, () => {
    for (const [make, step] of [
      [(m) => nn.optim.sgd(m, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-2 }),
       (p, g, s) => nn.ops.sgdStep(p, g, s, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-2 })],
      [(m) => nn.optim.adam(m, { lr: 0.01, beta1: 0.8, weightDecay: 1e-3 }),
       (p, g, s) => nn.ops.adamStep(p, g, s, { lr: 0.01, beta1: 0.8, weightDecay: 1e-3 })],
      [(m) => nn.optim.adamw(m), (p, g, s) => nn.ops.adamStep(p, g, s, { lr: 1e-3, weightDecay: 0.01, decoupled: true })],
    ]) {
      const a = tinyModel(nn, 3), b = tinyModel(nn, 3);
      const opt = make(a);
      const states = new Map();
      for (let k = 0; k < 3; k++) {
        backwardOnce(nn, a, 10 + k); backwardOnce(nn, b, 10 + k);
        opt.step();
        for (const p of b.parameters()) states.set(p, step(p.value, p.grad, states.get(p) ?? null));
        a.zeroGrad(); b.zeroGrad();
      }
      a.parameters().forEach((p, i) => assert.equal(p.value.read(), b.parameters()[i].value.read(), `${opt.type} param ${i}`));
      assert.is(opt.iterations, 3);
      for (const s of states.values()) s.dispose();
      opt.dispose(); a.dispose(); b.dispose();
    }
  });
});

test('sgd with momentum: the first step does not read the (uninitialised) momentum buffer', async () => {
  const nn = await getEngine();
  await checkNoLeak(nn, () => {
    for (const n of [37, 1000]) {   // a vector tail and the SIMD body
      // Leave NaN in freed blocks of every size class the state may be given, so that its buffer starts as garbage.
      const garbage = Array.from({ length: 8 }, () => nn.tensor(new Float32Array(n).fill(NaN), [n]));
      for (const t of garbage) t.dispose();
      const p = nn.tensor(randArr(3, n), [n]), g = nn.tensor(randArr(4, n), [n]);
      const want = Float32Array.from(p.read(), (v, i) => v - 0.1 * (g.read()[i] + 0.01 * v));
      const state = nn.ops.sgdStep(p, g, null, { lr: 0.1, momentum: 0.9, weightDecay: 0.01 });
      assertClose(p.read(), want, `first momentum step, n = ${n}`);
      assert.ok(state.momentumBuffer.read().every(Number.isFinite), `momentum buffer after the first step, n = ${n}`);
      state.dispose();
      p.dispose(); g.dispose();
    }
  });
});

test('optimizers: unbound (step(model)), skip parameters without a gradient, zeroGrad, dispose frees the state', async () => {
  const nn = await getEngine();
  await checkNoLeak(nn, () => {
    const m = tinyModel(nn);
    const opt = nn.optim.sgd({ lr: 0.1, momentum: 0.5 });
    assert.throws(() => opt.step(), /sgd.step: no parameters/);
    const before = m.parameters().map((p) => p.value.read());
    opt.step(m);   // no gradients yet: nothing changes
    m.parameters().forEach((p, i) => assert.equal(p.value.read(), before[i]));
    assert.is(opt.stateSize, 0);
    backwardOnce(nn, m);
    m.parameters()[0].zeroGrad();   // only this one has none now
    opt.step(m);
    assert.equal(m.parameters()[0].value.read(), before[0]);
    assert.not.equal(m.parameters()[1].value.read(), before[1]);
    assert.is(opt.stateSize, 3);
    opt.zeroGrad(m);
    assert.ok(m.parameters().every((p) => p.grad === null));
    // Gradients accumulate across backward passes until zeroed (PyTorch semantics).
    backwardOnce(nn, m);
    const g1 = m.parameters()[2].grad.read();
    backwardOnce(nn, m);
    assertClose(m.parameters()[2].grad.read(), g1.map((v) => 2 * v), 'accumulated grad');
    m.zeroGrad();
    opt.dispose();
    m.dispose();
  });
});

test('schedules match torch.optim.lr_scheduler (OneCycleLR, CosineAnnealingLR, StepLR, ExponentialLR) and warm-up', async () => {
  const nn = await getEngine();
  const S = nn.optim.schedules;
  await checkNoLeak(nn, () => {
    assertClose(lrs(nn, S.oneCycle({ steps: 10 }), 10),
      [0.004, 0.052, 0.1, 0.095048463201, 0.081174565395, 0.061126202194, 0.038874197806, 0.018825834605, 0.004951936799, 4e-07], 'oneCycle', 1e-6);
    assertClose(lrs(nn, S.oneCycle({ maxLr: 0.02, pctStart: 0.25, divFactor: 10, finalDivFactor: 100 }), 7, 0.1, { stepsPerEpoch: 7, totalSteps: 7 }),
      [0.002, 0.019888419954, 0.0173331882, 0.01223298413, 0.006360243167, 0.001755874645, 2e-05], 'oneCycle (fit context)', 1e-6);
    assertClose(lrs(nn, S.cosine({ steps: 10, minLr: 0.001 }), 11),
      [0.1, 0.097577297557, 0.090546341222, 0.079595369988, 0.065796341222, 0.0505, 0.035203658778, 0.021404630012, 0.010453658778,
       0.003422702443, 0.001], 'cosine', 1e-6);
    assertClose(lrs(nn, S.step({ stepSize: 2, gamma: 0.5 }), 6, 0.1, { stepsPerEpoch: 1, totalSteps: 6 }),
      [0.1, 0.1, 0.05, 0.05, 0.025, 0.025], 'step per epoch');
    assertClose(lrs(nn, S.step({ stepSize: 3, gamma: 0.1, unit: 'step' }), 7), [0.1, 0.1, 0.1, 0.01, 0.01, 0.01, 0.001], 'step per step');
    assertClose(lrs(nn, S.exponential({ gamma: 0.9, unit: 'step' }), 3), [0.1, 0.09, 0.081], 'exponential');
    assertClose(lrs(nn, S.warmup({ steps: 4 }), 6), [0.025, 0.05, 0.075, 0.1, 0.1, 0.1], 'linear warm-up');
    const wc = lrs(nn, S.warmup({ steps: 2, then: S.cosine({ steps: 4 }) }), 7);
    assertClose(wc, [0.05, 0.1, 0.1, 0.1 * (1 + Math.cos(Math.PI / 4)) / 2, 0.05, 0.1 * (1 + Math.cos(3 * Math.PI / 4)) / 2, 0], 'warm-up then cosine', 1e-6);
  });
  assert.throws(() => lrs(nn, S.cosine(), 1), /schedules.cosine: the schedule length is unknown/);
  assert.throws(() => lrs(nn, S.step({ stepSize: 1 }), 1), /unit 'epoch' needs the steps per epoch/);
  assert.throws(() => lrs(nn, () => NaN, 1), /the schedule returned learning rate NaN at step 0/);
  assert.throws(() => S.oneCycle({ pctStart: 1 }), /pctStart must be in \(0, 1\)/);
  assert.throws(() => S.step({ stepSize: 0 }), /stepSize must be a positive number/);
});

test('gradient clipping by global norm (clip_grad_norm_) and by value', async () => {
  const nn = await getEngine();
  await checkNoLeak(nn, () => {
    const m = tinyModel(nn);
    backwardOnce(nn, m);
    const grads = m.parameters().map((p) => Array.from(p.grad.read()));
    const norm = Math.sqrt(grads.flat().reduce((a, v) => a + v * v, 0));
    const got = nn.optim.clipGradNorm(m, norm / 4);
    assertClose([got], [norm], 'returned norm');
    m.parameters().forEach((p, i) => assertClose(p.grad.read(), grads[i].map((v) => v * (norm / 4) / (norm + 1e-6)), `clipped ${i}`));
    const after = Math.sqrt(m.parameters().flatMap((p) => Array.from(p.grad.read())).reduce((a, v) => a + v * v, 0));
    assertClose([after], [norm / 4], 'norm after');
    nn.optim.clipGradNorm(m, 1e9);   // under the limit: unchanged
    assertClose([Math.sqrt(m.parameters().flatMap((p) => Array.from(p.grad.read())).reduce((a, v) => a + v * v, 0))], [norm / 4]);
    nn.optim.clipGradValue(m, 0.01);
    assert.ok(m.parameters().every((p) => p.grad.read().every((v) => Math.abs(v) <= 0.01)));
    m.zeroGrad();
    // As an optimizer option: measured before the step.
    const opt = nn.optim.sgd(m, { lr: 0.1, clipGradNorm: 1e-3 });
    backwardOnce(nn, m);
    const before = m.parameters().map((p) => p.value.read());
    opt.step();
    assertClose([opt.lastGradNorm], [norm], 'lastGradNorm');
    const moved = Math.sqrt(m.parameters().flatMap((p, i) => Array.from(p.value.read()).map((v, k) => v - before[i][k])).reduce((a, v) => a + v * v, 0));
    assert.ok(Math.abs(moved - 0.1 * 1e-3) < 1e-6, `update norm ${moved}`);
    m.zeroGrad(); opt.dispose(); m.dispose();
  });
});

test('optimizer arguments are checked when it is made', async () => {
  const nn = await getEngine();
  assert.throws(() => nn.optim.sgd({}), /sgd: lr must be a non-negative number, got undefined/);
  assert.throws(() => nn.optim.sgd({ lr: 0.1, mommentum: 0.9 }), /sgd: unknown option 'mommentum'/);
  assert.throws(() => nn.optim.sgd({ lr: 0.1, nesterov: true }), /nesterov needs momentum > 0/);
  assert.throws(() => nn.optim.adam({ beta1: 1 }), /adam: beta1 must be in \[0, 1\), got 1/);
  assert.throws(() => nn.optim.adamw({ lr: -1 }), /adamw: lr must be a non-negative number, got -1/);
  assert.throws(() => nn.optim.adam({ clipGradNorm: 0 }), /clipGradNorm must be a positive number/);
  assert.throws(() => nn.optim.sgd([{}], { lr: 1 }), /params must be a model or an array of its parameters/);
  assert.throws(() => nn.optim.adam({ schedule: 3 }), /schedule must be a function/);
  const a = nn.optim.adam();
  assert.is(a.lr, 1e-3);
  assert.is(nn.optim.adamw().weightDecay, 0.01);
});

test.run();
