// Broadcasting float32 arithmetic (the elementwise work of tfjs-layers' training graphs: batch-norm moments and
// their gradients, relu gradients, optimizer updates), exact unary ops (floor for dropout masks, relu6, …) and
// tfjs's Step:
//   y = a ∘ b, ∘ ∈ {+, −, ×, ÷, prelu (a < 0 ? a·b : a), max, min, (a − b)²}, where both operands have n elements (mode 0), or one of them repeats with period m
//   — b (mode 1: y[r·m + k] = a[r·m + k] ∘ b[k]) or a (mode 2: y[r·m + k] = a[k] ∘ b[r·m + k]); m = 1 is a scalar.
// broadcast_strided_f32 runs those blocks along outer dimensions with any strides (a repeat along leading or middle
// axes: [N, C, H, W] ∘ [1, C, 1, 1], [M, 1] ∘ [M, K], …).
// One IEEE float32 operation per element: the same results, bit for bit, as a JS loop that computes in float64 and
// stores into a Float32Array (float64 has more than 2·24 + 2 bits, so the double rounding of +, −, ×, ÷ is harmless);
// max / min are wasm's (NaN if either is NaN, +0 above −0: JS's Math.max / Math.min); (a − b)² is computed in float64
// and rounded once, as the JS loop does.
import { at, log4 } from './vec';

// Operation codes (src/tfjs/kernels/elementwise.ts maps tfjs's kernel names onto them).
const ADD = 0, SUB = 1, MUL = 2, DIV = 3, PRELU = 4, MAX = 5, MIN = 6;   // anything else: SQDIFF

// @ts-ignore: decorator
@inline function op4(op: i32, a: v128, b: v128): v128 {
  if (op == ADD) return f32x4.add(a, b);
  if (op == SUB) return f32x4.sub(a, b);
  if (op == MUL) return f32x4.mul(a, b);
  if (op == DIV) return f32x4.div(a, b);
  if (op == PRELU) return v128.bitselect(f32x4.mul(a, b), a, f32x4.lt(a, f32x4.splat(0)));  // NaN < 0 is false: NaN stays
  if (op == MAX) return f32x4.max(a, b);
  if (op == MIN) return f32x4.min(a, b);
  // (a − b)² in float64, rounded once to float32 (as the JS loop): two lanes per f64x2.
  const dl = f64x2.sub(f64x2.promote_low_f32x4(a), f64x2.promote_low_f32x4(b));
  const dh = f64x2.sub(f64x2.promote_low_f32x4(v128.shuffle<f32>(a, a, 2, 3, 0, 1)),
                       f64x2.promote_low_f32x4(v128.shuffle<f32>(b, b, 2, 3, 0, 1)));
  return v128.shuffle<f32>(f32x4.demote_f64x2_zero(f64x2.mul(dl, dl)), f32x4.demote_f64x2_zero(f64x2.mul(dh, dh)), 0, 1, 4, 5);
}

// @ts-ignore: decorator
@inline function op1(op: i32, a: f32, b: f32): f32 {
  if (op == ADD) return a + b;
  if (op == SUB) return a - b;
  if (op == MUL) return a * b;
  if (op == DIV) return a / b;
  if (op == PRELU) return a < 0 ? a * b : a;
  if (op == MAX) return max<f32>(a, b);
  if (op == MIN) return min<f32>(a, b);
  const d = <f64>a - <f64>b;
  return <f32>(d * d);
}

/** y[i] = a[i] ∘ b[i], i < n. */
// @ts-ignore: decorator
@inline function same(op: i32, a: usize, b: usize, y: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 8 <= n; i += 8) {
      v128.store(at(y, i), op4(op, v128.load(at(a, i)), v128.load(at(b, i))));
      v128.store(at(y, i), op4(op, v128.load(at(a, i), 16), v128.load(at(b, i), 16)), 16);
    }
    for (; i + 4 <= n; i += 4) v128.store(at(y, i), op4(op, v128.load(at(a, i)), v128.load(at(b, i))));
  }
  for (; i < n; i++) store<f32>(at(y, i), op1(op, load<f32>(at(a, i)), load<f32>(at(b, i))));
}

