// Locally connected 2-D layer (a convolution whose weights are not shared between output positions; Keras's
// LocallyConnected2D in NCHW), forward and backward side by side.
//   x [N, C, H, W], w [P, Cout, K] with P = OH·OW positions and K = C·KH·KW (k = (c·KH + kh)·KW + kw, the
//   order of torch's F.unfold), bias b [Cout, OH, OW] (0: none), y [N, Cout, OH, OW]:
//   y[n, co, p] = Σ_k w[p, co, k] · patch[n, p, k] + b[co, p],
//   patch[n, p, k] = x[n, c, oh·SH − PH + kh, ow·SW − PW + kw] (0 outside the input), p = oh·OW + ow.
// Each position is a small GEMM of its own: [N × K] patches times the [K × Cout] weights of that position.
// The forward and dW split positions over threads (each writes its own y columns / dW rows); dx splits images.
// (db is a plain sum of dy over images: channel_sum of gemm.ts.)
import { at } from './vec';

/** Copies the K-element patch of position (oh, ow) of one image into dst (zeros where the window is outside). */
function gatherPatch(xn: usize, dst: usize, C: i32, H: i32, W: i32, KH: i32, KW: i32, h0: i32, w0: i32): void {
  let k = 0;
  for (let c = 0; c < C; c++) {
    const xc = xn + (<usize>(c * H * W) << 2);
    for (let kh = 0; kh < KH; kh++) {
      const h = h0 + kh;
      if (h < 0 || h >= H) {
        memory.fill(at(dst, k), 0, <usize>KW << 2);
        k += KW;
        continue;
      }
      const row = xc + (<usize>(h * W) << 2);
      for (let kw = 0; kw < KW; kw++, k++) {
        const w = w0 + kw;
        store<f32>(at(dst, k), w >= 0 && w < W ? load<f32>(at(row, w)) : <f32>0);
      }
    }
  }
}

/** Adds a K-element patch gradient into dx of one image at the window of (h0, w0) (the adjoint of gatherPatch). */
function scatterPatch(src: usize, dxn: usize, C: i32, H: i32, W: i32, KH: i32, KW: i32, h0: i32, w0: i32): void {
  let k = 0;
  for (let c = 0; c < C; c++) {
    const dxc = dxn + (<usize>(c * H * W) << 2);
    for (let kh = 0; kh < KH; kh++) {
      const h = h0 + kh;
      if (h < 0 || h >= H) { k += KW; continue; }
      const row = dxc + (<usize>(h * W) << 2);
      for (let kw = 0; kw < KW; kw++, k++) {
        const w = w0 + kw;
        if (w >= 0 && w < W) store<f32>(at(row, w), load<f32>(at(row, w)) + load<f32>(at(src, k)));
      }
    }
  }
}

/** Σ a[i]·b[i] over n floats. */
function dot(a: usize, b: usize, n: i32): f32 {
  let s: f32 = 0;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    let s0 = f32x4.splat(0), s1 = f32x4.splat(0);
    for (; i + 8 <= n; i += 8) {
      s0 = f32x4.add(s0, f32x4.mul(v128.load(at(a, i)), v128.load(at(b, i))));
      s1 = f32x4.add(s1, f32x4.mul(v128.load(at(a, i), 16), v128.load(at(b, i), 16)));
    }
    const v = f32x4.add(s0, s1);
    s = (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
  }
  for (; i < n; i++) s += load<f32>(at(a, i)) * load<f32>(at(b, i));
  return s;
}

/** y += alpha·x over n floats. */
function axpyf(y: usize, x: usize, n: i32, alpha: f32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const s = f32x4.splat(alpha);
    for (; i + 4 <= n; i += 4) v128.store(at(y, i), f32x4.add(v128.load(at(y, i)), f32x4.mul(s, v128.load(at(x, i)))));
  }
  for (; i < n; i++) store<f32>(at(y, i), load<f32>(at(y, i)) + alpha * load<f32>(at(x, i)));
}

/** Gathers the patches of position p for every image into scratch [N, K]. */
function gatherAll(x: usize, scratch: usize, N: i32, C: i32, H: i32, W: i32, KH: i32, KW: i32, h0: i32, w0: i32, K: i32): void {
  for (let n = 0; n < N; n++) {
    gatherPatch(x + (<usize>(n * C * H * W) << 2), at(scratch, n * K), C, H, W, KH, KW, h0, w0);
  }
}

