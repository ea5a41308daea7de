// A naive float64 reference of every op's forward (and the optimizer updates), PyTorch semantics.
// Plain nested loops over Float64Array, one function per op, the shapes in a comment. Nothing clever: this file
// is what the engine is checked against (test/random.test.mjs) and what finite differences are taken on
// (test/gradcheck.test.mjs). A reference tensor is `{ data: Float64Array, shape: number[] }`.
// Invalid configurations (ones PyTorch rejects) throw, so random generators can simply skip them.

/** A reference tensor. */
export function T(data, shape) {
  const size = shape.reduce((a, b) => a * b, 1);
  const d = data instanceof Float64Array ? data : Float64Array.from(data);
  if (d.length !== size) throw new Error(`T: data length ${d.length} does not match shape [${shape}]`);
  return { data: d, shape: shape.slice() };
}

/** Rounds every value to float32 (what the engine actually sees), kept in a Float64Array. */
export function f32(a) {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = Math.fround(a[i]);
  return out;
}

export const prod = (s) => s.reduce((a, b) => a * b, 1);

/** A scalar or an [h, w] pair → [h, w]. */
export function pair(v) {
  return Array.isArray(v) ? [v[0], v[1]] : [v, v];
}

function invalid(msg) {
  throw new Error(`reference: invalid configuration: ${msg}`);
}

// ---------------------------------------------------------------------------------------------------------------
// Convolution

/**
 * 'same' padding of one dimension (TensorFlow's rule; PyTorch's for stride 1): out = ⌈n / s⌉,
 * total = max((out − 1)·s + d·(k − 1) + 1 − n, 0), the smaller half first, the extra at the end.
 */
