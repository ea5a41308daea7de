// Locally connected 2-D layer (a convolution whose weights are not shared between output positions; Keras's
// LocallyConnected2D in NCHW), forward and backward side by side.
//   x [N, C, H, W], w [P, Cout, K] with P = OH·OW positions and K = C·KH·KW (k = (c·KH + kh)·KW + kw, the
//   order of torch's F.unfold), bias b [Cout, OH, OW] (0: none), y [N, Cout, OH, OW]:
//   y[n, co, p] = Σ_k w[p, co, k] · patch[n, p, k] + b[co, p],
//   patch[n, p, k] = x[n, c, oh·SH − PH + kh, ow·SW − PW + kw] (0 outside the input), p = oh·OW + ow.
// Each position is a small GEMM of its own: [N × K] patches times the [K × Cout] weights of that position.
// The forward and dW split positions over threads (each writes its own y columns / dW rows); dx splits images.
// (db is a plain sum of dy over images: channel_sum of gemm.ts.)
import { at, hsum, madd } from './vec';

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
      s0 = madd(v128.load(at(a, i)), v128.load(at(b, i)), s0);
      s1 = madd(v128.load(at(a, i), 16), v128.load(at(b, i), 16), s1);
    }
    s = hsum(f32x4.add(s0, s1));
  }
  for (; i < n; i++) s += load<f32>(at(a, i)) * load<f32>(at(b, i));
  return s;
}

/** The four horizontal sums of s0…s3 as one vector (lane i = Σ lanes of s_i). */
// @ts-ignore: decorator
@inline function hsum4(s0: v128, s1: v128, s2: v128, s3: v128): v128 {
  const t01 = f32x4.add(v128.shuffle<f32>(s0, s1, 0, 1, 4, 5), v128.shuffle<f32>(s0, s1, 2, 3, 6, 7));
  const t23 = f32x4.add(v128.shuffle<f32>(s2, s3, 0, 1, 4, 5), v128.shuffle<f32>(s2, s3, 2, 3, 6, 7));
  return f32x4.add(v128.shuffle<f32>(t01, t23, 0, 2, 4, 6), v128.shuffle<f32>(t01, t23, 1, 3, 5, 7));
}

/**
 * Two weighted sums of I rows of K floats: outA[k] = Σ_i a[i·cs]·rows[i·K + k], outB[k] = Σ_i b[i·cs]·rows[i·K + k]
 * (coefficients every cs floats). Sixteen columns at a time in eight f32x4 accumulators, each row loaded once for
 * both outputs. dW (rows: the patches, coefficients: dy of two channels) and dx (rows: the weights, coefficients: dy
 * of two images) are both this.
 */
