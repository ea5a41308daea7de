// Optimizer updates over n contiguous parameters, PyTorch's single-tensor algorithms (torch.optim).
import { at, madd } from './vec';

/**
 * SGD. g ← g + wd·p; with momentum: buf ← g on the first step, else buf ← μ·buf + (1 − dampening)·g;
 * nesterov: g ← g + μ·buf, otherwise g ← buf; then p ← p − lr·g. buf = 0 means no momentum; on the first step
 * buf is written, never read (the caller allocates it uninitialised).
 */
export function sgd_step(p: usize, g: usize, buf: usize, n: i32, lr: f32, momentum: f32, dampening: f32,
                         nesterov: i32, wd: f32, first: i32): void {
  const damp = first ? <f32>1 : <f32>1 - dampening;
  const keep = first ? <f32>0 : momentum;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const lrv = f32x4.splat(-lr), wdv = f32x4.splat(wd), mv = f32x4.splat(momentum);
    const kv = f32x4.splat(keep), dv = f32x4.splat(damp);
    for (; i + 4 <= n; i += 4) {
      const pv = v128.load(at(p, i));
      let gv = madd(wdv, pv, v128.load(at(g, i)));
      if (buf) {
        // The first step never reads buf: its memory is not initialised (0·NaN would be NaN).
        const b = first ? f32x4.mul(dv, gv) : madd(kv, v128.load(at(buf, i)), f32x4.mul(dv, gv));
        v128.store(at(buf, i), b);
        gv = nesterov ? madd(mv, b, gv) : b;
      }
      v128.store(at(p, i), madd(lrv, gv, pv));
    }
  }
  for (; i < n; i++) {
    const pv = load<f32>(at(p, i));
    let gv = load<f32>(at(g, i)) + wd * pv;
    if (buf) {
      const b = first ? damp * gv : keep * load<f32>(at(buf, i)) + damp * gv;
      store<f32>(at(buf, i), b);
      gv = nesterov ? gv + momentum * b : b;
    }
    store<f32>(at(p, i), pv - lr * gv);
  }
}

/**
 * Adam / AdamW. Adam: g ← g + wd·p; AdamW (decoupled): p ← p·(1 − lr·wd). Then
 * m ← β1·m + (1 − β1)·g, v ← β2·v + (1 − β2)·g², p ← p − (lr / bc1)·m / (√v / √bc2 + eps),
 * with bc1 = 1 − β1^t, bc2 = 1 − β2^t passed in by the caller.
 */
export function adam_step(p: usize, g: usize, m: usize, v: usize, n: i32, lr: f32, beta1: f32, beta2: f32,
                          eps: f32, wd: f32, decoupled: i32, bc1: f32, bc2: f32): void {
  const stepSize = lr / bc1, invSqrtBc2 = <f32>1 / Mathf.sqrt(bc2);
  const decay = decoupled ? <f32>1 - lr * wd : <f32>1;
  const gwd = decoupled ? <f32>0 : wd;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const b1 = f32x4.splat(beta1), b1c = f32x4.splat(1 - beta1), b2 = f32x4.splat(beta2), b2c = f32x4.splat(1 - beta2);
    const wdv = f32x4.splat(gwd), dec = f32x4.splat(decay), ssv = f32x4.splat(-stepSize);
    const ibv = f32x4.splat(invSqrtBc2), ev = f32x4.splat(eps);
    for (; i + 4 <= n; i += 4) {
      let pv = v128.load(at(p, i));
      const gv = madd(wdv, pv, v128.load(at(g, i)));
      pv = f32x4.mul(pv, dec);
      const mv = madd(b1, v128.load(at(m, i)), f32x4.mul(b1c, gv));
      const vv = madd(b2, v128.load(at(v, i)), f32x4.mul(b2c, f32x4.mul(gv, gv)));
      v128.store(at(m, i), mv);
      v128.store(at(v, i), vv);
      const denom = madd(f32x4.sqrt(vv), ibv, ev);
      v128.store(at(p, i), madd(ssv, f32x4.div(mv, denom), pv));
    }
  }
  for (; i < n; i++) {
    let pv = load<f32>(at(p, i));
    const gv = load<f32>(at(g, i)) + gwd * pv;
    pv *= decay;
    const mv = beta1 * load<f32>(at(m, i)) + (1 - beta1) * gv;
    const vv = beta2 * load<f32>(at(v, i)) + (1 - beta2) * gv * gv;
    store<f32>(at(m, i), mv);
    store<f32>(at(v, i), vv);
    store<f32>(at(p, i), pv - stepSize * (mv / (Mathf.sqrt(vv) * invSqrtBc2 + eps)));
  }
}
