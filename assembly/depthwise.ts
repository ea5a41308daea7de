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
    if (ASC_FEATURE_SIMD && KH == 3 && KW == 3 && SH == 1 && SW == 1 && DH == 1 && DW == 1 && h0 >= 0 && h0 + 3 < H && oh + 1 < OH) {
      rowPair3x3(xp, wk, bias, yr, yr + (<usize>OW << 2), H, W, PL, h0, OW, lo, hi);
      oh++;
      continue;
    }
    let ow = 0;
    if (ASC_FEATURE_SIMD) {
      for (; ow < lo; ow++) store<f32>(at(yr, ow), edge(xp, wk, bias, H, W, KH, KW, DH, DW, h0, ow * SW - PL));
      // 3×3, stride 1, undilated, all three rows inside: weights held in registers, eight columns a step.
      if (KH == 3 && KW == 3 && SW == 1 && DH == 1 && DW == 1 && h0 >= 0 && h0 + 2 < H) {
        const r0 = xp + (<usize>(h0 * W - PL) << 2), r1 = r0 + (<usize>W << 2), r2 = r1 + (<usize>W << 2);
        const w00 = v128.load32_splat(wk), w01 = v128.load32_splat(wk, 4), w02 = v128.load32_splat(wk, 8);
        const w10 = v128.load32_splat(wk, 12), w11 = v128.load32_splat(wk, 16), w12 = v128.load32_splat(wk, 20);
        const w20 = v128.load32_splat(wk, 24), w21 = v128.load32_splat(wk, 28), w22 = v128.load32_splat(wk, 32);
        const bv = f32x4.splat(bias);
        for (; ow + 8 <= hi; ow += 8) {
          const o = <usize>ow << 2;
          let a0 = madd(w00, v128.load(r0 + o), bv), a1 = madd(w00, v128.load(r0 + o, 16), bv);
          a0 = madd(w01, v128.load(r0 + o, 4), a0); a1 = madd(w01, v128.load(r0 + o, 20), a1);
          a0 = madd(w02, v128.load(r0 + o, 8), a0); a1 = madd(w02, v128.load(r0 + o, 24), a1);
          a0 = madd(w10, v128.load(r1 + o), a0); a1 = madd(w10, v128.load(r1 + o, 16), a1);
          a0 = madd(w11, v128.load(r1 + o, 4), a0); a1 = madd(w11, v128.load(r1 + o, 20), a1);
          a0 = madd(w12, v128.load(r1 + o, 8), a0); a1 = madd(w12, v128.load(r1 + o, 24), a1);
          a0 = madd(w20, v128.load(r2 + o), a0); a1 = madd(w20, v128.load(r2 + o, 16), a1);
          a0 = madd(w21, v128.load(r2 + o, 4), a0); a1 = madd(w21, v128.load(r2 + o, 20), a1);
          a0 = madd(w22, v128.load(r2 + o, 8), a0); a1 = madd(w22, v128.load(r2 + o, 24), a1);
          v128.store(at(yr, ow), a0);
          v128.store(at(yr, ow), a1, 16);
        }
      }
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

/**
 * Two output rows (yr0, yr1) of a 3×3, stride-1, undilated depthwise plane at once: input rows h0 … h0 + 3 are
 * loaded once and feed both rows, four independent accumulator chains instead of two (the chains, not the
 * FMA units, bound the one-row loop). Taps are added in the one-row loop's order, so results are identical.
 */
function rowPair3x3(xp: usize, wk: usize, bias: f32, yr0: usize, yr1: usize, H: i32, W: i32, PL: i32, h0: i32,
                OW: i32, lo: i32, hi: i32): void {
  let ow = 0;
  for (; ow < lo; ow++) {
    store<f32>(at(yr0, ow), edge(xp, wk, bias, H, W, 3, 3, 1, 1, h0, ow - PL));
    store<f32>(at(yr1, ow), edge(xp, wk, bias, H, W, 3, 3, 1, 1, h0 + 1, ow - PL));
  }
  const r0 = xp + (<usize>(h0 * W - PL) << 2), r1 = r0 + (<usize>W << 2), r2 = r1 + (<usize>W << 2), r3 = r2 + (<usize>W << 2);
  const w00 = v128.load32_splat(wk), w01 = v128.load32_splat(wk, 4), w02 = v128.load32_splat(wk, 8);
  const w10 = v128.load32_splat(wk, 12), w11 = v128.load32_splat(wk, 16), w12 = v128.load32_splat(wk, 20);
  const w20 = v128.load32_splat(wk, 24), w21 = v128.load32_splat(wk, 28), w22 = v128.load32_splat(wk, 32);
  const bv = f32x4.splat(bias);
  let v = bv, u = bv;
  for (; ow + 8 <= hi; ow += 8) {
    const o = <usize>ow << 2;
    let a0 = bv, b0 = bv, a1 = bv, b1 = bv;
    v = v128.load(r0 + o, 0); u = v128.load(r0 + o, 16);
    a0 = madd(w00, v, a0); a1 = madd(w00, u, a1);
    v = v128.load(r0 + o, 4); u = v128.load(r0 + o, 20);
    a0 = madd(w01, v, a0); a1 = madd(w01, u, a1);
    v = v128.load(r0 + o, 8); u = v128.load(r0 + o, 24);
    a0 = madd(w02, v, a0); a1 = madd(w02, u, a1);
    v = v128.load(r1 + o, 0); u = v128.load(r1 + o, 16);
    a0 = madd(w10, v, a0); a1 = madd(w10, u, a1);
    b0 = madd(w00, v, b0); b1 = madd(w00, u, b1);
    v = v128.load(r1 + o, 4); u = v128.load(r1 + o, 20);
    a0 = madd(w11, v, a0); a1 = madd(w11, u, a1);
    b0 = madd(w01, v, b0); b1 = madd(w01, u, b1);
    v = v128.load(r1 + o, 8); u = v128.load(r1 + o, 24);
    a0 = madd(w12, v, a0); a1 = madd(w12, u, a1);
    b0 = madd(w02, v, b0); b1 = madd(w02, u, b1);
    v = v128.load(r2 + o, 0); u = v128.load(r2 + o, 16);
    a0 = madd(w20, v, a0); a1 = madd(w20, u, a1);
    b0 = madd(w10, v, b0); b1 = madd(w10, u, b1);
    v = v128.load(r2 + o, 4); u = v128.load(r2 + o, 20);
    a0 = madd(w21, v, a0); a1 = madd(w21, u, a1);
    b0 = madd(w11, v, b0); b1 = madd(w11, u, b1);
    v = v128.load(r2 + o, 8); u = v128.load(r2 + o, 24);
    a0 = madd(w22, v, a0); a1 = madd(w22, u, a1);
    b0 = madd(w12, v, b0); b1 = madd(w12, u, b1);
    v = v128.load(r3 + o, 0); u = v128.load(r3 + o, 16);
    b0 = madd(w20, v, b0); b1 = madd(w20, u, b1);
    v = v128.load(r3 + o, 4); u = v128.load(r3 + o, 20);
    b0 = madd(w21, v, b0); b1 = madd(w21, u, b1);
    v = v128.load(r3 + o, 8); u = v128.load(r3 + o, 24);
    b0 = madd(w22, v, b0); b1 = madd(w22, u, b1);
    v128.store(at(yr0, ow), a0);
    v128.store(at(yr0, ow), a1, 16);
    v128.store(at(yr1, ow), b0);
    v128.store(at(yr1, ow), b1, 16);
  }
  for (; ow + 4 <= hi; ow += 4) {
    const o = <usize>ow << 2;
    let a0 = bv, b0 = bv;
    v = v128.load(r0 + o, 0);
    a0 = madd(w00, v, a0);
    v = v128.load(r0 + o, 4);
    a0 = madd(w01, v, a0);
    v = v128.load(r0 + o, 8);
    a0 = madd(w02, v, a0);
    v = v128.load(r1 + o, 0);
    a0 = madd(w10, v, a0);
    b0 = madd(w00, v, b0);
    v = v128.load(r1 + o, 4);
    a0 = madd(w11, v, a0);
    b0 = madd(w01, v, b0);
    v = v128.load(r1 + o, 8);
    a0 = madd(w12, v, a0);
    b0 = madd(w02, v, b0);
    v = v128.load(r2 + o, 0);
    a0 = madd(w20, v, a0);
    b0 = madd(w10, v, b0);
    v = v128.load(r2 + o, 4);
    a0 = madd(w21, v, a0);
    b0 = madd(w11, v, b0);
    v = v128.load(r2 + o, 8);
    a0 = madd(w22, v, a0);
    b0 = madd(w12, v, b0);
    v = v128.load(r3 + o, 0);
    b0 = madd(w20, v, b0);
    v = v128.load(r3 + o, 4);
    b0 = madd(w21, v, b0);
    v = v128.load(r3 + o, 8);
    b0 = madd(w22, v, b0);
    v128.store(at(yr0, ow), a0);
    v128.store(at(yr1, ow), b0);
  }
  for (; ow < OW; ow++) {
    store<f32>(at(yr0, ow), edge(xp, wk, bias, H, W, 3, 3, 1, 1, h0, ow - PL));
    store<f32>(at(yr1, ow), edge(xp, wk, bias, H, W, 3, 3, 1, 1, h0 + 1, ow - PL));
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

/** Height and width of the zero-padded copy of a plane that depthwise_forward works on (see below). */
// @ts-ignore: decorator
@inline function paddedH(H: i32, KH: i32, SH: i32, PT: i32, DH: i32, OH: i32): i32 {
  return max(H + PT, (OH - 1) * SH + (KH - 1) * DH + 1);
}

// @ts-ignore: decorator
@inline function paddedW(W: i32, KW: i32, SW: i32, PL: i32, DW: i32, OW: i32): i32 {
  return max(W + PL, (OW - 1) * SW + (KW - 1) * DW + 1) + 8;   // + 8: room for the 8-wide loads' tails
}

/** Scratch bytes depthwise_forward needs: one zero-padded plane. */
export function depthwise_scratch_bytes(H: i32, W: i32, KH: i32, KW: i32, SH: i32, SW: i32, PT: i32, PL: i32,
                                        DH: i32, DW: i32, OH: i32, OW: i32): i32 {
  return paddedH(H, KH, SH, PT, DH, OH) * paddedW(W, KW, SW, PL, DW, OW) * 4;
}

/**
 * y = depthwise conv of x. Each input plane is first copied into a zero-padded plane in scratch, so that
 * every window is inside it and the vector loops cover whole rows (no scalar edge outputs).
 */
export function depthwise_forward(x: usize, w: usize, b: usize, y: usize, N: i32, C: i32, H: i32, W: i32, M: i32,
                                  KH: i32, KW: i32, SH: i32, SW: i32, PT: i32, PL: i32, DH: i32, DW: i32,
                                  OH: i32, OW: i32, scratch: usize): void {
  const Hp = paddedH(H, KH, SH, PT, DH, OH), Wp = paddedW(W, KW, SW, PL, DW, OW);
  const padded = PT > 0 || PL > 0;
  if (padded) memory.fill(scratch, 0, <usize>(Hp * Wp) << 2);
  const lo = 0, hi = padded ? OW : validHi(-PL, SW, W - (KW - 1) * DW, OW, 0);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      let xp = x + (<usize>((n * C + c) * H * W) << 2);
      if (padded) {
        // Interior rows of the padded plane get the input rows; the zero border was filled once above.
        for (let h = 0; h < H; h++) {
          memory.copy(scratch + (<usize>((h + PT) * Wp + PL) << 2), xp + (<usize>(h * W) << 2), <usize>W << 2);
        }
        xp = scratch;
      }
      for (let j = 0; j < M; j++) {
        const co = c * M + j;
        const yp = y + (<usize>((n * C * M + co) * OH * OW) << 2);
        const wk = w + (<usize>(co * KH * KW) << 2), bias = b ? load<f32>(at(b, co)) : <f32>0;
        if (padded) planeForward(xp, wk, bias, yp, Hp, Wp, KH, KW, SH, SW, 0, 0, DH, DW, OH, OW, lo, hi);
        else planeForward(xp, wk, bias, yp, H, W, KH, KW, SH, SW, 0, 0, DH, DW, OH, OW, lo, hi);
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
  if (db) channel_sum(dy, N, C * M, OH * OW, 0, C * M, db);
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
