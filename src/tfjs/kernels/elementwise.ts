// Elementwise kernels with NumPy broadcasting. Float32 Add, Sub, Multiply, RealDiv, Maximum, Minimum and
// SquaredDifference (and Prelu, activation.ts) run on simdnn's SIMD broadcast kernels (assembly/broadcast.ts) for every
// broadcast pattern (arith.ts plans it), as do float32 Exp, Step, Square, ClipByValue and the unary_f32 ops (Abs, Neg,
// Floor, Ceil, Round, Sqrt, Rsqrt, Reciprocal, Log); the rest (and int32/bool) are JS loops over the wasm memory views.
import { backend_util, upcastType, type DataType, type TensorInfo } from '@tensorflow/tfjs-core';
import type { SimdnnBackend } from '../backend.js';
import { attrsOf, kernel, type KernelArgs } from './kernel.js';
import { broadcastPlan } from './arith.js';

type Binary = (a: number, b: number) => number;
type Unary = (x: number) => number;

/** Strides of `shape` read as broadcast into `out` (0 along broadcast dimensions), aligned to out's rank. */
function broadcastStrides(shape: readonly number[], out: readonly number[]): number[] {
  const strides = new Array<number>(out.length).fill(0);
  let s = 1;
  for (let i = shape.length - 1, j = out.length - 1; i >= 0; i--, j--) {
    strides[j] = shape[i] === 1 ? 0 : s;
    s *= shape[i];
  }
  return strides;
}

/** out[i] = f(a[ia], b[ib]) over the broadcast shape `shape`. */
export function broadcastLoop(a: ArrayLike<number>, aShape: readonly number[], b: ArrayLike<number>, bShape: readonly number[],
                              out: { [i: number]: number }, shape: readonly number[], f: Binary): void {
  const n = shape.reduce((x, y) => x * y, 1);
  if (a.length === n && b.length === n) {
    for (let i = 0; i < n; i++) out[i] = f(a[i], b[i]);
    return;
  }
  if (b.length === 1 && a.length === n) {
    const bv = b[0];
    for (let i = 0; i < n; i++) out[i] = f(a[i], bv);
    return;
  }
  if (a.length === 1 && b.length === n) {
    const av = a[0];
    for (let i = 0; i < n; i++) out[i] = f(av, b[i]);
    return;
  }
  const rank = shape.length;
  const sa = broadcastStrides(aShape, shape), sb = broadcastStrides(bShape, shape);
  const last = rank - 1, inner = shape[last], ia1 = sa[last], ib1 = sb[last];
  const idx = new Array<number>(rank).fill(0);
  let ia = 0, ib = 0;
  for (let o = 0; o < n; o += inner) {
    // The innermost dimension as a strided run, then an odometer over the outer ones.
    for (let k = 0, pa = ia, pb = ib; k < inner; k++, pa += ia1, pb += ib1) out[o + k] = f(a[pa], b[pb]);
    for (let d = last - 1; d >= 0; d--) {
      idx[d]++;
      ia += sa[d];
      ib += sb[d];
      if (idx[d] < shape[d]) break;
      ia -= sa[d] * shape[d];
      ib -= sb[d] * shape[d];
      idx[d] = 0;
    }
  }
}

/** A broadcasting binary op of a and b into a new tensor of dtype `dtype`. */
export function binaryOp(b: SimdnnBackend, x: TensorInfo, y: TensorInfo, f: Binary, dtype: DataType): TensorInfo {
  const shape = backend_util.assertAndGetBroadcastShape(x.shape, y.shape);
  const { info, t } = b.makeEmpty(shape, dtype);
  if (!t) return info;
  const out = t.view();
  broadcastLoop(b.values(x), x.shape, b.values(y), y.shape, out, shape, f);
  return info;
}

/** A unary op into a new tensor. */
export function unaryOp(b: SimdnnBackend, x: TensorInfo, f: Unary, dtype: DataType = x.dtype): TensorInfo {
  const { info, t } = b.makeEmpty(x.shape, dtype);
  if (!t) return info;
  const out = t.view(), v = b.values(x);
  for (let i = 0; i < v.length; i++) out[i] = f(v[i]);
  return info;
}

