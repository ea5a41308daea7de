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

test("issue #9 ops: padding 'same'/'valid' pooling, adaptive pooling, locallyConnected2d", () => withTensors(
  (t) => ({ x: t([2, 3, 7, 6]), x3: t([3, 7, 6]), dy: t([2, 3, 3, 3]), dyBad: t([2, 4, 3, 3]), idx: t([2, 3, 3, 3], 'int32'),
            idxBad: t([2, 3, 3, 3], 'int32'), w: t([20, 4, 27]), wBad: t([20, 4, 26]), b: t([4, 4, 5]), ldy: t([2, 4, 4, 5]),
            ldyOk: t([2, 4, 5, 4]), dy43: t([2, 3, 4, 3]) }),
  (nn, { x, x3, dy, dyBad, idx, idxBad, w, wBad, b, ldy, ldyOk, dy43 }) => {
    const o = nn.ops;
    idxBad.write(new Int32Array(idxBad.size).fill(99));
    idx.write(new Int32Array(idx.size).fill(0));
    expectErrors([
      // pooling padding
      [() => o.maxPool2d(x, { kernel: 2, padding: 'SAME' }), /maxPool2d: padding must be a non-negative integer, a pair of them, 'same' or 'valid', got 'SAME'/],
      [() => o.avgPool2d(x, { kernel: 2, padding: 'full' }), /avgPool2d: padding must be a non-negative integer, a pair of them, 'same' or 'valid', got 'full'/],
      [() => o.maxPool2d(x, { kernel: 2, padding: 'same', ceilMode: true }), /maxPool2d: ceilMode must be false with padding 'same' \(its output size is ⌈input \/ stride⌉\), got true/],
      [() => o.avgPool2d(x, { kernel: 3, padding: 'same', countIncludePad: true }), /avgPool2d: countIncludePad must be false or absent with padding 'same' \(padded cells are never counted\), got true/],
      [() => o.avgPool2dBackward(dy43, x.shape, { kernel: 3, stride: 2, padding: 'same', countIncludePad: true }), /avgPool2dBackward: countIncludePad must be false or absent with padding 'same'/],
      [() => o.maxPool2d(x, { kernel: 2, stride: 1, dilation: 13, padding: 'same' }), /maxPool2d: dilation must be small enough that every 'same' window holds an input element \(output H 0 of input H = 7, kernel 2, stride 1 sees only padding\), got \[13, 13\]/],
      [() => o.avgPool2dBackward(dy, x.shape, { kernel: 3, stride: 1, padding: 'same' }), /avgPool2dBackward: dy must have shape \[2, 3, 7, 6\], got \[2, 3, 3, 3\]/],
      // adaptive pooling
      [() => o.adaptiveAvgPool2d(x3, 2), /adaptiveAvgPool2d: x must have rank 4, got rank 3 \(shape \[3, 7, 6\]\)/],
      [() => o.adaptiveAvgPool2d(x, 0), /adaptiveAvgPool2d: outputSize must be a positive integer or a pair of positive integers \(null keeps the input size\), got 0/],
      [() => o.adaptiveAvgPool2d(x, [2.5, 2]), /adaptiveAvgPool2d: outputSize must be .*, got \[2.5, 2\]/],
      [() => o.adaptiveMaxPool2d(x, [1, 2, 3]), /adaptiveMaxPool2d: outputSize must be .*, got \[1, 2, 3\]/],
      [() => o.adaptiveMaxPool2d(x, undefined), /adaptiveMaxPool2d: outputSize must be .*, got undefined/],
      [() => o.adaptiveAvgPool2dBackward(dyBad, x.shape), /adaptiveAvgPool2dBackward: dy must have N, C = 2, 3 of xShape \[2, 3, 7, 6\], got shape \[2, 4, 3, 3\]/],
      [() => o.adaptiveAvgPool2dBackward(dy, [2, 3, 7]), /adaptiveAvgPool2dBackward: xShape must be a 4-element shape \[N, C, H, W\], got \[2, 3, 7\]/],
      [() => o.adaptiveMaxPool2dBackward(dy, dy, x.shape), /adaptiveMaxPool2dBackward: indices must have dtype int32, got float32/],
      [() => o.adaptiveMaxPool2dBackward(dy, idxBad, x.shape), /adaptiveMaxPool2dBackward: indices must lie in \[0, H·W = 42\), got 54 outside that range/],
      // locally connected
      [() => o.locallyConnected2d(x, w, null, {}), /locallyConnected2d: kernel must be a positive integer or a pair of them, got undefined/],
      [() => o.locallyConnected2d(x3, w, null, { kernel: 3 }), /locallyConnected2d: x must have rank 4, got rank 3/],
      [() => o.locallyConnected2d(x, x, null, { kernel: 3 }), /locallyConnected2d: w must have rank 3, got rank 4 \(shape \[2, 3, 7, 6\]\)/],
      [() => o.locallyConnected2d(x, b, null, { kernel: 3 }), /locallyConnected2d: w must have shape \[OH·OW, Cout, Cin·KH·KW\] = \[20, Cout, 27\] \(output 5×4, Cin 3, kernel 3×3\), got \[4, 4, 5\]/],
      [() => o.locallyConnected2d(x, wBad, null, { kernel: 3 }), /locallyConnected2d: w must have shape \[OH·OW, Cout, Cin·KH·KW\] = \[20, Cout, 27\] \(output 5×4, Cin 3, kernel 3×3\), got \[20, 4, 26\]/],
      [() => o.locallyConnected2d(x, w, w, { kernel: 3 }), /locallyConnected2d: b must have shape \[4, 5, 4\], got \[20, 4, 27\]/],
      [() => o.locallyConnected2d(x, w, null, { kernel: 3, stride: 0 }), /locallyConnected2d: stride must be a positive integer or a pair of them, got 0/],
      [() => o.locallyConnected2d(x, w, null, { kernel: 3, padding: 'full' }), /locallyConnected2d: padding must be a non-negative integer, \[ph, pw\], \[top, bottom, left, right\], 'same' or 'valid', got 'full'/],
      [() => o.locallyConnected2d(x, w, null, { kernel: 3, padding: [1, -1, 0, 0] }), /locallyConnected2d: padding\[1\] must be a non-negative integer, got -1/],
      [() => o.locallyConnected2d(x, w, null, { kernel: 8 }), /locallyConnected2d: output size must be positive: input 7×6, kernel 8×8, stride 1×1, padding \[0, 0, 0, 0\] gives 0×-1/],
      [() => o.locallyConnected2dBackward(ldy, x, w, { kernel: 3 }), /locallyConnected2dBackward: dy must have shape \[2, 4, 5, 4\], got \[2, 4, 4, 5\]/],
      [() => o.locallyConnected2dBackward(ldyOk, x, w, { kernel: 3 }, { weight: 1 }), /locallyConnected2dBackward: flags.weight must be a boolean, got 1/],
      // layers
      [() => nn.layers.maxPool2d(2, { padding: 'full' }), /maxPool2d: padding must be a non-negative integer, a pair of them, 'same' or 'valid', got 'full'/],
      [() => nn.layers.maxPool2d(2, { padding: 'same', ceilMode: true }), /maxPool2d: ceilMode must be false with padding 'same'/],
      [() => nn.layers.avgPool2d(3, { padding: 'same', countIncludePad: true }), /avgPool2d: countIncludePad must be false or absent with padding 'same'/],
      [() => nn.layers.adaptiveAvgPool2d(0), /adaptiveAvgPool2d: outputSize must be a positive integer or a pair of positive integers \(null keeps the input size\), got 0/],
      [() => nn.layers.adaptiveMaxPool2d([2, 'a']), /adaptiveMaxPool2d: outputSize must be .*, got \[2, 'a'\]/],
      [() => nn.layers.adaptiveMaxPool2d({}), /adaptiveMaxPool2d: outputSize is required/],
      [() => nn.layers.locallyConnected2d(0, 3), /locallyConnected2d: outChannels must be a positive integer, got 0/],
      [() => nn.layers.locallyConnected2d(4), /locallyConnected2d: kernel is required/],
      [() => nn.layers.locallyConnected2d(4, 3, { padding: 'full' }), /locallyConnected2d: padding must be a non-negative integer, \[ph, pw\], \[top, bottom, left, right\], 'same' or 'valid', got 'full'/],
      [() => nn.layers.locallyConnected2d(4, 3, { dilation: 2 }), /locallyConnected2d: unknown option 'dilation'/],
      [() => nn.sequential([nn.layers.locallyConnected2d(4, 9)], { inputShape: [3, 7, 6] }),
        /layer 0 \(locallyConnected2d\) expects input \[C, H, W\], got \[3, 7, 6\].*output size must be positive: input 7×6, kernel 9×9/],
      [() => nn.sequential([nn.layers.locallyConnected2d(4, 3, { inChannels: 2 })], { inputShape: [3, 7, 6] }), /layer 0 \(locallyConnected2d\) expects input \[2, H, W\], got \[3, 7, 6\].*inChannels 2/],
      [() => nn.sequential([nn.layers.adaptiveMaxPool2d(2)], { inputShape: [7, 6] }), /layer 0 \(adaptiveMaxPool2d\) expects input \[C, H, W\], got \[7, 6\]/],
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
