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

// Row reductions of a row-major [rows, n] float32 matrix: tfjs's Sum, Mean, Prod, Max, Min, ArgMax and ArgMin over
// the innermost axes (src/tfjs/kernels/reduce.ts moves the reduced axes innermost first). Operation codes:
export const ROW_SUM = 0, ROW_MEAN = 1, ROW_PROD = 2, ROW_MAX = 3, ROW_MIN = 4, ROW_ARGMAX = 5, ROW_ARGMIN = 6;

/**
 * out[r] = the reduction of x[r·n … r·n + n) for r < rows: float32 results, or int32 indices for ArgMax/ArgMin.
 * Sum, Mean and Prod accumulate in float64 (as tfjs-backend-cpu's JS loops do), rounded once to float32;
 * Max/Min are NaN if the run holds a NaN; ArgMax/ArgMin give the first index of the largest / smallest value
 * under `>` / `<` (NaN never wins; 0 when nothing beats x[0], e.g. when x[0] is NaN) — tfjs-backend-cpu's rules.
 */
export function reduce_rows(op: i32, x: usize, rows: i32, n: i32, out: usize): void {
  for (let r = 0; r < rows; r++) {
    const row = at(x, r * n), o = at(out, r);
    if (op == ROW_SUM || op == ROW_MEAN) {
      const s = sumRow(row, n);
      store<f32>(o, <f32>(op == ROW_MEAN ? s / <f64>n : s));
    } else if (op == ROW_PROD) store<f32>(o, <f32>prodRow(row, n));
    else if (op == ROW_MAX) store<f32>(o, extremeRow(row, n, true));
    else if (op == ROW_MIN) store<f32>(o, extremeRow(row, n, false));
    else store<i32>(o, argRow(row, n, op == ROW_ARGMAX));
  }
}

/** Σ row[i] in float64: four float64 partial sums (two f64x2) over groups of four, then the rest in order. */
function sumRow(row: usize, n: i32): f64 {
  return foldRow(row, n, false);
}

/** Π row[i] in float64 (two f64x2 partial products, then the rest in order). */
function prodRow(row: usize, n: i32): f64 {
  return foldRow(row, n, true);
}

/** The sum (product = false) or product of the row's floats in float64, two f64x2 partials, then the rest in order. */
// @ts-ignore: decorator
@inline function foldRow(row: usize, n: i32, product: bool): f64 {
  let i = 0, s: f64 = product ? 1 : 0;
  if (ASC_FEATURE_SIMD) {
    let a = f64x2.splat(s), b = f64x2.splat(s);
    for (; i + 4 <= n; i += 4) {
      const v = v128.load(at(row, i));
      const lo = f64x2.promote_low_f32x4(v), hi = f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1));
      a = product ? f64x2.mul(a, lo) : f64x2.add(a, lo);
      b = product ? f64x2.mul(b, hi) : f64x2.add(b, hi);
    }
    const c = product ? f64x2.mul(a, b) : f64x2.add(a, b);
    s = product ? f64x2.extract_lane(c, 0) * f64x2.extract_lane(c, 1) : f64x2.extract_lane(c, 0) + f64x2.extract_lane(c, 1);
  }
  for (; i < n; i++) s = product ? s * <f64>load<f32>(at(row, i)) : s + <f64>load<f32>(at(row, i));
  return s;
}

/** max (largest = true) or min of the row; NaN when any element is NaN (wasm's f32x4.max/min propagate NaN). */
function extremeRow(row: usize, n: i32, largest: bool): f32 {
  let i = 0, m: f32 = largest ? -Infinity : Infinity;
  if (ASC_FEATURE_SIMD) {
    let v = f32x4.splat(m);
    for (; i + 4 <= n; i += 4) {
      const x = v128.load(at(row, i));
      v = largest ? f32x4.max(v, x) : f32x4.min(v, x);
    }
    const a = f32x4.extract_lane(v, 0), b = f32x4.extract_lane(v, 1), c = f32x4.extract_lane(v, 2), d = f32x4.extract_lane(v, 3);
    m = largest ? max(max(a, b), max(c, d)) : min(min(a, b), min(c, d));
  }
  for (; i < n; i++) {
    const x = load<f32>(at(row, i));
    m = largest ? max(m, x) : min(m, x);
  }
  return m;
}

/**
 * The first index k with row[k] beating every earlier candidate under `>` (largest) or `<`, starting from k = 0.
 * Lane l of the vector loop keeps the best of elements ≡ l (mod 4) (ties keep the earlier one, NaN never enters);
 * the lanes then merge by value, the lower index winning ties — the same answer as the sequential scan.
 */
function argRow(row: usize, n: i32, largest: bool): i32 {
  if (n <= 0) return 0;
  let best = load<f32>(row), k = 0, i = 1;
  if (ASC_FEATURE_SIMD && n >= 8) {
    let bv = f32x4.splat(largest ? -Infinity : Infinity), bi = i32x4.splat(-1);
    let idx = i32x4(0, 1, 2, 3);
    const four = i32x4.splat(4);
    for (i = 0; i + 4 <= n; i += 4) {
      const x = v128.load(at(row, i));
      const win = largest ? f32x4.gt(x, bv) : f32x4.lt(x, bv);
      bv = v128.bitselect(x, bv, win);
      bi = v128.bitselect(idx, bi, win);
      idx = i32x4.add(idx, four);
    }
    // Lane candidates (index −1: the lane saw only NaN / ±Infinity that never beat the start value).
    k = 0;
    for (let l = 0; l < 4; l++) {
      const li = lane(bi, l), lv = laneF(bv, l);
      if (li < 0) continue;
      if ((largest ? lv > best : lv < best) || (lv == best && li < k)) { best = lv; k = li; }
    }
  }
  for (; i < n; i++) {
    const x = load<f32>(at(row, i));
    if (largest ? x > best : x < best) { best = x; k = i; }
  }
  return k;
}

// @ts-ignore: decorator
@inline function lane(v: v128, l: i32): i32 {
  return l == 0 ? i32x4.extract_lane(v, 0) : l == 1 ? i32x4.extract_lane(v, 1) : l == 2 ? i32x4.extract_lane(v, 2) : i32x4.extract_lane(v, 3);
}
// @ts-ignore: decorator
@inline function laneF(v: v128, l: i32): f32 {
  return l == 0 ? f32x4.extract_lane(v, 0) : l == 1 ? f32x4.extract_lane(v, 1) : l == 2 ? f32x4.extract_lane(v, 2) : f32x4.extract_lane(v, 3);
}
