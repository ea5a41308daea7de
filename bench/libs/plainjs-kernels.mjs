// Straightforward JavaScript kernels over Float32Array, NCHW: the "plain JS" column of the benchmark
// (what a careful JS programmer writes without SIMD or wasm) and the correctness reference of the others.
// Convolution is im2col + a naive i-k-j matmul; backward passes are the matching GEMMs + col2im.

/** C[M×N] = A[M×K]·B[K×N] (row-major, C overwritten). */
export function matmul(A, B, C, M, N, K) {
  C.fill(0, 0, M * N);
  for (let i = 0; i < M; i++) {
    const ci = i * N;
    for (let p = 0; p < K; p++) {
      const a = A[i * K + p];
      if (a === 0) continue;
      const bp = p * N;
      for (let j = 0; j < N; j++) C[ci + j] += a * B[bp + j];
    }
  }
}

/** y[M×N] = x[M×K]·w[N×K]ᵀ (linear layer / the 1024³ GEMM): dot products of rows. */
export function matmulTransB(x, w, y, M, N, K) {
  for (let i = 0; i < M; i++) {
    const xi = i * K;
    for (let j = 0; j < N; j++) {
      const wj = j * K;
      let s = 0;
      for (let p = 0; p < K; p++) s += x[xi + p] * w[wj + p];
      y[i * N + j] = s;
    }
  }
}

/** col[(c·k + kh)·k + kw][oh·Wo + ow] of image n. */
function im2col(x, n, s, col) {
  const { C, H, W, k, stride, pad, Ho, Wo } = s;
  const hw = Ho * Wo;
  for (let c = 0; c < C; c++) {
    const xc = (n * C + c) * H * W;
    for (let kh = 0; kh < k; kh++) for (let kw = 0; kw < k; kw++) {
      const row = ((c * k + kh) * k + kw) * hw;
      for (let oh = 0; oh < Ho; oh++) {
        const ih = oh * stride - pad + kh;
        for (let ow = 0; ow < Wo; ow++) {
          const iw = ow * stride - pad + kw;
          col[row + oh * Wo + ow] = ih >= 0 && ih < H && iw >= 0 && iw < W ? x[xc + ih * W + iw] : 0;
        }
      }
    }
  }
}

/** Adds col back into dx of image n (the adjoint of im2col). */
function col2im(col, n, s, dx) {
  const { C, H, W, k, stride, pad, Ho, Wo } = s;
  const hw = Ho * Wo;
  for (let c = 0; c < C; c++) {
    const xc = (n * C + c) * H * W;
    for (let kh = 0; kh < k; kh++) for (let kw = 0; kw < k; kw++) {
      const row = ((c * k + kh) * k + kw) * hw;
      for (let oh = 0; oh < Ho; oh++) {
        const ih = oh * stride - pad + kh;
        if (ih < 0 || ih >= H) continue;
        for (let ow = 0; ow < Wo; ow++) {
          const iw = ow * stride - pad + kw;
          if (iw >= 0 && iw < W) dx[xc + ih * W + iw] += col[row + oh * Wo + ow];
        }
      }
    }
  }
}

/** Conv shape s: { N, C, H, W, K, k, stride, pad, Ho, Wo } (groups 1). Returns a scratch holder. */
export const convScratch = (s) => ({ col: new Float32Array(s.C * s.k * s.k * s.Ho * s.Wo), tmp: new Float32Array(s.K * s.Ho * s.Wo) });

/** y [N,K,Ho,Wo] = conv(x, w) + b (b may be null). */
export function conv2d(x, w, b, s, y, scratch = convScratch(s)) {
  const { N, K, Ho, Wo, C, k } = s;
  const hw = Ho * Wo, ckk = C * k * k;
  for (let n = 0; n < N; n++) {
    im2col(x, n, s, scratch.col);
    const yn = y.subarray(n * K * hw, (n + 1) * K * hw);
    matmul(w, scratch.col, yn, K, hw, ckk);
    if (b) for (let o = 0; o < K; o++) for (let j = 0; j < hw; j++) yn[o * hw + j] += b[o];
  }
  return y;
}

/** dx [N,C,H,W] from dy: dcol = Wᵀ·dy per image, then col2im. */
export function conv2dBackwardData(dy, w, s, dx, scratch = convScratch(s)) {
  const { N, K, Ho, Wo, C, k } = s;
  const hw = Ho * Wo, ckk = C * k * k;
  const col = scratch.col;
  dx.fill(0);
  for (let n = 0; n < N; n++) {
    col.fill(0);
    const dyn = n * K * hw;
    for (let o = 0; o < K; o++) {
      for (let i = 0; i < ckk; i++) {
        const a = w[o * ckk + i];
        const ci = i * hw, d = dyn + o * hw;
        for (let j = 0; j < hw; j++) col[ci + j] += a * dy[d + j];
      }
    }
    col2im(col, n, s, dx);
  }
  return dx;
}

/** dw [K, C, k, k] = Σ_n dy_n · col_nᵀ; db [K] = Σ dy (db may be null). */
export function conv2dBackwardFilter(dy, x, s, dw, db, scratch = convScratch(s)) {
  const { N, K, Ho, Wo, C, k } = s;
  const hw = Ho * Wo, ckk = C * k * k;
  const col = scratch.col;
  dw.fill(0);
  if (db) db.fill(0);
  for (let n = 0; n < N; n++) {
    im2col(x, n, s, col);
    const dyn = n * K * hw;
    for (let o = 0; o < K; o++) {
      const d = dyn + o * hw;
      for (let i = 0; i < ckk; i++) {
        const ci = i * hw;
        let acc = 0;
        for (let j = 0; j < hw; j++) acc += dy[d + j] * col[ci + j];
        dw[o * ckk + i] += acc;
      }
      if (db) { let acc = 0; for (let j = 0; j < hw; j++) acc += dy[d + j]; db[o] += acc; }
    }
  }
  return dw;
}

