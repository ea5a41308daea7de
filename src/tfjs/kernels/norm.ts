// FusedBatchNorm: y = (x − mean)·scale/√(variance + ε) + offset with the statistics given (tfjs-layers
// computes batch moments with Mean/SquaredDifference and normalises with this kernel). Parameters broadcast
// along x's trailing dimensions (per channel in NHWC). JS loops; per-channel parameters take one fused
// multiplier per channel.
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { attrsOf, kernel, type KernelArgs } from './kernel.js';

function fusedBatchNorm(args: KernelArgs): TensorInfo {
  const { backend: b } = args;
  const { x, mean, variance, offset, scale } = args.inputs;
  const { varianceEpsilon: eps } = attrsOf<{ varianceEpsilon: number }>(args);
  const { info, t } = b.makeEmpty(x.shape, 'float32');
  if (!t) return info;
  const param = (p: TensorInfo | undefined, fallback: number, name: string) => {
    if (!p) return { v: new Float32Array([fallback]), n: 1 };
    const v = b.values(p), n = v.length;
    const tail = x.shape.slice(x.shape.length - p.shape.length);
    if (n !== 1 && (p.shape.length > x.shape.length || p.shape.some((d, i) => d !== tail[i]))) {
      throw new Error(`FusedBatchNorm (simdnn): ${name} of shape [${p.shape}] must be a scalar or match x's trailing dimensions [${x.shape}]`);
    }
    return { v, n };
  };
  const mu = param(mean, 0, 'mean'), va = param(variance, 1, 'variance'), o = param(offset, 0, 'offset'), s = param(scale, 1, 'scale');
  const xv = b.values(x), y = t.view();
  // Each parameter repeats with its own size along x (it matches x's trailing dims). When all have size 1 or
  // one common size m: a multiplier per channel, computed once.
  const m = Math.max(mu.n, va.n, o.n, s.n);
  if ([mu, va, o, s].every((p) => p.n === 1 || p.n === m)) {
    const mul = new Float32Array(m);
    for (let k = 0; k < m; k++) mul[k] = s.v[k % s.n] / Math.sqrt(va.v[k % va.n] + eps);
    const mk = Float32Array.from({ length: m }, (_, k) => mu.v[k % mu.n]), ok = Float32Array.from({ length: m }, (_, k) => o.v[k % o.n]);
    for (let r = 0; r < xv.length; r += m) for (let k = 0; k < m; k++) y[r + k] = (xv[r + k] - mk[k]) * mul[k] + ok[k];
    return info;
  }
  for (let i = 0; i < xv.length; i++) {
    const inv = 1 / Math.sqrt(va.v[i % va.n] + eps);
    y[i] = (xv[i] - mu.v[i % mu.n]) * inv * s.v[i % s.n] + o.v[i % o.n];
  }
  return info;
}

export const normKernels = [kernel('FusedBatchNorm', fusedBatchNorm)];
