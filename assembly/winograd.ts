// 3×3, stride-1 convolution forward by Winograd's minimal filtering F(2×2, 3×3) (Lavin & Gray, "Fast Algorithms for
// Convolutional Neural Networks", 2016): each 2×2 output tile is Y = Aᵀ[ Σ_c (G g_c Gᵀ) ⊙ (Bᵀ d_c B) ]A, with d_c the
// 4×4 input patch of channel c. The channel sums are 16 GEMMs, one per position ξ of the 4×4 transformed tile:
//   M_ξ[Cout × T] = U_ξ[Cout × Cin] · V_ξ[Cin × T],   U = G g Gᵀ (per weight version),   V = Bᵀ d B (per tile)
// so a tile costs 16·Cin·Cout multiplies instead of 36·Cin·Cout. Transform matrices:
//   Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1],   G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1],   Aᵀ = [1 1 1 0; 0 1 −1 −1].
// The transforms run four tiles of a tile row per f32x4 (lanes = tiles).
import { at } from './vec';
import { MR, sgemm, sgemm_packed, sgemm_scratch_bytes, pack_a_bytes } from './gemm';
import { padRows, PAD_ZEROS } from './im2col';

/** Tiles per GEMM batch: at most 256, and V_ξ (Cin × tiles floats) at most 128 KB, so that a batch works in L2. */
// @ts-ignore: decorator
@inline function batchTiles(Cin: i32): i32 {
  return min(256, max(32, 32768 / Cin));
}

/** Bytes of the 16 packed U_ξ matrices (pack_a layout, Cout rows rounded up to MR). */
export function winograd_weights_bytes(Cout: i32, Cin: i32): i32 {
  return 16 * pack_a_bytes(Cout, Cin);
}

/**
 * U_ξ = (G g Gᵀ)_ξ for every filter g of w [Cout, Cin, 3, 3], written straight into pack_a's panel layout (rows o,
 * columns i). flipped = 1: the filters of the backward-data convolution instead — rows are w's input channels,
 * columns its output channels, each filter turned by 180° (dx = conv3×3(dy, w′), w′[i, o] = rot180(w[o, i])).
 */
export function winograd_pack_weights(w: usize, Cout: i32, Cin: i32, flipped: i32, dst: usize): void {
  const rows = flipped ? Cin : Cout, cols = flipped ? Cout : Cin;
  const bytes = pack_a_bytes(rows, cols);
  memory.fill(dst, 0, <usize>(16 * bytes));
  for (let o = 0; o < rows; o++) {
    const q = o / MR, r = o - q * MR;
    for (let i = 0; i < cols; i++) {
      const g = w + (<usize>((flipped ? i * Cin + o : o * Cin + i) * 9) << 2);
      for (let a = 0; a < 4; a++) {
        // Row a of G·g (three values), then that row times Gᵀ (four values).
        const t0 = gRow(g, flipped, a, 0), t1 = gRow(g, flipped, a, 1), t2 = gRow(g, flipped, a, 2);
        const u0 = t0, u1 = (t0 + t1 + t2) * 0.5, u2 = (t0 - t1 + t2) * 0.5, u3 = t2;
        const base = dst + (<usize>((q * cols + i) * MR + r) << 2);
        store<f32>(base + <usize>((a * 4) * bytes), u0);
        store<f32>(base + <usize>((a * 4 + 1) * bytes), u1);
        store<f32>(base + <usize>((a * 4 + 2) * bytes), u2);
        store<f32>(base + <usize>((a * 4 + 3) * bytes), u3);
      }
    }
  }
}

/** (G·g)[a][col] for the 3×3 filter at g (row-major), or for the filter turned by 180° (flipped). */
// @ts-ignore: decorator
@inline function gRow(g: usize, flipped: i32, a: i32, col: i32): f32 {
  const g0 = tap(g, flipped, 0, col), g1 = tap(g, flipped, 1, col), g2 = tap(g, flipped, 2, col);
  if (a == 0) return g0;
  if (a == 1) return (g0 + g1 + g2) * 0.5;
  if (a == 2) return (g0 - g1 + g2) * 0.5;
  return g2;
}

// @ts-ignore: decorator
@inline function tap(g: usize, flipped: i32, row: i32, col: i32): f32 {
  return load<f32>(at(g, flipped ? 8 - 3 * row - col : 3 * row + col));
}

