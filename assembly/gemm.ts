// Packed SGEMM: C[M×N] (+)= A[M×K] · B[K×N], every operand addressed by (row, column) strides in elements,
// so transposed operands cost nothing but a different packing walk.
//
// Goto/BLIS structure: for each NC-wide column block of B and KC-deep slice of K, B is packed into
// NR-wide panels (k-major); for each MC-high row block of A, A is packed into MR-high panels (k-major);
// the MR×NR micro-kernel then runs over the packed panels with its tile of C in registers.
// The SIMD micro-kernel holds MR×8 outputs in 2·MR f32x4 accumulators (enough independent chains to keep
// the FMA/add pipes full), broadcasting A and loading B. V8 leaves 15 xmm registers to wasm on x86-64:
// 12 accumulators + 2 B + 1 A fit with FMA (MR = 6); mul+add needs one more for the product, so MR = 5.
import { madd, at, sumf } from './vec';
import { packBConv } from './im2col';

/** Rows of the micro-kernel: 6 (12 accumulators) with FMA and in the scalar build; 5 with mul+add. */
export const MR: i32 = ASC_FEATURE_SIMD && !ASC_FEATURE_RELAXED_SIMD ? 5 : 6;
export const NR: i32 = 8;
export const KC: i32 = 256;
export const MC: i32 = 60;   // multiple of MR (5 and 6)
export const NC: i32 = 512;  // multiple of NR

/** Bytes of scratch sgemm needs: packed A block, packed B block and one MR×NR edge tile. */
export function sgemm_scratch_bytes(): i32 {
  return (MC * KC + KC * NC + MR * NR) * 4;
}

/** Packs rows [i0, i0+mc) × k [k0, k0+kc) of A into MR-row panels, zero-padding rows past mc. */
function packA(A: usize, rsA: i32, csA: i32, i0: i32, mc: i32, k0: i32, kc: i32, pa: usize): void {
  for (let ip = 0; ip < mc; ip += MR) {
    const rows = min(MR, mc - ip);
    const panel = pa + (<usize>(ip * kc) << 2);
    if (ASC_FEATURE_SIMD && csA == 1 && rows == MR) {
      packRowsContiguous(A + (<usize>((i0 + ip) * rsA + k0) << 2), <usize>rsA << 2, kc, panel);
      continue;
    }
    for (let r = 0; r < MR; r++) {
      const dst = panel + (<usize>r << 2);
      if (r < rows) {
        const src = A + (<usize>((i0 + ip + r) * rsA + k0 * csA) << 2);
        for (let k = 0; k < kc; k++) store<f32>(dst + (<usize>(k * MR) << 2), load<f32>(src + (<usize>(k * csA) << 2)));
      } else {
        for (let k = 0; k < kc; k++) store<f32>(dst + (<usize>(k * MR) << 2), 0);
      }
    }
  }
}

/**
 * One full MR-row panel of A from rows stored contiguously in k (csA = 1; src: row 0 at the first k, rows `rs`
 * bytes apart): four k of each row per load; rows 0–3 leave as one vector per k (a 4×4 transpose), rows 4 (and 5)
 * as lanes beside them.
 */
function packRowsContiguous(src: usize, rs: usize, kc: i32, panel: usize): void {
  const step = <usize>MR << 2;
  let k = 0;
  for (; k + 4 <= kc; k += 4) {
    const s = src + (<usize>k << 2), d = panel + <usize>k * step;
    transpose4(d, step, v128.load(s), v128.load(s + rs), v128.load(s + 2 * rs), v128.load(s + 3 * rs));
    const v4 = v128.load(s + 4 * rs);
    if (MR == 6) {
      // Rows 4 and 5 as a pair per k.
      const v5 = v128.load(s + 5 * rs);
      const lo = v128.shuffle<f32>(v4, v5, 0, 4, 1, 5), hi = v128.shuffle<f32>(v4, v5, 2, 6, 3, 7);
      v128.store64_lane(d + 16, lo, 0); v128.store64_lane(d + step + 16, lo, 1);
      v128.store64_lane(d + 2 * step + 16, hi, 0); v128.store64_lane(d + 3 * step + 16, hi, 1);
    } else {
      v128.store32_lane(d + 16, v4, 0); v128.store32_lane(d + step + 16, v4, 1);
      v128.store32_lane(d + 2 * step + 16, v4, 2); v128.store32_lane(d + 3 * step + 16, v4, 3);
    }
  }
  for (; k < kc; k++) {
    const s = src + (<usize>k << 2), d = panel + <usize>k * step;
    for (let r = 0; r < MR; r++) store<f32>(d + (<usize>r << 2), load<f32>(s + <usize>r * rs));
  }
}

