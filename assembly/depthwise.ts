// Depthwise convolution (groups = Cin, one input channel per group, M = Cout/Cin outputs per channel),
// direct rather than GEMM: a group's GEMM would have K = KH·KW and M = 1–2, far too thin to block.
// Zero padding only (other modes take the GEMM path). Vectorised over four output columns at a time where
// the whole window row is inside the input ("interior" columns); edges run the scalar loop.
//   forward:  y[n, c·M + j, oh, ow] = b + Σ_{kh, kw} w[c·M + j, kh, kw] · x[n, c, oh·SH − PT + kh·DH, ow·SW − PL + kw·DW]
//   dx[n, c, ih, iw] = Σ over (j, oh, ow, kh, kw) reaching (ih, iw) of w · dy (a scatter, SIMD when SW = 1)
//   dw[c·M + j, kh, kw] = Σ_{n, oh, ow} dy · x at the same positions (dot products)
import { at, hsum, gather4, madd } from './vec';
import { channel_sum } from './gemm';
import { validLo, validHi } from './window';

/** One output plane: yp[OH × OW] = bias + Σ_{kh, kw} wk[kh, kw] · xp (zero padding). */
function planeForward(xp: usize, wk: usize, bias: f32, yp: usize, H: i32, W: i32, KH: i32, KW: i32,
                      SH: i32, SW: i32, PT: i32, PL: i32, DH: i32, DW: i32, OH: i32, OW: i32, lo: i32, hi: i32): void {
  for (let oh = 0; oh < OH; oh++) {
    const yr = yp + (<usize>(oh * OW) << 2);
    const h0 = oh * SH - PT;
    let ow = 0;
    if (ASC_FEATURE_SIMD) {
      for (; ow < lo; ow++) store<f32>(at(yr, ow), edge(xp, wk, bias, H, W, KH, KW, DH, DW, h0, ow * SW - PL));
      // Eight columns at a time: two independent accumulator chains.
      for (; ow + 8 <= hi; ow += 8) {
        const w0 = ow * SW - PL;
        let a0 = f32x4.splat(bias), a1 = f32x4.splat(bias);
        for (let kh = 0; kh < KH; kh++) {
          const h = h0 + kh * DH;
          if (h < 0 || h >= H) continue;
          const row = xp + (<usize>(h * W + w0) << 2);
          const wr = wk + (<usize>(kh * KW) << 2);
          for (let kw = 0; kw < KW; kw++) {
            const wv = v128.load32_splat(at(wr, kw));
            const p = at(row, kw * DW);
            a0 = madd(wv, gather4(p, SW), a0);
            a1 = madd(wv, gather4(p + (<usize>(4 * SW) << 2), SW), a1);
          }
        }
        v128.store(at(yr, ow), a0);
        v128.store(at(yr, ow), a1, 16);
      }
      for (; ow + 4 <= hi; ow += 4) {
        const w0 = ow * SW - PL;
        let acc = f32x4.splat(bias);
        for (let kh = 0; kh < KH; kh++) {
          const h = h0 + kh * DH;
          if (h < 0 || h >= H) continue;
          const row = xp + (<usize>(h * W + w0) << 2);
          const wr = wk + (<usize>(kh * KW) << 2);
          for (let kw = 0; kw < KW; kw++) acc = madd(v128.load32_splat(at(wr, kw)), gather4(at(row, kw * DW), SW), acc);
        }
        v128.store(at(yr, ow), acc);
      }
    }
    for (; ow < OW; ow++) store<f32>(at(yr, ow), edge(xp, wk, bias, H, W, KH, KW, DH, DW, h0, ow * SW - PL));
  }
}

/** One output value with bounds checks (edges and the scalar build). */
// @ts-ignore: decorator
@inline function edge(xp: usize, wk: usize, bias: f32, H: i32, W: i32, KH: i32, KW: i32, DH: i32, DW: i32,
                      h0: i32, w0: i32): f32 {
  let s = bias;
  for (let kh = 0; kh < KH; kh++) {
    const h = h0 + kh * DH;
    if (h < 0 || h >= H) continue;
    for (let kw = 0; kw < KW; kw++) {
      const w = w0 + kw * DW;
      if (w < 0 || w >= W) continue;
      s += load<f32>(at(wk, kh * KW + kw)) * load<f32>(at(xp, h * W + w));
    }
  }
  return s;
}

export function depthwise_forward(x: usize, w: usize, b: usize, y: usize, N: i32, C: i32, H: i32, W: i32, M: i32,
                                  KH: i32, KW: i32, SH: i32, SW: i32, PT: i32, PL: i32, DH: i32, DW: i32,
                                  OH: i32, OW: i32): void {
  const lo = validLo(-PL, SW, OW), hi = validHi(-PL, SW, W - (KW - 1) * DW, OW, lo);   // whole window inside
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const xp = x + (<usize>((n * C + c) * H * W) << 2);
      for (let j = 0; j < M; j++) {
        const co = c * M + j;
        const yp = y + (<usize>((n * C * M + co) * OH * OW) << 2);
        planeForward(xp, w + (<usize>(co * KH * KW) << 2), b ? load<f32>(at(b, co)) : 0, yp,
                     H, W, KH, KW, SH, SW, PT, PL, DH, DW, OH, OW, lo, hi);
      }
    }
  }
}