/** Tile rows per batch for rows of tw tiles (at least one). */
// @ts-ignore: decorator
@inline function batchRows(Cin: i32, tw: i32): i32 {
  return max(1, batchTiles(Cin) / tw);
}

/**
 * Floats from one ξ's matrix [C × T] of a batch to the next's: C·T rounded up to a cache line, plus one more line
 * when that makes an even number of lines. The input and output transforms write (or read) all 16 matrices at once,
 * and with C·T·4 bytes a multiple of 4 KB (32×32 maps: T = 256 tiles) the 16 streams fell into the same L1 sets:
 * such convolutions ran 1.5–2× slower than with this stride (bench/HISTORY.md). An odd number of lines puts the 16 streams'
 * starting points in 16 different sets, modulo 4 KB and modulo 64 KB alike.
 */
// @ts-ignore: decorator
@inline function xiStride(C: i32, T: i32): i32 {
  const s = (C * T + 15) & ~15;
  return (s >> 4) & 1 ? s : s + 16;
}

/** Floats of the 16 matrices of a batch of up to `tiles` tiles, for C channels. */
// @ts-ignore: decorator
@inline function xiFloats(C: i32, tiles: i32): i32 {
  return 16 * (C * tiles + 32);
}

/** Tile rows conv2d_winograd transforms and multiplies as one batch (the grain worth giving a thread). */
export function winograd_batch_rows(Cin: i32, OW: i32): i32 {
  return batchRows(Cin, (OW + 1) >> 1);
}

/** Scratch one thread needs for up to `tileRows` tile rows: the padded image, V and M of one batch, the GEMM's packing. */
export function winograd_scratch_bytes(Cin: i32, Cout: i32, OH: i32, OW: i32, tileRows: i32): i32 {
  const th = (OH + 1) >> 1, tw = (OW + 1) >> 1;
  const Hp = 2 * th + 2, Wp = 2 * tw + 2 + 8;
  const tiles = min(batchRows(Cin, tw), tileRows) * tw;
  return ((Cin * Hp * Wp * 4 + 15) & ~15) + xiFloats(Cin, tiles) * 4 + xiFloats(Cout, tiles) * 4 + sgemm_scratch_bytes();
}

/**
 * y = conv3×3(x) + b for tile rows [g0, g1) of g = n·th + ty (th = ⌈OH/2⌉ tile rows per image; the split over
 * threads). U: winograd_pack_weights. Padding PT/PL in front, by `mode` (padImage), zeros past the input.
 */
export function conv2d_winograd(x: usize, U: usize, b: usize, y: usize, Cin: i32, H: i32, W: i32, Cout: i32,
                                PT: i32, PL: i32, mode: i32, OH: i32, OW: i32, g0: i32, g1: i32, scratch: usize): void {
  const th = (OH + 1) >> 1, tw = (OW + 1) >> 1;
  const Hp = 2 * th + 2, Wp = 2 * tw + 2 + 8;          // + 8: the last vector group's loads stay inside
  const R = min(batchRows(Cin, tw), g1 - g0);
  const img = scratch;
  const V = img + ((<usize>(Cin * Hp * Wp) * 4 + 15) & ~15);
  const M = V + (<usize>xiFloats(Cin, R * tw) << 2);
  const gemmScratch = M + (<usize>xiFloats(Cout, R * tw) << 2);
  const ub = pack_a_bytes(Cout, Cin);
  let padded = -1;
  // Batches of up to R tile rows, across image boundaries (a 14×14 output is only 49 tiles).
  for (let gb = g0; gb < g1; gb += R) {
    const rows = min(R, g1 - gb), T = rows * tw, Vs = xiStride(Cin, T), Ms = xiStride(Cout, T);
    for (let r = 0; r < rows; r++) {
      const g = gb + r, n = g / th, ty = g - n * th;
      if (padded != n) {
        padShare(x + (<usize>(n * Cin * H * W) << 2), Cin, H, W, PT, PL, mode, Hp, Wp, img, g0, g1, n, th, 2);
        padded = n;
      }
      inputRows(img, Cin, Hp, Wp, ty, tw, V, T, Vs, r);
    }
    for (let xi = 0; xi < 16; xi++) {
      sgemm_packed(Cout, T, Cin, U + <usize>(xi * ub), V + (<usize>(xi * Vs) << 2), T, 1,
                   M + (<usize>(xi * Ms) << 2), T, 0, gemmScratch, 0);
    }
    for (let r = 0; r < rows; r++) {
      const g = gb + r, n = g / th, ty = g - n * th;
      const yn = y + (<usize>(n * Cout * OH * OW) << 2);
      for (let o = 0; o < Cout; o++) {
        const bias: f32 = b ? load<f32>(at(b, o)) : 0;
        outputRow(M + (<usize>(o * T + r * tw) << 2), Ms, yn + (<usize>(o * OH * OW) << 2), 2 * ty, OH, OW, tw, bias);
      }
    }
  }
}

