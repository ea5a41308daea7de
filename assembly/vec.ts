// Small f32x4 helpers shared by the kernels. Every kernel has the same shape: a v128 loop guarded by
// `if (ASC_FEATURE_SIMD)` (compiled out of the scalar build), then a scalar loop that finishes the tail, so
// the scalar build runs the same code path with the vector part removed.

/** a·b + c: one fused multiply-add in the relaxed-SIMD build, mul then add otherwise. */
// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/** Sum of the four lanes. */
// @ts-ignore: decorator
@inline export function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

/** Largest of the four lanes. */
// @ts-ignore: decorator
@inline export function hmax(v: v128): f32 {
  return max(max(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)), max(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)));
}

/** Cephes' minimax polynomial P with e^r ≈ 1 + r + r²·P(r) on |r| ≤ ln2/2. */
// @ts-ignore: decorator
@inline function expPoly(r: v128): v128 {
  let p = f32x4.splat(1.9875691500e-4);
  p = madd(p, r, f32x4.splat(1.3981999507e-3));
  p = madd(p, r, f32x4.splat(8.3334519073e-3));
  p = madd(p, r, f32x4.splat(4.1665795894e-2));
  p = madd(p, r, f32x4.splat(1.6666665459e-1));
  return madd(p, r, f32x4.splat(5.0000001201e-1));
}

/**
 * e^x for four lanes (Cephes expf: x = n·ln2 + r with |r| ≤ ln2/2, e^r by a degree-6 polynomial, then
 * times 2^n, applied as two halves 2^⌊n/2⌋·2^⌈n/2⌉ built in the exponent bits so that results down in
 * the subnormal range come out right). Relative error ≈ 2e-7; below −104 the result is 0 and above
 * 88.7228 (ln FLT_MAX) it is +Inf, as IEEE expf; NaN stays NaN.
 */
// @ts-ignore: decorator
@inline export function exp4(v: v128): v128 {
  const x = f32x4.min(f32x4.max(v, f32x4.splat(-104)), f32x4.splat(88.7228));
  const n = f32x4.nearest(f32x4.mul(x, f32x4.splat(1.44269504088896341)));
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
  let p = madd(expPoly(r), f32x4.mul(r, r), f32x4.add(r, f32x4.splat(1)));
  const ni = i32x4.trunc_sat_f32x4_s(n);
  const n1 = i32x4.shr_s(ni, 1), n2 = i32x4.sub(ni, n1);
  const bias = i32x4.splat(127);
  p = f32x4.mul(f32x4.mul(p, i32x4.shl(i32x4.add(n1, bias), 23)), i32x4.shl(i32x4.add(n2, bias), 23));
  return v128.bitselect(f32x4.splat(Infinity), p, f32x4.gt(v, f32x4.splat(88.7228)));
}

/**
 * e^x − 1 for four lanes. On |x| < ln2/2 (n = 0 in exp4's reduction, r = x) straight from the polynomial,
 * x + x²·P(x), which has no cancellation (relative error ≈ 1e-7 however small x is); elsewhere exp4(x) − 1,
 * where |e^x − 1| > 0.29 so the subtraction costs at most ~2 bits (≈ 3e-7). −Inf gives −1, NaN stays NaN.
 */
// @ts-ignore: decorator
@inline export function expm1_4(v: v128): v128 {
  const small = f32x4.lt(f32x4.abs(v), f32x4.splat(0.34657359));
  const q = madd(expPoly(v), f32x4.mul(v, v), v);
  return v128.bitselect(q, f32x4.sub(exp4(v), f32x4.splat(1)), small);
}

/**
 * ln w for four lanes of positive, finite, normal w (Cephes logf): w = 2^e·m with m ∈ [√½, √2), f = m − 1
 * (exact), ln m ≈ f − f²/2 + f³·Q(f), plus e·ln2 with ln2 split in two parts so that e·ln2 adds no error.
 */