/** Packs k [k0, k0+kc) × columns [j0, j0+nc) of B into NR-column panels, zero-padding columns past nc. */
function packB(B: usize, rsB: i32, csB: i32, k0: i32, kc: i32, j0: i32, nc: i32, pb: usize): void {
  for (let jp = 0; jp < nc; jp += NR) {
    const cols = min(NR, nc - jp);
    const panel = pb + (<usize>(jp * kc) << 2);
    const src = B + (<usize>(k0 * rsB + (j0 + jp) * csB) << 2);
    if (ASC_FEATURE_SIMD) {
      if (csB == 1 && cols == NR) {
        for (let k = 0; k < kc; k++) {
          const s = src + (<usize>(k * rsB) << 2);
          const d = panel + (<usize>(k * NR) << 2);
          v128.store(d, v128.load(s));
          v128.store(d, v128.load(s, 16), 16);
        }
        continue;
      }
      if (rsB == 1 && cols == NR) {
        // B stored transposed (columns contiguous in k): four k of each column per load, 4×4 transposes.
        let k = 0;
        for (; k + 4 <= kc; k += 4) {
          const s = src + (<usize>k << 2);
          const d = panel + (<usize>(k * NR) << 2);
          const cs = <usize>csB << 2;
          transpose4(d, NR * 4, v128.load(s), v128.load(s + cs), v128.load(s + 2 * cs), v128.load(s + 3 * cs));
          transpose4(d + 16, NR * 4, v128.load(s + 4 * cs), v128.load(s + 5 * cs), v128.load(s + 6 * cs), v128.load(s + 7 * cs));
        }
        for (; k < kc; k++) {
          const s = src + (<usize>k << 2);
          const d = panel + (<usize>(k * NR) << 2);
          for (let c = 0; c < NR; c++) store<f32>(d + (<usize>c << 2), load<f32>(s + (<usize>(c * csB) << 2)));
        }
        continue;
      }
    }
    for (let k = 0; k < kc; k++) {
      const s = src + (<usize>(k * rsB) << 2);
      const d = panel + (<usize>(k * NR) << 2);
      let c = 0;
      for (; c < cols; c++) store<f32>(d + (<usize>c << 2), load<f32>(s + (<usize>(c * csB) << 2)));
      for (; c < NR; c++) store<f32>(d + (<usize>c << 2), 0);
    }
  }
}

/**
 * Stores the transpose of the 4×4 block whose columns are v0..v3 (vc = four consecutive k of column c) as
 * four rows of a packed panel, `stride` bytes apart: row k at d + k·stride holds (v0[k], v1[k], v2[k], v3[k]).
 */
// @ts-ignore: decorator
@inline function transpose4(d: usize, stride: usize, v0: v128, v1: v128, v2: v128, v3: v128): void {
  const a = v128.shuffle<f32>(v0, v1, 0, 4, 1, 5), b = v128.shuffle<f32>(v2, v3, 0, 4, 1, 5);
  const c = v128.shuffle<f32>(v0, v1, 2, 6, 3, 7), e = v128.shuffle<f32>(v2, v3, 2, 6, 3, 7);
  v128.store(d, v128.shuffle<f32>(a, b, 0, 1, 4, 5));
  v128.store(d + stride, v128.shuffle<f32>(a, b, 2, 3, 6, 7));
  v128.store(d + 2 * stride, v128.shuffle<f32>(c, e, 0, 1, 4, 5));
  v128.store(d + 3 * stride, v128.shuffle<f32>(c, e, 2, 3, 6, 7));
}

/** Writes (or adds) the first mr×nr entries of an MR×NR tile held at `tile` into C. */
function storeTile(tile: usize, C: usize, ldc: i32, mr: i32, nr: i32, accumulate: bool): void {
  for (let r = 0; r < mr; r++) {
    const crow = C + (<usize>(r * ldc) << 2);
    const trow = tile + (<usize>(r * NR) << 2);
    for (let c = 0; c < nr; c++) {
      let v = load<f32>(trow + (<usize>c << 2));
      if (accumulate) v += load<f32>(crow + (<usize>c << 2));
      store<f32>(crow + (<usize>c << 2), v);
    }
  }
}

// @ts-ignore: decorator
@inline function storeRow(p: usize, lo: v128, hi: v128, accumulate: bool): void {
  if (accumulate) {
    lo = f32x4.add(lo, v128.load(p));
    hi = f32x4.add(hi, v128.load(p, 16));
  }
  v128.store(p, lo);
  v128.store(p, hi, 16);
}