/**
 * padRows for the rows that the tiles of image n in the share [g0, g1) of tile rows read: tile row ty starts at padded
 * row 2·ty and reads 2 + extra rows (extra = 2 for a 4×4 input tile, 0 for a 2×2 dy tile).
 */
function padShare(src: usize, C: i32, H: i32, W: i32, PT: i32, PL: i32, mode: i32, Hp: i32, Wp: i32, dst: usize,
                  g0: i32, g1: i32, n: i32, th: i32, extra: i32): void {
  const ty0 = max(g0 - n * th, 0), ty1 = min(g1 - n * th, th);
  padRows(src, C, H, W, PT, PL, mode, Hp, Wp, dst, 2 * ty0, 2 * ty1 + extra);
}

/** V_ξ (xiStride Vs apart) of tile row ty of every channel of the padded image img, as row r of a batch of T tiles. */
function inputRows(img: usize, Cin: i32, Hp: i32, Wp: i32, ty: i32, tw: i32, V: usize, T: i32, Vs: i32, r: i32): void {
  for (let c = 0; c < Cin; c++) {
    inputRow(img + (<usize>((c * Hp + 2 * ty) * Wp) << 2), Wp, tw, V + (<usize>(c * T + r * tw) << 2), Vs);
  }
}

/**
 * V_ξ for the tw tiles of one tile row: src is the padded plane at the tile row's first input row, dst the row's
 * first tile in V_0; V_ξ is `xiStride` floats after V_0.
 */
function inputRow(src: usize, Wp: i32, tw: i32, dst: usize, xiStride: i32): void {
  const row = <usize>Wp << 2, xs = <usize>xiStride << 2;
  let tx = 0;
  if (ASC_FEATURE_SIMD) {
    // Four tiles per vector: tile t's column j is input column 2t + j — even/odd lanes of two loads.
    for (; tx + 4 <= tw; tx += 4) {
      const s = src + (<usize>(2 * tx) << 2);
      for (let half = 0; half < 2; half++) {
        // half 0: patch columns 0 and 1 (offset 0); half 1: columns 2 and 3 (offset 2).
        const p = s + (<usize>(2 * half) << 2);
        let a = v128.load(p), b = v128.load(p, 16);
        const e0 = v128.shuffle<f32>(a, b, 0, 2, 4, 6), o0 = v128.shuffle<f32>(a, b, 1, 3, 5, 7);
        a = v128.load(p + row); b = v128.load(p + row, 16);
        const e1 = v128.shuffle<f32>(a, b, 0, 2, 4, 6), o1 = v128.shuffle<f32>(a, b, 1, 3, 5, 7);
        a = v128.load(p + 2 * row); b = v128.load(p + 2 * row, 16);
        const e2 = v128.shuffle<f32>(a, b, 0, 2, 4, 6), o2 = v128.shuffle<f32>(a, b, 1, 3, 5, 7);
        a = v128.load(p + 3 * row); b = v128.load(p + 3 * row, 16);
        const e3 = v128.shuffle<f32>(a, b, 0, 2, 4, 6), o3 = v128.shuffle<f32>(a, b, 1, 3, 5, 7);
        // Bᵀ·d down the columns (rows of the patch): s0 = d0 − d2, s1 = d1 + d2, s2 = d2 − d1, s3 = d1 − d3.
        const j0 = 2 * half;
        store4(dst, xs, tx, 0 * 4 + j0, f32x4.sub(e0, e2)); store4(dst, xs, tx, 0 * 4 + j0 + 1, f32x4.sub(o0, o2));
        store4(dst, xs, tx, 1 * 4 + j0, f32x4.add(e1, e2)); store4(dst, xs, tx, 1 * 4 + j0 + 1, f32x4.add(o1, o2));
        store4(dst, xs, tx, 2 * 4 + j0, f32x4.sub(e2, e1)); store4(dst, xs, tx, 2 * 4 + j0 + 1, f32x4.sub(o2, o1));
        store4(dst, xs, tx, 3 * 4 + j0, f32x4.sub(e1, e3)); store4(dst, xs, tx, 3 * 4 + j0 + 1, f32x4.sub(o1, o3));
      }
      // ·B across each row i of s (now stored at ξ = 4i + j): V[i][0] = s0 − s2, V[i][1] = s1 + s2,
      // V[i][2] = s2 − s1, V[i][3] = s1 − s3, in place.
      for (let i = 0; i < 4; i++) {
        const q = dst + (<usize>tx << 2) + <usize>(4 * i) * xs;
        const s0 = v128.load(q), s1 = v128.load(q + xs), s2 = v128.load(q + 2 * xs), s3 = v128.load(q + 3 * xs);
        v128.store(q, f32x4.sub(s0, s2));
        v128.store(q + xs, f32x4.add(s1, s2));
        v128.store(q + 2 * xs, f32x4.sub(s2, s1));
        v128.store(q + 3 * xs, f32x4.sub(s1, s3));
      }
    }
  }
  for (; tx < tw; tx++) {
    const s = src + (<usize>(2 * tx) << 2);
    for (let j = 0; j < 4; j++) {
      const d0 = load<f32>(at(s, j)), d1 = load<f32>(at(s + row, j)), d2 = load<f32>(at(s + 2 * row, j)), d3 = load<f32>(at(s + 3 * row, j));
      store<f32>(at(dst + <usize>j * xs, tx), d0 - d2);
      store<f32>(at(dst + <usize>(4 + j) * xs, tx), d1 + d2);
      store<f32>(at(dst + <usize>(8 + j) * xs, tx), d2 - d1);
      store<f32>(at(dst + <usize>(12 + j) * xs, tx), d1 - d3);
    }
    for (let i = 0; i < 4; i++) {
      const q = at(dst, tx) + <usize>(4 * i) * xs;
      const s0 = load<f32>(q), s1 = load<f32>(q + xs), s2 = load<f32>(q + 2 * xs), s3 = load<f32>(q + 3 * xs);
      store<f32>(q, s0 - s2);
      store<f32>(q + xs, s1 + s2);
      store<f32>(q + 2 * xs, s2 - s1);
      store<f32>(q + 3 * xs, s1 - s3);
    }
  }
}

