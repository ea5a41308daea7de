// Activations: Relu, LeakyRelu, Sigmoid, Tanh and Relu6 on simdnn's SIMD kernels (float32), Elu, EluGrad,
// Prelu, Softplus and Softmax as JS loops; and the fused-activation epilogue of FusedConv2D / _FusedMatMul.
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { SimdnnBackend } from '../backend.js';
import { attrsOf, kernel, type KernelArgs } from './kernel.js';
import { broadcastLoop, unaryOp, binaryOp, simdUnaryOp, SIMD_UNARY } from './elementwise.js';

type SimdUnary = 'relu_forward' | 'sigmoid_forward' | 'tanh_forward';

/** y = f(x) on a SIMD kernel; in place when out === x. */
function simdUnary(b: SimdnnBackend, fn: SimdUnary, x: TensorInfo, out: TensorInfo): void {
  const xt = b.tensor(x), yt = b.tensor(out);
  if (xt && yt) b.nn.kernels[fn](xt.offset, yt.offset, xt.size);
}

function simdKernel(name: string, fn: SimdUnary, js: (v: number) => number) {
  return kernel(name, ({ inputs, backend: b }: KernelArgs) => {
    const { x } = inputs;
    if (x.dtype !== 'float32') return unaryOp(b, x, js, name === 'Relu' ? x.dtype : 'float32');
    const { info } = b.makeEmpty(x.shape, 'float32');
    simdUnary(b, fn, x, info);
    return info;
  });
}

const relu6 = (v: number) => (Number.isNaN(v) ? NaN : Math.min(Math.max(v, 0), 6));
const elu = (v: number) => (v >= 0 ? v : Math.exp(v) - 1);
const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

function leakyRelu({ inputs, backend: b, attrs }: KernelArgs): TensorInfo {
  const { alpha } = attrs as { alpha: number };
  const { x } = inputs;
  if (x.dtype !== 'float32') return unaryOp(b, x, (v) => (v < 0 ? alpha * v : v), 'float32');
  const { info, t } = b.makeEmpty(x.shape, 'float32');
  const xt = b.tensor(x);
  if (t && xt) b.nn.kernels.leaky_relu_forward(xt.offset, t.offset, t.size, alpha);
  return info;
}

function prelu({ inputs, backend: b }: KernelArgs): TensorInfo {
  return binaryOp(b, inputs.x, inputs.alpha, (v, a) => (v < 0 ? a * v : v), 'float32');
}

/** EluGrad(dy, y): dy where y ≥ 0, dy·(y + 1) elsewhere. */
function eluGrad({ inputs, backend: b }: KernelArgs): TensorInfo {
  return binaryOp(b, inputs.dy, inputs.y, (g, y) => (y >= 0 ? g : g * (y + 1)), 'float32');
}

/** Softmax over the last axis (max-shifted). */
function softmax(args: KernelArgs): TensorInfo {
  const { backend: b } = args;
  const { logits } = args.inputs;
  const { dim } = attrsOf<{ dim: number }>(args);
  const rank = logits.shape.length;
  if (dim !== -1 && dim !== rank - 1) {
    throw new Error(`Softmax (simdnn): dim must be the last axis (${rank - 1} or -1), got ${dim}`);
  }
  const { info, t } = b.makeEmpty(logits.shape, 'float32');
  if (!t) return info;
  const K = logits.shape[rank - 1], x = b.values(logits), y = t.view();
  for (let r = 0; r < x.length; r += K) {
    let m = -Infinity;
    for (let k = 0; k < K; k++) m = Math.max(m, x[r + k]);
    let s = 0;
    for (let k = 0; k < K; k++) s += (y[r + k] = Math.exp(x[r + k] - m));
    for (let k = 0; k < K; k++) y[r + k] /= s;
  }
  return info;
}

export interface FusedActivation {
  name: string;
  prelu?: TensorInfo;
  alpha?: number;
}

/** A fused op's activation, in place on its fresh float32 output. */
export function applyActivation(b: SimdnnBackend, out: TensorInfo, act: FusedActivation, op: string): void {
  const y = b.values(out);
  switch (act.name) {
    case 'linear': return;
    case 'relu': simdUnary(b, 'relu_forward', out, out); return;
    case 'sigmoid': simdUnary(b, 'sigmoid_forward', out, out); return;
    case 'relu6': { const t = b.tensor(out); if (t) b.nn.kernels.unary_f32(SIMD_UNARY.Relu6, t.offset, t.offset, t.size); return; }
    case 'elu': for (let i = 0; i < y.length; i++) y[i] = elu(y[i]); return;
    case 'leakyrelu': {
      const a = act.alpha ?? 0.2;
      for (let i = 0; i < y.length; i++) if (y[i] < 0) y[i] *= a;
      return;
    }
    case 'prelu': {
      if (!act.prelu) throw new Error(`${op} (simdnn): activation 'prelu' needs preluActivationWeights`);
      const copy = y.slice();
      broadcastLoop(copy, out.shape, b.values(act.prelu), act.prelu.shape, y, out.shape, (v, a) => (v < 0 ? a * v : v));
      return;
    }
    default: throw new Error(`${op} (simdnn): activation must be one of linear, relu, relu6, elu, leakyrelu, prelu, sigmoid; got '${act.name}'`);
  }
}

export const activationKernels = [
  simdKernel('Relu', 'relu_forward', (v) => (v < 0 ? 0 : v)),
  simdKernel('Sigmoid', 'sigmoid_forward', sigmoid),
  simdKernel('Tanh', 'tanh_forward', Math.tanh),
  kernel('LeakyRelu', leakyRelu),
  kernel('Relu6', ({ inputs, backend }: KernelArgs) =>
    (inputs.x.dtype === 'float32' ? simdUnaryOp(backend, inputs.x, SIMD_UNARY.Relu6) : unaryOp(backend, inputs.x, relu6))),
  kernel('Elu', ({ inputs, backend }: KernelArgs) => unaryOp(backend, inputs.x, elu, 'float32')),
  kernel('EluGrad', eluGrad),
  // SELU with tfjs's constants (selu_util): scale·x for x > 0, scale·α·(eᵡ − 1) otherwise.
  kernel('Selu', ({ inputs, backend }: KernelArgs) =>
    unaryOp(backend, inputs.x, (v) => (v > 0 ? 1.0507009873554804934193349852946 * v
      : 1.7580993408473768599402175208123 * (Math.exp(v) - 1)), 'float32')),
  kernel('Prelu', prelu),
  kernel('Softplus', ({ inputs, backend }: KernelArgs) =>
    unaryOp(backend, inputs.x, (v) => (v > 20 ? v : v < -20 ? Math.exp(v) : Math.log1p(Math.exp(v))), 'float32')),
  kernel('Softmax', softmax),
];
