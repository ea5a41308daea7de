// Normalisation layers, forward and backward.
//  - Batch norm: statistics per channel over (N, H, W) of x [N, C, HW].
//  - Row norm: statistics per row of x viewed as [R, D], then an optional per-channel affine. It is
//    layer norm (R = leading dims, D = normalized size, one channel per element: S = 1), group norm
//    (a row = one group of one sample: G groups per sample, CPR = C/G channels of S = H·W elements each)
//    and instance norm (group norm with G = C).
// Batch-norm kernels work on the channels [c0, c1) (threads take runs of channels).
// With x̂ = (x − μ)·σ⁻¹ over M elements and g = dy·γ, the input gradient is (e.g. Ioffe & Szegedy 2015):
//   dx = σ⁻¹·(g − mean(g) − x̂·mean(g·x̂)),  dγ = Σ dy·x̂,  dβ = Σ dy.
import { at, madd, hsum, sumf } from './vec';

/** Σ (p[i] − m)² over n elements. */
function sumSqDev(p: usize, n: i32, m: f32): f32 {
  let s: f32 = 0;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const mv = f32x4.splat(m);
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0);
    for (; i + 8 <= n; i += 8) {
      const d0 = f32x4.sub(v128.load(at(p, i)), mv);
      const d1 = f32x4.sub(v128.load(at(p, i), 16), mv);
      a0 = madd(d0, d0, a0);
      a1 = madd(d1, d1, a1);
    }
    s = hsum(f32x4.add(a0, a1));
  }
  for (; i < n; i++) { const d = load<f32>(at(p, i)) - m; s += d * d; }
  return s;
}

/** Σ dy[i]·(x[i] − m) over n elements. */
function dotDev(dy: usize, x: usize, n: i32, m: f32): f32 {
  let s: f32 = 0;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const mv = f32x4.splat(m);
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0);
    for (; i + 8 <= n; i += 8) {
      a0 = madd(v128.load(at(dy, i)), f32x4.sub(v128.load(at(x, i)), mv), a0);
      a1 = madd(v128.load(at(dy, i), 16), f32x4.sub(v128.load(at(x, i), 16), mv), a1);
    }
    s = hsum(f32x4.add(a0, a1));
  }
  for (; i < n; i++) s += load<f32>(at(dy, i)) * (load<f32>(at(x, i)) - m);
  return s;
}

/** dst[i] = x[i]·scale + shift. */
function scaleShift(x: usize, dst: usize, n: i32, scale: f32, shift: f32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const sv = f32x4.splat(scale), tv = f32x4.splat(shift);
    for (; i + 4 <= n; i += 4) v128.store(at(dst, i), madd(v128.load(at(x, i)), sv, tv));
  }
  for (; i < n; i++) store<f32>(at(dst, i), load<f32>(at(x, i)) * scale + shift);
}

/** dst[i] = a·dy[i] + b·x[i] + c (the backward formula with per-channel constants folded in). */
function combine(dy: usize, x: usize, dst: usize, n: i32, a: f32, b: f32, c: f32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const av = f32x4.splat(a), bv = f32x4.splat(b), cv = f32x4.splat(c);
    for (; i + 4 <= n; i += 4) {
      v128.store(at(dst, i), madd(v128.load(at(dy, i)), av, madd(v128.load(at(x, i)), bv, cv)));
    }
  }
  for (; i < n; i++) store<f32>(at(dst, i), a * load<f32>(at(dy, i)) + (b * load<f32>(at(x, i)) + c));
}

// ---------------------------------------------------------------------------------------------- batch norm

/**
 * Training forward over x [N, C, HW], channel by channel: the batch statistics mean[c], invStd[c] =
 * 1/√(biased var + eps), then y = (x − mean[c])·invStd[c]·γ[c] + β[c] while the channel's N·HW values are still in
 * the core's cache (one pass of the whole tensor through memory, not two). When runMean ≠ 0, the running stats move
 * by momentum toward the batch mean and the unbiased variance (var·M/(M−1)).
 */