// @ts-ignore: decorator
@inline function store4(dst: usize, xs: usize, tx: i32, xi: i32, v: v128): void {
  v128.store(dst + (<usize>tx << 2) + <usize>xi * xs, v);
}

/**
 * One tile row of output channel o: m is M_0 at the row's first tile (M_ξ `xiStride` floats further), y the
 * channel's plane; writes output rows oy and oy + 1 (if < OH), columns < OW.
 */
function outputRow(m: usize, xiStride: i32, y: usize, oy: i32, OH: i32, OW: i32, tw: i32, bias: f32): void {
  const xs = <usize>xiStride << 2;
  const y0 = y + (<usize>(oy * OW) << 2), y1 = y0 + (<usize>OW << 2);
  const two = oy + 1 < OH;
  let tx = 0;
  if (ASC_FEATURE_SIMD) {
    const bv = f32x4.splat(bias);
    for (; tx + 4 <= tw && 2 * tx + 8 <= OW; tx += 4) {
      const q = m + (<usize>tx << 2);
      // Aᵀ·m down the columns: u0 = m0 + m1 + m2, u1 = m1 − m2 − m3 (row i of m at ξ = 4i + j).
      let a0 = v128.load(q), a1 = v128.load(q + 4 * xs), a2 = v128.load(q + 8 * xs), a3 = v128.load(q + 12 * xs);
      const u00 = f32x4.add(f32x4.add(a0, a1), a2), u10 = f32x4.sub(f32x4.sub(a1, a2), a3);
      a0 = v128.load(q + xs); a1 = v128.load(q + 5 * xs); a2 = v128.load(q + 9 * xs); a3 = v128.load(q + 13 * xs);
      const u01 = f32x4.add(f32x4.add(a0, a1), a2), u11 = f32x4.sub(f32x4.sub(a1, a2), a3);
      a0 = v128.load(q + 2 * xs); a1 = v128.load(q + 6 * xs); a2 = v128.load(q + 10 * xs); a3 = v128.load(q + 14 * xs);
      const u02 = f32x4.add(f32x4.add(a0, a1), a2), u12 = f32x4.sub(f32x4.sub(a1, a2), a3);
      a0 = v128.load(q + 3 * xs); a1 = v128.load(q + 7 * xs); a2 = v128.load(q + 11 * xs); a3 = v128.load(q + 15 * xs);
      const u03 = f32x4.add(f32x4.add(a0, a1), a2), u13 = f32x4.sub(f32x4.sub(a1, a2), a3);
      // ·A across: y[i][0] = u0 + u1 + u2, y[i][1] = u1 − u2 − u3; tile t's two columns interleave at 2t, 2t + 1.
      const r00 = f32x4.add(f32x4.add(f32x4.add(u00, u01), u02), bv), r01 = f32x4.add(f32x4.sub(f32x4.sub(u01, u02), u03), bv);
      v128.store(at(y0, 2 * tx), v128.shuffle<f32>(r00, r01, 0, 4, 1, 5));
      v128.store(at(y0, 2 * tx), v128.shuffle<f32>(r00, r01, 2, 6, 3, 7), 16);
      if (two) {
        const r10 = f32x4.add(f32x4.add(f32x4.add(u10, u11), u12), bv), r11 = f32x4.add(f32x4.sub(f32x4.sub(u11, u12), u13), bv);
        v128.store(at(y1, 2 * tx), v128.shuffle<f32>(r10, r11, 0, 4, 1, 5));
        v128.store(at(y1, 2 * tx), v128.shuffle<f32>(r10, r11, 2, 6, 3, 7), 16);
      }
    }
  }
  for (; tx < tw; tx++) {
    const q = at(m, tx);
    let u0a: f32 = 0, u0b: f32 = 0, u0c: f32 = 0, u0d: f32 = 0, u1a: f32 = 0, u1b: f32 = 0, u1c: f32 = 0, u1d: f32 = 0;
    for (let j = 0; j < 4; j++) {
      const m0 = load<f32>(q + <usize>j * xs), m1 = load<f32>(q + <usize>(4 + j) * xs);
      const m2 = load<f32>(q + <usize>(8 + j) * xs), m3 = load<f32>(q + <usize>(12 + j) * xs);
      const u0 = m0 + m1 + m2, u1 = m1 - m2 - m3;
      if (j == 0) { u0a = u0; u1a = u1; } else if (j == 1) { u0b = u0; u1b = u1; } else if (j == 2) { u0c = u0; u1c = u1; } else { u0d = u0; u1d = u1; }
    }
    const ox = 2 * tx;
    store<f32>(at(y0, ox), u0a + u0b + u0c + bias);
    if (ox + 1 < OW) store<f32>(at(y0, ox + 1), u0b - u0c - u0d + bias);
    if (two) {
      store<f32>(at(y1, ox), u1a + u1b + u1c + bias);
      if (ox + 1 < OW) store<f32>(at(y1, ox + 1), u1b - u1c - u1d + bias);
    }
  }
}

