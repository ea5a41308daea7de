// Direct convolution for few taps (K = Cin·KH·KW ≤ DIRECT_MAX_TAPS, unit column stride, one group): a network's
// first layer (1 or 3 input channels, 3×3). With K that short the GEMM formulation spends most of its time packing
// the im2col panels and storing micro-tiles after a handful of multiply-adds each; here outputs are summed in
// registers straight from the padded image (im2col.ts padImage, [Cin, Hp, Wp]). With tap t = (c, kh, kw) at
// off_t = (c·Hp + kh·DH)·Wp + kw·DW and row base r(oh) = oh·SH·Wp:
//   forward:          y[m, oh, ow] = b[m] + Σ_t w[m, t] · xp[r(oh) + off_t + ow]
//   backward filter:  dW[m, t] (+)= Σ_{oh, ow} dy[m, oh, ow] · xp[r(oh) + off_t + ow]
// A run of ow is one vector; unit column stride makes each tap's four inputs adjacent too.
// SIMD builds only (useDirect; the callers in conv.ts are compiled out of the scalar build).
import { at, hsum, madd } from './vec';

/** Longest K run directly (Cin = 3 with a 3×3 kernel). */
export const DIRECT_MAX_TAPS: i32 = 27;
/** Most output channels run directly (their packed weights must fit in the GEMM's scratch, which they use). */
const DIRECT_MAX_CHANNELS: i32 = 1024;

/** Whether the conv kernels run this geometry directly (the SIMD builds only). */
// @ts-ignore: decorator
@inline export function useDirect(Cin: i32, Cout: i32, KH: i32, KW: i32, SW: i32, groups: i32, pointwise: bool): bool {
  return ASC_FEATURE_SIMD && groups == 1 && SW == 1 && !pointwise && Cin * KH * KW <= DIRECT_MAX_TAPS &&
    Cout <= DIRECT_MAX_CHANNELS;
}

/** Bytes of the tables conv2d_direct_prepare writes (tap offsets, then the packed weights). */
export function directTableBytes(K: i32, Cout: i32): i32 {
  return ((K * 4 + 15) & ~15) + ((Cout + 3) >> 2) * K * 16;
}

/**
 * Writes the K tap offsets (floats into the padded image) at `tables`, then, for the forward, the weights
 * w[Cout, K] regrouped as [Cout/4 blocks][K][4 channels] (channels past Cout zero): a tap's four weights in one row.
 */
export function directPrepare(w: usize, Cin: i32, Cout: i32, KH: i32, KW: i32, DH: i32, DW: i32, Hp: i32, Wp: i32,
                              tables: usize, packWeights: bool): void {
  const K = Cin * KH * KW;
  let t = 0;
  for (let c = 0; c < Cin; c++) {
    for (let kh = 0; kh < KH; kh++) {
      for (let kw = 0; kw < KW; kw++) store<i32>(tables + (<usize>(t++) << 2), (c * Hp + kh * DH) * Wp + kw * DW);
    }
  }
  if (!packWeights) return;
  const pw = tables + <usize>((K * 4 + 15) & ~15);
  for (let m0 = 0; m0 < Cout; m0 += 4) {
    const block = pw + (<usize>(m0 * K) << 2);
    for (let t = 0; t < K; t++) {
      for (let j = 0; j < 4; j++) {
        store<f32>(block + (<usize>(t * 4 + j) << 2), m0 + j < Cout ? load<f32>(at(w, (m0 + j) * K + t)) : 0);
      }
    }
  }
}

/** Packed weights of directPrepare's tables. */
// @ts-ignore: decorator
@inline export function directWeights(tables: usize, K: i32): usize {
  return tables + <usize>((K * 4 + 15) & ~15);
}

/** The bias of channel m as a vector (0 past Cout or without bias). */
// @ts-ignore: decorator
@inline function biasOf(b: usize, m: i32, Cout: i32): v128 {
  return f32x4.splat(b && m < Cout ? load<f32>(at(b, m)) : 0);
}