/** dx (zeroed here) += the scatter of every dy through its window. */
export function depthwise_backward_data(dy: usize, w: usize, dx: usize, N: i32, C: i32, H: i32, W: i32, M: i32,
                                        KH: i32, KW: i32, SH: i32, SW: i32, PT: i32, PL: i32, DH: i32, DW: i32,
                                        OH: i32, OW: i32): void {
  memory.fill(dx, 0, <usize>(N * C * H * W) << 2);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const dxp = dx + (<usize>((n * C + c) * H * W) << 2);
      for (let j = 0; j < M; j++) {
        const co = c * M + j;
        const dyp = dy + (<usize>((n * C * M + co) * OH * OW) << 2);
        const wk = w + (<usize>(co * KH * KW) << 2);
        for (let kh = 0; kh < KH; kh++) {
          for (let kw = 0; kw < KW; kw++) {
            const wv = load<f32>(at(wk, kh * KW + kw));
            const iw0 = kw * DW - PL;
            // ow range with iw = ow·SW + iw0 inside [0, W)
            const owLo = validLo(iw0, SW, OW), owHi = validHi(iw0, SW, W, OW, owLo);
            for (let oh = 0; oh < OH; oh++) {
              const ih = oh * SH - PT + kh * DH;
              if (ih < 0 || ih >= H) continue;
              const src = dyp + (<usize>(oh * OW) << 2);
              const dst = dxp + (<usize>(ih * W + iw0) << 2);
              let ow = owLo;
              if (ASC_FEATURE_SIMD) {
                if (SW == 1) {
                  const wv4 = f32x4.splat(wv);
                  for (; ow + 4 <= owHi; ow += 4) {
                    const d = at(dst, ow);
                    v128.store(d, f32x4.add(v128.load(d), f32x4.mul(wv4, v128.load(at(src, ow)))));
                  }
                }
              }
              for (; ow < owHi; ow++) {
                const d = at(dst, ow * SW);
                store<f32>(d, load<f32>(d) + wv * load<f32>(at(src, ow)));
              }
            }
          }
        }
      }
    }
  }
}

/** dw[co, kh, kw] = Σ_{n, oh, ow} dy[n, co, oh, ow] · x[n, c, ih, iw]; db[co] = Σ dy when db ≠ 0. */
export function depthwise_backward_filter(dy: usize, x: usize, dw: usize, db: usize, N: i32, C: i32, H: i32, W: i32,
                                          M: i32, KH: i32, KW: i32, SH: i32, SW: i32, PT: i32, PL: i32, DH: i32,
                                          DW: i32, OH: i32, OW: i32): void {
  for (let c = 0; c < C; c++) {
    for (let j = 0; j < M; j++) {
      const co = c * M + j;
      for (let kh = 0; kh < KH; kh++) {
        for (let kw = 0; kw < KW; kw++) {
          const iw0 = kw * DW - PL;
          const owLo = validLo(iw0, SW, OW), owHi = validHi(iw0, SW, W, OW, owLo);
          let total: f64 = 0;
          for (let n = 0; n < N; n++) {
            total += <f64>tapDot(dy + (<usize>((n * C * M + co) * OH * OW) << 2), x + (<usize>((n * C + c) * H * W) << 2),
                                 H, W, SH, SW, kh * DH - PT, iw0, OH, OW, owLo, owHi);
          }
          store<f32>(at(dw, (co * KH + kh) * KW + kw), <f32>total);
        }
      }
    }
  }
  if (db) channel_sum(dy, N, C * M, OH * OW, db);
}

/** Σ_{oh, ow} dyp[oh, ow] · xp[oh·SH + ih0, ow·SW + iw0] over in-range rows and ow ∈ [lo, hi). */
function tapDot(dyp: usize, xp: usize, H: i32, W: i32, SH: i32, SW: i32, ih0: i32, iw0: i32, OH: i32, OW: i32,
                lo: i32, hi: i32): f32 {
  let s: f32 = 0;
  const ohLo = validLo(ih0, SH, OH), ohHi = validHi(ih0, SH, H, OH, ohLo);
  if (ASC_FEATURE_SIMD) {
    let acc = f32x4.splat(0);
    for (let oh = ohLo; oh < ohHi; oh++) {
      const dr = dyp + (<usize>(oh * OW) << 2);
      const xr = xp + (<usize>((oh * SH + ih0) * W + iw0) << 2);
      let ow = lo;
      for (; ow + 4 <= hi; ow += 4) acc = f32x4.add(acc, f32x4.mul(v128.load(at(dr, ow)), gather4(at(xr, ow * SW), SW)));
      for (; ow < hi; ow++) s += load<f32>(at(dr, ow)) * load<f32>(at(xr, ow * SW));
    }
    return s + hsum(acc);
  }
  for (let oh = ohLo; oh < ohHi; oh++) {
    const dr = dyp + (<usize>(oh * OW) << 2);
    const xr = xp + (<usize>((oh * SH + ih0) * W + iw0) << 2);
    for (let ow = lo; ow < hi; ow++) s += load<f32>(at(dr, ow)) * load<f32>(at(xr, ow * SW));
  }
  return s;
}
