// Bad input: every op rejects it with an Error naming the op, the argument, the expected and actual value,
// and nothing leaks when it does.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { init } from 'simdnn';
import { BACKEND, getEngine, checkNoLeak } from './helpers.mjs';

/** Runs each [fn, regex] case and checks it throws an Error matching regex. */
function expectErrors(cases) {
  for (const [fn, re] of cases) {
    let error = null;
    try { fn(); } catch (e) { error = e; }
    assert.ok(error instanceof Error, `expected an Error matching ${re}, got ${error}`);
    assert.match(error.message, re);
  }
}

async function withTensors(make, body) {
  const nn = await getEngine();
  const made = [];
  const t = (shape, dtype = 'float32') => {
    const n = shape.reduce((a, b) => a * b, 1);
    const x = nn.tensor(Array.from({ length: n }, (_, i) => (i % 7) - 3), shape, dtype);
    made.push(x);
    return x;
  };
  await checkNoLeak(nn, () => {
    try {
      body(nn, make(t));
    } finally {
      for (const x of made) x.dispose();
    }
  });
}

test('conv2d: rank, channels, groups, sizes, padding, dtype', () => withTensors(
  (t) => ({ x: t([2, 4, 5, 5]), w: t([6, 4, 3, 3]), wg: t([6, 2, 3, 3]), b: t([6]), xi: t([2, 4, 5, 5], 'int32') }),
  (nn, { x, w, wg, b, xi }) => {
    const { conv2d } = nn.ops;
    expectErrors([
      [() => conv2d(x.read(), w, b), /conv2d: x must be a Tensor/],
      [() => conv2d(b, w, null), /conv2d: x must have rank 4, got rank 1 \(shape \[6\]\)/],
      [() => conv2d(x, b, null), /conv2d: w must have rank 4, got rank 1/],
      [() => conv2d(x, wg, null), /conv2d: w.shape\[1\] must be Cin\/groups = 4\/1 = 4, got 2/],
      [() => conv2d(x, wg, null, { groups: 3 }), /conv2d: groups must be a divisor of the input channels 4, got 3/],
      [() => conv2d(x, w, null, { groups: 4 }), /conv2d: groups must be a divisor of the output channels 6 \(w.shape\[0\]\), got 4/],
      [() => conv2d(x, w, x), /conv2d: b must have shape \[6\], got \[2, 4, 5, 5\]/],
      [() => conv2d(x, w, null, { stride: 0 }), /conv2d: stride must be a positive integer or a pair of them, got 0/],
      [() => conv2d(x, w, null, { stride: 1.5 }), /conv2d: stride must be a positive integer/],
      [() => conv2d(x, w, null, { dilation: -1 }), /conv2d: dilation must be a positive integer/],
      [() => conv2d(x, w, null, { padding: -1 }), /conv2d: padding must be a non-negative integer/],
      [() => conv2d(x, w, null, { padding: [1, 2, 3] }), /conv2d: padding must be a non-negative integer or a pair/],
      [() => conv2d(x, w, null, { dilation: 3 }), /conv2d: output size must be positive: input H=5, W=5 .* gives -1×-1/],
      [() => conv2d(x, w, null, { padding: 5, paddingMode: 'reflect' }), /conv2d: padding \(top\) must be < the input H 5 for paddingMode 'reflect', got 5/],
      [() => conv2d(x, w, null, { padding: 6, paddingMode: 'circular' }), /conv2d: padding \(top\) must be ≤ the input H 5 for paddingMode 'circular', got 6/],
      [() => conv2d(x, w, null, { paddingMode: 'mirror' }), /conv2d: paddingMode must be 'zeros' \| 'reflect' \| 'replicate' \| 'circular', got 'mirror'/],
      [() => conv2d(xi, w, null), /conv2d: x must have dtype float32, got int32/],
      [() => conv2d(x, w, null, 5), /conv2d: options must be an object, got 5/],
    ]);
  }));