// Backward filter by F(3×3, 2×2): dW[o, c] = Σ_{n, tiles} (3×3 correlation of a 4×4 input patch with a 2×2 tile of dy)
//   = Aᵀ[ Σ_{n, t} (G′ dy_t G′ᵀ) ⊙ (Bᵀ d_t B) ]A,   Aᵀ = [1 1 1 0; 0 1 −1 0; 0 1 1 1],   G′ = [1 0; ½ ½; ½ −½; 0 −1],
// with the forward's input transform Bᵀ d B (F(3×3, 2×2)'s own Bᵀ differs from it by the sign of its last row, which
// G′ carries instead). The sums over tiles are 16 GEMMs M_ξ[Cout × Cin] += D_ξ[Cout × T] · V_ξ[Cin × T]ᵀ.

/** Scratch one thread needs for conv2d_winograd_filter over up to tileRows tile rows. */
export function winograd_filter_scratch_bytes(Cin: i32, Cout: i32, OH: i32, OW: i32, tileRows: i32): i32 {
  const th = (OH + 1) >> 1, tw = (OW + 1) >> 1;
  const Hp = 2 * th + 2, Wp = 2 * tw + 2 + 8, dyW = 2 * tw + 8;
  const tiles = min(batchRows(max(Cin, Cout), tw), tileRows) * tw;
  return ((Cin * Hp * Wp * 4 + 15) & ~15) + ((Cout * 2 * th * dyW * 4 + 15) & ~15) +
         (xiFloats(Cin, tiles) + xiFloats(Cout, tiles)) * 4 + sgemm_scratch_bytes();
}