function same1d(n, k, d, s) {
  const out = Math.ceil(n / s);
  const total = Math.max((out - 1) * s + d * (k - 1) + 1 - n, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/**
 * Conv padding → [top, bottom, left, right]. number | [ph, pw] | [t, b, l, r] | 'valid' | 'same'
 * ('same': same1d per dimension, which needs the input size [H, W] and the stride [SH, SW]).
 */
export function convPadding2d(padding, [KH, KW], [DH, DW], [H, W] = [1, 1], [SH, SW] = [1, 1]) {
  if (padding === 'valid') return [0, 0, 0, 0];
  if (padding === 'same') return [...same1d(H, KH, DH, SH), ...same1d(W, KW, DW, SW)];
  if (typeof padding === 'number') return [padding, padding, padding, padding];
  if (padding.length === 2) return [padding[0], padding[0], padding[1], padding[1]];
  if (padding.length === 4) return padding.slice();
  invalid(`padding ${JSON.stringify(padding)}`);
}

/**
 * Source index of padded coordinate i in a dimension of size n, or −1 for a zero. PyTorch's F.pad modes:
 * reflect (edge not repeated; pad < n), replicate (clamp), circular (wrap; pad ≤ n).
 */
function padIndex(i, n, mode) {
  if (i >= 0 && i < n) return i;
  switch (mode) {
    case 'zeros': return -1;
    case 'reflect': return i < 0 ? -i : 2 * (n - 1) - i;
    case 'replicate': return i < 0 ? 0 : n - 1;
    case 'circular': return ((i % n) + n) % n;
    default: invalid(`paddingMode ${mode}`);
  }
}

function checkPadMode(mode, pads, n) {
  for (const p of pads) {
    if (p < 0) invalid(`negative padding ${p}`);
    if (mode === 'reflect' && p >= n) invalid(`reflect padding ${p} >= input size ${n}`);
    if (mode === 'circular' && p > n) invalid(`circular padding ${p} > input size ${n}`);
  }
}

/**
 * conv2d. x [N, C, H, W], w [Co, C/groups, KH, KW], b [Co] | null → y [N, Co, Ho, Wo].
 * opts { stride = 1, padding = 0, dilation = 1, groups = 1, paddingMode = 'zeros' }.
 * With a non-zeros paddingMode the input is padded (F.pad) and then convolved without padding, as PyTorch does.
 */
export function conv2d(x, w, b, opts = {}) {
  const [N, C, H, W] = x.shape;
  const [Co, Cg, KH, KW] = w.shape;
  const [SH, SW] = pair(opts.stride ?? 1);
  const [DH, DW] = pair(opts.dilation ?? 1);
  const G = opts.groups ?? 1;
  const mode = opts.paddingMode ?? 'zeros';
  const [PT, PB, PL, PR] = convPadding2d(opts.padding ?? 0, [KH, KW], [DH, DW], [H, W], [SH, SW]);
  if (C % G || Co % G || Cg !== C / G) invalid(`channels C=${C} Co=${Co} Cg=${Cg} groups=${G}`);
  checkPadMode(mode, [PT, PB], H);
  checkPadMode(mode, [PL, PR], W);
  const Ho = Math.floor((H + PT + PB - DH * (KH - 1) - 1) / SH) + 1;
  const Wo = Math.floor((W + PL + PR - DW * (KW - 1) - 1) / SW) + 1;
  if (Ho < 1 || Wo < 1) invalid(`output size ${Ho}x${Wo}`);
  const CoG = Co / G;
  const y = new Float64Array(N * Co * Ho * Wo);
  for (let n = 0; n < N; n++) {
    for (let co = 0; co < Co; co++) {
      const g = Math.floor(co / CoG);
      for (let oh = 0; oh < Ho; oh++) {
        for (let ow = 0; ow < Wo; ow++) {
          let s = b ? b.data[co] : 0;
          for (let cg = 0; cg < Cg; cg++) {
            const ci = g * Cg + cg;
            for (let kh = 0; kh < KH; kh++) {
              const ih = padIndex(oh * SH - PT + kh * DH, H, mode);
              if (ih < 0) continue;
              for (let kw = 0; kw < KW; kw++) {
                const iw = padIndex(ow * SW - PL + kw * DW, W, mode);
                if (iw < 0) continue;
                s += x.data[((n * C + ci) * H + ih) * W + iw] * w.data[((co * Cg + cg) * KH + kh) * KW + kw];
              }
            }
          }
          y[((n * Co + co) * Ho + oh) * Wo + ow] = s;
        }
      }
    }
  }
  return T(y, [N, Co, Ho, Wo]);
}

/** conv1d padding → [left, right]. number | [l, r] | 'valid' | 'same' (same1d: needs the length and stride). */
export function convPadding1d(padding, K, D, L = 1, S = 1) {
  if (padding === 'valid') return [0, 0];
  if (padding === 'same') return same1d(L, K, D, S);
  if (typeof padding === 'number') return [padding, padding];
  if (padding.length === 2) return padding.slice();
  invalid(`padding ${JSON.stringify(padding)}`);
}

/**
 * conv1d. x [N, C, L], w [Co, C/groups, K], b [Co] | null → y [N, Co, Lo].
 * opts { stride = 1, padding = 0, dilation = 1, groups = 1, paddingMode = 'zeros' }.
 */
export function conv1d(x, w, b, opts = {}) {
  const [N, C, L] = x.shape;
  const [Co, Cg, K] = w.shape;
  const S = opts.stride ?? 1, D = opts.dilation ?? 1, G = opts.groups ?? 1;
  const mode = opts.paddingMode ?? 'zeros';
  const [PL, PR] = convPadding1d(opts.padding ?? 0, K, D, L, S);
  if (C % G || Co % G || Cg !== C / G) invalid(`channels C=${C} Co=${Co} Cg=${Cg} groups=${G}`);
  checkPadMode(mode, [PL, PR], L);
  const Lo = Math.floor((L + PL + PR - D * (K - 1) - 1) / S) + 1;
  if (Lo < 1) invalid(`output length ${Lo}`);
  const CoG = Co / G;
  const y = new Float64Array(N * Co * Lo);
  for (let n = 0; n < N; n++) {
    for (let co = 0; co < Co; co++) {
      const g = Math.floor(co / CoG);
      for (let ol = 0; ol < Lo; ol++) {
        let s = b ? b.data[co] : 0;
        for (let cg = 0; cg < Cg; cg++) {
          const ci = g * Cg + cg;
          for (let k = 0; k < K; k++) {
            const il = padIndex(ol * S - PL + k * D, L, mode);
            if (il < 0) continue;
            s += x.data[(n * C + ci) * L + il] * w.data[(co * Cg + cg) * K + k];
          }
        }
        y[(n * Co + co) * Lo + ol] = s;
      }
    }
  }
  return T(y, [N, Co, Lo]);
}

// ---------------------------------------------------------------------------------------------------------------
// Pooling

/**
 * PyTorch's pooling_output_shape: floor or ceil of (n + 2p − d(k−1) − 1)/s, plus 1; in ceil mode the last window
 * must start inside the input or the left padding.
 */
export function poolOutSize(n, k, s, p, d, ceilMode) {
  const num = n + 2 * p - d * (k - 1) - 1;
  let out = Math.floor((num + (ceilMode ? s - 1 : 0)) / s) + 1;
  if (ceilMode && (out - 1) * s >= n + p) out--;
  return out;
}

function poolGeometry(x, opts, withDilation) {
  const [N, C, H, W] = x.shape;
  const [KH, KW] = pair(opts.kernel);
  const [SH, SW] = pair(opts.stride ?? opts.kernel);
  const [PH, PW] = pair(opts.padding ?? 0);
  const [DH, DW] = withDilation ? pair(opts.dilation ?? 1) : [1, 1];
  const ceil = !!opts.ceilMode;
  if (PH > Math.floor(KH / 2) || PW > Math.floor(KW / 2)) invalid(`pool padding ${PH},${PW} > half kernel ${KH},${KW}`);
  if (PH < 0 || PW < 0 || KH < 1 || KW < 1 || SH < 1 || SW < 1 || DH < 1 || DW < 1) invalid('pool sizes');
  const Ho = poolOutSize(H, KH, SH, PH, DH, ceil);
  const Wo = poolOutSize(W, KW, SW, PW, DW, ceil);
  if (Ho < 1 || Wo < 1) invalid(`pool output size ${Ho}x${Wo}`);
  return { N, C, H, W, KH, KW, SH, SW, PH, PW, DH, DW, Ho, Wo };
}

/**
 * maxPool2d. x [N, C, H, W] → { y [N, C, Ho, Wo], indices [N, C, Ho, Wo] (flat ih·W + iw inside the plane) }.
 * opts { kernel, stride = kernel, padding = 0, dilation = 1, ceilMode = false }. Padding counts as −inf; the first
 * maximum in row-major window order wins ties (PyTorch's `val > maxval || isnan(val)` scan).
 */
export function maxPool2d(x, opts) {
  const { N, C, H, W, KH, KW, SH, SW, PH, PW, DH, DW, Ho, Wo } = poolGeometry(x, opts, true);
  const y = new Float64Array(N * C * Ho * Wo);
  const indices = new Int32Array(N * C * Ho * Wo);
  for (let nc = 0; nc < N * C; nc++) {
    for (let oh = 0; oh < Ho; oh++) {
      for (let ow = 0; ow < Wo; ow++) {
        let max = -Infinity, idx = -1;
        for (let kh = 0; kh < KH; kh++) {
          const ih = oh * SH - PH + kh * DH;
          if (ih < 0 || ih >= H) continue;
          for (let kw = 0; kw < KW; kw++) {
            const iw = ow * SW - PW + kw * DW;
            if (iw < 0 || iw >= W) continue;
            const v = x.data[(nc * H + ih) * W + iw];
            if (idx < 0) idx = ih * W + iw; // PyTorch starts from the first in-bounds position
            if (v > max || Number.isNaN(v)) { max = v; idx = ih * W + iw; }
          }
        }
        if (idx < 0) invalid('max-pool window without any input element');
        y[(nc * Ho + oh) * Wo + ow] = max;
        indices[(nc * Ho + oh) * Wo + ow] = idx;
      }
    }
  }
  return { y: T(y, [N, C, Ho, Wo]), indices: { data: indices, shape: [N, C, Ho, Wo] } };
}

/**
 * avgPool2d. x [N, C, H, W] → y [N, C, Ho, Wo].
 * opts { kernel, stride = kernel, padding = 0, ceilMode = false, countIncludePad = true, divisorOverride }.
 * Divisor (PyTorch): divisorOverride if given; else with countIncludePad the window clipped to the padded input
 * (padded positions count, positions beyond the padding from ceilMode do not); else the in-input count.
 */
export function avgPool2d(x, opts) {
  const { N, C, H, W, KH, KW, SH, SW, PH, PW, Ho, Wo } = poolGeometry(x, opts, false);
  const countIncludePad = opts.countIncludePad ?? true;
  const div = opts.divisorOverride;
  const y = new Float64Array(N * C * Ho * Wo);
  for (let nc = 0; nc < N * C; nc++) {
    for (let oh = 0; oh < Ho; oh++) {
      for (let ow = 0; ow < Wo; ow++) {
        const h0 = oh * SH - PH, w0 = ow * SW - PW;
        const h1 = Math.min(h0 + KH, H + PH), w1 = Math.min(w0 + KW, W + PW);
        const padded = (h1 - h0) * (w1 - w0);
        let s = 0, count = 0;
        for (let ih = Math.max(h0, 0); ih < Math.min(h1, H); ih++) {
          for (let iw = Math.max(w0, 0); iw < Math.min(w1, W); iw++) {
            s += x.data[(nc * H + ih) * W + iw];
            count++;
          }
        }
        const d = div ? div : countIncludePad ? padded : count;
        y[(nc * Ho + oh) * Wo + ow] = count === 0 ? 0 : s / d;
      }
    }
  }
  return T(y, [N, C, Ho, Wo]);
}

/** globalAvgPool2d. x [N, C, H, W] → y [N, C, 1, 1]. */
export function globalAvgPool2d(x) {
  const [N, C, H, W] = x.shape;
  const y = new Float64Array(N * C);
  for (let nc = 0; nc < N * C; nc++) {
    let s = 0;
    for (let i = 0; i < H * W; i++) s += x.data[nc * H * W + i];
    y[nc] = s / (H * W);
  }
  return T(y, [N, C, 1, 1]);
}

// ---------------------------------------------------------------------------------------------------------------
// Normalisation

/**
 * batchNorm2d. x [N, C, H, W], gamma/beta [C] | null, runningMean/runningVar [C] | null.
 * opts { training, momentum = 0.1, eps = 1e-5 } → { y [N, C, H, W], mean [C], invStd [C], runningMean, runningVar }
 * (the running stats after the call, new arrays). Training: batch mean and biased variance normalise; the running
 * variance is updated with the unbiased one. Eval: the running stats normalise.
 */
export function batchNorm2d(x, gamma, beta, runningMean, runningVar, opts = {}) {
  const [N, C, H, W] = x.shape;
  const eps = opts.eps ?? 1e-5, momentum = opts.momentum ?? 0.1;
  const M = N * H * W;
  const mean = new Float64Array(C), invStd = new Float64Array(C);
  const rm = runningMean ? Float64Array.from(runningMean.data) : null;
  const rv = runningVar ? Float64Array.from(runningVar.data) : null;
  for (let c = 0; c < C; c++) {
    if (opts.training) {
      if (M < 2) invalid('batch norm training needs more than 1 value per channel');
      let s = 0;
      for (let n = 0; n < N; n++) for (let i = 0; i < H * W; i++) s += x.data[(n * C + c) * H * W + i];
      const mu = s / M;
      let v = 0;
      for (let n = 0; n < N; n++) for (let i = 0; i < H * W; i++) v += (x.data[(n * C + c) * H * W + i] - mu) ** 2;
      mean[c] = mu;
      invStd[c] = 1 / Math.sqrt(v / M + eps);
      if (rm) rm[c] = (1 - momentum) * rm[c] + momentum * mu;
      if (rv) rv[c] = (1 - momentum) * rv[c] + momentum * (v / (M - 1));
    } else {
      if (!rm || !rv) invalid('batch norm eval needs running stats');
      mean[c] = rm[c];
      invStd[c] = 1 / Math.sqrt(rv[c] + eps);
    }
  }
  const y = new Float64Array(x.data.length);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const g = gamma ? gamma.data[c] : 1, bt = beta ? beta.data[c] : 0;
      for (let i = 0; i < H * W; i++) {
        const k = (n * C + c) * H * W + i;
        y[k] = (x.data[k] - mean[c]) * invStd[c] * g + bt;
      }
    }
  }
  return {
    y: T(y, x.shape), mean: T(mean, [C]), invStd: T(invStd, [C]),
    runningMean: rm ? T(rm, [C]) : null, runningVar: rv ? T(rv, [C]) : null,
  };
}