test('conv2dBackward and conv1d: dy shape and conv1d ranks', () => withTensors(
  (t) => ({ x: t([2, 4, 5, 5]), w: t([6, 4, 3, 3]), dy: t([2, 6, 4, 4]), x1: t([2, 3, 9]), w1: t([4, 3, 3]) }),
  (nn, { x, w, dy, x1, w1 }) => {
    expectErrors([
      [() => nn.ops.conv2dBackward(dy, x, w, {}), /conv2dBackward: dy must have shape \[2, 6, 3, 3\], got \[2, 6, 4, 4\]/],
      [() => nn.ops.conv1d(x, w1, null), /conv1d: x must have rank 3, got rank 4/],
      [() => nn.ops.conv1d(x1, w, null), /conv1d: w must have rank 3, got rank 4/],
      [() => nn.ops.conv1d(x1, w1, null, { padding: [1, 2, 3] }), /conv1d: padding must be a non-negative integer, \[left, right\], 'same' or 'valid'/],
      [() => nn.ops.conv1d(x1, w1, null, { stride: [1, 1] }), /conv1d: stride must be a positive integer, got \[1, 1\]/],
      [() => nn.ops.conv1dBackward(x1, x1, w1, {}), /conv1dBackward: dy must have shape \[2, 4, 7\], got \[2, 3, 9\]/],
    ]);
  }));

test('pooling: kernel, stride, padding vs kernel, output size, indices, xShape', () => withTensors(
  (t) => ({ x: t([1, 2, 4, 4]), dy: t([1, 2, 2, 2]), idx: t([1, 2, 2, 2], 'int32'), bad: t([1, 2, 2, 2], 'int32'), v: t([2]) }),
  (nn, { x, dy, idx, bad, v }) => {
    const o = nn.ops;
    bad.write([0, 1, 2, 99, 0, 0, 0, 0]);
    expectErrors([
      [() => o.maxPool2d(x, {}), /maxPool2d: kernel must be a positive integer or a pair of them, got undefined/],
      [() => o.maxPool2d(x, { kernel: 0 }), /maxPool2d: kernel must be a positive integer/],
      [() => o.maxPool2d(x, { kernel: 2, stride: -1 }), /maxPool2d: stride must be a positive integer/],
      [() => o.maxPool2d(x, { kernel: 2, padding: 2 }), /maxPool2d: padding must be at most half the kernel \(≤ \[1, 1\] for kernel \[2, 2\]\), got \[2, 2\]/],
      [() => o.maxPool2d(x, { kernel: 5 }), /maxPool2d: output size must be positive: input 4×4, kernel 5×5/],
      [() => o.maxPool2dValues(x, { kernel: 2, padding: 2 }), /maxPool2dValues: padding must be at most half the kernel/],
      [() => o.maxPool2dValues(v, { kernel: 2 }), /maxPool2dValues: x must have rank 4/],
      [() => o.maxPool2d(x, { kernel: 2, dilation: 0 }), /maxPool2d: dilation must be a positive integer/],
      [() => o.maxPool2d(x, { kernel: 2, ceilMode: 1 }), /maxPool2d: ceilMode must be a boolean, got 1/],
      [() => o.maxPool2d(idx, { kernel: 2 }), /maxPool2d: x must have dtype float32, got int32/],
      [() => o.maxPool2dBackward(dy, dy, [1, 2, 4, 4]), /maxPool2dBackward: indices must have dtype int32, got float32/],
      [() => o.maxPool2dBackward(dy, idx, [1, 3, 4, 4]), /maxPool2dBackward: dy must have N, C = 1, 3 of xShape \[1, 3, 4, 4\]/],
      [() => o.maxPool2dBackward(dy, idx, [1, 2, 4]), /maxPool2dBackward: xShape must be a 4-element shape/],
      [() => o.maxPool2dBackward(dy, bad, [1, 2, 4, 4]), /maxPool2dBackward: indices must lie in \[0, H·W = 16\), got 1 outside/],
      [() => o.avgPool2d(x, { kernel: 2, divisorOverride: 0 }), /avgPool2d: divisorOverride must be a positive integer, got 0/],
      [() => o.avgPool2d(x, { kernel: 2, dilation: 2 }), /avgPool2d: options must be without dilation/],
      [() => o.avgPool2d(x, { kernel: 3, padding: 2 }), /avgPool2d: padding must be at most half the kernel/],
      [() => o.avgPool2dBackward(x, [1, 2, 4, 4], { kernel: 2 }), /avgPool2dBackward: dy must have shape \[1, 2, 2, 2\], got \[1, 2, 4, 4\]/],
      [() => o.globalAvgPool2d(dy.read()), /globalAvgPool2d: x must be a Tensor/],
      [() => o.globalAvgPool2dBackward(dy, [1, 2, 4, 4]), /globalAvgPool2dBackward: dy must have shape \[1, 2, 1, 1\], got \[1, 2, 2, 2\]/],
    ]);
  }));

