// Softmax cross-entropy with mean reduction over N rows of K logits (labels int32 in [0, K)).
//   p = softmax(z) computed as e^{z − max z} / Σ e^{z − max z}; loss_i = log Σ e^{z − max} + max − z_label;
//   d loss / d z = (p − onehot(label)) / N.
import { at, exp4, hsum, hmax } from './vec';

/** Writes probs and dlogits; returns Σ_i loss_i (the caller divides by N). */
export function softmax_xent(logits: usize, labels: usize, probs: usize, dlogits: usize, N: i32, K: i32): f64 {
  let total: f64 = 0;
  const invN = <f32>1 / <f32>N;
  for (let r = 0; r < N; r++) {
    const z = logits + (<usize>(r * K) << 2), p = probs + (<usize>(r * K) << 2), d = dlogits + (<usize>(r * K) << 2);
    let j = 0;
    let m: f32 = -Infinity;
    if (ASC_FEATURE_SIMD) {
      let mv = f32x4.splat(-Infinity);
      for (; j + 4 <= K; j += 4) mv = f32x4.max(mv, v128.load(at(z, j)));
      m = hmax(mv);
    }
    for (; j < K; j++) m = max(m, load<f32>(at(z, j)));
    // p = e^{z − m}, s = Σ p
    j = 0;
    let s: f32 = 0;
    if (ASC_FEATURE_SIMD) {
      const mv = f32x4.splat(m);
      let sv = f32x4.splat(0);
      for (; j + 4 <= K; j += 4) {
        const e = exp4(f32x4.sub(v128.load(at(z, j)), mv));
        v128.store(at(p, j), e);
        sv = f32x4.add(sv, e);
      }
      s = hsum(sv);
    }
    for (; j < K; j++) { const e = Mathf.exp(load<f32>(at(z, j)) - m); store<f32>(at(p, j), e); s += e; }
    const label = load<i32>(at(labels, r));
    total += Math.log(<f64>s) + <f64>m - <f64>load<f32>(at(z, label));
    const inv = <f32>1 / s;
    j = 0;
    if (ASC_FEATURE_SIMD) {
      const iv = f32x4.splat(inv), nv = f32x4.splat(invN);
      for (; j + 4 <= K; j += 4) {
        const q = f32x4.mul(v128.load(at(p, j)), iv);
        v128.store(at(p, j), q);
        v128.store(at(d, j), f32x4.mul(q, nv));
      }
    }
    for (; j < K; j++) { const q = load<f32>(at(p, j)) * inv; store<f32>(at(p, j), q); store<f32>(at(d, j), q * invN); }
    store<f32>(at(d, label), load<f32>(at(d, label)) - invN);
  }
  return total;
}