/** The starting value of accumulator row r: rowBias[r] (if any) + colBias[0..8) (if any). */
// @ts-ignore: decorator
@inline function initRow(rowBias: usize, colBias: v128, r: i32): v128 {
  return rowBias ? f32x4.add(colBias, v128.load32_splat(rowBias + (<usize>r << 2))) : colBias;
}

/**
 * MR×8 micro-kernel, f32x4 (MR = 6 with FMA, 5 with mul+add, whose product needs a register of its own):
 * C tile (+)= bias + Σ_k A_panel[k][0..MR) ⊗ B_panel[k][0..8). rowBias / colBias point at the bias of the
 * tile's first row / column (0: none); bias goes in only on the first K slice. Lanes past mr / nr are
 * computed from zero padding (or over-read bias) and never stored.
 */
function kernelSimd(kc: i32, pa: usize, pb: usize, C: usize, ldc: i32, mr: i32, nr: i32, accumulate: bool,
                    tile: usize, rowBias: usize, colBias: usize): void {
  const z = f32x4.splat(0);
  const cb0 = colBias ? v128.load(colBias) : z, cb1 = colBias ? v128.load(colBias, 16) : z;
  let c00 = initRow(rowBias, cb0, 0), c01 = initRow(rowBias, cb1, 0);
  let c10 = initRow(rowBias, cb0, 1), c11 = initRow(rowBias, cb1, 1);
  let c20 = initRow(rowBias, cb0, 2), c21 = initRow(rowBias, cb1, 2);
  let c30 = initRow(rowBias, cb0, 3), c31 = initRow(rowBias, cb1, 3);
  let c40 = initRow(rowBias, cb0, 4), c41 = initRow(rowBias, cb1, 4);
  let c50 = z, c51 = z;
  if (MR == 6) { c50 = initRow(rowBias, cb0, 5); c51 = initRow(rowBias, cb1, 5); }
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let a = v128.load32_splat(pa);
    c00 = madd(a, b0, c00); c01 = madd(a, b1, c01);
    a = v128.load32_splat(pa, 4);
    c10 = madd(a, b0, c10); c11 = madd(a, b1, c11);
    a = v128.load32_splat(pa, 8);
    c20 = madd(a, b0, c20); c21 = madd(a, b1, c21);
    a = v128.load32_splat(pa, 12);
    c30 = madd(a, b0, c30); c31 = madd(a, b1, c31);
    a = v128.load32_splat(pa, 16);
    c40 = madd(a, b0, c40); c41 = madd(a, b1, c41);
    if (MR == 6) {
      a = v128.load32_splat(pa, 20);
      c50 = madd(a, b0, c50); c51 = madd(a, b1, c51);
    }
    pa += MR << 2;
    pb += NR << 2;
  }
  if (mr == MR && nr == NR) {
    const row = <usize>ldc << 2;
    storeRow(C, c00, c01, accumulate);
    storeRow(C + row, c10, c11, accumulate);
    storeRow(C + 2 * row, c20, c21, accumulate);
    storeRow(C + 3 * row, c30, c31, accumulate);
    storeRow(C + 4 * row, c40, c41, accumulate);
    if (MR == 6) storeRow(C + 5 * row, c50, c51, accumulate);
    return;
  }
  if (nr == NR) {
    // A tile of the last rows (M not a multiple of MR): whole rows still go out as vectors.
    const row = <usize>ldc << 2;
    storeRow(C, c00, c01, accumulate);
    if (mr > 1) storeRow(C + row, c10, c11, accumulate);
    if (mr > 2) storeRow(C + 2 * row, c20, c21, accumulate);
    if (mr > 3) storeRow(C + 3 * row, c30, c31, accumulate);
    if (mr > 4) storeRow(C + 4 * row, c40, c41, accumulate);
    return;
  }
  v128.store(tile, c00); v128.store(tile, c01, 16);
  v128.store(tile, c10, 32); v128.store(tile, c11, 48);
  v128.store(tile, c20, 64); v128.store(tile, c21, 80);
  v128.store(tile, c30, 96); v128.store(tile, c31, 112);
  v128.store(tile, c40, 128); v128.store(tile, c41, 144);
  if (MR == 6) { v128.store(tile, c50, 160); v128.store(tile, c51, 176); }
  storeTile(tile, C, ldc, mr, nr, accumulate);
}

/**
 * kernelSimd for a tile of one or two rows (the last rows when M is not a multiple of MR, such as 16 = 5 + 5 + 5 + 1):
 * two rows of sums instead of MR, reading the same MR-row panel of A (its other rows are zero padding).
 */