test('normalisation: parameter shapes, groups, eval without running stats, normalizedShape', () => withTensors(
  (t) => ({ x: t([2, 4, 3, 3]), c4: t([4]), c3: t([3]), one: t([1, 4, 1, 1]) }),
  (nn, { x, c4, c3, one }) => {
    const o = nn.ops;
    expectErrors([
      [() => o.batchNorm2d(x, c3, c4, c4, c4, { training: true }), /batchNorm2d: gamma must have shape \[4\], got \[3\]/],
      [() => o.batchNorm2d(x, c4, c4, null, null, { training: false }), /batchNorm2d: runningMean must be a tensor in eval mode/],
      [() => o.batchNorm2d(x, c4, c4, c4, null, { training: true }), /batchNorm2d: runningMean\/runningVar must be both tensors or both null/],
      [() => o.batchNorm2d(one, null, null, null, null, { training: true }), /batchNorm2d: training needs more than 1 value per channel, got input shape \[1, 4, 1, 1\]/],
      [() => o.batchNorm2d(x, null, null, c4, c4, { eps: -1 }), /batchNorm2d: eps must be a finite number ≥ 0, got -1/],
      [() => o.batchNorm2d(x, null, null, c4, c4, { momentum: NaN }), /batchNorm2d: momentum must be a finite number ≥ 0, got NaN/],
      [() => o.batchNorm2dBackward(x, x, c4, c3, c4), /batchNorm2dBackward: mean must have shape \[4\], got \[3\]/],
      [() => o.layerNorm(x, [4, 3], null, null), /layerNorm: normalizedShape \[4, 3\] must equal the trailing dims of x \[2, 4, 3, 3\]/],
      [() => o.layerNorm(x, [3, 3], c3, null), /layerNorm: gamma must have shape \[3, 3\], got \[3\]/],
      [() => o.layerNorm(x, [0], null, null), /layerNorm: normalizedShape must be an array of positive integers, got \[0\]/],
      [() => o.groupNorm(x, 3, null, null), /groupNorm: groups must be a divisor of the channels 4, got 3/],
      [() => o.groupNorm(x, 0, null, null), /groupNorm: groups must be a positive integer, got 0/],
      [() => o.groupNorm(x, 2, c3, c4), /groupNorm: gamma must have shape \[4\], got \[3\]/],
      [() => o.groupNormBackward(x, x, 2, c4, { mean: c4, invStd: c4 }), /groupNormBackward: mean must have shape \[2, 2\], got \[4\]/],
      [() => o.instanceNorm(c4, null, null), /instanceNorm: x must have rank ≥ 3, got rank 1/],
      [() => o.instanceNormBackward(x, x, null, {}), /instanceNormBackward: mean must be a Tensor, got undefined/],
    ]);
  }));

