// FusedBatchNorm: y = (x − mean)·scale/√(variance + ε) + offset with the statistics given (tfjs-layers
// computes batch moments with Mean/SquaredDifference and normalises with this kernel). Parameters broadcast
// along x's trailing dimensions (per channel in NHWC). Parameters of one common size over a large tensor run on
// the SIMD kernel of assembly/nhwc.ts straight on the channel-last data, their per-channel block (mean, scale/√(var
// + ε), offset) cached on mean's data for that set of parameter tensors (an inference model reuses them every call);
// small tensors and mixed sizes are JS.
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { SimdnnBackend } from '../backend.js';
import type { Tensor } from '../../tensor.js';
import { runSplit, MEMORY_BOUND_WEIGHT } from '../../ops/parallel.js';
import { attrsOf, kernel, type KernelArgs } from './kernel.js';

/** Below this many elements the plain JS loop is as fast as a call into wasm. */
const SIMD_MIN = 1024;

interface Param { v: ArrayLike<number>; n: number }

/** A number per dataId, for cache keys that name several tensors. */
const dataKeys = new WeakMap<object, number>();
let lastKey = 0;
const keyOf = (p: TensorInfo | undefined): number => {
  if (!p) return 0;
  let k = dataKeys.get(p.dataId);
  if (k === undefined) dataKeys.set(p.dataId, (k = ++lastKey));
  return k;
};

function fusedBatchNorm(args: KernelArgs): TensorInfo {
  const { backend: b } = args;
  const { x, mean, variance, offset, scale } = args.inputs;
  const { varianceEpsilon: eps } = attrsOf<{ varianceEpsilon: number }>(args);
  const tail = (p: TensorInfo | undefined, name: string): number => {
    if (!p) return 1;
    const t = x.shape.slice(x.shape.length - p.shape.length);
    const n = p.shape.reduce((q, r) => q * r, 1);
    if (n !== 1 && (p.shape.length > x.shape.length || p.shape.some((d, i) => d !== t[i]))) {
      throw new Error(`FusedBatchNorm (simdnn): ${name} of shape [${p.shape}] must be a scalar or match x's trailing dimensions [${x.shape}]`);
    }
    return n;
  };
  const sizes = [tail(mean, 'mean'), tail(variance, 'variance'), tail(offset, 'offset'), tail(scale, 'scale')];
  const size = x.shape.reduce((q, r) => q * r, 1);
  // Each parameter repeats with its own size along x. When all have size 1 or one common size m: a multiplier
  // per channel, computed once per parameter set (cached on mean's data for the SIMD path: inference reuses it).
  const m = Math.max(...sizes);
  // Parameters copied out of wasm memory now (allocations below may grow it and detach views).
  const param = (p: TensorInfo | undefined, fallback: number): Param => (p ? { v: Float32Array.from(b.values(p)), n: p.shape.reduce((q, r) => q * r, 1) } : { v: [fallback], n: 1 });
  const perChannel = () => {
    const mu = param(mean, 0), va = param(variance, 1), o = param(offset, 0), s = param(scale, 1);
    const mul = Float32Array.from({ length: m }, (_, k) => s.v[k % s.n] / Math.sqrt(va.v[k % va.n] + eps));
    return { mean: Float32Array.from({ length: m }, (_, k) => mu.v[k % mu.n]), mul, offset: Float32Array.from({ length: m }, (_, k) => o.v[k % o.n]) };
  };
  if (sizes.every((n) => n === 1 || n === m)) {
    if (x.dtype === 'float32' && m > 1 && size >= SIMD_MIN) {
      const make = () => { const c = perChannel(); return b.nn.tensor([...c.mean, ...c.mul, ...c.offset], [3 * m]); };
      const key = `batch-norm ${eps} ${[variance, offset, scale].map(keyOf).join(' ')}`;
      if (mean) return normalizeChannelsLast(b, x, b.derived(mean, key, make));
      const params = make();
      try { return normalizeChannelsLast(b, x, params); } finally { params.dispose(); }
    }
    const c = perChannel();
    const { info, t } = b.makeEmpty(x.shape, 'float32');
    if (t) {
      const xv = b.values(x);
      normalizeRows(xv instanceof Float32Array ? xv : Float32Array.from(xv), t.view() as Float32Array, c.mean, c.mul, c.offset);
    }
    return info;
  }
  const mu = param(mean, 0), va = param(variance, 1), o = param(offset, 0), s = param(scale, 1);
  const { info, t } = b.makeEmpty(x.shape, 'float32');
  if (!t) return info;
  const xv = b.values(x), y = t.view();
  for (let i = 0; i < xv.length; i++) {
    const inv = 1 / Math.sqrt(va.v[i % va.n] + eps);
    y[i] = (xv[i] - mu.v[i % mu.n]) * inv * s.v[i % s.n] + o.v[i % o.n];
  }
  return info;
}

/**
 * y = (x − mean[k])·mul[k] + offset[k] over rows of m channels, straight on the channel-last tensor
 * (assembly/nhwc.ts channel_affine_nhwc: SIMD across the m channels, no transposes); rows split over threads.
 * params: [mean, mul, offset], m floats each.
 */
function normalizeChannelsLast(b: SimdnnBackend, x: TensorInfo, params: Tensor): TensorInfo {
  const m = params.size / 3, nn = b.nn;
  const { info, t } = b.makeEmpty(x.shape, 'float32');
  if (!t) return info;
  const xt = b.view(x);
  const [meanAt, mulAt, offsetAt] = [0, 1, 2].map((i) => params.offset + 4 * i * m);
  runSplit(nn, t.size / m, MEMORY_BOUND_WEIGHT * t.size, 'FusedBatchNorm', 0, (r0, count) => ({
    fn: 'channel_affine_nhwc', args: [xt.offset, t.offset, m, meanAt, mulAt, offsetAt, r0, r0 + count],
  }));
  return info;
}

/** y = (x − mean[k])·mul[k] + offset[k] over rows of m = mean.length channels (float32 only: monomorphic). */
function normalizeRows(x: Float32Array, y: Float32Array, mean: Float32Array, mul: Float32Array, offset: Float32Array): void {
  const m = mean.length;
  for (let r = 0; r < x.length; r += m) {
    for (let k = 0; k < m; k++) y[r + k] = (x[r + k] - mean[k]) * mul[k] + offset[k];
  }
}

export const normKernels = [kernel('FusedBatchNorm', fusedBatchNorm)];