/**
 * y[Cout, OH, OW] of one image from its padded copy `img` (Wp floats per row), tables from directPrepare. Four
 * output channels at a time, eight then four columns per step (two vectors × four channels = 8 accumulators).
 */
export function directForward(img: usize, Wp: i32, SH: i32, tables: usize, K: i32, Cout: i32, b: usize,
                              y: usize, OH: i32, OW: i32): void {
  const pw = directWeights(tables, K), plane = <usize>(OH * OW) << 2;
  for (let m0 = 0; m0 < Cout; m0 += 4) {
    const wb = pw + (<usize>(m0 * K) << 2);
    const nm = min(4, Cout - m0);
    const bias0 = biasOf(b, m0, Cout), bias1 = biasOf(b, m0 + 1, Cout);
    const bias2 = biasOf(b, m0 + 2, Cout), bias3 = biasOf(b, m0 + 3, Cout);
    for (let oh = 0; oh < OH; oh++) {
      const row = img + (<usize>(oh * SH * Wp) << 2);
      const y0 = y + (<usize>((m0 * OH + oh) * OW) << 2);
      let ow = 0;
      for (; ow + 8 <= OW; ow += 8) {
        let a00 = bias0, a01 = bias0, a10 = bias1, a11 = bias1, a20 = bias2, a21 = bias2, a30 = bias3, a31 = bias3;
        const base = row + (<usize>ow << 2);
        for (let t = 0; t < K; t++) {
          const s = base + (<usize>load<i32>(tables + (<usize>t << 2)) << 2);
          const x0 = v128.load(s), x1 = v128.load(s, 16);
          const wt = wb + (<usize>t << 4);
          let wv = v128.load32_splat(wt);
          a00 = madd(wv, x0, a00); a01 = madd(wv, x1, a01);
          wv = v128.load32_splat(wt, 4);
          a10 = madd(wv, x0, a10); a11 = madd(wv, x1, a11);
          wv = v128.load32_splat(wt, 8);
          a20 = madd(wv, x0, a20); a21 = madd(wv, x1, a21);
          wv = v128.load32_splat(wt, 12);
          a30 = madd(wv, x0, a30); a31 = madd(wv, x1, a31);
        }
        const d = y0 + (<usize>ow << 2);
        v128.store(d, a00); v128.store(d, a01, 16);
        if (nm > 1) { v128.store(d + plane, a10); v128.store(d + plane, a11, 16); }
        if (nm > 2) { v128.store(d + 2 * plane, a20); v128.store(d + 2 * plane, a21, 16); }
        if (nm > 3) { v128.store(d + 3 * plane, a30); v128.store(d + 3 * plane, a31, 16); }
      }
      if (ow + 4 <= OW) {
        let a0 = bias0, a1 = bias1, a2 = bias2, a3 = bias3;
        const base = row + (<usize>ow << 2);
        for (let t = 0; t < K; t++) {
          const x0 = v128.load(base + (<usize>load<i32>(tables + (<usize>t << 2)) << 2));
          const wt = wb + (<usize>t << 4);
          a0 = madd(v128.load32_splat(wt), x0, a0);
          a1 = madd(v128.load32_splat(wt, 4), x0, a1);
          a2 = madd(v128.load32_splat(wt, 8), x0, a2);
          a3 = madd(v128.load32_splat(wt, 12), x0, a3);
        }
        const d = y0 + (<usize>ow << 2);
        v128.store(d, a0);
        if (nm > 1) v128.store(d + plane, a1);
        if (nm > 2) v128.store(d + 2 * plane, a2);
        if (nm > 3) v128.store(d + 3 * plane, a3);
        ow += 4;
      }
      for (; ow < OW; ow++) {
        const base = row + (<usize>ow << 2);
        for (let j = 0; j < nm; j++) {
          let acc: f32 = b ? load<f32>(at(b, m0 + j)) : 0;
          for (let t = 0; t < K; t++) {
            acc += load<f32>(at(wb, t * 4 + j)) * load<f32>(base + (<usize>load<i32>(tables + (<usize>t << 2)) << 2));
          }
          store<f32>(y0 + (<usize>j * plane) + (<usize>ow << 2), acc);
        }
      }
    }
  }
}

