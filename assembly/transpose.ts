// Batched 2-D transpose of 4-byte elements (float32 or int32 alike: only bits move). NHWC ↔ NCHW is one
// call: per image, [H·W, C] ↔ [C, H·W]. The vector path moves 4×4 blocks through registers (two rounds of
// lane shuffles), walking the matrix in 32×32 tiles so that the strided side stays in cache.
import { at, gather4 } from './vec';

const TILE: i32 = 32;

/** dst[b][c][r] = src[b][r][c] for b < B, r < R, c < C (src and dst must not overlap). */
export function transpose2d(src: usize, dst: usize, B: i32, R: i32, C: i32): void {
  const plane = R * C;
  for (let b = 0; b < B; b++) {
    const s = at(src, b * plane), d = at(dst, b * plane);
    for (let r0 = 0; r0 < R; r0 += TILE) {
      const r1 = min(r0 + TILE, R);
      for (let c0 = 0; c0 < C; c0 += TILE) {
        transposeTile(s, d, R, C, r0, r1, c0, min(c0 + TILE, C));
      }
    }
  }
}

/** Rows [r0, r1) × columns [c0, c1) of one R×C matrix into its C×R transpose. */
// @ts-ignore: decorator
@inline function transposeTile(s: usize, d: usize, R: i32, C: i32, r0: i32, r1: i32, c0: i32, c1: i32): void {
  let r = r0;
  if (ASC_FEATURE_SIMD) {
    for (; r + 4 <= r1; r += 4) {
      let c = c0;
      for (; c + 4 <= c1; c += 4) {
        const a0 = v128.load(at(s, r * C + c)), a1 = v128.load(at(s, (r + 1) * C + c));
        const a2 = v128.load(at(s, (r + 2) * C + c)), a3 = v128.load(at(s, (r + 3) * C + c));
        // Interleave row pairs, then pair up their halves: lane j of output k is row j, column k.
        const t0 = i32x4.shuffle(a0, a1, 0, 4, 1, 5), t1 = i32x4.shuffle(a0, a1, 2, 6, 3, 7);
        const t2 = i32x4.shuffle(a2, a3, 0, 4, 1, 5), t3 = i32x4.shuffle(a2, a3, 2, 6, 3, 7);
        v128.store(at(d, c * R + r), i32x4.shuffle(t0, t2, 0, 1, 4, 5));
        v128.store(at(d, (c + 1) * R + r), i32x4.shuffle(t0, t2, 2, 3, 6, 7));
        v128.store(at(d, (c + 2) * R + r), i32x4.shuffle(t1, t3, 0, 1, 4, 5));
        v128.store(at(d, (c + 3) * R + r), i32x4.shuffle(t1, t3, 2, 3, 6, 7));
      }
      for (; c < c1; c++) {
        for (let k = 0; k < 4; k++) store<i32>(at(d, c * R + r + k), load<i32>(at(s, (r + k) * C + c)));
      }
    }
  }
  for (; r < r1; r++) {
    for (let c = c0; c < c1; c++) store<i32>(at(d, c * R + r), load<i32>(at(s, r * C + c)));
  }
}

/**
 * dst = src permuted, any rank, 4-byte elements: dst walks its shape in row-major order while src steps by the
 * permuted strides. meta: i32[3·rank] — the output shape, then each output axis's stride in src (elements), then
 * rank counters (scratch). The innermost output axis is one run: a copy when its src stride is 1, else a (SIMD)
 * strided gather.
 */
export function transpose_nd(src: usize, dst: usize, rank: i32, meta: usize): void {
  const shape = meta, strides = meta + (<usize>rank << 2), idx = meta + (<usize>(2 * rank) << 2);
  let total = 1;
  for (let d = 0; d < rank; d++) { total *= load<i32>(at(shape, d)); store<i32>(at(idx, d), 0); }
  if (total == 0) return;
  const last = rank - 1, inner = load<i32>(at(shape, last)), S = load<i32>(at(strides, last));
  let from = 0;
  for (let o = 0; o < total; o += inner) {
    const s = at(src, from), t = at(dst, o);
    if (S == 1) memory.copy(t, s, <usize>inner << 2);
    else {
      let k = 0;
      if (ASC_FEATURE_SIMD) for (; k + 4 <= inner; k += 4) v128.store(at(t, k), gather4(at(s, k * S), S));
      for (; k < inner; k++) store<f32>(at(t, k), load<f32>(at(s, k * S)));
    }
    // Odometer over the outer output axes.
    for (let d = last - 1; d >= 0; d--) {
      const i = load<i32>(at(idx, d)) + 1, st = load<i32>(at(strides, d));
      from += st;
      if (i < load<i32>(at(shape, d))) { store<i32>(at(idx, d), i); break; }
      from -= st * i;
      store<i32>(at(idx, d), 0);
    }
  }
}
