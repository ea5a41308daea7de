// The im2col matrix of one image (or one group of it) and its adjoint:
//   col[(c·KH + kh)·KW + kw, oh·OW + ow] = x[c, ih, iw],  ih = oh·SH − PT + kh·DH,  iw = ow·SW − PL + kw·DW,
// with out-of-range (ih, iw) read through the padding mode (zeros, reflect, replicate, circular).
// im2colPadded writes it out (the backward-filter GEMM reads it transposed); padImage + packBConv write it straight
// into the GEMM's packed B panels (implicit im2col: no col matrix); col2im adds a col matrix back onto dx.
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

/** Builds col [C·KH·KW × OH·OW] from a padded image [C, Hp, Wp] (padImage: every read in range). */
export function im2colPadded(x: usize, C: i32, Hp: i32, Wp: i32, KH: i32, KW: i32, SH: i32, SW: i32,
                             DH: i32, DW: i32, OH: i32, OW: i32, col: usize): void {
  const P = OH * OW;
  let row = col;
  for (let c = 0; c < C; c++) {
    const xc = x + (<usize>(c * Hp * Wp) << 2);
    for (let kh = 0; kh < KH; kh++) {
      for (let kw = 0; kw < KW; kw++) {
        for (let oh = 0; oh < OH; oh++) {
          const dst = row + (<usize>(oh * OW) << 2);
          const src = xc + (<usize>((oh * SH + kh * DH) * Wp + kw * DW) << 2);
          let ow = 0;
          if (ASC_FEATURE_SIMD) {
            if (SW <= 2) for (; ow + 4 <= OW; ow += 4) v128.store(at(dst, ow), gather4(at(src, ow * SW), SW));
          }
          for (; ow < OW; ow++) store<f32>(at(dst, ow), load<f32>(at(src, ow * SW)));
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
export const G_C = 0, G_H = 1, G_W = 2, G_KH = 3, G_KW = 4, G_SH = 5, G_SW = 6, G_DH = 7, G_DW = 8, G_OW = 9;
export const GEOMETRY_BYTES: i32 = 64;

/** Writes a geometry block at g for an already padded image of C × H × W. */
export function writeGeometry(g: usize, C: i32, H: i32, W: i32, KH: i32, KW: i32, SH: i32, SW: i32,
                              DH: i32, DW: i32, OW: i32): void {
  store<i32>(g, C, 0); store<i32>(g, H, 4); store<i32>(g, W, 8); store<i32>(g, KH, 12); store<i32>(g, KW, 16);
  store<i32>(g, SH, 20); store<i32>(g, SW, 24); store<i32>(g, DH, 28); store<i32>(g, DW, 32); store<i32>(g, OW, 36);
}

// @ts-ignore: decorator
@inline function field(g: usize, i: i32): i32 {
  return load<i32>(g + (<usize>i << 2));
}

/** Rows of the padded image the forward conv reads: every window inside it, every input row in it. */
export function paddedRows(H: i32, KH: i32, SH: i32, PT: i32, DH: i32, OH: i32): i32 {
  return max(H + PT, (OH - 1) * SH + (KH - 1) * DH + 1);
}

/**
 * Copies x [C, H, W] into dst [C, Hp, Wp] with PT rows / PL columns of padding in front, padded positions
 * filled by the padding mode (zeros, reflect, replicate, circular); rows/columns past Hp/Wp are dropped.
 */
export function padImage(x: usize, C: i32, H: i32, W: i32, PT: i32, PL: i32, mode: i32, Hp: i32, Wp: i32, dst: usize): void {
  padRows(x, C, H, W, PT, PL, mode, Hp, Wp, dst, 0, Hp);
}

/** Rows of at most this many floats are padded by vector loops rather than memory.copy / memory.fill. */
const SHORT_ROW: i32 = 64;

/** padImage for padded rows [hp0, hp1) of every channel only (a thread's share of the rows); the rest untouched. */
export function padRows(x: usize, C: i32, H: i32, W: i32, PT: i32, PL: i32, mode: i32, Hp: i32, Wp: i32, dst: usize,
                        hp0: i32, hp1: i32): void {
  const copyW = min(W, Wp - PL);   // input columns that land inside the padded row
  for (let c = 0; c < C; c++) {
    const xc = x + (<usize>(c * H * W) << 2), dc = dst + (<usize>(c * Hp * Wp) << 2);
    for (let hp = hp0; hp < hp1; hp++) {
      const d = dc + (<usize>(hp * Wp) << 2);
      const ih = mapIndex(hp - PT, H, mode);
      if (ih < 0) { memory.fill(d, 0, <usize>Wp << 2); continue; }
      const src = xc + (<usize>(ih * W) << 2);
      if (ASC_FEATURE_SIMD && mode == PAD_ZEROS && copyW <= SHORT_ROW) {
        // Short rows by vector loads and stores: memory.fill / memory.copy cost a call each, which for rows of
        // a few dozen floats is most of the time.
        for (let i = 0; i < PL; i++) store<f32>(at(d, i), 0);
        const dd = d + (<usize>PL << 2);
        let i = 0;
        for (; i + 4 <= copyW; i += 4) v128.store(dd + (<usize>i << 2), v128.load(src + (<usize>i << 2)));
        for (; i < copyW; i++) store<f32>(at(dd, i), load<f32>(at(src, i)));
        for (let j = PL + copyW; j < Wp; j++) store<f32>(at(d, j), 0);
      } else if (mode == PAD_ZEROS) {
        memory.fill(d, 0, <usize>PL << 2);
        memory.copy(d + (<usize>PL << 2), src, <usize>copyW << 2);
        if (PL + copyW < Wp) memory.fill(d + (<usize>(PL + copyW) << 2), 0, <usize>(Wp - PL - copyW) << 2);
      } else {
        for (let wp = 0; wp < Wp; wp++) store<f32>(at(d, wp), load<f32>(at(src, mapIndex(wp - PL, W, mode))));
      }
    }
  }
}

/**
 * Packs rows [k0, k0+kc) × columns [j0, j0+nc) of the im2col matrix of a padded image x (padImage: every
 * read in range) into NR-column panels, the layout of gemm.ts's packB. Panel by panel, so the stores run
 * sequentially through the packed block (the image, read at jumping offsets, is the smaller of the two);
 * row k's image offset steps through (c, kh, kw) incrementally. SIMD: eight columns in one output row are
 * two loads (stride 1) or two strided gathers (stride 2); eight columns that run over into the next output
 * row blend two such loads, the second shifted back by the columns left in the first row.
 */
export function packBConv(x: usize, g: usize, k0: i32, kc: i32, j0: i32, nc: i32, pb: usize): void {
  const H = field(g, G_H), W = field(g, G_W), KH = field(g, G_KH), KW = field(g, G_KW);
  const SH = field(g, G_SH), SW = field(g, G_SW), DH = field(g, G_DH), DW = field(g, G_DW), OW = field(g, G_OW);
  const taps = KH * KW;
  const c0 = k0 / taps, t0 = k0 - c0 * taps, kh0 = t0 / KW, kw0 = t0 - kh0 * KW;
  const start = (c0 * H + kh0 * DH) * W + kw0 * DW;   // image offset of row k0's tap at output (0, 0)
  const rowStep = DH * W - KW * DW, planeStep = H * W - KH * DH * W;
  let oh0 = j0 / OW, ow0 = j0 - oh0 * OW;
  for (let jp = 0; jp < nc; jp += NR) {
    let d = pb + (<usize>(jp * kc) << 2);
    const base = oh0 * SH * W + ow0 * SW;              // image offset of the panel's first column, tap (0, 0)
    const left = OW - ow0;                             // columns of this panel still in output row oh0
    let off = start, kw = kw0, kh = kh0;
    let done = false;
    if (ASC_FEATURE_SIMD) {
      if (nc - jp >= NR && SW <= 2 && OW >= NR) {
        if (left >= NR) {
          for (let k = 0; k < kc; k++) {
            const s = x + (<usize>(base + off) << 2);
            v128.store(d, gather4(s, SW));
            v128.store(d, gather4(s + (<usize>(4 * SW) << 2), SW), 16);
            d += NR << 2;
            off += DW;
            if (++kw == KW) { kw = 0; off += rowStep; if (++kh == KH) { kh = 0; off += planeStep; } }
          }
        } else {
          // Lanes ≥ left come from the next output row, loaded from `left` columns before its start.
          const next = SH * W - OW * SW;   // from column ow0 of row oh0 to column ow0 − left = ow0 − OW of row oh0 + 1
          const l = i32x4.splat(left);
          const m0 = i32x4.lt_s(i32x4(0, 1, 2, 3), l), m1 = i32x4.lt_s(i32x4(4, 5, 6, 7), l);
          for (let k = 0; k < kc; k++) {
            const s = x + (<usize>(base + off) << 2);
            const s2 = s + (<usize>next << 2);
            v128.store(d, v128.bitselect(gather4(s, SW), gather4(s2, SW), m0));
            v128.store(d, v128.bitselect(gather4(s + (<usize>(4 * SW) << 2), SW), gather4(s2 + (<usize>(4 * SW) << 2), SW), m1), 16);
            d += NR << 2;
            off += DW;
            if (++kw == KW) { kw = 0; off += rowStep; if (++kh == KH) { kh = 0; off += planeStep; } }
          }
        }
        done = true;
      }
    }
    if (!done) {
      const avail = min(NR, nc - jp);
      for (let k = 0; k < kc; k++) {
        let oh = oh0, ow = ow0, cc = 0;
        for (; cc < avail; cc++) {
          store<f32>(d + (<usize>cc << 2), load<f32>(at(x, off + oh * SH * W + ow * SW)));
          if (++ow == OW) { ow = 0; oh++; }
        }
        for (; cc < NR; cc++) store<f32>(d + (<usize>cc << 2), 0);
        d += NR << 2;
        off += DW;
        if (++kw == KW) { kw = 0; off += rowStep; if (++kh == KH) { kh = 0; off += planeStep; } }
      }
    }
    ow0 += NR;
    while (ow0 >= OW) { ow0 -= OW; oh0++; }
  }
}