// @ts-ignore: decorator
@inline export function log4(w: v128): v128 {
  // m ∈ [0.5, 1) from the mantissa bits, e the matching exponent; then halve the range to [√½, √2).
  let e = i32x4.sub(i32x4.shr_u(w, 23), i32x4.splat(126));
  const m = v128.or(v128.and(w, i32x4.splat(0x007fffff)), i32x4.splat(0x3f000000));
  const low = f32x4.lt(m, f32x4.splat(0.707106781186547524));
  e = i32x4.add(e, low);                                           // the mask is −1 where m < √½
  const f = f32x4.sub(f32x4.add(m, v128.and(m, low)), f32x4.splat(1));
  const ef = f32x4.convert_i32x4_s(e), z = f32x4.mul(f, f);
  let q = f32x4.splat(7.0376836292e-2);
  q = madd(q, f, f32x4.splat(-1.1514610310e-1));
  q = madd(q, f, f32x4.splat(1.1676998740e-1));
  q = madd(q, f, f32x4.splat(-1.2420140846e-1));
  q = madd(q, f, f32x4.splat(1.4249322787e-1));
  q = madd(q, f, f32x4.splat(-1.6668057665e-1));
  q = madd(q, f, f32x4.splat(2.0000714765e-1));
  q = madd(q, f, f32x4.splat(-2.4999993993e-1));
  q = madd(q, f, f32x4.splat(3.3333331174e-1));
  let y = f32x4.mul(f32x4.mul(q, f), z);
  y = madd(ef, f32x4.splat(-2.12194440e-4), y);
  y = madd(z, f32x4.splat(-0.5), y);
  return madd(ef, f32x4.splat(0.693359375), f32x4.add(f, y));
}

/**
 * ln(1 + t) for four lanes of finite t ≥ 0: w = 1 + t rounds, losing c = t − (w − 1) (exact: Sterbenz), and
 * ln(1 + t) = ln(w + c) ≈ ln w + c/w. Relative error ≈ 2e-7 for tiny t too (w = 1 gives exactly 0 + t).
 */
// @ts-ignore: decorator
@inline export function log1p4(t: v128): v128 {
  const w = f32x4.add(t, f32x4.splat(1));
  const c = f32x4.sub(t, f32x4.sub(w, f32x4.splat(1)));
  return f32x4.add(log4(w), f32x4.div(c, w));
}

/** Byte address of element i of a float32/int32 array at p. */
// @ts-ignore: decorator
@inline export function at(p: usize, i: i32): usize {
  return p + (<usize>i << 2);
}

/** Σ p[0..n) in f32, eight lanes of partial sums in the SIMD build. */
export function sumf(p: usize, n: i32): f32 {
  let s: f32 = 0;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0);
    for (; i + 8 <= n; i += 8) {
      a0 = f32x4.add(a0, v128.load(at(p, i)));
      a1 = f32x4.add(a1, v128.load(at(p, i), 16));
    }
    s = hsum(f32x4.add(a0, a1));
  }
  for (; i < n; i++) s += load<f32>(at(p, i));
  return s;
}

/** p[0..n) = v. */
export function fillf(p: usize, n: i32, v: f32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vv = f32x4.splat(v);
    for (; i + 4 <= n; i += 4) v128.store(at(p, i), vv);
  }
  for (; i < n; i++) store<f32>(at(p, i), v);
}

/** Four floats at p, p + S, p + 2·S, p + 3·S (S in elements; reads up to 8 floats from p when S = 2). */
// @ts-ignore: decorator
@inline export function gather4(p: usize, S: i32): v128 {
  if (S == 1) return v128.load(p);
  if (S == 2) return v128.shuffle<f32>(v128.load(p), v128.load(p, 16), 0, 2, 4, 6);
  const s = <usize>S << 2;
  let v = f32x4.splat(load<f32>(p));
  v = f32x4.replace_lane(v, 1, load<f32>(p + s));
  v = f32x4.replace_lane(v, 2, load<f32>(p + 2 * s));
  return f32x4.replace_lane(v, 3, load<f32>(p + 3 * s));
}