/**
 * layerNorm. x [...lead, ...normalizedShape], gamma/beta normalizedShape | null, opts { eps = 1e-5 }
 * → { y like x, mean [...lead], invStd [...lead] } (biased variance over the trailing normalizedShape elements).
 */
export function layerNorm(x, normalizedShape, gamma, beta, opts = {}) {
  const eps = opts.eps ?? 1e-5;
  const D = prod(normalizedShape);
  const lead = x.shape.slice(0, x.shape.length - normalizedShape.length);
  for (let i = 0; i < normalizedShape.length; i++) {
    if (x.shape[lead.length + i] !== normalizedShape[i]) invalid(`normalizedShape ${normalizedShape} vs x ${x.shape}`);
  }
  const R = prod(lead);
  const y = new Float64Array(x.data.length), mean = new Float64Array(R), invStd = new Float64Array(R);
  for (let r = 0; r < R; r++) {
    let s = 0;
    for (let j = 0; j < D; j++) s += x.data[r * D + j];
    const mu = s / D;
    let v = 0;
    for (let j = 0; j < D; j++) v += (x.data[r * D + j] - mu) ** 2;
    const is = 1 / Math.sqrt(v / D + eps);
    mean[r] = mu; invStd[r] = is;
    for (let j = 0; j < D; j++) {
      y[r * D + j] = (x.data[r * D + j] - mu) * is * (gamma ? gamma.data[j] : 1) + (beta ? beta.data[j] : 0);
    }
  }
  return { y: T(y, x.shape), mean: T(mean, lead), invStd: T(invStd, lead) };
}