/** A binary kernel whose output dtype is the inputs' common type (or a fixed one: 'bool' for comparisons). */
function binaryKernel(name: string, f: Binary, fixed?: DataType, intF?: Binary) {
  return kernel(name, ({ inputs, backend: b }: KernelArgs) => {
    const { a, b: y } = inputs;
    const dtype = fixed ?? upcastType(a.dtype, y.dtype);
    if (dtype === 'float32' && a.dtype === 'float32' && y.dtype === 'float32') {
      const shape = backend_util.assertAndGetBroadcastShape(a.shape, y.shape);
      const { info, t } = b.makeEmpty(shape, dtype);
      if (!t) return info;
      if (SIMD_OPS[name] !== undefined) simdBinary(b, SIMD_OPS[name], a, y, shape, t.offset);
      else broadcastLoop(b.values(a), a.shape, b.values(y), y.shape, t.view(), shape, f);
      return info;
    }
    return binaryOp(b, a, y, dtype === 'int32' && intF ? intF : f, dtype);
  });
}

/** The operation codes of simdnn's broadcast_f32 kernels. */
export const SIMD_OPS: Record<string, number> = { Add: 0, Sub: 1, Multiply: 2, RealDiv: 3, Prelu: 4, Maximum: 5, Minimum: 6, SquaredDifference: 7 };

/**
 * out = x ∘ y (float32, broadcast shape `shape`, out a byte offset; out may be x when x has the output's shape) on
 * simdnn's SIMD broadcast kernels: one broadcast_f32 call, or broadcast_strided_f32 when an operand repeats along
 * leading or middle axes (arith.ts). One float32 operation per element: the same results as the JS loop.
 */
export function simdBinary(b: SimdnnBackend, code: number, x: TensorInfo, y: TensorInfo, shape: readonly number[], out: number): void {
  const xt = b.tensor(x), yt = b.tensor(y);
  if (!xt || !yt) return;                            // an empty operand: the output is empty too
  const { mode, n, m, outer } = broadcastPlan(x.shape, y.shape, shape);
  const k = b.nn.kernels;
  if (outer.length === 0) {
    k.broadcast_f32(code, mode, xt.offset, yt.offset, out, n, m);
    return;
  }
  const r = outer.length, desc = b.nn.scratch(16 * r, 'tfjs broadcast strides');
  const d = b.nn.i32(desc, 4 * r);
  outer.forEach((o, i) => { d[i] = o.size; d[r + i] = o.sa; d[2 * r + i] = o.sb; d[3 * r + i] = 0; });
  const blocks = outer.reduce((p, o) => p * o.size, 1);
  k.broadcast_strided_f32(code, mode, xt.offset, yt.offset, out, n, m, blocks, r, desc);
}

/** simdnn's unary_f32 operation codes (assembly/broadcast.ts): exact, the same float32 as the JS functions. */
export const SIMD_UNARY = { Floor: 0, Ceil: 1, Round: 2, Neg: 3, Abs: 4, Sqrt: 5, Relu6: 6, Reciprocal: 7, Rsqrt: 8, Log: 9 } as const;

/** y = f(x) into a new tensor on simdnn's SIMD unary kernel (float32 in, float32 out). */
export function simdUnaryOp(b: SimdnnBackend, x: TensorInfo, op: number): TensorInfo {
  const { info, t } = b.makeEmpty(x.shape, 'float32');
  if (t) b.nn.kernels.unary_f32(op, b.tensor(x)!.offset, t.offset, t.size);
  return info;
}

/** A unary kernel: float32 on the SIMD kernel when simdOp is given, the JS function otherwise. */
function unaryKernel(name: string, f: Unary, dtype?: DataType, simdOp?: number) {
  return kernel(name, ({ inputs, backend }: KernelArgs) => {
    const { x } = inputs;
    if (simdOp !== undefined && x.dtype === 'float32') return simdUnaryOp(backend, x, simdOp);
    return unaryOp(backend, x, f, dtype ?? x.dtype);
  });
}

