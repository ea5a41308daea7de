// The im2col matrix of one image (or one group of it) and its adjoint:
//   col[(c·KH + kh)·KW + kw, oh·OW + ow] = x[c, ih, iw],  ih = oh·SH − PT + kh·DH,  iw = ow·SW − PL + kw·DW,
// with out-of-range (ih, iw) read through the padding mode (zeros, reflect, replicate, circular).
// im2col writes it out (the backward-filter GEMM reads it transposed); packBConv writes it straight into
// the GEMM's packed B panels (implicit im2col: no col matrix); col2im adds a col matrix back onto dx.
import { at, gather4 } from './vec';
import { validLo, validHi } from './window';
import { NR } from './gemm';

export const PAD_ZEROS: i32 = 0;
export const PAD_REFLECT: i32 = 1;
export const PAD_REPLICATE: i32 = 2;
export const PAD_CIRCULAR: i32 = 3;

/** Where padded coordinate i (−pad ≤ i < n + pad) reads from, or −1 for a zero. Mirrors torch.nn.functional.pad. */
// @ts-ignore: decorator
@inline export function mapIndex(i: i32, n: i32, mode: i32): i32 {
  if (i >= 0 && i < n) return i;
  if (mode == PAD_ZEROS) return -1;
  if (mode == PAD_REFLECT) return i < 0 ? -i : 2 * n - 2 - i;
  if (mode == PAD_REPLICATE) return i < 0 ? 0 : n - 1;
  const r = i % n;                       // circular
  return r < 0 ? r + n : r;
}

/** Builds col [C·KH·KW × OH·OW] from one group's x [C, H, W]. */
export function im2col(x: usize, C: i32, H: i32, W: i32, KH: i32, KW: i32, SH: i32, SW: i32,
                PT: i32, PL: i32, DH: i32, DW: i32, OH: i32, OW: i32, mode: i32, col: usize): void {
  const P = OH * OW;
  let row = col;
  for (let c = 0; c < C; c++) {
    const xc = x + (<usize>(c * H * W) << 2);
    for (let kh = 0; kh < KH; kh++) {
      for (let kw = 0; kw < KW; kw++) {
        const iw0 = kw * DW - PL;
        const lo = validLo(iw0, SW, OW), hi = validHi(iw0, SW, W, OW, lo);
        for (let oh = 0; oh < OH; oh++) {
          const dst = row + (<usize>(oh * OW) << 2);
          const ih = mapIndex(oh * SH - PT + kh * DH, H, mode);
          if (ih < 0) { memory.fill(dst, 0, <usize>OW << 2); continue; }
          const src = xc + (<usize>(ih * W) << 2);
          if (mode == PAD_ZEROS) {
            memory.fill(dst, 0, <usize>lo << 2);
            if (SW == 1) {
              memory.copy(dst + (<usize>lo << 2), src + (<usize>(lo + iw0) << 2), <usize>(hi - lo) << 2);
            } else {
              for (let ow = lo; ow < hi; ow++) store<f32>(dst + (<usize>ow << 2), load<f32>(src + (<usize>(ow * SW + iw0) << 2)));
            }
            memory.fill(dst + (<usize>hi << 2), 0, <usize>(OW - hi) << 2);
          } else {
            for (let ow = 0; ow < OW; ow++) {
              const iw = mapIndex(ow * SW + iw0, W, mode);
              store<f32>(dst + (<usize>ow << 2), load<f32>(src + (<usize>iw << 2)));
            }
          }
        }
        row += <usize>P << 2;
      }
    }
  }
}

/** Adds col [C·KH·KW × OH·OW] back onto one group's dx [C, H, W] (the adjoint of im2col). */
export function col2im(col: usize, C: i32, H: i32, W: i32, KH: i32, KW: i32, SH: i32, SW: i32,
                PT: i32, PL: i32, DH: i32, DW: i32, OH: i32, OW: i32, mode: i32, dx: usize): void {
  const P = OH * OW;
  let row = col;
  for (let c = 0; c < C; c++) {
    const xc = dx + (<usize>(c * H * W) << 2);
    for (let kh = 0; kh < KH; kh++) {
      for (let kw = 0; kw < KW; kw++) {
        const iw0 = kw * DW - PL;
        const lo = validLo(iw0, SW, OW), hi = validHi(iw0, SW, W, OW, lo);
        for (let oh = 0; oh < OH; oh++) {
          const src = row + (<usize>(oh * OW) << 2);
          const ih = mapIndex(oh * SH - PT + kh * DH, H, mode);
          if (ih < 0) continue;
          const dst = xc + (<usize>(ih * W) << 2);
          if (mode == PAD_ZEROS) {
            let ow = lo;
            if (ASC_FEATURE_SIMD) {
              if (SW == 1) {
                for (; ow + 4 <= hi; ow += 4) {
                  const d = dst + (<usize>(ow + iw0) << 2);
                  v128.store(d, f32x4.add(v128.load(d), v128.load(src + (<usize>ow << 2))));
                }
              }
            }
            for (; ow < hi; ow++) {
              const d = dst + (<usize>(ow * SW + iw0) << 2);
              store<f32>(d, load<f32>(d) + load<f32>(src + (<usize>ow << 2)));
            }
          } else {
            for (let ow = 0; ow < OW; ow++) {
              const d = dst + (<usize>mapIndex(ow * SW + iw0, W, mode) << 2);
              store<f32>(d, load<f32>(d) + load<f32>(src + (<usize>ow << 2)));
            }
          }
        }
        row += <usize>P << 2;
      }
    }
  }
}