/**
 * groupNorm. x [N, C, ...spatial], groups G | C, gamma/beta [C] | null, opts { eps = 1e-5 }
 * → { y like x, mean [N, G], invStd [N, G] } (biased variance over the C/G channels × spatial of each group).
 */
export function groupNorm(x, groups, gamma, beta, opts = {}) {
  const eps = opts.eps ?? 1e-5;
  const [N, C] = x.shape;
  const S = prod(x.shape.slice(2));
  if (C % groups) invalid(`groups ${groups} does not divide C ${C}`);
  const Cg = C / groups, D = Cg * S;
  const y = new Float64Array(x.data.length), mean = new Float64Array(N * groups), invStd = new Float64Array(N * groups);
  for (let n = 0; n < N; n++) {
    for (let g = 0; g < groups; g++) {
      const base = (n * C + g * Cg) * S; // the group's elements are contiguous
      let s = 0;
      for (let j = 0; j < D; j++) s += x.data[base + j];
      const mu = s / D;
      let v = 0;
      for (let j = 0; j < D; j++) v += (x.data[base + j] - mu) ** 2;
      const is = 1 / Math.sqrt(v / D + eps);
      mean[n * groups + g] = mu; invStd[n * groups + g] = is;
      for (let j = 0; j < D; j++) {
        const c = g * Cg + Math.floor(j / S);
        y[base + j] = (x.data[base + j] - mu) * is * (gamma ? gamma.data[c] : 1) + (beta ? beta.data[c] : 0);
      }
    }
  }
  return { y: T(y, x.shape), mean: T(mean, [N, groups]), invStd: T(invStd, [N, groups]) };
}