/** y = a ∘ s (first = 0) or s ∘ a (first = 1) for the scalar s, over n elements of a. */
// @ts-ignore: decorator
@inline function withScalar(op: i32, a: usize, s: f32, y: usize, n: i32, first: bool): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const v = f32x4.splat(s);
    for (; i + 4 <= n; i += 4) {
      const x = v128.load(at(a, i));
      v128.store(at(y, i), first ? op4(op, v, x) : op4(op, x, v));
    }
  }
  for (; i < n; i++) {
    const x = load<f32>(at(a, i));
    store<f32>(at(y, i), first ? op1(op, s, x) : op1(op, x, s));
  }
}

/** Mode 1 (periodicA false): y[r + k] = a[r + k] ∘ b[k]; mode 2 (true): y[r + k] = a[k] ∘ b[r + k]; r steps by m. */
// @ts-ignore: decorator
@inline function periodic(op: i32, a: usize, b: usize, y: usize, n: i32, m: i32, periodicA: bool): void {
  if (m == 1) {
    if (periodicA) withScalar(op, b, load<f32>(a), y, n, true);
    else withScalar(op, a, load<f32>(b), y, n, false);
    return;
  }
  if (ASC_FEATURE_SIMD) {
    if ((m & 7) == 0) {
      // Periods of whole vector pairs (per-channel data with C a multiple of 8): one flat loop, two vectors per
      // step, whose index into the periodic operand wraps, instead of a short inner loop per period.
      for (let i = 0, k = 0; i < n; i += 8) {
        const pa = at(a, periodicA ? k : i), pb = at(b, periodicA ? i : k), py = at(y, i);
        v128.store(py, op4(op, v128.load(pa), v128.load(pb)));
        v128.store(py, op4(op, v128.load(pa, 16), v128.load(pb, 16)), 16);
        k += 8;
        if (k == m) k = 0;
      }
      return;
    }
  }
  for (let r = 0; r < n; r += m) {
    let k = 0;
    if (ASC_FEATURE_SIMD) {
      for (; k + 4 <= m; k += 4) {
        const va = v128.load(at(a, periodicA ? k : r + k)), vb = v128.load(at(b, periodicA ? r + k : k));
        v128.store(at(y, r + k), op4(op, va, vb));
      }
    }
    for (; k < m; k++) {
      store<f32>(at(y, r + k), op1(op, load<f32>(at(a, periodicA ? k : r + k)), load<f32>(at(b, periodicA ? r + k : k))));
    }
  }
}

// @ts-ignore: decorator
@inline function dispatch(op: i32, mode: i32, a: usize, b: usize, y: usize, n: i32, m: i32): void {
  if (mode == 0) same(op, a, b, y, n);
  else if (mode == 1) periodic(op, a, b, y, n, m, false);
  else periodic(op, a, b, y, n, m, true);
}

/**
 * y = a ∘ b over n float32 (n a multiple of m in modes 1 and 2). op: 0 add, 1 sub, 2 mul, 3 div, 4 prelu (a < 0 ?
 * a·b : a), 5 max, 6 min, 7 squared difference. mode: 0 both have n elements; 1 b has m, repeating; 2 a has m, repeating. y may alias the full-size
 * operand.
 */
export function broadcast_f32(op: i32, mode: i32, a: usize, b: usize, y: usize, n: i32, m: i32): void {
  if (op == ADD) dispatch(ADD, mode, a, b, y, n, m);
  else if (op == SUB) dispatch(SUB, mode, a, b, y, n, m);
  else if (op == MUL) dispatch(MUL, mode, a, b, y, n, m);
  else if (op == DIV) dispatch(DIV, mode, a, b, y, n, m);
  else if (op == PRELU) dispatch(PRELU, mode, a, b, y, n, m);
  else if (op == MAX) dispatch(MAX, mode, a, b, y, n, m);
  else if (op == MIN) dispatch(MIN, mode, a, b, y, n, m);
  else dispatch(7, mode, a, b, y, n, m);
}