function combine2(rows: usize, I: i32, K: i32, a: usize, b: usize, cs: i32, outA: usize, outB: usize): void {
  let k = 0;
  if (ASC_FEATURE_SIMD) {
    for (; k + 16 <= K; k += 16) {
      let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
      let b0 = f32x4.splat(0), b1 = f32x4.splat(0), b2 = f32x4.splat(0), b3 = f32x4.splat(0);
      for (let i = 0; i < I; i++) {
        const r = at(rows, i * K + k);
        const ga = v128.load32_splat(at(a, i * cs)), gb = v128.load32_splat(at(b, i * cs));
        const r0 = v128.load(r), r1 = v128.load(r, 16), r2 = v128.load(r, 32), r3 = v128.load(r, 48);
        a0 = madd(ga, r0, a0); a1 = madd(ga, r1, a1); a2 = madd(ga, r2, a2); a3 = madd(ga, r3, a3);
        b0 = madd(gb, r0, b0); b1 = madd(gb, r1, b1); b2 = madd(gb, r2, b2); b3 = madd(gb, r3, b3);
      }
      const oa = at(outA, k), ob = at(outB, k);
      v128.store(oa, a0); v128.store(oa, a1, 16); v128.store(oa, a2, 32); v128.store(oa, a3, 48);
      v128.store(ob, b0); v128.store(ob, b1, 16); v128.store(ob, b2, 32); v128.store(ob, b3, 48);
    }
    for (; k + 4 <= K; k += 4) {
      let a0 = f32x4.splat(0), b0 = f32x4.splat(0);
      for (let i = 0; i < I; i++) {
        const r0 = v128.load(at(rows, i * K + k));
        a0 = madd(v128.load32_splat(at(a, i * cs)), r0, a0);
        b0 = madd(v128.load32_splat(at(b, i * cs)), r0, b0);
      }
      v128.store(at(outA, k), a0);
      v128.store(at(outB, k), b0);
    }
  }
  if (k == K) return;
  // The remaining columns (all of them in the scalar build), row by row so that rows are read in order; outB may be
  // outA (an odd last channel paired with itself), then it is written once.
  const same = outA == outB;
  memory.fill(at(outA, k), 0, <usize>(K - k) << 2);
  if (!same) memory.fill(at(outB, k), 0, <usize>(K - k) << 2);
  for (let i = 0; i < I; i++) {
    const r = at(rows, i * K), ga = load<f32>(at(a, i * cs)), gb = load<f32>(at(b, i * cs));
    for (let j = k; j < K; j++) {
      const v = load<f32>(at(r, j));
      store<f32>(at(outA, j), load<f32>(at(outA, j)) + ga * v);
      if (!same) store<f32>(at(outB, j), load<f32>(at(outB, j)) + gb * v);
    }
  }
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
    let co = 0;
    if (ASC_FEATURE_SIMD) {
      // Two output channels × four images: eight dot products sharing every load (two weight rows, four patches).
      for (; co + 2 <= Cout; co += 2) {
        const w0 = at(wp, co * K), w1 = at(w0, K);
        const bias0: f32 = b ? load<f32>(at(b, co * P + p)) : 0, bias1: f32 = b ? load<f32>(at(b, (co + 1) * P + p)) : 0;
        let n = 0;
        for (; n + 4 <= N; n += 4) {
          const q0 = at(scratch, n * K), q1 = at(q0, K), q2 = at(q1, K), q3 = at(q2, K);
          let s00 = f32x4.splat(0), s01 = f32x4.splat(0), s02 = f32x4.splat(0), s03 = f32x4.splat(0);
          let s10 = f32x4.splat(0), s11 = f32x4.splat(0), s12 = f32x4.splat(0), s13 = f32x4.splat(0);
          let k = 0;
          for (; k + 4 <= K; k += 4) {
            const u = v128.load(at(w0, k)), v = v128.load(at(w1, k));
            const x0 = v128.load(at(q0, k)), x1 = v128.load(at(q1, k)), x2 = v128.load(at(q2, k)), x3 = v128.load(at(q3, k));
            s00 = madd(u, x0, s00); s01 = madd(u, x1, s01); s02 = madd(u, x2, s02); s03 = madd(u, x3, s03);
            s10 = madd(v, x0, s10); s11 = madd(v, x1, s11); s12 = madd(v, x2, s12); s13 = madd(v, x3, s13);
          }
          // The K mod 4 tail columns, added to the four sums as vectors (lane j: image n + j).
          let t0 = f32x4.splat(0), t1 = f32x4.splat(0);
          for (; k < K; k++) {
            const xv = f32x4(load<f32>(at(q0, k)), load<f32>(at(q1, k)), load<f32>(at(q2, k)), load<f32>(at(q3, k)));
            t0 = madd(v128.load32_splat(at(w0, k)), xv, t0);
            t1 = madd(v128.load32_splat(at(w1, k)), xv, t1);
          }
          const r0 = f32x4.add(f32x4.add(hsum4(s00, s01, s02, s03), t0), f32x4.splat(bias0));
          const r1 = f32x4.add(f32x4.add(hsum4(s10, s11, s12, s13), t1), f32x4.splat(bias1));
          const y0 = at(y, (n * Cout + co) * P + p), step = <usize>(Cout * P) << 2;
          store<f32>(y0, f32x4.extract_lane(r0, 0));
          store<f32>(y0 + step, f32x4.extract_lane(r0, 1));
          store<f32>(y0 + 2 * step, f32x4.extract_lane(r0, 2));
          store<f32>(y0 + 3 * step, f32x4.extract_lane(r0, 3));
          const y1 = at(y0, P);
          store<f32>(y1, f32x4.extract_lane(r1, 0));
          store<f32>(y1 + step, f32x4.extract_lane(r1, 1));
          store<f32>(y1 + 2 * step, f32x4.extract_lane(r1, 2));
          store<f32>(y1 + 3 * step, f32x4.extract_lane(r1, 3));
        }
        for (; n < N; n++) {
          const q = at(scratch, n * K);
          store<f32>(at(y, (n * Cout + co) * P + p), dot(w0, q, K) + bias0);
          store<f32>(at(y, (n * Cout + co + 1) * P + p), dot(w1, q, K) + bias1);
        }
      }
    }
    for (; co < Cout; co++) {
      const wr = at(wp, co * K);
      const bias: f32 = b ? load<f32>(at(b, co * P + p)) : 0;
      for (let n = 0; n < N; n++) store<f32>(at(y, (n * Cout + co) * P + p), dot(wr, at(scratch, n * K), K) + bias);
    }
  }
}