/**
 * instanceNorm. x [N, C, ...spatial], gamma/beta [C] | null, opts { eps = 1e-5 }
 * → { y like x, mean [N, C], invStd [N, C] } (per-plane statistics, biased variance; spatial size ≥ 2).
 */
export function instanceNorm(x, gamma, beta, opts = {}) {
  const eps = opts.eps ?? 1e-5;
  const [N, C] = x.shape;
  const S = prod(x.shape.slice(2));
  if (S < 2) invalid('instance norm needs more than 1 spatial element (PyTorch)');
  const y = new Float64Array(x.data.length), mean = new Float64Array(N * C), invStd = new Float64Array(N * C);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const base = (n * C + c) * S;
      let s = 0;
      for (let j = 0; j < S; j++) s += x.data[base + j];
      const mu = s / S;
      let v = 0;
      for (let j = 0; j < S; j++) v += (x.data[base + j] - mu) ** 2;
      const is = 1 / Math.sqrt(v / S + eps);
      mean[n * C + c] = mu; invStd[n * C + c] = is;
      for (let j = 0; j < S; j++) {
        y[base + j] = (x.data[base + j] - mu) * is * (gamma ? gamma.data[c] : 1) + (beta ? beta.data[c] : 0);
      }
    }
  }
  return { y: T(y, x.shape), mean: T(mean, [N, C]), invStd: T(invStd, [N, C]) };
}

// ---------------------------------------------------------------------------------------------------------------
// Activations (element-wise, any shape)

function map(x, f) {
  const y = new Float64Array(x.data.length);
  for (let i = 0; i < y.length; i++) y[i] = f(x.data[i]);
  return T(y, x.shape);
}
export const relu = (x) => map(x, (v) => (v > 0 || Number.isNaN(v) ? v : 0)); // relu(NaN) = NaN, as torch.relu
export const leakyRelu = (x, slope = 0.01) => map(x, (v) => (v > 0 ? v : v * slope));
export const sigmoid = (x) => map(x, (v) => 1 / (1 + Math.exp(-v)));
export const tanh = (x) => map(x, (v) => Math.tanh(v));