/**
 * The transformed-domain sums M_ξ[o, c] (16 × Cout × Cin floats at M, overwritten) over tile rows [g0, g1) of
 * g = n·th + ty; winograd_filter_finish adds the threads' M and transforms them into dW.
 */
export function conv2d_winograd_filter(x: usize, dy: usize, M: usize, Cin: i32, H: i32, W: i32, Cout: i32,
                                       PT: i32, PL: i32, OH: i32, OW: i32, g0: i32, g1: i32, scratch: usize): void {
  if (g1 <= g0) {                                       // an empty share still owes its (zero) partial sums
    memory.fill(M, 0, <usize>(16 * Cout * Cin) << 2);
    return;
  }
  const th = (OH + 1) >> 1, tw = (OW + 1) >> 1;
  const Hp = 2 * th + 2, Wp = 2 * tw + 2 + 8, dyH = 2 * th, dyW = 2 * tw + 8;
  const R = min(batchRows(max(Cin, Cout), tw), g1 - g0);
  const img = scratch;
  const dyp = img + ((<usize>(Cin * Hp * Wp) * 4 + 15) & ~15);
  const V = dyp + ((<usize>(Cout * dyH * dyW) * 4 + 15) & ~15);
  const D = V + (<usize>xiFloats(Cin, R * tw) << 2);
  const gemmScratch = D + (<usize>xiFloats(Cout, R * tw) << 2);
  let padded = -1;
  for (let gb = g0; gb < g1; gb += R) {
    const rows = min(R, g1 - gb), T = rows * tw, Vs = xiStride(Cin, T), Ds = xiStride(Cout, T);
    for (let r = 0; r < rows; r++) {
      const g = gb + r, n = g / th, ty = g - n * th;
      if (padded != n) {
        padShare(x + (<usize>(n * Cin * H * W) << 2), Cin, H, W, PT, PL, PAD_ZEROS, Hp, Wp, img, g0, g1, n, th, 2);
        padShare(dy + (<usize>(n * Cout * OH * OW) << 2), Cout, OH, OW, 0, 0, PAD_ZEROS, dyH, dyW, dyp, g0, g1, n, th, 0);
        padded = n;
      }
      inputRows(img, Cin, Hp, Wp, ty, tw, V, T, Vs, r);
      for (let o = 0; o < Cout; o++) {
        dyRow(dyp + (<usize>((o * dyH + 2 * ty) * dyW) << 2), dyW, tw, D + (<usize>(o * T + r * tw) << 2), Ds);
      }
    }
    for (let xi = 0; xi < 16; xi++) {
      // M_ξ[o, c] (+)= Σ_t D_ξ[o, t]·V_ξ[c, t]: B[t, c] = V_ξ[c, t] (row stride 1, column stride T).
      sgemm(Cout, Cin, T, D + (<usize>(xi * Ds) << 2), T, 1, V + (<usize>(xi * Vs) << 2), 1, T,
            M + (<usize>(xi * Cout * Cin) << 2), Cin, gb > g0 ? 1 : 0, gemmScratch);
    }
  }
}

/**
 * dW = Aᵀ(Σ_p M_p)A for the pairs (o, c) = oc in [first, end) (all: 0, Cout·Cin): `parts` partial sums 16·Cout·Cin
 * floats apart, added in order. Pairs are independent: threads may finish disjoint ranges at once.
 */
export function winograd_filter_finish(M: usize, parts: i32, dw: usize, Cout: i32, Cin: i32, first: i32, end: i32): void {
  const n = Cout * Cin;
  let oc = first;
  // Four (o, c) pairs per vector (they sit side by side in each M_ξ), the same operations lane by lane.
  if (ASC_FEATURE_SIMD) for (; oc + 4 <= end; oc += 4) finishFour(M, parts, n, oc, dw + (<usize>(oc * 9) << 2));
  for (; oc < end; oc++) finishOne(M, parts, n, oc, dw + (<usize>(oc * 9) << 2));
}

/** Σ_p of the vector at q in each of the `parts` partial sums, `stride` bytes apart, added in order. */
// @ts-ignore: decorator
@inline function partsSum(q: usize, parts: i32, stride: usize): v128 {
  let m = f32x4.splat(0);
  for (let p = 0; p < parts; p++) m = f32x4.add(m, v128.load(q + <usize>p * stride));
  return m;
}

