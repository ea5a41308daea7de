// FusedBatchNorm: y = (x − mean)·scale/√(variance + ε) + offset with the statistics given (tfjs-layers
// computes batch moments with Mean/SquaredDifference and normalises with this kernel). Parameters broadcast
// along x's trailing dimensions (per channel in NHWC). Parameters of one common size over a large tensor run on
// the SIMD kernel of assembly/nhwc.ts straight on the channel-last data; small tensors and mixed sizes are JS.
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { SimdnnBackend } from '../backend.js';
import { runSplit, MEMORY_BOUND_WEIGHT } from '../../ops/parallel.js';
import { attrsOf, kernel, type KernelArgs } from './kernel.js';

/** Below this many elements the plain JS loop is as fast as a call into wasm. */
const SIMD_MIN = 1024;

interface Param { v: ArrayLike<number>; n: number }

function fusedBatchNorm(args: KernelArgs): TensorInfo {
  const { backend: b } = args;
  const { x, mean, variance, offset, scale } = args.inputs;
  const { varianceEpsilon: eps } = attrsOf<{ varianceEpsilon: number }>(args);
  // Parameters copied out of wasm memory now (allocations below may grow it and detach views).
  const param = (p: TensorInfo | undefined, fallback: number, name: string): Param => {
    if (!p) return { v: [fallback], n: 1 };
    const tail = x.shape.slice(x.shape.length - p.shape.length);
    const n = p.shape.reduce((q, r) => q * r, 1);
    if (n !== 1 && (p.shape.length > x.shape.length || p.shape.some((d, i) => d !== tail[i]))) {
      throw new Error(`FusedBatchNorm (simdnn): ${name} of shape [${p.shape}] must be a scalar or match x's trailing dimensions [${x.shape}]`);
    }
    return { v: Float32Array.from(b.values(p)), n };
  };
  const mu = param(mean, 0, 'mean'), va = param(variance, 1, 'variance'), o = param(offset, 0, 'offset'), s = param(scale, 1, 'scale');
  const size = x.shape.reduce((q, r) => q * r, 1);
  // Each parameter repeats with its own size along x. When all have size 1 or one common size m: a multiplier
  // per channel, computed once.
  const m = Math.max(mu.n, va.n, o.n, s.n);
  if ([mu, va, o, s].every((p) => p.n === 1 || p.n === m)) {
    const mul = Float32Array.from({ length: m }, (_, k) => s.v[k % s.n] / Math.sqrt(va.v[k % va.n] + eps));
    const mk = Float32Array.from({ length: m }, (_, k) => mu.v[k % mu.n]), ok = Float32Array.from({ length: m }, (_, k) => o.v[k % o.n]);
    if (x.dtype === 'float32' && m > 1 && size >= SIMD_MIN) return normalizeChannelsLast(b, x, mk, mul, ok);
    const { info, t } = b.makeEmpty(x.shape, 'float32');
    if (t) {
      const xv = b.values(x);
      normalizeRows(xv instanceof Float32Array ? xv : Float32Array.from(xv), t.view() as Float32Array, mk, mul, ok);
    }
    return info;
  }
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
 * y = (x − mean[k])·mul[k] + offset[k] over rows of m = mean.length values, straight on the channel-last tensor
 * (assembly/nhwc.ts channel_affine_nhwc: SIMD across the m channels, no transposes); rows split over threads.
 */
function normalizeChannelsLast(b: SimdnnBackend, x: TensorInfo, mean: Float32Array, mul: Float32Array, offset: Float32Array): TensorInfo {
  const m = mean.length, nn = b.nn;
  const params = nn.tensor([...mean, ...mul, ...offset], [3 * m]);
  try {
    const { info, t } = b.makeEmpty(x.shape, 'float32');
    if (!t) return info;
    const xt = b.view(x);
    const [meanAt, mulAt, offsetAt] = [0, 1, 2].map((i) => params.offset + 4 * i * m);
    runSplit(nn, t.size / m, MEMORY_BOUND_WEIGHT * t.size, 'FusedBatchNorm', 0, (r0, count) => ({
      fn: 'channel_affine_nhwc', args: [xt.offset, t.offset, m, meanAt, mulAt, offsetAt, r0, r0 + count],
    }));
    return info;
  } finally {
    params.dispose();
  }
}

/** y = (x − mean[k])·mul[k] + offset[k] over rows of m = mean.length channels (float32 only: monomorphic). */
function normalizeRows(x: Float32Array, y: Float32Array, mean: Float32Array, mul: Float32Array, offset: Float32Array): void {
  const m = mean.length;
  for (let r = 0; r < x.length; r += m) {
    for (let k = 0; k < m; k++) y[r + k] = (x[r + k] - mean[k]) * mul[k] + offset[k];
  }
}

export const normKernels = [kernel('FusedBatchNorm', fusedBatchNorm)];