// ---------------------------------------------------------------------------------------------------------------
// Dense and loss

/** linear. x [N, I], w [O, I], b [O] | null → y [N, O] = x·wᵀ + b. */
export function linear(x, w, b) {
  const [N, I] = x.shape;
  const [O, I2] = w.shape;
  if (I !== I2) invalid(`linear in features ${I} vs ${I2}`);
  const y = new Float64Array(N * O);
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < O; o++) {
      let s = b ? b.data[o] : 0;
      for (let i = 0; i < I; i++) s += x.data[n * I + i] * w.data[o * I + i];
      y[n * O + o] = s;
    }
  }
  return T(y, [N, O]);
}

/**
 * softmaxCrossEntropy. logits [N, K], labels (integers in [0, K)) [N] → { loss (mean over N), probs [N, K] }.
 * Computed as log-sum-exp with the row max subtracted.
 */
export function softmaxCrossEntropy(logits, labels) {
  const [N, K] = logits.shape;
  const probs = new Float64Array(N * K);
  let loss = 0;
  for (let n = 0; n < N; n++) {
    let m = -Infinity;
    for (let k = 0; k < K; k++) m = Math.max(m, logits.data[n * K + k]);
    let s = 0;
    for (let k = 0; k < K; k++) s += Math.exp(logits.data[n * K + k] - m);
    for (let k = 0; k < K; k++) probs[n * K + k] = Math.exp(logits.data[n * K + k] - m) / s;
    const label = labels[n];
    if (!(label >= 0 && label < K)) invalid(`label ${label} outside [0, ${K})`);
    loss += -(logits.data[n * K + label] - m - Math.log(s));
  }
  return { loss: loss / N, probs: T(probs, [N, K]) };
}

// ---------------------------------------------------------------------------------------------------------------
// Optimizers (torch.optim semantics, one tensor). They return new arrays and never modify their arguments.

/**
 * SGD. param, grad Float64Array; state null | { buf }; opts { lr, momentum = 0, dampening = 0, nesterov = false,
 * weightDecay = 0 } → { param, state }. d = g + wd·p; buf = d on the first step, else m·buf + (1 − dampening)·d;
 * d = nesterov ? d + m·buf : buf; p −= lr·d.
 */
export function sgdStep(param, grad, state, opts) {
  const { lr, momentum = 0, dampening = 0, nesterov = false, weightDecay = 0 } = opts;
  const p = Float64Array.from(param);
  const buf = state ? Float64Array.from(state.buf) : null;
  const newBuf = momentum !== 0 ? new Float64Array(p.length) : null;
  for (let i = 0; i < p.length; i++) {
    let d = grad[i];
    if (weightDecay !== 0) d += weightDecay * p[i];
    if (momentum !== 0) {
      const b = buf ? momentum * buf[i] + (1 - dampening) * d : d;
      newBuf[i] = b;
      d = nesterov ? d + momentum * b : b;
    }
    p[i] -= lr * d;
  }
  return { param: p, state: momentum !== 0 ? { buf: newBuf } : null };
}

/**
 * Adam / AdamW. state null | { step, m, v }; opts { lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8,
 * weightDecay = 0, decoupled = false } → { param, state }.
 * Adam: g += wd·p. AdamW (decoupled): p *= 1 − lr·wd first. m = β1·m + (1 − β1)·g; v = β2·v + (1 − β2)·g²;
 * p −= (lr / (1 − β1^t)) · m / (√v / √(1 − β2^t) + eps).
 */
export function adamStep(param, grad, state, opts = {}) {
  const { lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 0, decoupled = false } = opts;
  const p = Float64Array.from(param);
  const step = (state ? state.step : 0) + 1;
  const m = state ? Float64Array.from(state.m) : new Float64Array(p.length);
  const v = state ? Float64Array.from(state.v) : new Float64Array(p.length);
  const bc1 = 1 - beta1 ** step, bc2 = 1 - beta2 ** step;
  for (let i = 0; i < p.length; i++) {
    let g = grad[i];
    if (weightDecay !== 0) {
      if (decoupled) p[i] *= 1 - lr * weightDecay;
      else g += weightDecay * p[i];
    }
    m[i] = beta1 * m[i] + (1 - beta1) * g;
    v[i] = beta2 * v[i] + (1 - beta2) * g * g;
    p[i] -= (lr / bc1) * m[i] / (Math.sqrt(v[i]) / Math.sqrt(bc2) + eps);
  }
  return { param: p, state: { step, m, v } };
}
