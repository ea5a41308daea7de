// Elementwise activations and their backward passes over tensors of any shape.
import type { Engine } from '../engine.js';
import type { Tensor } from '../tensor.js';
import { checkSameShape, checkTensor, finite } from './check.js';
import { runSplit, MEMORY_BOUND_WEIGHT } from './parallel.js';

// Threads take runs of elements (in multiples of 4 floats, so every run starts 16-byte aligned).
function elementRuns(e: Engine, n: number, op: string, job: (start: number, count: number) => { fn: string; args: number[] }): void {
  const quads = Math.ceil(n / 4);
  runSplit(e, quads, MEMORY_BOUND_WEIGHT * n, op, 0, (q0, q) => job(q0 * 4, Math.min(q * 4, n - q0 * 4)));
}

/** y = f(x) with kernel(x, y, n, ...extra). */
function unary(e: Engine, op: string, x: Tensor, fn: string, extra: number[] = []): Tensor {
  checkTensor(e, op, 'x', x);
  const y = e.empty(x.shape, 'float32', op);
  elementRuns(e, x.size, op, (s, n) => ({ fn, args: [x.offset + s * 4, y.offset + s * 4, n, ...extra] }));
  return y;
}

/** dx from dy and the tensor the derivative is read from (x for relu, y for sigmoid/tanh): kernel(dy, ref, dx, n, ...extra). */
function grad(e: Engine, op: string, dy: Tensor, ref: Tensor, refName: string, fn: string, extra: number[] = []): Tensor {
  checkTensor(e, op, 'dy', dy);
  checkTensor(e, op, refName, ref);
  checkSameShape(op, 'dy', dy, refName, ref);
  const dx = e.empty(dy.shape, 'float32', op);
  elementRuns(e, dy.size, op, (s, n) => ({ fn, args: [dy.offset + s * 4, ref.offset + s * 4, dx.offset + s * 4, n, ...extra] }));
  return dx;
}

export const relu = (e: Engine, x: Tensor) => unary(e, 'relu', x, 'relu_forward');
export const reluBackward = (e: Engine, dy: Tensor, x: Tensor) => grad(e, 'reluBackward', dy, x, 'x', 'relu_backward');
export const sigmoid = (e: Engine, x: Tensor) => unary(e, 'sigmoid', x, 'sigmoid_forward');
export const sigmoidBackward = (e: Engine, dy: Tensor, y: Tensor) => grad(e, 'sigmoidBackward', dy, y, 'y', 'sigmoid_backward');
export const tanh = (e: Engine, x: Tensor) => unary(e, 'tanh', x, 'tanh_forward');
export const tanhBackward = (e: Engine, dy: Tensor, y: Tensor) => grad(e, 'tanhBackward', dy, y, 'y', 'tanh_backward');

export function leakyRelu(e: Engine, x: Tensor, slope = 0.01): Tensor {
  const s = finite('leakyRelu', 'slope', slope);
  return unary(e, 'leakyRelu', x, 'leaky_relu_forward', [s]);
}

export function leakyReluBackward(e: Engine, dy: Tensor, x: Tensor, slope = 0.01): Tensor {
  const s = finite('leakyReluBackward', 'slope', slope);
  return grad(e, 'leakyReluBackward', dy, x, 'x', 'leaky_relu_backward', [s]);
}
