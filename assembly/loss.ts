// Softmax over rows (tfjs's Softmax kernel), and softmax cross-entropy with mean reduction over N rows of K logits
// (labels int32 in [0, K)):
//   p = softmax(z) computed as e^{z − max z} / Σ e^{z − max z}; loss_i = log Σ e^{z − max} + max − z_label;
//   d loss / d z = (p − onehot(label)) / N.
// Sums that decide tiny results (Σ p for the loss, 1 − p_label) run in f64.
import { at, exp4, hmax, sumf } from './vec';

/** max z[0..K) (NaN if any is NaN). */
// @ts-ignore: decorator
@inline function rowMax(z: usize, K: i32): f32 {
  let j = 0;
  let m: f32 = -Infinity;
  if (ASC_FEATURE_SIMD) {
    let mv = f32x4.splat(-Infinity);
    for (; j + 4 <= K; j += 4) mv = f32x4.max(mv, v128.load(at(z, j)));
    m = hmax(mv);
  }
  for (; j < K; j++) m = max(m, load<f32>(at(z, j)));
  return m;
}

/** p[j] = e^{z[j] − m}, j < K. */
// @ts-ignore: decorator
@inline function expShifted(z: usize, p: usize, K: i32, m: f32): void {
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    const mv = f32x4.splat(m);
    for (; j + 4 <= K; j += 4) v128.store(at(p, j), exp4(f32x4.sub(v128.load(at(z, j)), mv)));
  }
  for (; j < K; j++) store<f32>(at(p, j), Mathf.exp(load<f32>(at(z, j)) - m));
}

/**
 * Softmax over rows of K: y = e^{x − max x} / Σ e^{x − max x} (tfjs / PyTorch; y may alias x). A row holding +Inf
 * or NaN, or only −Inf, is all NaN (Inf − Inf), as tfjs's cpu backend.
 */
export function softmax_forward(x: usize, y: usize, rows: i32, K: i32): void {
  for (let r = 0; r < rows; r++) {
    const z = x + (<usize>(r * K) << 2), p = y + (<usize>(r * K) << 2);
    expShifted(z, p, K, rowMax(z, K));
    const s = sumf(p, K);
    let j = 0;
    if (ASC_FEATURE_SIMD) {
      const sv = f32x4.splat(s);
      for (; j + 4 <= K; j += 4) v128.store(at(p, j), f32x4.div(v128.load(at(p, j)), sv));
    }
    for (; j < K; j++) store<f32>(at(p, j), load<f32>(at(p, j)) / s);
  }
}

/** Writes probs and dlogits; returns Σ_i loss_i (the caller divides by N). */
export function softmax_xent(logits: usize, labels: usize, probs: usize, dlogits: usize, N: i32, K: i32): f64 {
  let total: f64 = 0;
  const invN = <f32>1 / <f32>N;
  for (let r = 0; r < N; r++) {
    const z = logits + (<usize>(r * K) << 2), p = probs + (<usize>(r * K) << 2), d = dlogits + (<usize>(r * K) << 2);
    const m = rowMax(z, K);
    expShifted(z, p, K, m);
    // Σ p in f64: when one logit dominates, Σ = 1 + ε with ε below f32's resolution, and log Σ ≈ ε is the
    // whole loss.
    let s64: f64 = 0;
    for (let k = 0; k < K; k++) s64 += <f64>load<f32>(at(p, k));
    const label = load<i32>(at(labels, r));
    total += Math.log(s64) + <f64>m - <f64>load<f32>(at(z, label));
    const inv = <f32>(1.0 / s64);
    let j = 0;
    if (ASC_FEATURE_SIMD) {
      const iv = f32x4.splat(inv), nv = f32x4.splat(invN);
      for (; j + 4 <= K; j += 4) {
        const q = f32x4.mul(v128.load(at(p, j)), iv);
        v128.store(at(p, j), q);
        v128.store(at(d, j), f32x4.mul(q, nv));
      }
    }
    for (; j < K; j++) { const q = load<f32>(at(p, j)) * inv; store<f32>(at(p, j), q); store<f32>(at(d, j), q * invN); }
    // d[label] = (p_label − 1)/N = −(Σ_{k≠label} p_k)/N, summed without the cancellation of p_label − 1.
    let others: f64 = 0;
    for (let k = 0; k < K; k++) if (k != label) others += <f64>load<f32>(at(p, k));
    store<f32>(at(d, label), <f32>(-others / <f64>N));
  }
  return total;
}
