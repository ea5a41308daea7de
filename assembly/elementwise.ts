// Elementwise sums and strided block copies over contiguous floats: the add of residual blocks, in-place
// gradient accumulation (axpy, scale), and concat/split along any axis as a copy of `rows` blocks.
import { at } from './vec';

/** y = a + b over n floats (y may alias a or b). */
export function add_forward(a: usize, b: usize, y: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 8 <= n; i += 8) {
      v128.store(at(y, i), f32x4.add(v128.load(at(a, i)), v128.load(at(b, i))));
      v128.store(at(y, i), f32x4.add(v128.load(at(a, i), 16), v128.load(at(b, i), 16)), 16);
    }
    for (; i + 4 <= n; i += 4) v128.store(at(y, i), f32x4.add(v128.load(at(a, i)), v128.load(at(b, i))));
  }
  for (; i < n; i++) store<f32>(at(y, i), load<f32>(at(a, i)) + load<f32>(at(b, i)));
}

/** y += alpha·x over n floats, in place (alpha = 1 is a plain add, exact as a + b). */
export function axpy(y: usize, x: usize, n: i32, alpha: f32): void {
  let i = 0;
  if (alpha == 1) {
    add_forward(y, x, y, n);
    return;
  }
  if (ASC_FEATURE_SIMD) {
    const s = f32x4.splat(alpha);
    for (; i + 4 <= n; i += 4) v128.store(at(y, i), f32x4.add(v128.load(at(y, i)), f32x4.mul(s, v128.load(at(x, i)))));
  }
  for (; i < n; i++) store<f32>(at(y, i), load<f32>(at(y, i)) + alpha * load<f32>(at(x, i)));
}

/** x *= alpha over n floats, in place. */
export function scale(x: usize, n: i32, alpha: f32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const s = f32x4.splat(alpha);
    for (; i + 4 <= n; i += 4) v128.store(at(x, i), f32x4.mul(v128.load(at(x, i)), s));
  }
  for (; i < n; i++) store<f32>(at(x, i), load<f32>(at(x, i)) * alpha);
}

/**
 * Copies `rows` blocks of `len` floats: block r from src + r·srcStride to dst + r·dstStride (strides in floats).
 * Concat along an axis is one call per input (src stride = its block, dst stride = the output's block); split is
 * the same with the strides swapped. With accumulate ≠ 0 the block is added into dst instead.
 */
export function copy_blocks(src: usize, dst: usize, rows: i32, len: i32, srcStride: i32, dstStride: i32, accumulate: i32): void {
  for (let r = 0; r < rows; r++) {
    const s = at(src, r * srcStride), d = at(dst, r * dstStride);
    if (accumulate != 0) { add_forward(d, s, d, len); continue; }
    let i = 0;
    if (ASC_FEATURE_SIMD) {
      for (; i + 8 <= len; i += 8) {
        v128.store(at(d, i), v128.load(at(s, i)));
        v128.store(at(d, i), v128.load(at(s, i), 16), 16);
      }
      for (; i + 4 <= len; i += 4) v128.store(at(d, i), v128.load(at(s, i)));
    }
    for (; i < len; i++) store<f32>(at(d, i), load<f32>(at(s, i)));
  }
}