/**
 * dW[Cout, K] of one image (accumulate: added onto dW) from dy[Cout, OH, OW] and the image's padded copy; tables
 * from directPrepare (offsets only). Up to nine taps of one channel at a time, each summing in its own vector over
 * the whole image, then across its lanes; the sums run in the same order whoever runs the image.
 */
export function directFilter(img: usize, Wp: i32, SH: i32, tables: usize, K: i32, KW: i32, DW: i32, Cout: i32,
                             dy: usize, OH: i32, OW: i32, dw: usize, accumulate: bool): void {
  if (KW == 3 && DW == 1) {
    filterRowsOf3(img, Wp, SH, tables, K, Cout, dy, OH, OW, dw, accumulate);
    return;
  }
  for (let m = 0; m < Cout; m++) {
    const dym = dy + (<usize>(m * OH * OW) << 2);
    for (let t0 = 0; t0 < K; t0 += 9) {
      const nt = min(9, K - t0);
      // Taps past the block's last repeat its first (valid addresses; their sums are dropped).
      const o = tables + (<usize>t0 << 2);
      const o0 = <usize>load<i32>(o) << 2;
      const o1 = <usize>load<i32>(o + (<usize>min(1, nt - 1) << 2)) << 2;
      const o2 = <usize>load<i32>(o + (<usize>min(2, nt - 1) << 2)) << 2;
      const o3 = <usize>load<i32>(o + (<usize>min(3, nt - 1) << 2)) << 2;
      const o4 = <usize>load<i32>(o + (<usize>min(4, nt - 1) << 2)) << 2;
      const o5 = <usize>load<i32>(o + (<usize>min(5, nt - 1) << 2)) << 2;
      const o6 = <usize>load<i32>(o + (<usize>min(6, nt - 1) << 2)) << 2;
      const o7 = <usize>load<i32>(o + (<usize>min(7, nt - 1) << 2)) << 2;
      const o8 = <usize>load<i32>(o + (<usize>min(8, nt - 1) << 2)) << 2;
      const z = f32x4.splat(0);
      let a0 = z, a1 = z, a2 = z, a3 = z, a4 = z, a5 = z, a6 = z, a7 = z, a8 = z;
      let s0: f32 = 0, s1: f32 = 0, s2: f32 = 0, s3: f32 = 0, s4: f32 = 0, s5: f32 = 0, s6: f32 = 0, s7: f32 = 0, s8: f32 = 0;
      for (let oh = 0; oh < OH; oh++) {
        const row = img + (<usize>(oh * SH * Wp) << 2);
        const d = dym + (<usize>(oh * OW) << 2);
        let ow = 0;
        for (; ow + 4 <= OW; ow += 4) {
          const g = v128.load(d + (<usize>ow << 2));
          const s = row + (<usize>ow << 2);
          a0 = madd(g, v128.load(s + o0), a0);
          a1 = madd(g, v128.load(s + o1), a1);
          a2 = madd(g, v128.load(s + o2), a2);
          a3 = madd(g, v128.load(s + o3), a3);
          a4 = madd(g, v128.load(s + o4), a4);
          a5 = madd(g, v128.load(s + o5), a5);
          a6 = madd(g, v128.load(s + o6), a6);
          a7 = madd(g, v128.load(s + o7), a7);
          a8 = madd(g, v128.load(s + o8), a8);
        }
        for (; ow < OW; ow++) {
          const g = load<f32>(d + (<usize>ow << 2));
          const s = row + (<usize>ow << 2);
          s0 += g * load<f32>(s + o0); s1 += g * load<f32>(s + o1); s2 += g * load<f32>(s + o2);
          s3 += g * load<f32>(s + o3); s4 += g * load<f32>(s + o4); s5 += g * load<f32>(s + o5);
          s6 += g * load<f32>(s + o6); s7 += g * load<f32>(s + o7); s8 += g * load<f32>(s + o8);
        }
      }
      const out = dw + (<usize>(m * K + t0) << 2);
      store1(out, 0, hsum(a0) + s0, accumulate);
      if (nt > 1) store1(out, 1, hsum(a1) + s1, accumulate);
      if (nt > 2) store1(out, 2, hsum(a2) + s2, accumulate);
      if (nt > 3) store1(out, 3, hsum(a3) + s3, accumulate);
      if (nt > 4) store1(out, 4, hsum(a4) + s4, accumulate);
      if (nt > 5) store1(out, 5, hsum(a5) + s5, accumulate);
      if (nt > 6) store1(out, 6, hsum(a6) + s6, accumulate);
      if (nt > 7) store1(out, 7, hsum(a7) + s7, accumulate);
      if (nt > 8) store1(out, 8, hsum(a8) + s8, accumulate);
    }
  }
}