/**
 * A general broadcast: `blocks` consecutive blocks of y (n floats each), block j being broadcast_f32(op, mode, a_j,
 * b_j, y + j·n, n, m), where a_j, b_j step by an odometer over r outer dimensions. desc holds 4·r int32: the sizes
 * (outermost first, their product = blocks), a's strides, b's strides (in floats; 0 where that operand repeats)
 * and r counters that must be 0 on entry (they are 0 again on return).
 */
export function broadcast_strided_f32(op: i32, mode: i32, a: usize, b: usize, y: usize, n: i32, m: i32,
                                      blocks: i32, r: i32, desc: usize): void {
  const sizes = desc, sa = at(desc, r), sb = at(desc, 2 * r), idx = at(desc, 3 * r);
  let pa = a, pb = b, py = y;
  for (let j = 0; j < blocks; j++, py = at(py, n)) {
    broadcast_f32(op, mode, pa, pb, py, n, m);
    // Next block: bump the innermost counter, carrying into outer ones (rewinding the pointers of wrapped ones).
    for (let d = r - 1; d >= 0; d--) {
      const c = load<i32>(at(idx, d)) + 1, size = load<i32>(at(sizes, d));
      const da = load<i32>(at(sa, d)), db = load<i32>(at(sb, d));
      if (c < size) {
        store<i32>(at(idx, d), c);
        pa = at(pa, da);
        pb = at(pb, db);
        break;
      }
      store<i32>(at(idx, d), 0);
      pa -= <usize>(da * (size - 1)) << 2;
      pb -= <usize>(db * (size - 1)) << 2;
    }
  }
}

// Unary operation codes of unary_f32: 0–6 exact (the same float32 as the JS loop that they replace); reciprocal is
// one division (exact too); rsqrt is √ then ÷ (two roundings: within 1 ulp of float64's 1/√x); log is log4 (Cephes'
// logf polynomial, ≈ 1e-7 relative) with ln 0 = −∞, ln x = NaN for x < 0, ln ∞ = ∞, NaN stays, subnormals scaled.
const FLOOR = 0, CEIL = 1, ROUND = 2, NEG = 3, ABS = 4, SQRT = 5, RELU6 = 6, RECIP = 7, RSQRT = 8;   // else: LOG

// @ts-ignore: decorator
@inline function un4(op: i32, x: v128): v128 {
  if (op == FLOOR) return f32x4.floor(x);
  if (op == CEIL) return f32x4.ceil(x);
  if (op == ROUND) return f32x4.nearest(x);
  if (op == NEG) return f32x4.neg(x);
  if (op == ABS) return f32x4.abs(x);
  if (op == SQRT) return f32x4.sqrt(x);
  if (op == RELU6) return f32x4.min(f32x4.max(x, f32x4.splat(0)), f32x4.splat(6));   // wasm's min/max propagate NaN
  if (op == RECIP) return f32x4.div(f32x4.splat(1), x);
  if (op == RSQRT) return f32x4.div(f32x4.splat(1), f32x4.sqrt(x));
  return logAny4(x);
}

/** ln x for any four lanes: log4 on positive normal values (subnormals scaled by 2²⁵ first), IEEE's special cases. */
// @ts-ignore: decorator
@inline function logAny4(x: v128): v128 {
  const tiny = f32x4.lt(x, f32x4.splat(1.17549435e-38));                 // subnormal, zero, negative (NaN: false)
  const w = v128.bitselect(f32x4.mul(x, f32x4.splat(33554432)), x, tiny);
  let r = f32x4.sub(log4(w), v128.and(f32x4.splat(17.328679513998633), tiny));   // 25·ln 2 where scaled
  r = v128.bitselect(f32x4.splat(-Infinity), r, f32x4.eq(x, f32x4.splat(0)));
  r = v128.bitselect(f32x4.splat(NaN), r, v128.or(f32x4.lt(x, f32x4.splat(0)), f32x4.ne(x, x)));
  return v128.bitselect(x, r, f32x4.eq(x, f32x4.splat(Infinity)));
}