export function batchnorm_train_forward(x: usize, y: usize, N: i32, C: i32, HW: i32, eps: f32, momentum: f32,
                                        gamma: usize, beta: usize, mean: usize, invStd: usize, runMean: usize, runVar: usize,
                                        c0: i32, c1: i32): void {
  const M = N * HW;
  for (let c = c0; c < c1; c++) {
    let s: f64 = 0;
    for (let n = 0; n < N; n++) s += <f64>sumf(x + (<usize>((n * C + c) * HW) << 2), HW);
    const m = <f32>(s / <f64>M);
    let q: f64 = 0;
    for (let n = 0; n < N; n++) q += <f64>sumSqDev(x + (<usize>((n * C + c) * HW) << 2), HW, m);
    const v = q / <f64>M;
    const inv = <f32>(1.0 / Math.sqrt(v + <f64>eps));
    store<f32>(at(mean, c), m);
    store<f32>(at(invStd, c), inv);
    if (runMean) moveRunning(runMean, runVar, c, momentum, m, v, M);
    normalizeChannel(x, y, N, C, HW, gamma, beta, c, m, inv);
  }
}

/** Running stats of channel c move by momentum toward the batch mean m and the unbiased variance v·M/(M−1). */
@inline
function moveRunning(runMean: usize, runVar: usize, c: i32, momentum: f32, m: f32, v: f64, M: i32): void {
  const unbiased = M > 1 ? v * <f64>M / <f64>(M - 1) : v;
  store<f32>(at(runMean, c), (1 - momentum) * load<f32>(at(runMean, c)) + momentum * m);
  store<f32>(at(runVar, c), <f32>((1 - <f64>momentum) * <f64>load<f32>(at(runVar, c)) + <f64>momentum * unbiased));
}

/** Eval-mode statistics: mean = running mean, invStd = 1/√(running var + eps). */
export function batchnorm_eval_stats(runMean: usize, runVar: usize, C: i32, eps: f32, mean: usize, invStd: usize): void {
  for (let c = 0; c < C; c++) {
    store<f32>(at(mean, c), load<f32>(at(runMean, c)));
    store<f32>(at(invStd, c), <f32>(1.0 / Math.sqrt(<f64>load<f32>(at(runVar, c)) + <f64>eps)));
  }
}

/** y = (x − mean[c])·invStd[c]·γ[c] + β[c] over x [N, C, HW] (γ = 0: 1, β = 0: 0), given the statistics. */
export function batchnorm_forward(x: usize, y: usize, N: i32, C: i32, HW: i32,
                                  gamma: usize, beta: usize, mean: usize, invStd: usize, c0: i32, c1: i32): void {
  for (let c = c0; c < c1; c++) normalizeChannel(x, y, N, C, HW, gamma, beta, c, load<f32>(at(mean, c)), load<f32>(at(invStd, c)));
}

/** Channel c of batchnorm_forward, with its mean m and inverse deviation inv. */
@inline
function normalizeChannel(x: usize, y: usize, N: i32, C: i32, HW: i32, gamma: usize, beta: usize, c: i32, m: f32, inv: f32): void {
  const scale = inv * (gamma ? load<f32>(at(gamma, c)) : <f32>1);
  const shift = (beta ? load<f32>(at(beta, c)) : <f32>0) - m * scale;
  for (let n = 0; n < N; n++) {
    const off = <usize>((n * C + c) * HW) << 2;
    scaleShift(x + off, y + off, HW, scale, shift);
  }
}

/**
 * Batch-norm gradients. training ≠ 0: batch statistics (the formula at the top, M = N·HW);
 * training = 0: fixed (running) statistics, dx = dy·γ·invStd. dγ, dβ written when their pointers ≠ 0.
 */