// @ts-ignore: decorator
@inline function store1(p: usize, i: i32, v: f32, accumulate: bool): void {
  const q = at(p, i);
  store<f32>(q, accumulate ? load<f32>(q) + v : v);
}

/**
 * directFilter for rows of three adjacent taps (KW = 3, DW = 1; K/3 rows): two output channels by one row of taps
 * at a time, six sums; the three taps' inputs are one float apart, so the loop needs one input pointer. (Three
 * channels, nine sums, ran 1.2× slower: too many live vectors for the registers.) An odd last channel is paired
 * with itself and stored once.
 */
function filterRowsOf3(img: usize, Wp: i32, SH: i32, tables: usize, K: i32, Cout: i32, dy: usize,
                       OH: i32, OW: i32, dw: usize, accumulate: bool): void {
  const plane = OH * OW;
  const z = f32x4.splat(0);
  for (let m0 = 0; m0 < Cout; m0 += 2) {
    const d0 = dy + (<usize>(m0 * plane) << 2);
    const d1 = dy + (<usize>(min(m0 + 1, Cout - 1) * plane) << 2);
    for (let t0 = 0; t0 < K; t0 += 3) {
      const xb = img + (<usize>load<i32>(tables + (<usize>t0 << 2)) << 2);
      let a00 = z, a01 = z, a02 = z, a10 = z, a11 = z, a12 = z;
      let s00: f32 = 0, s01: f32 = 0, s02: f32 = 0, s10: f32 = 0, s11: f32 = 0, s12: f32 = 0;
      for (let oh = 0; oh < OH; oh++) {
        const row = xb + (<usize>(oh * SH * Wp) << 2);
        const o = <usize>(oh * OW) << 2;
        let ow = 0;
        for (; ow + 4 <= OW; ow += 4) {
          const s = row + (<usize>ow << 2), q = o + (<usize>ow << 2);
          const x0 = v128.load(s), x1 = v128.load(s, 4), x2 = v128.load(s, 8);
          let g = v128.load(d0 + q);
          a00 = madd(g, x0, a00); a01 = madd(g, x1, a01); a02 = madd(g, x2, a02);
          g = v128.load(d1 + q);
          a10 = madd(g, x0, a10); a11 = madd(g, x1, a11); a12 = madd(g, x2, a12);
        }
        for (; ow < OW; ow++) {
          const s = row + (<usize>ow << 2), q = o + (<usize>ow << 2);
          const x0 = load<f32>(s), x1 = load<f32>(s, 4), x2 = load<f32>(s, 8);
          let g = load<f32>(d0 + q);
          s00 += g * x0; s01 += g * x1; s02 += g * x2;
          g = load<f32>(d1 + q);
          s10 += g * x0; s11 += g * x1; s12 += g * x2;
        }
      }
      const out = dw + (<usize>(m0 * K + t0) << 2);
      store1(out, 0, hsum(a00) + s00, accumulate); store1(out, 1, hsum(a01) + s01, accumulate); store1(out, 2, hsum(a02) + s02, accumulate);
      if (m0 + 1 < Cout) {
        store1(out, K, hsum(a10) + s10, accumulate); store1(out, K + 1, hsum(a11) + s11, accumulate); store1(out, K + 2, hsum(a12) + s12, accumulate);
      }
    }
  }
}