/** Exp: float32 on simdnn's exp_forward (exp4, relative error ≤ 2.5e-7), other dtypes as a JS loop. */
function exp({ inputs, backend: b }: KernelArgs): TensorInfo {
  const { x } = inputs;
  if (x.dtype !== 'float32') return unaryOp(b, x, Math.exp, 'float32');
  const { info, t } = b.makeEmpty(x.shape, 'float32');
  if (t) b.nn.kernels.exp_forward(b.tensor(x)!.offset, t.offset, t.size);
  return info;
}

/** AddN: the sum of a list of same-shape tensors. */
function addN({ inputs, backend: b }: KernelArgs): TensorInfo {
  const list = inputs as unknown as TensorInfo[];
  const { info, t } = b.makeEmpty(list[0].shape, list[0].dtype);
  if (!t) return info;
  const out = t.view();
  out.fill(0);
  for (const x of list) {
    const v = b.values(x);
    for (let i = 0; i < out.length; i++) out[i] += v[i];
  }
  return info;
}

/** Select(condition, t, e): condition of t's shape, or of rank 1 choosing whole rows. */
function select({ inputs, backend: b }: KernelArgs): TensorInfo {
  const { condition, t, e } = inputs;
  const { info, t: out } = b.makeEmpty(t.shape, upcastType(t.dtype, e.dtype));
  if (!out) return info;
  const c = b.values(condition), tv = b.values(t), ev = b.values(e), o = out.view();
  const per = c.length === tv.length ? 1 : tv.length / Math.max(c.length, 1);
  for (let i = 0; i < o.length; i++) o[i] = c[Math.floor(i / per)] ? tv[i] : ev[i];
  return info;
}

/** ClipByValue: float32 on simdnn's clip_f32 (wasm min/max: NaN stays NaN), other dtypes as a JS loop. */
function clip({ inputs, backend: b, attrs }: KernelArgs): TensorInfo {
  const { clipValueMin: lo, clipValueMax: hi } = attrs as { clipValueMin: number; clipValueMax: number };
  const { x } = inputs;
  if (x.dtype !== 'float32') return unaryOp(b, x, (v) => (Number.isNaN(v) ? NaN : v < lo ? lo : v > hi ? hi : v));
  const { info, t } = b.makeEmpty(x.shape, 'float32');
  if (t) b.nn.kernels.clip_f32(b.tensor(x)!.offset, t.offset, t.size, lo, hi);
  return info;
}

function step(args: KernelArgs): TensorInfo {
  const { alpha = 0 } = attrsOf<{ alpha?: number }>(args);
  const { x } = args.inputs;
  const { info, t } = args.backend.makeEmpty(x.shape, x.dtype);
  if (!t) return info;
  if (x.dtype === 'float32') args.backend.nn.kernels.step_f32(args.backend.tensor(x)!.offset, t.offset, t.size, alpha);
  else {
    const o = t.view(), v = args.backend.values(x);
    for (let i = 0; i < v.length; i++) o[i] = v[i] > 0 ? 1 : alpha;
  }
  return info;
}

function square(args: KernelArgs): TensorInfo {
  const { x } = args.inputs;
  const { info, t } = args.backend.makeEmpty(x.shape, x.dtype);
  if (!t) return info;
  if (x.dtype === 'float32') {
    const xt = args.backend.tensor(x)!;
    args.backend.nn.kernels.broadcast_f32(SIMD_OPS.Multiply, 0, xt.offset, xt.offset, t.offset, t.size, t.size);
    return info;
  }
  const o = t.view(), v = args.backend.values(x);
  for (let i = 0; i < v.length; i++) o[i] = v[i] * v[i];
  return info;
}