/** dW[p, co, :] = Σ_n dy[n, co, p]·patch[n, p, :] for positions [p0, p1) (their dW rows are overwritten); scratch: N·K floats. */
export function local2d_backward_filter(dy: usize, x: usize, dw: usize, scratch: usize, N: i32, C: i32, H: i32, W: i32,
                                        Cout: i32, KH: i32, KW: i32, SH: i32, SW: i32, PH: i32, PW: i32, OH: i32, OW: i32,
                                        p0: i32, p1: i32): void {
  const K = C * KH * KW, P = OH * OW;
  for (let p = p0; p < p1; p++) {
    const oh = p / OW, ow = p % OW;
    gatherAll(x, scratch, N, C, H, W, KH, KW, oh * SH - PH, ow * SW - PW, K);
    const dwp = dw + (<usize>(p * Cout * K) << 2);
    // Channels in pairs (an odd last one paired with itself): rows = the N patches, coefficients dy[n, co, p] (every Cout·P).
    for (let co = 0; co < Cout; co += 2) {
      const c1 = min(co + 1, Cout - 1);
      combine2(scratch, N, K, at(dy, co * P + p), at(dy, c1 * P + p), Cout * P, at(dwp, co * K), at(dwp, c1 * K));
    }
  }
}

/**
 * dx for images [n0, n1): each position's patch gradient Σ_co dy[n, co, p]·w[p, co, :] added back into its window,
 * two images at a time. scratch: 2·K floats.
 */
export function local2d_backward_data(dy: usize, w: usize, dx: usize, scratch: usize, N: i32, C: i32, H: i32, W: i32,
                                      Cout: i32, KH: i32, KW: i32, SH: i32, SW: i32, PH: i32, PW: i32, OH: i32, OW: i32,
                                      n0: i32, n1: i32): void {
  const K = C * KH * KW, P = OH * OW, image = C * H * W;
  memory.fill(at(dx, n0 * image), 0, <usize>((n1 - n0) * image) << 2);
  const second = at(scratch, K);
  for (let n = n0; n < n1; n += 2) {
    const m = min(n + 1, n1 - 1);   // the second image (the first again for an odd count: computed, not scattered twice)
    for (let p = 0; p < P; p++) {
      // rows = the Cout weight rows of position p, coefficients dy[n, co, p] (every P)
      combine2(w + (<usize>(p * Cout * K) << 2), Cout, K, at(dy, n * Cout * P + p), at(dy, m * Cout * P + p), P, scratch, second);
      const h0 = (p / OW) * SH - PH, w0 = (p % OW) * SW - PW;
      scatterPatch(scratch, at(dx, n * image), C, H, W, KH, KW, h0, w0);
      if (m != n) scatterPatch(second, at(dx, m * image), C, H, W, KH, KW, h0, w0);
    }
  }
}
