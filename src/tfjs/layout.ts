// Layout changes between tfjs (NHWC activations, [KH, KW, Cin, Cout] filters) and simdnn (NCHW, OIHW), on
// the SIMD batched transpose kernel (assembly/transpose.ts). Each returns a new simdnn tensor.
import type { Engine } from '../engine.js';
import type { Tensor } from '../tensor.js';

/** dst[b][c][r] = src[b][r][c]: a new tensor of the given shape (4-byte elements of src's dtype). */
export function batchedTranspose(e: Engine, src: Tensor, B: number, R: number, C: number, shape: readonly number[], what: string): Tensor {
  const dst = e.empty(shape, src.dtype, what);
  e.kernels.transpose2d(src.offset, dst.offset, B, R, C);
  return dst;
}

/** [N, H, W, C] → [N, C, H, W]. */
export function nhwcToNchw(e: Engine, x: Tensor, [N, H, W, C]: readonly number[]): Tensor {
  return batchedTranspose(e, x, N, H * W, C, [N, C, H, W], 'tfjs NHWC→NCHW');
}

/** [N, C, H, W] → [N, H, W, C] (flat). */
export function nchwToNhwc(e: Engine, x: Tensor, [N, C, H, W]: readonly number[]): Tensor {
  return batchedTranspose(e, x, N, C, H * W, [N * H * W * C], 'tfjs NCHW→NHWC');
}

/** A tfjs filter [KH, KW, Cin, Cout] → simdnn's [Cout, Cin, KH, KW]: to [Cout, KH·KW, Cin], then per output channel. */
export function filterToOihw(e: Engine, f: Tensor, [KH, KW, Cin, Cout]: readonly number[]): Tensor {
  const mid = batchedTranspose(e, f, 1, KH * KW * Cin, Cout, [Cout, KH * KW, Cin], 'tfjs filter layout');
  try {
    return batchedTranspose(e, mid, Cout, KH * KW, Cin, [Cout, Cin, KH, KW], 'tfjs filter layout');
  } finally {
    mid.dispose();
  }
}

/** simdnn [Cout, Cin, KH, KW] → a tfjs filter [KH, KW, Cin, Cout] (flat). */
export function oihwToFilter(e: Engine, w: Tensor, [Cout, Cin, KH, KW]: readonly number[]): Tensor {
  const mid = batchedTranspose(e, w, Cout, Cin, KH * KW, [Cout, KH * KW, Cin], 'tfjs filter layout');
  try {
    return batchedTranspose(e, mid, 1, Cout, KH * KW * Cin, [KH * KW * Cin * Cout], 'tfjs filter layout');
  } finally {
    mid.dispose();
  }
}