/** Field offsets (i32 slots) of the geometry block conv kernels pass to packBConv. */
export const G_C = 0, G_H = 1, G_W = 2, G_KH = 3, G_KW = 4, G_SH = 5, G_SW = 6, G_PT = 7, G_PL = 8, G_DH = 9,
             G_DW = 10, G_OH = 11, G_OW = 12, G_MODE = 13;
export const GEOMETRY_BYTES: i32 = 64;

/** Writes a geometry block at g. */
export function writeGeometry(g: usize, C: i32, H: i32, W: i32, KH: i32, KW: i32, SH: i32, SW: i32, PT: i32, PL: i32,
                              DH: i32, DW: i32, OH: i32, OW: i32, mode: i32): void {
  store<i32>(g, C, 0); store<i32>(g, H, 4); store<i32>(g, W, 8); store<i32>(g, KH, 12); store<i32>(g, KW, 16);
  store<i32>(g, SH, 20); store<i32>(g, SW, 24); store<i32>(g, PT, 28); store<i32>(g, PL, 32); store<i32>(g, DH, 36);
  store<i32>(g, DW, 40); store<i32>(g, OH, 44); store<i32>(g, OW, 48); store<i32>(g, mode, 52);
}

// @ts-ignore: decorator
@inline function field(g: usize, i: i32): i32 {
  return load<i32>(g + (<usize>i << 2));
}

/**
 * Packs rows [k0, k0+kc) × columns [j0, j0+nc) of x's im2col matrix into NR-column panels (the layout of
 * gemm.ts's packB), reading x directly. Eight columns in one output row with their inputs inside the row
 * are two vector copies (stride 1) or two strided gathers (stride 2); the rest goes element by element.
 */
export function packBConv(x: usize, g: usize, k0: i32, kc: i32, j0: i32, nc: i32, pb: usize): void {
  const H = field(g, G_H), W = field(g, G_W), KH = field(g, G_KH), KW = field(g, G_KW);
  const SH = field(g, G_SH), SW = field(g, G_SW), PT = field(g, G_PT), PL = field(g, G_PL);
  const DH = field(g, G_DH), DW = field(g, G_DW), OW = field(g, G_OW), mode = field(g, G_MODE);
  const taps = KH * KW;
  for (let k = 0; k < kc; k++) {
    const kk = k0 + k;
    const c = kk / taps, t = kk - c * taps, kh = t / KW, kw = t - kh * KW;
    const xc = x + (<usize>(c * H * W) << 2);
    let oh0 = j0 / OW, ow0 = j0 - oh0 * OW;
    for (let jp = 0; jp < nc; jp += NR) {
      const d = pb + (<usize>(jp * kc + k * NR) << 2);
      const ih = oh0 * SH - PT + kh * DH, iw = ow0 * SW - PL + kw * DW;
      let done = false;
      if (ASC_FEATURE_SIMD) {
        if (nc - jp >= NR && ow0 + NR <= OW && ih >= 0 && ih < H && iw >= 0 && iw + (NR - 1) * SW < W && SW <= 2) {
          const s = xc + (<usize>(ih * W + iw) << 2);
          v128.store(d, gather4(s, SW));
          v128.store(d, gather4(s + (<usize>(4 * SW) << 2), SW), 16);
          done = true;
        }
      }
      if (!done) {
        // Row segments: the columns of one output row share ih; zero padding needs no index mapping.
        let oh = oh0, ow = ow0, cc = 0;
        const avail = min(NR, nc - jp);
        while (cc < avail) {
          const len = min(avail - cc, OW - ow);
          const h = mapIndex(oh * SH - PT + kh * DH, H, mode);
          const dst = d + (<usize>cc << 2);
          if (h < 0) {
            for (let i = 0; i < len; i++) store<f32>(dst + (<usize>i << 2), 0);
          } else {
            const row = xc + (<usize>(h * W) << 2);
            const iwb = ow * SW - PL + kw * DW;
            if (mode == PAD_ZEROS) {
              // Columns i with iwb + i·SW inside [0, W) (no division when SW = 1).
              const lo = SW == 1 ? min(len, max(0, -iwb)) : validLo(iwb, SW, len);
              const hi = SW == 1 ? max(lo, min(len, W - iwb)) : validHi(iwb, SW, W, len, lo);
              let i = 0;
              for (; i < lo; i++) store<f32>(dst + (<usize>i << 2), 0);
              for (; i < hi; i++) store<f32>(dst + (<usize>i << 2), load<f32>(at(row, iwb + i * SW)));
              for (; i < len; i++) store<f32>(dst + (<usize>i << 2), 0);
            } else {
              for (let i = 0; i < len; i++) store<f32>(dst + (<usize>i << 2), load<f32>(at(row, mapIndex(iwb + i * SW, W, mode))));
            }
          }
          cc += len;
          ow += len;
          if (ow == OW) { ow = 0; oh++; }
        }
        for (; cc < NR; cc++) store<f32>(d + (<usize>cc << 2), 0);
      }
      ow0 += NR;
      while (ow0 >= OW) { ow0 -= OW; oh0++; }
    }
  }
}