/**
 * finishOne for pairs oc … oc + 3, four lanes at a time; out: pair oc's nine taps, the others 9 floats apart. Column j
 * of Aᵀm gives rows a_j, b_j, c_j; tap (r, s) of row r = (r_0 + r_1 + r_2, r_1 − r_2, r_1 + r_2 + r_3), summed here as
 * the columns come (same order of additions as finishOne), in registers: threads may run this at once.
 */
function finishFour(M: usize, parts: i32, n: i32, oc: i32, out: usize): void {
  const stride = <usize>(16 * n) << 2, xs = <usize>n << 2, q = at(M, oc);
  const z = f32x4.splat(0);
  let a0 = z, a1 = z, a2 = z, b0 = z, b1 = z, b2 = z, c0 = z, c1 = z, c2 = z;
  for (let j = 0; j < 4; j++) {
    const qj = q + <usize>j * xs;
    const m0 = partsSum(qj, parts, stride), m1 = partsSum(qj + 4 * xs, parts, stride);
    const m2 = partsSum(qj + 8 * xs, parts, stride), m3 = partsSum(qj + 12 * xs, parts, stride);
    const a = f32x4.add(f32x4.add(m0, m1), m2), b = f32x4.sub(m1, m2), c = f32x4.add(f32x4.add(m1, m2), m3);
    if (j == 0) {
      a0 = a; b0 = b; c0 = c;
    } else if (j == 1) {
      a0 = f32x4.add(a0, a); a1 = a; a2 = a;
      b0 = f32x4.add(b0, b); b1 = b; b2 = b;
      c0 = f32x4.add(c0, c); c1 = c; c2 = c;
    } else if (j == 2) {
      a0 = f32x4.add(a0, a); a1 = f32x4.sub(a1, a); a2 = f32x4.add(a2, a);
      b0 = f32x4.add(b0, b); b1 = f32x4.sub(b1, b); b2 = f32x4.add(b2, b);
      c0 = f32x4.add(c0, c); c1 = f32x4.sub(c1, c); c2 = f32x4.add(c2, c);
    } else {
      a2 = f32x4.add(a2, a); b2 = f32x4.add(b2, b); c2 = f32x4.add(c2, c);
    }
  }
  storeLanes(out, a0); storeLanes(out + 4, a1); storeLanes(out + 8, a2);
  storeLanes(out + 12, b0); storeLanes(out + 16, b1); storeLanes(out + 20, b2);
  storeLanes(out + 24, c0); storeLanes(out + 28, c1); storeLanes(out + 32, c2);
}

/** Lane l of v to p + 36·l (tap p of pair l: pairs are 9 floats apart). */
// @ts-ignore: decorator
@inline function storeLanes(p: usize, v: v128): void {
  store<f32>(p, f32x4.extract_lane(v, 0)); store<f32>(p, f32x4.extract_lane(v, 1), 36);
  store<f32>(p, f32x4.extract_lane(v, 2), 72); store<f32>(p, f32x4.extract_lane(v, 3), 108);
}

/** dW[o, c] = Aᵀ(Σ_p m_p)A for the pair oc, its nine taps at out. */
function finishOne(M: usize, parts: i32, n: i32, oc: i32, out: usize): void {
  const stride = <usize>(16 * n) << 2, xs = <usize>n << 2;
  // m[i][j] summed over the parts; rows of Aᵀm: u0 = m0 + m1 + m2, u1 = m1 − m2, u2 = m1 + m2 + m3.
  let u00: f32 = 0, u01: f32 = 0, u02: f32 = 0, u03: f32 = 0, u10: f32 = 0, u11: f32 = 0, u12: f32 = 0, u13: f32 = 0;
  let u20: f32 = 0, u21: f32 = 0, u22: f32 = 0, u23: f32 = 0;
  for (let j = 0; j < 4; j++) {
    let m0: f32 = 0, m1: f32 = 0, m2: f32 = 0, m3: f32 = 0;
    for (let p = 0; p < parts; p++) {
      const q = at(M + <usize>p * stride, oc);
      m0 += load<f32>(q + <usize>j * xs); m1 += load<f32>(q + <usize>(4 + j) * xs);
      m2 += load<f32>(q + <usize>(8 + j) * xs); m3 += load<f32>(q + <usize>(12 + j) * xs);
    }
    const a = m0 + m1 + m2, b = m1 - m2, c = m1 + m2 + m3;
    if (j == 0) { u00 = a; u10 = b; u20 = c; } else if (j == 1) { u01 = a; u11 = b; u21 = c; }
    else if (j == 2) { u02 = a; u12 = b; u22 = c; } else { u03 = a; u13 = b; u23 = c; }
  }
  store<f32>(out, u00 + u01 + u02); store<f32>(out, u01 - u02, 4); store<f32>(out, u01 + u02 + u03, 8);
  store<f32>(out, u10 + u11 + u12, 12); store<f32>(out, u11 - u12, 16); store<f32>(out, u11 + u12 + u13, 20);
  store<f32>(out, u20 + u21 + u22, 24); store<f32>(out, u21 - u22, 28); store<f32>(out, u21 + u22 + u23, 32);
}