function kernelNarrow(kc: i32, pa: usize, pb: usize, C: usize, ldc: i32, mr: i32, nr: i32, accumulate: bool,
                      tile: usize, rowBias: usize, colBias: usize): void {
  const z = f32x4.splat(0);
  const cb0 = colBias ? v128.load(colBias) : z, cb1 = colBias ? v128.load(colBias, 16) : z;
  let c00 = initRow(rowBias, cb0, 0), c01 = initRow(rowBias, cb1, 0);
  let c10 = mr > 1 ? initRow(rowBias, cb0, 1) : z, c11 = mr > 1 ? initRow(rowBias, cb1, 1) : z;
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let a = v128.load32_splat(pa);
    c00 = madd(a, b0, c00); c01 = madd(a, b1, c01);
    a = v128.load32_splat(pa, 4);
    c10 = madd(a, b0, c10); c11 = madd(a, b1, c11);
    pa += MR << 2;
    pb += NR << 2;
  }
  if (nr == NR) {
    storeRow(C, c00, c01, accumulate);
    if (mr > 1) storeRow(C + (<usize>ldc << 2), c10, c11, accumulate);
    return;
  }
  v128.store(tile, c00); v128.store(tile, c01, 16);
  v128.store(tile, c10, 32); v128.store(tile, c11, 48);
  storeTile(tile, C, ldc, mr, nr, accumulate);
}

/** MR×8 micro-kernel, scalar: the tile accumulates in memory (the scalar build's reference speed). */
function kernelScalar(kc: i32, pa: usize, pb: usize, C: usize, ldc: i32, mr: i32, nr: i32, accumulate: bool,
                      tile: usize, rowBias: usize, colBias: usize): void {
  for (let r = 0; r < MR; r++) {
    for (let c = 0; c < NR; c++) {
      let v: f32 = 0;
      if (rowBias && r < mr) v += load<f32>(rowBias + (<usize>r << 2));
      if (colBias && c < nr) v += load<f32>(colBias + (<usize>c << 2));
      store<f32>(tile + (<usize>(r * NR + c) << 2), v);
    }
  }
  for (let k = 0; k < kc; k++) {
    for (let r = 0; r < MR; r++) {
      const a = load<f32>(pa + (<usize>r << 2));
      const trow = tile + (<usize>(r * NR) << 2);
      for (let c = 0; c < NR; c++) {
        const t = trow + (<usize>c << 2);
        store<f32>(t, load<f32>(t) + a * load<f32>(pb + (<usize>c << 2)));
      }
    }
    pa += MR << 2;
    pb += NR << 2;
  }
  storeTile(tile, C, ldc, mr, nr, accumulate);
}

/**
 * C[i, j] = (accumulate ? C[i, j] : 0) + Σ_k A[i, k]·B[k, j], with A[i, k] at A + 4·(i·rsA + k·csA),
 * B[k, j] at B + 4·(k·rsB + j·csB), C[i, j] at C + 4·(i·ldc + j). Needs sgemm_scratch_bytes() of scratch.
 */
export function sgemm(M: i32, N: i32, K: i32,
                      A: usize, rsA: i32, csA: i32,
                      B: usize, rsB: i32, csB: i32,
                      C: usize, ldc: i32, accumulate: i32, scratch: usize): void {
  gemm(M, N, K, A, rsA, csA, 0, B, rsB, csB, C, ldc, accumulate, scratch, 0, 0);
}

/** sgemm plus a bias: C = A·B + rowBias[i] + colBias[j] (either pointer 0 for none), no accumulate. */
export function sgemm_bias(M: i32, N: i32, K: i32,
                           A: usize, rsA: i32, csA: i32,
                           B: usize, rsB: i32, csB: i32,
                           C: usize, ldc: i32, rowBias: usize, colBias: usize, scratch: usize): void {
  gemm(M, N, K, A, rsA, csA, 0, B, rsB, csB, C, ldc, 0, scratch, rowBias, colBias);
}

/** Bytes of a whole M×K matrix packed by pack_a (M rounded up to MR rows). */
export function pack_a_bytes(M: i32, K: i32): i32 {
  return ((M + MR - 1) / MR) * MR * K * 4;
}

/** Packs all of A (M×K, strides rsA/csA) into MR-row panels: panel q, k at dst + 4·((q·K + k)·MR). */
export function pack_a(A: usize, rsA: i32, csA: i32, M: i32, K: i32, dst: usize): void {
  packA(A, rsA, csA, 0, M, 0, K, dst);
}

