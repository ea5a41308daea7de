// Column sums of a row-major [rows, m] float32 matrix: tfjs's Sum / Mean over the leading axes (axes [0, 1, 2] of
// NHWC data — batch-norm moments, per-channel bias and scale gradients) without transposing.
// Accumulated in float64 row by row (four floats widened to two f64x2 per step), so the result is exactly that of
// a JS loop `acc[k] += x[r·m + k]` over a Float64Array, rounded once to float32 at the end.
import { at } from './vec';

/**
 * out[k] = Σ_r x[r·m + k] (divided by rows when mean ≠ 0), k < m, r < rows. acc: scratch for m float64
 * (8·m bytes, 16-byte aligned).
 */
export function sum_columns(x: usize, rows: i32, m: i32, out: usize, acc: usize, mean: i32): void {
  for (let k = 0; k < m; k++) store<f64>(acc + (<usize>k << 3), 0);
  for (let r = 0; r < rows; r++) {
    const row = at(x, r * m);
    let k = 0;
    if (ASC_FEATURE_SIMD) {
      for (; k + 4 <= m; k += 4) {
        const v = v128.load(at(row, k));
        const p = acc + (<usize>k << 3);
        v128.store(p, f64x2.add(v128.load(p), f64x2.promote_low_f32x4(v)));
        v128.store(p, f64x2.add(v128.load(p, 16), f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1))), 16);
      }
    }
    for (; k < m; k++) {
      const p = acc + (<usize>k << 3);
      store<f64>(p, load<f64>(p) + <f64>load<f32>(at(row, k)));
    }
  }
  for (let k = 0; k < m; k++) {
    const s = load<f64>(acc + (<usize>k << 3));
    store<f32>(at(out, k), <f32>(mean != 0 ? s / <f64>rows : s));
  }
}
