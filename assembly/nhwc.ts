// Channel-last (NHWC) kernels, SIMD across channels — for callers whose tensors are NHWC (the TensorFlow.js
// backend), so that memory-bound ops need no transposes to and from simdnn's NCHW planes.
//   maxpool_nhwc:         y[n, oh, ow, c] = max over the window's in-range taps of x[n, ih, iw, c]
//   channel_affine_nhwc:  y[r, c] = (x[r, c] − mean[c])·mul[c] + offset[c]   (batch norm with given statistics)
import { at } from './vec';

/**
 * Max pooling over output rows [r0, r1) of r = n·OH + oh (the split over threads), windows of KH×KW with strides
 * SH/SW whose top-left tap sits at (oh·SH − PT, ow·SW − PL); taps outside the input are skipped (padding = −∞).
 * A NaN in a window is its maximum (f32x4.max propagates NaN, as PyTorch's max pooling); a window with no tap in
 * range gives −∞.
 */
export function maxpool_nhwc(x: usize, y: usize, H: i32, W: i32, C: i32, KH: i32, KW: i32, SH: i32, SW: i32,
                             PT: i32, PL: i32, OH: i32, OW: i32, r0: i32, r1: i32): void {
  for (let r = r0; r < r1; r++) {
    const n = r / OH, oh = r - n * OH;
    const h0 = oh * SH - PT;
    const kh0 = max(0, -h0), kh1 = min(KH, H - h0);
    const xn = x + (<usize>(n * H * W * C) << 2);
    for (let ow = 0; ow < OW; ow++) {
      const w0 = ow * SW - PL;
      const kw0 = max(0, -w0), kw1 = min(KW, W - w0);
      const out = y + (<usize>((r * OW + ow) * C) << 2);
      if (kh0 >= kh1 || kw0 >= kw1) {
        for (let c = 0; c < C; c++) store<f32>(at(out, c), -Infinity);
        continue;
      }
      // The first tap initialises the output, the others fold in with max.
      let first = true;
      for (let kh = kh0; kh < kh1; kh++) {
        for (let kw = kw0; kw < kw1; kw++) {
          const tap = xn + (<usize>(((h0 + kh) * W + w0 + kw) * C) << 2);
          let c = 0;
          if (first) {
            memory.copy(out, tap, <usize>C << 2);
            first = false;
            continue;
          }
          if (ASC_FEATURE_SIMD) {
            for (; c + 4 <= C; c += 4) v128.store(at(out, c), f32x4.max(v128.load(at(out, c)), v128.load(at(tap, c))));
          }
          for (; c < C; c++) {
            const a = load<f32>(at(out, c)), b = load<f32>(at(tap, c));
            store<f32>(at(out, c), a != a || b != b ? NaN : max(a, b));
          }
        }
      }
    }
  }
}

/** Rows [r0, r1) of x [R, C]: y = (x − mean[c])·mul[c] + offset[c] (tfjs's FusedBatchNorm order of operations). */
export function channel_affine_nhwc(x: usize, y: usize, C: i32, mean: usize, mul: usize, offset: usize, r0: i32, r1: i32): void {
  for (let r = r0; r < r1; r++) {
    const xr = x + (<usize>(r * C) << 2), yr = y + (<usize>(r * C) << 2);
    let c = 0;
    if (ASC_FEATURE_SIMD) {
      for (; c + 4 <= C; c += 4) {
        const v = f32x4.sub(v128.load(at(xr, c)), v128.load(at(mean, c)));
        v128.store(at(yr, c), f32x4.add(f32x4.mul(v, v128.load(at(mul, c))), v128.load(at(offset, c))));
      }
    }
    for (; c < C; c++) {
      store<f32>(at(yr, c), (load<f32>(at(xr, c)) - load<f32>(at(mean, c))) * load<f32>(at(mul, c)) + load<f32>(at(offset, c)));
    }
  }
}