export function batchnorm_backward(dy: usize, x: usize, gamma: usize, mean: usize, invStd: usize,
                                   dx: usize, dgamma: usize, dbeta: usize,
                                   N: i32, C: i32, HW: i32, training: i32, c0: i32, c1: i32): void {
  const M = <f32>(N * HW);
  for (let c = c0; c < c1; c++) {
    const m = load<f32>(at(mean, c)), inv = load<f32>(at(invStd, c));
    const g = gamma ? load<f32>(at(gamma, c)) : <f32>1;
    let sdy: f64 = 0, sdyx: f64 = 0;
    // The sums feed dγ, dβ and the batch-statistics dx; fixed statistics without dγ, dβ (a frozen layer) need none.
    if (training || dgamma || dbeta) {
      for (let n = 0; n < N; n++) {
        const off = <usize>((n * C + c) * HW) << 2;
        sdy += <f64>sumf(dy + off, HW);
        sdyx += <f64>dotDev(dy + off, x + off, HW, m);
      }
    }
    const sumDy = <f32>sdy, sumDyXhat = <f32>sdyx * inv;
    if (dgamma) store<f32>(at(dgamma, c), sumDyXhat);
    if (dbeta) store<f32>(at(dbeta, c), sumDy);
    if (!dx) continue;
    // dx = a·dy + b·x + c, from dx = gσ⁻¹(dy − Σdy/M − x̂·Σdy·x̂/M) with x̂ = (x − μ)σ⁻¹.
    const a = g * inv;
    const b = training ? -a * inv * sumDyXhat / M : <f32>0;
    const k = training ? -a * sumDy / M - b * m : <f32>0;
    for (let n = 0; n < N; n++) {
      const off = <usize>((n * C + c) * HW) << 2;
      combine(dy + off, x + off, dx + off, HW, a, b, k);
    }
  }
}

// ------------------------------------------------------------------------------------------------ row norm

/**
 * Row normalisation of x [R, D] (layer / group / instance norm, see the top): mean[r], invStd[r] =
 * 1/√(biased var + eps), then y = x̂·γ[ch] + β[ch] with ch = (r mod G)·CPR + ⌊j / S⌋ (γ = β = 0: no affine).
 */
export function rownorm_forward(x: usize, y: usize, mean: usize, invStd: usize, R: i32, D: i32, eps: f32,
                                gamma: usize, beta: usize, G: i32, CPR: i32, S: i32): void {
  for (let r = 0; r < R; r++) {
    const xr = x + (<usize>(r * D) << 2), yr = y + (<usize>(r * D) << 2);
    const m = sumf(xr, D) / <f32>D;
    const inv = <f32>(1.0 / Math.sqrt(<f64>(sumSqDev(xr, D, m) / <f32>D) + <f64>eps));
    store<f32>(at(mean, r), m);
    store<f32>(at(invStd, r), inv);
    if (!gamma) { scaleShift(xr, yr, D, inv, -m * inv); continue; }
    if (S > 1) {
      const ch0 = (r % G) * CPR;
      for (let cc = 0; cc < CPR; cc++) {
        const scale = inv * load<f32>(at(gamma, ch0 + cc));
        const shift = load<f32>(at(beta, ch0 + cc)) - m * scale;
        scaleShift(xr + (<usize>(cc * S) << 2), yr + (<usize>(cc * S) << 2), S, scale, shift);
      }
      continue;
    }
    // S = 1 (layer norm, or group norm of 1×1 maps): γ and β run along the row with x (CPR = D).
    const ch0 = <usize>((r % G) * CPR) << 2;
    const gr = gamma + ch0, br = beta + ch0;
    let j = 0;
    if (ASC_FEATURE_SIMD) {
      const mv = f32x4.splat(m), iv = f32x4.splat(inv);
      for (; j + 4 <= D; j += 4) {
        const xh = f32x4.mul(f32x4.sub(v128.load(at(xr, j)), mv), iv);
        v128.store(at(yr, j), madd(xh, v128.load(at(gr, j)), v128.load(at(br, j))));
      }
    }
    for (; j < D; j++) store<f32>(at(yr, j), (load<f32>(at(xr, j)) - m) * inv * load<f32>(at(gr, j)) + load<f32>(at(br, j)));
  }
}