/** Depthwise conv (groups = C = K), w [C,1,k,k], direct loops. */
export function depthwiseConv2d(x, w, s, y) {
  const { N, C, H, W, k, stride, pad, Ho, Wo } = s;
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) {
    const xc = (n * C + c) * H * W, yc = (n * C + c) * Ho * Wo, wc = c * k * k;
    for (let oh = 0; oh < Ho; oh++) for (let ow = 0; ow < Wo; ow++) {
      let acc = 0;
      for (let kh = 0; kh < k; kh++) {
        const ih = oh * stride - pad + kh;
        if (ih < 0 || ih >= H) continue;
        for (let kw = 0; kw < k; kw++) {
          const iw = ow * stride - pad + kw;
          if (iw >= 0 && iw < W) acc += x[xc + ih * W + iw] * w[wc + kh * k + kw];
        }
      }
      y[yc + oh * Wo + ow] = acc;
    }
  }
  return y;
}

/** Max pool k×k stride k, no padding: y and argmax indices (h·W + w within each plane, PyTorch's). */
export function maxPool2d(x, N, C, H, W, k, y, idx) {
  const Ho = Math.floor(H / k), Wo = Math.floor(W / k);
  for (let p = 0; p < N * C; p++) {
    const xp = p * H * W, yp = p * Ho * Wo;
    for (let oh = 0; oh < Ho; oh++) for (let ow = 0; ow < Wo; ow++) {
      let best = -Infinity, bi = -1;
      for (let kh = 0; kh < k; kh++) for (let kw = 0; kw < k; kw++) {
        const i = (oh * k + kh) * W + ow * k + kw;
        const v = x[xp + i];
        if (v > best || bi < 0) { best = v; bi = i; }
      }
      y[yp + oh * Wo + ow] = best;
      idx[yp + oh * Wo + ow] = bi;
    }
  }
}

export function maxPool2dBackward(dy, idx, N, C, H, W, k, dx) {
  const Ho = Math.floor(H / k), Wo = Math.floor(W / k);
  dx.fill(0);
  for (let p = 0; p < N * C; p++) {
    const xp = p * H * W, yp = p * Ho * Wo;
    for (let j = 0; j < Ho * Wo; j++) dx[xp + idx[yp + j]] += dy[yp + j];
  }
  return dx;
}

/** Batch norm, training mode: batch mean and biased variance per channel; returns { mean, invStd }. */
export function batchNormTrain(x, gamma, beta, N, C, HW, eps, y) {
  const mean = new Float32Array(C), invStd = new Float32Array(C);
  const count = N * HW;
  for (let c = 0; c < C; c++) {
    let s = 0;
    for (let n = 0; n < N; n++) { const o = (n * C + c) * HW; for (let i = 0; i < HW; i++) s += x[o + i]; }
    const m = s / count;
    let v = 0;
    for (let n = 0; n < N; n++) { const o = (n * C + c) * HW; for (let i = 0; i < HW; i++) { const d = x[o + i] - m; v += d * d; } }
    const is = 1 / Math.sqrt(v / count + eps);
    mean[c] = m; invStd[c] = is;
    const g = gamma[c] * is, b = beta[c] - m * g;
    for (let n = 0; n < N; n++) { const o = (n * C + c) * HW; for (let i = 0; i < HW; i++) y[o + i] = x[o + i] * g + b; }
  }
  return { mean, invStd };
}

/** Batch norm backward (batch statistics): dx, dgamma, dbeta. */
export function batchNormBackward(dy, x, gamma, mean, invStd, N, C, HW, dx, dgamma, dbeta) {
  const count = N * HW;
  for (let c = 0; c < C; c++) {
    const m = mean[c], is = invStd[c];
    let sdy = 0, sdyx = 0;
    for (let n = 0; n < N; n++) {
      const o = (n * C + c) * HW;
      for (let i = 0; i < HW; i++) { sdy += dy[o + i]; sdyx += dy[o + i] * (x[o + i] - m); }
    }
    dbeta[c] = sdy;
    dgamma[c] = sdyx * is;
    const k1 = gamma[c] * is / count;
    const mdy = sdy, mdyx = sdyx * is * is;
    for (let n = 0; n < N; n++) {
      const o = (n * C + c) * HW;
      for (let i = 0; i < HW; i++) dx[o + i] = k1 * (count * dy[o + i] - mdy - (x[o + i] - m) * mdyx);
    }
  }
}

export function relu(x, y) { for (let i = 0; i < x.length; i++) y[i] = x[i] > 0 ? x[i] : 0; return y; }
export function reluBackward(dy, x, dx) { for (let i = 0; i < x.length; i++) dx[i] = x[i] > 0 ? dy[i] : 0; return dx; }

/** Mean softmax cross-entropy over N rows of K logits: returns the loss, writes dlogits. */
export function softmaxCrossEntropy(logits, labels, N, K, dlogits) {
  let loss = 0;
  for (let n = 0; n < N; n++) {
    const o = n * K;
    let mx = -Infinity;
    for (let j = 0; j < K; j++) mx = Math.max(mx, logits[o + j]);
    let s = 0;
    for (let j = 0; j < K; j++) s += Math.exp(logits[o + j] - mx);
    loss += Math.log(s) + mx - logits[o + labels[n]];
    for (let j = 0; j < K; j++) dlogits[o + j] = (Math.exp(logits[o + j] - mx) / s - (j === labels[n] ? 1 : 0)) / N;
  }
  return loss / N;
}

export function sgd(param, grad, lr) { for (let i = 0; i < param.length; i++) param[i] -= lr * grad[i]; }