/** Forward for positions [p0, p1) (see the top); scratch holds N·K floats. */
export function local2d_forward(x: usize, w: usize, b: usize, y: usize, scratch: usize, N: i32, C: i32, H: i32, W: i32,
                                Cout: i32, KH: i32, KW: i32, SH: i32, SW: i32, PH: i32, PW: i32, OH: i32, OW: i32,
                                p0: i32, p1: i32): void {
  const K = C * KH * KW, P = OH * OW;
  for (let p = p0; p < p1; p++) {
    const oh = p / OW, ow = p % OW;
    gatherAll(x, scratch, N, C, H, W, KH, KW, oh * SH - PH, ow * SW - PW, K);
    const wp = w + (<usize>(p * Cout * K) << 2);
    for (let co = 0; co < Cout; co++) {
      const wr = at(wp, co * K);
      const bias: f32 = b ? load<f32>(at(b, co * P + p)) : 0;
      let n = 0;
      if (ASC_FEATURE_SIMD) {
        // Four images at a time: one load of the weight row feeds four independent sums.
        for (; n + 4 <= N; n += 4) {
          const a0 = at(scratch, n * K), a1 = at(a0, K), a2 = at(a1, K), a3 = at(a2, K);
          let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
          let k = 0;
          for (; k + 4 <= K; k += 4) {
            const wv = v128.load(at(wr, k));
            s0 = f32x4.add(s0, f32x4.mul(wv, v128.load(at(a0, k))));
            s1 = f32x4.add(s1, f32x4.mul(wv, v128.load(at(a1, k))));
            s2 = f32x4.add(s2, f32x4.mul(wv, v128.load(at(a2, k))));
            s3 = f32x4.add(s3, f32x4.mul(wv, v128.load(at(a3, k))));
          }
          // Transpose-add: lane i of the result is the horizontal sum of s_i.
          const t01 = f32x4.add(v128.shuffle<f32>(s0, s1, 0, 1, 4, 5), v128.shuffle<f32>(s0, s1, 2, 3, 6, 7));
          const t23 = f32x4.add(v128.shuffle<f32>(s2, s3, 0, 1, 4, 5), v128.shuffle<f32>(s2, s3, 2, 3, 6, 7));
          const sum = f32x4.add(v128.shuffle<f32>(t01, t23, 0, 2, 4, 6), v128.shuffle<f32>(t01, t23, 1, 3, 5, 7));
          let r0 = f32x4.extract_lane(sum, 0), r1 = f32x4.extract_lane(sum, 1);
          let r2 = f32x4.extract_lane(sum, 2), r3 = f32x4.extract_lane(sum, 3);
          for (; k < K; k++) {
            const wk = load<f32>(at(wr, k));
            r0 += wk * load<f32>(at(a0, k));
            r1 += wk * load<f32>(at(a1, k));
            r2 += wk * load<f32>(at(a2, k));
            r3 += wk * load<f32>(at(a3, k));
          }
          store<f32>(at(y, (n * Cout + co) * P + p), r0 + bias);
          store<f32>(at(y, ((n + 1) * Cout + co) * P + p), r1 + bias);
          store<f32>(at(y, ((n + 2) * Cout + co) * P + p), r2 + bias);
          store<f32>(at(y, ((n + 3) * Cout + co) * P + p), r3 + bias);
        }
      }
      for (; n < N; n++) store<f32>(at(y, (n * Cout + co) * P + p), dot(wr, at(scratch, n * K), K) + bias);
    }
  }
}

/** dW[p, co, :] = Σ_n dy[n, co, p]·patch[n, p, :] for positions [p0, p1) (their dw rows are overwritten); scratch: N·K floats. */
export function local2d_backward_filter(dy: usize, x: usize, dw: usize, scratch: usize, N: i32, C: i32, H: i32, W: i32,
                                        Cout: i32, KH: i32, KW: i32, SH: i32, SW: i32, PH: i32, PW: i32, OH: i32, OW: i32,
                                        p0: i32, p1: i32): void {
  const K = C * KH * KW, P = OH * OW;
  for (let p = p0; p < p1; p++) {
    const oh = p / OW, ow = p % OW;
    gatherAll(x, scratch, N, C, H, W, KH, KW, oh * SH - PH, ow * SW - PW, K);
    const dwp = dw + (<usize>(p * Cout * K) << 2);
    memory.fill(dwp, 0, <usize>(Cout * K) << 2);
    for (let co = 0; co < Cout; co++) {
      const dwr = at(dwp, co * K);
      for (let n = 0; n < N; n++) axpyf(dwr, at(scratch, n * K), K, load<f32>(at(dy, (n * Cout + co) * P + p)));
    }
  }
}

/** dx for images [n0, n1): each position's patch gradient Σ_co dy[n, co, p]·w[p, co, :] added back into its window. scratch: K floats. */
export function local2d_backward_data(dy: usize, w: usize, dx: usize, scratch: usize, N: i32, C: i32, H: i32, W: i32,
                                      Cout: i32, KH: i32, KW: i32, SH: i32, SW: i32, PH: i32, PW: i32, OH: i32, OW: i32,
                                      n0: i32, n1: i32): void {
  const K = C * KH * KW, P = OH * OW, image = C * H * W;
  memory.fill(at(dx, n0 * image), 0, <usize>((n1 - n0) * image) << 2);
  for (let n = n0; n < n1; n++) {
    const dxn = at(dx, n * image);
    for (let p = 0; p < P; p++) {
      const wp = w + (<usize>(p * Cout * K) << 2);
      memory.fill(scratch, 0, <usize>K << 2);
      for (let co = 0; co < Cout; co++) {
        const g = load<f32>(at(dy, (n * Cout + co) * P + p));
        axpyf(scratch, at(wp, co * K), K, g);
      }
      scatterPatch(scratch, dxn, C, H, W, KH, KW, (p / OW) * SH - PH, (p % OW) * SW - PW);
    }
  }
}
