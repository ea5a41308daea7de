// Activations: Relu, LeakyRelu, Sigmoid, Tanh, Relu6, Elu, EluGrad, Selu, Softplus, Prelu and Softmax on simdnn's
// SIMD kernels (float32; other dtypes as JS loops), and the fused-activation epilogue of FusedConv2D / _FusedMatMul.
import { backend_util, type TensorInfo } from '@tensorflow/tfjs-core';
import type { SimdnnBackend } from '../backend.js';
import { attrsOf, kernel, type KernelArgs } from './kernel.js';
import { unaryOp, binaryOp, simdUnaryOp, simdBinary, SIMD_UNARY, SIMD_OPS } from './elementwise.js';

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

/** Prelu(x, alpha): x < 0 ? alpha·x : x, alpha broadcast (per channel, a scalar, or any NumPy pattern). */
function prelu({ inputs, backend: b }: KernelArgs): TensorInfo {
  const { x, alpha } = inputs;
  const preluJs = (v: number, a: number) => (v < 0 ? a * v : v);
  if (x.dtype !== 'float32' || alpha.dtype !== 'float32') return binaryOp(b, x, alpha, preluJs, 'float32');
  const shape = backend_util.assertAndGetBroadcastShape(x.shape, alpha.shape);
  const { info, t } = b.makeEmpty(shape, 'float32');
  if (t) simdBinary(b, SIMD_OPS.Prelu, x, alpha, shape, t.offset);
  return info;
}

// tfjs's SELU constants (backend_util.SELU_SCALE, SELU_SCALEALPHA = scale·α).
const SELU_SCALE = 1.0507009873554804934193349852946, SELU_SCALEALPHA = 1.7580993408473768599402175208123;

/** scale·x where x ≥ 0, scaleAlpha·(eˣ − 1) elsewhere into a new tensor: Elu (1, 1) and Selu. */
function eluKernel(name: string, scale: number, scaleAlpha: number) {
  return kernel(name, ({ inputs, backend: b }: KernelArgs) => {
    const { x } = inputs;
    if (x.dtype !== 'float32') return unaryOp(b, x, (v) => (v >= 0 ? scale * v : scaleAlpha * (Math.exp(v) - 1)), 'float32');
    const { info, t } = b.makeEmpty(x.shape, 'float32');
    if (t) b.nn.kernels.elu_forward(b.tensor(x)!.offset, t.offset, t.size, scale, scaleAlpha);
    return info;
  });
}

/** EluGrad(dy, y): dy where y ≥ 0, dy·(y + 1) elsewhere. */
function eluGrad({ inputs, backend: b }: KernelArgs): TensorInfo {
  const { dy, y } = inputs;
  if (dy.dtype !== 'float32' || y.dtype !== 'float32') return binaryOp(b, dy, y, (g, v) => (v >= 0 ? g : g * (v + 1)), 'float32');
  const { info, t } = b.makeEmpty(y.shape, 'float32');
  if (t) b.nn.kernels.elu_backward(b.tensor(dy)!.offset, b.tensor(y)!.offset, t.offset, t.size);
  return info;
}

// tfjs's Softplus thresholds (tfjs-backend-cpu): ln(float32 ε) + 2 ≈ −13.94; x above −T is x, below T is eˣ.
const SOFTPLUS_T = Math.log(1.1920928955078125e-7) + 2;

function softplus({ inputs, backend: b }: KernelArgs): TensorInfo {
  const { x } = inputs;
  if (x.dtype !== 'float32') {
    return unaryOp(b, x, (v) => (v < SOFTPLUS_T ? Math.exp(v) : v > -SOFTPLUS_T ? v : Math.log1p(Math.exp(v))), 'float32');
  }
  const { info, t } = b.makeEmpty(x.shape, 'float32');
  if (t) b.nn.kernels.softplus_forward(b.tensor(x)!.offset, t.offset, t.size);
  return info;
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
  const K = logits.shape[rank - 1];
  const x = logits.dtype === 'float32' ? b.tensor(logits)! : null;
  if (!x) t.view().set(b.values(logits));            // int32 logits: softmax of their float32 copy
  b.nn.kernels.softmax_forward(x ? x.offset : t.offset, t.offset, t.size / K, K);
  return info;
}

export interface FusedActivation {
  name: string;
  prelu?: TensorInfo;
  alpha?: number;
}

/** A fused op's activation, in place on its fresh float32 output. */
export function applyActivation(b: SimdnnBackend, out: TensorInfo, act: FusedActivation, op: string): void {
  const t = b.tensor(out);
  if (!t) return;                                     // an empty output
  const k = b.nn.kernels;
  switch (act.name) {
    case 'linear': return;
    case 'relu': k.relu_forward(t.offset, t.offset, t.size); return;
    case 'sigmoid': k.sigmoid_forward(t.offset, t.offset, t.size); return;
    case 'relu6': k.unary_f32(SIMD_UNARY.Relu6, t.offset, t.offset, t.size); return;
    case 'elu': k.elu_forward(t.offset, t.offset, t.size, 1, 1); return;
    case 'leakyrelu': k.leaky_relu_forward(t.offset, t.offset, t.size, act.alpha ?? 0.2); return;
    case 'prelu': {
      if (!act.prelu) throw new Error(`${op} (simdnn): activation 'prelu' needs preluActivationWeights`);
      simdBinary(b, SIMD_OPS.Prelu, out, act.prelu, out.shape, t.offset);     // in place: out is full size
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
  eluKernel('Elu', 1, 1),
  kernel('EluGrad', eluGrad),
  eluKernel('Selu', SELU_SCALE, SELU_SCALEALPHA),
  kernel('Prelu', prelu),
  kernel('Softplus', softplus),
  kernel('Softmax', softmax),
];