// @ts-ignore: decorator
@inline function un1(op: i32, x: f32): f32 {
  if (op == FLOOR) return Mathf.floor(x);
  if (op == CEIL) return Mathf.ceil(x);
  if (op == ROUND) return nearest<f32>(x);
  if (op == NEG) return -x;
  if (op == ABS) return Mathf.abs(x);
  if (op == SQRT) return Mathf.sqrt(x);
  if (op == RELU6) return min<f32>(max<f32>(x, 0), 6);
  if (op == RECIP) return 1 / x;
  if (op == RSQRT) return 1 / Mathf.sqrt(x);
  return Mathf.log(x);
}

// @ts-ignore: decorator
@inline function unaryLoop(op: i32, x: usize, y: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) v128.store(at(y, i), un4(op, v128.load(at(x, i))));
  }
  for (; i < n; i++) store<f32>(at(y, i), un1(op, load<f32>(at(x, i))));
}

/**
 * y = f(x) over n float32 (y may alias x). op: 0 floor, 1 ceil, 2 round half to even, 3 negate, 4 abs, 5 sqrt,
 * 6 relu6 (min(max(x, 0), 6), NaN stays NaN), 7 1/x, 8 1/√x, 9 ln x. The scalar build (and the SIMD builds' last
 * n mod 4 elements) compute ln with Mathf.log (musl's logf).
 */
export function unary_f32(op: i32, x: usize, y: usize, n: i32): void {
  if (op == FLOOR) unaryLoop(FLOOR, x, y, n);
  else if (op == CEIL) unaryLoop(CEIL, x, y, n);
  else if (op == ROUND) unaryLoop(ROUND, x, y, n);
  else if (op == NEG) unaryLoop(NEG, x, y, n);
  else if (op == ABS) unaryLoop(ABS, x, y, n);
  else if (op == SQRT) unaryLoop(SQRT, x, y, n);
  else if (op == RELU6) unaryLoop(RELU6, x, y, n);
  else if (op == RECIP) unaryLoop(RECIP, x, y, n);
  else if (op == RSQRT) unaryLoop(RSQRT, x, y, n);
  else unaryLoop(9, x, y, n);
}

/** tfjs's ClipByValue: y = min(max(x, lo), hi), NaN stays NaN; n float32 (y may alias x). */
export function clip_f32(x: usize, y: usize, n: i32, lo: f32, hi: f32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const l = f32x4.splat(lo), h = f32x4.splat(hi);
    for (; i + 4 <= n; i += 4) v128.store(at(y, i), f32x4.min(f32x4.max(v128.load(at(x, i)), l), h));
  }
  for (; i < n; i++) store<f32>(at(y, i), min<f32>(max<f32>(load<f32>(at(x, i)), lo), hi));
}

/** tfjs's Step: y = 1 where x > 0, alpha elsewhere, NaN where x is NaN; n float32 (y may alias x). */
export function step_f32(x: usize, y: usize, n: i32, alpha: f32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const one = f32x4.splat(1), lo = f32x4.splat(alpha), zero = f32x4.splat(0);
    for (; i + 4 <= n; i += 4) {
      const v = v128.load(at(x, i));
      const s = v128.bitselect(one, lo, f32x4.gt(v, zero));
      v128.store(at(y, i), v128.bitselect(v, s, f32x4.ne(v, v)));
    }
  }
  for (; i < n; i++) {
    const v = load<f32>(at(x, i));
    store<f32>(at(y, i), v != v ? v : v > 0 ? 1 : alpha);
  }
}