/** C = A·col(x) + rowBias: a convolution's GEMM with B packed straight from the image (implicit im2col). */
export function sgemm_conv(M: i32, N: i32, K: i32, A: usize, rsA: i32, csA: i32, PA: usize, x: usize, conv: usize,
                           C: usize, ldc: i32, scratch: usize, rowBias: usize, jBase: i32 = 0): void {
  gemm(M, N, K, A, rsA, csA, PA, x, 0, 0, C, ldc, 0, scratch, rowBias, 0, conv, jBase);
}

/** sgemm with A already packed by pack_a (weights packed once, reused until they change). */
export function sgemm_packed(M: i32, N: i32, K: i32, PA: usize,
                             B: usize, rsB: i32, csB: i32,
                             C: usize, ldc: i32, accumulate: i32, scratch: usize, rowBias: usize): void {
  gemm(M, N, K, 0, 0, 0, PA, B, rsB, csB, C, ldc, accumulate, scratch, rowBias, 0);
}

/**
 * The blocked loops; PA ≠ 0: A comes prepacked (pack_a layout), else it is packed block by block.
 * rowBias / colBias (0: none) are added on the first K slice, inside the micro-kernel. conv ≠ 0: B is
 * the implicit im2col matrix of the image at B, packed straight from it (see im2col.ts); C then holds its
 * columns [jBase, jBase + N).
 */
function gemm(M: i32, N: i32, K: i32, A: usize, rsA: i32, csA: i32, PA: usize,
              B: usize, rsB: i32, csB: i32, C: usize, ldc: i32, accumulate: i32, scratch: usize,
              rowBias: usize, colBias: usize, conv: usize = 0, jBase: i32 = 0): void {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        const p = C + (<usize>(i * ldc + j) << 2);
        let v: f32 = accumulate ? load<f32>(p) : 0;
        if (rowBias) v += load<f32>(at(rowBias, i));
        if (colBias) v += load<f32>(at(colBias, j));
        store<f32>(p, v);
      }
    }
    return;
  }
  const pa = scratch;
  const pb = pa + (<usize>(MC * KC) << 2);
  const tile = pb + (<usize>(KC * NC) << 2);
  for (let j0 = 0; j0 < N; j0 += NC) {
    const nc = min(NC, N - j0);
    for (let k0 = 0; k0 < K; k0 += KC) {
      const kc = min(KC, K - k0);
      const acc = accumulate != 0 || k0 > 0;
      if (conv) packBConv(B, conv, k0, kc, jBase + j0, nc, pb);   // jBase: the first column of a column slice
      else packB(B, rsB, csB, k0, kc, j0, nc, pb);
      for (let i0 = 0; i0 < M; i0 += MC) {
        const mc = min(MC, M - i0);
        if (!PA) packA(A, rsA, csA, i0, mc, k0, kc, pa);
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = min(NR, nc - jr);
          const pbp = pb + (<usize>(jr * kc) << 2);
          for (let ir = 0; ir < mc; ir += MR) {
            const mr = min(MR, mc - ir);
            const cp = C + (<usize>((i0 + ir) * ldc + j0 + jr) << 2);
            const pap = PA ? PA + (<usize>((i0 + ir) * K + k0 * MR) << 2) : pa + (<usize>(ir * kc) << 2);
            const rb = rowBias && k0 == 0 ? at(rowBias, i0 + ir) : 0;
            const cb = colBias && k0 == 0 ? at(colBias, j0 + jr) : 0;
            if (ASC_FEATURE_SIMD) {
              if (mr <= 2) kernelNarrow(kc, pap, pbp, cp, ldc, mr, nr, acc, tile, rb, cb);
              else kernelSimd(kc, pap, pbp, cp, ldc, mr, nr, acc, tile, rb, cb);
            } else kernelScalar(kc, pap, pbp, cp, ldc, mr, nr, acc, tile, rb, cb);
          }
        }
      }
    }
  }
}

/**
 * out[c] = Σ_{n, s} x[n, c, s] over x laid out [N, C, S] (a bias gradient), for channels [c0, c1) only (a
 * thread's share; each channel's sum runs in the same order however the channels are shared out).
 */
export function channel_sum(x: usize, N: i32, C: i32, S: i32, c0: i32, c1: i32, out: usize): void {
  for (let c = c0; c < c1; c++) {
    let total: f64 = 0;
    for (let n = 0; n < N; n++) {
      total += <f64>sumf(x + (<usize>((n * C + c) * S) << 2), S);
    }
    store<f32>(at(out, c), <f32>total);
  }
}