/** Row i of G′g (t0, t1: its two columns, four tiles) times G′ᵀ, stored at ξ = 4i … 4i + 3 (q: ξ = 4i). */
// @ts-ignore: decorator
@inline function dyColumns(q: usize, xs: usize, t0: v128, t1: v128, half: v128): void {
  v128.store(q, t0);
  v128.store(q + xs, f32x4.mul(f32x4.add(t0, t1), half));
  v128.store(q + 2 * xs, f32x4.mul(f32x4.sub(t0, t1), half));
  v128.store(q + 3 * xs, f32x4.neg(t1));
}

/**
 * D_ξ = (G′ g G′ᵀ)_ξ for the tw 2×2 tiles g of one tile row of a zero-padded dy plane (src at the row's first dy row,
 * rows dyW floats apart); dst at the row's first tile in D_0, D_ξ `xiStride` floats further.
 */
function dyRow(src: usize, dyW: i32, tw: i32, dst: usize, xiStride: i32): void {
  const row = <usize>dyW << 2, xs = <usize>xiStride << 2;
  let tx = 0;
  if (ASC_FEATURE_SIMD) {
    const half = f32x4.splat(0.5);
    for (; tx + 4 <= tw; tx += 4) {
      const s = src + (<usize>(2 * tx) << 2);
      let a = v128.load(s), b = v128.load(s, 16);
      const g00 = v128.shuffle<f32>(a, b, 0, 2, 4, 6), g01 = v128.shuffle<f32>(a, b, 1, 3, 5, 7);
      a = v128.load(s + row); b = v128.load(s + row, 16);
      const g10 = v128.shuffle<f32>(a, b, 0, 2, 4, 6), g11 = v128.shuffle<f32>(a, b, 1, 3, 5, 7);
      // G′·g down the columns: t0 = g0, t1 = (g0 + g1)/2, t2 = (g0 − g1)/2, t3 = −g1; then each row times G′ᵀ.
      dyColumns(dst + (<usize>tx << 2), xs, g00, g01, half);
      dyColumns(dst + (<usize>tx << 2) + 4 * xs, xs, f32x4.mul(f32x4.add(g00, g10), half), f32x4.mul(f32x4.add(g01, g11), half), half);
      dyColumns(dst + (<usize>tx << 2) + 8 * xs, xs, f32x4.mul(f32x4.sub(g00, g10), half), f32x4.mul(f32x4.sub(g01, g11), half), half);
      dyColumns(dst + (<usize>tx << 2) + 12 * xs, xs, f32x4.neg(g10), f32x4.neg(g11), half);
    }
  }
  for (; tx < tw; tx++) {
    const s = at(src, 2 * tx);
    const g00 = load<f32>(s), g01 = load<f32>(s, 4), g10 = load<f32>(s + row), g11 = load<f32>(s + row, 4);
    for (let i = 0; i < 4; i++) {
      const t0: f32 = i == 0 ? g00 : i == 1 ? (g00 + g10) * 0.5 : i == 2 ? (g00 - g10) * 0.5 : -g10;
      const t1: f32 = i == 0 ? g01 : i == 1 ? (g01 + g11) * 0.5 : i == 2 ? (g01 - g11) * 0.5 : -g11;
      const q = at(dst, tx) + <usize>(4 * i) * xs;
      store<f32>(q, t0);
      store<f32>(q + xs, (t0 + t1) * 0.5);
      store<f32>(q + 2 * xs, (t0 - t1) * 0.5);
      store<f32>(q + 3 * xs, -t1);
    }
  }
}