/** tfjs's FloorDiv / Mod: floor division and the remainder with the divisor's sign. */
const floorDiv: Binary = (a, b) => Math.floor(a / b);
const mod: Binary = (a, b) => {
  const r = a % b;
  return (a < 0 && b < 0) || (a >= 0 && b >= 0) ? r : (r + b) % b;
};

export const elementwiseKernels = [
  binaryKernel('Add', (a, b) => a + b),
  kernel('AddN', addN),
  binaryKernel('Sub', (a, b) => a - b),
  binaryKernel('Multiply', (a, b) => a * b, undefined, (a, b) => Math.imul(a, b)),
  binaryKernel('RealDiv', (a, b) => a / b),
  binaryKernel('FloorDiv', floorDiv),
  binaryKernel('Mod', mod),
  binaryKernel('Maximum', (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.max(a, b))),
  binaryKernel('Minimum', (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.min(a, b))),
  binaryKernel('Pow', (a, b) => Math.pow(a, b)),
  binaryKernel('SquaredDifference', (a, b) => (a - b) * (a - b)),
  binaryKernel('Atan2', (a, b) => Math.atan2(a, b)),
  binaryKernel('Equal', (a, b) => (a === b ? 1 : 0), 'bool'),
  binaryKernel('NotEqual', (a, b) => (a !== b ? 1 : 0), 'bool'),
  binaryKernel('Greater', (a, b) => (a > b ? 1 : 0), 'bool'),
  binaryKernel('GreaterEqual', (a, b) => (a >= b ? 1 : 0), 'bool'),
  binaryKernel('Less', (a, b) => (a < b ? 1 : 0), 'bool'),
  binaryKernel('LessEqual', (a, b) => (a <= b ? 1 : 0), 'bool'),
  binaryKernel('LogicalAnd', (a, b) => (a && b ? 1 : 0), 'bool'),
  binaryKernel('LogicalOr', (a, b) => (a || b ? 1 : 0), 'bool'),
  kernel('Select', select),
  kernel('ClipByValue', clip),
  kernel('Step', step),
  unaryKernel('Abs', Math.abs, undefined, SIMD_UNARY.Abs),
  unaryKernel('Neg', (v) => -v, undefined, SIMD_UNARY.Neg),
  kernel('Exp', exp),
  unaryKernel('Expm1', Math.expm1, 'float32'),
  unaryKernel('Log', Math.log, 'float32', SIMD_UNARY.Log),
  unaryKernel('Log1p', Math.log1p, 'float32'),
  unaryKernel('Sqrt', Math.sqrt, 'float32', SIMD_UNARY.Sqrt),
  unaryKernel('Rsqrt', (v) => 1 / Math.sqrt(v), 'float32', SIMD_UNARY.Rsqrt),
  kernel('Square', square),
  unaryKernel('Reciprocal', (v) => 1 / v, 'float32', SIMD_UNARY.Reciprocal),
  unaryKernel('Sign', (v) => (Number.isNaN(v) ? 0 : Math.sign(v))),   // tfjs: sign(NaN) = 0
  unaryKernel('Floor', Math.floor, undefined, SIMD_UNARY.Floor),
  unaryKernel('Ceil', Math.ceil, undefined, SIMD_UNARY.Ceil),
  // Banker's rounding (round half to even), as TensorFlow.
  unaryKernel('Round', (v) => {
    const f = Math.floor(v), d = v - f;
    return d < 0.5 ? f : d > 0.5 ? f + 1 : f % 2 === 0 ? f : f + 1;
  }, undefined, SIMD_UNARY.Round),
  unaryKernel('Sin', Math.sin, 'float32'),
  unaryKernel('Cos', Math.cos, 'float32'),
  unaryKernel('LogicalNot', (v) => (v ? 0 : 1), 'bool'),
  unaryKernel('IsNan', (v) => (Number.isNaN(v) ? 1 : 0), 'bool'),
  unaryKernel('IsInf', (v) => (v === Infinity || v === -Infinity ? 1 : 0), 'bool'),
  unaryKernel('IsFinite', (v) => (Number.isFinite(v) ? 1 : 0), 'bool'),
];