/** Gradients of rownorm_forward; dγ, dβ (G·CPR channels, written when γ ≠ 0 and dgamma ≠ 0: a frozen layer needs none) sum over all rows. */
export function rownorm_backward(dy: usize, x: usize, mean: usize, invStd: usize, dx: usize,
                                 dgamma: usize, dbeta: usize, R: i32, D: i32,
                                 gamma: usize, G: i32, CPR: i32, S: i32): void {
  if (gamma && dgamma) {
    memory.fill(dgamma, 0, <usize>(G * CPR) << 2);
    memory.fill(dbeta, 0, <usize>(G * CPR) << 2);
  }
  const fD = <f32>D;
  for (let r = 0; r < R; r++) {
    const off = <usize>(r * D) << 2;
    const xr = x + off, dyr = dy + off, dxr = dx + off;
    const m = load<f32>(at(mean, r)), inv = load<f32>(at(invStd, r));
    if (!gamma || S > 1) {
      // Segments of S elements share one γ (no affine: one segment of D with γ = 1).
      const segs = gamma ? CPR : 1, len = gamma ? S : D, ch0 = (r % G) * CPR;
      let sumG: f32 = 0, sumGXhat: f32 = 0;          // Σ g, Σ g·x̂ with g = dy·γ
      for (let cc = 0; cc < segs; cc++) {
        const so = <usize>(cc * len) << 2;
        const sdy = sumf(dyr + so, len), sdyx = dotDev(dyr + so, xr + so, len, m) * inv;
        const g = gamma ? load<f32>(at(gamma, ch0 + cc)) : <f32>1;
        sumG += g * sdy;
        sumGXhat += g * sdyx;
        if (gamma && dgamma) {
          store<f32>(at(dgamma, ch0 + cc), load<f32>(at(dgamma, ch0 + cc)) + sdyx);
          store<f32>(at(dbeta, ch0 + cc), load<f32>(at(dbeta, ch0 + cc)) + sdy);
        }
      }
      // dx = σ⁻¹(γ·dy − Σg/D − x̂·Σg·x̂/D) = a·dy + b·x + c per segment.
      const b = -inv * inv * sumGXhat / fD;
      const k = -inv * sumG / fD - b * m;
      for (let cc = 0; cc < segs; cc++) {
        const so = <usize>(cc * len) << 2;
        const g = gamma ? load<f32>(at(gamma, ch0 + cc)) : <f32>1;
        combine(dyr + so, xr + so, dxr + so, len, inv * g, b, k);
      }
      continue;
    }
    // S = 1 (layer norm, or group norm of 1×1 maps): γ runs along the row (CPR = D).
    const ch0 = <usize>((r % G) * CPR) << 2;
    const gr = gamma + ch0, dgr = dgamma + ch0, dbr = dbeta + ch0;
    let sumG: f32 = 0, sumGXhat: f32 = 0;
    for (let j = 0; j < D; j++) {
      const d = load<f32>(at(dyr, j)), xh = (load<f32>(at(xr, j)) - m) * inv, g = load<f32>(at(gr, j));
      sumG += d * g;
      sumGXhat += d * g * xh;
      if (dgamma) {
        store<f32>(at(dgr, j), load<f32>(at(dgr, j)) + d * xh);
        store<f32>(at(dbr, j), load<f32>(at(dbr, j)) + d);
      }
    }
    const mg = sumG / fD, mgx = sumGXhat / fD;
    let j = 0;
    if (ASC_FEATURE_SIMD) {
      const mv = f32x4.splat(m), iv = f32x4.splat(inv), mgv = f32x4.splat(mg), mgxv = f32x4.splat(mgx);
      for (; j + 4 <= D; j += 4) {
        const xh = f32x4.mul(f32x4.sub(v128.load(at(xr, j)), mv), iv);
        const g = f32x4.mul(v128.load(at(dyr, j)), v128.load(at(gr, j)));
        v128.store(at(dxr, j), f32x4.mul(iv, f32x4.sub(f32x4.sub(g, mgv), f32x4.mul(xh, mgxv))));
      }
    }
    for (; j < D; j++) {
      const xh = (load<f32>(at(xr, j)) - m) * inv;
      store<f32>(at(dxr, j), inv * (load<f32>(at(dyr, j)) * load<f32>(at(gr, j)) - mg - xh * mgx));
    }
  }
}