test('activations, linear, loss', () => withTensors(
  (t) => ({ a: t([2, 3]), b: t([3, 2]), w: t([5, 3]), w4: t([5, 4]), lab: t([2], 'int32'), lab3: t([3], 'int32') }),
  (nn, { a, b, w, w4, lab, lab3 }) => {
    const o = nn.ops;
    expectErrors([
      [() => o.reluBackward(a, b), /reluBackward: x must have the shape of dy \[2, 3\], got \[3, 2\]/],
      [() => o.sigmoidBackward(a, lab), /sigmoidBackward: y must have dtype float32, got int32/],
      [() => o.leakyRelu(a, 'x'), /leakyRelu: slope must be a finite number, got 'x'/],
      [() => o.tanh(lab), /tanh: x must have dtype float32, got int32/],
      [() => o.linear(a, w4, null), /linear: w.shape\[1\] must equal the input features x.shape\[-1\] = 3, got w shape \[5, 4\]/],
      [() => o.linear(a, w, a), /linear: b must have shape \[5\], got \[2, 3\]/],
      [() => o.linearBackward(a, a, w), /linearBackward: dy must have shape \[2, 5\], got \[2, 3\]/],
      [() => o.softmaxCrossEntropy(a, a), /softmaxCrossEntropy: labels must have dtype int32, got float32/],
      [() => o.softmaxCrossEntropy(a, lab3), /softmaxCrossEntropy: labels must have shape \[2\] \(one per logits row\), got \[3\]/],
      [() => { lab.write([0, 3]); o.softmaxCrossEntropy(a, lab); }, /softmaxCrossEntropy: labels\[1\] must be in \[0, 3\), got 3/],
      [() => { lab.write([-1, 0]); o.softmaxCrossEntropy(a, lab); }, /softmaxCrossEntropy: labels\[0\] must be in \[0, 3\), got -1/],
    ]);
  }));

test('optimizer steps: shapes, hyper-parameters, state', () => withTensors(
  (t) => ({ p: t([4]), g: t([4]), g5: t([5]) }),
  (nn, { p, g, g5 }) => {
    const o = nn.ops;
    expectErrors([
      [() => o.sgdStep(p, g5, null, { lr: 0.1 }), /sgdStep: grad must have the shape of param \[4\], got \[5\]/],
      [() => o.sgdStep(p, g, null, {}), /sgdStep: lr must be a finite number ≥ 0, got undefined/],
      [() => o.sgdStep(p, g, null, { lr: 0.1, nesterov: true }), /sgdStep: nesterov must be used with momentum > 0 and dampening 0/],
      [() => o.sgdStep(p, g, { step: 1, momentumBuffer: null }, { lr: 0.1, momentum: 0.9 }), /sgdStep: state must be a state made with momentum/],
      [() => o.adamStep(p, g, null, { beta1: 1 }), /adamStep: beta1 must be in \[0, 1\), got 1/],
      [() => o.adamStep(p, g, null, { eps: -1 }), /adamStep: eps must be a finite number ≥ 0, got -1/],
      [() => o.adamStep(p, g, { step: 1, m: g5, v: g5 }, {}), /adamStep: state.m must have the shape of param \[4\], got \[5\]/],
    ]);
  }));

test('disposed tensors and tensors of another engine are refused by every op', async () => {
  const nn = await getEngine();
  const other = await init({ backend: BACKEND });
  await checkNoLeak(nn, () => {
    const x = nn.tensor([1, 2, 3, 4], [1, 1, 2, 2]);
    const w = nn.tensor([1], [1, 1, 1, 1]);
    const foreign = other.tensor([1], [1, 1, 1, 1]);
    const gone = nn.tensor([1, 2, 3, 4], [1, 1, 2, 2]);
    gone.dispose();
    expectErrors([
      [() => nn.ops.conv2d(x, foreign, null), /conv2d: w belongs to another engine/],
      [() => nn.ops.conv2d(gone, w, null), /conv2d: x was disposed/],
      [() => nn.ops.relu(gone), /relu: x was disposed/],
      [() => nn.ops.maxPool2d(gone, { kernel: 2 }), /maxPool2d: x was disposed/],
      [() => nn.ops.batchNorm2d(gone, null, null, null, null, { training: true }), /batchNorm2d: x was disposed/],
      [() => nn.ops.sgdStep(x, gone, null, { lr: 1 }), /sgdStep: grad was disposed/],
    ]);
    x.dispose();
    w.dispose();
  });
  other.dispose();
});

test.run();
