// Elementwise activations and their backward passes over tensors of any shape.
import type { Engine } from '../engine.js';
import type { Tensor } from '../tensor.js';
import { checkSameShape, checkTensor, finite } from './check.js';

type Unary = (x: number, y: number, n: number) => void;
type Binary = (a: number, b: number, out: number, n: number) => void;

function unary(e: Engine, op: string, x: Tensor, kernel: Unary): Tensor {
  checkTensor(e, op, 'x', x);
  const y = e.empty(x.shape, 'float32', op);
  kernel(x.offset, y.offset, x.size);
  return y;
}

/** dx from dy and the tensor the derivative is read from (x for relu, y for sigmoid/tanh). */
function grad(e: Engine, op: string, dy: Tensor, ref: Tensor, refName: string, kernel: Binary): Tensor {
  checkTensor(e, op, 'dy', dy);
  checkTensor(e, op, refName, ref);
  checkSameShape(op, 'dy', dy, refName, ref);
  const dx = e.empty(dy.shape, 'float32', op);
  kernel(dy.offset, ref.offset, dx.offset, dy.size);
  return dx;
}

export const relu = (e: Engine, x: Tensor) => unary(e, 'relu', x, e.kernels.relu_forward);
export const reluBackward = (e: Engine, dy: Tensor, x: Tensor) => grad(e, 'reluBackward', dy, x, 'x', e.kernels.relu_backward);
export const sigmoid = (e: Engine, x: Tensor) => unary(e, 'sigmoid', x, e.kernels.sigmoid_forward);
export const sigmoidBackward = (e: Engine, dy: Tensor, y: Tensor) => grad(e, 'sigmoidBackward', dy, y, 'y', e.kernels.sigmoid_backward);
export const tanh = (e: Engine, x: Tensor) => unary(e, 'tanh', x, e.kernels.tanh_forward);
export const tanhBackward = (e: Engine, dy: Tensor, y: Tensor) => grad(e, 'tanhBackward', dy, y, 'y', e.kernels.tanh_backward);

export function leakyRelu(e: Engine, x: Tensor, slope = 0.01): Tensor {
  const s = finite('leakyRelu', 'slope', slope);
  return unary(e, 'leakyRelu', x, (a, b, n) => e.kernels.leaky_relu_forward(a, b, n, s));
}

export function leakyReluBackward(e: Engine, dy: Tensor, x: Tensor, slope = 0.01): Tensor {
  const s = finite('leakyReluBackward', 'slope', slope);
  return grad(e, 'leakyReluBackward', dy, x, 'x', (a, b, c, n) => e.kernels.leaky_relu_backward(a, b, c, n, s));
}
