// 2-D convolution (conv1d is the H = 1 case), NCHW, weights [Cout, Cin/groups, KH, KW], as GEMMs:
//   forward:         Y_g[Mg × P] = W_g[Mg × K] · col_g[K × P]          (K = Cg·KH·KW, P = OH·OW)
//   backward data:   dcol_g[K × P] = W_gᵀ · dY_g, then col2im adds dcol back onto dX
//   backward filter: dW_g[Mg × K] += dY_g · col_gᵀ, summed over the batch
// col is the im2col matrix: col[(c·KH + kh)·KW + kw, oh·OW + ow] = x[c, ih, iw] with
// ih = oh·SH − PT + kh·DH, iw = ow·SW − PL + kw·DW, and out-of-range (ih, iw) mapped by the padding mode.
// A 1×1, stride-1, unpadded convolution skips im2col: col is x itself. Depthwise convolution with zero
// padding runs the direct kernels of depthwise.ts instead.
import { sgemm, sgemm_bias, sgemm_packed, sgemm_scratch_bytes, pack_a_bytes, pack_a, channel_sum } from './gemm';
import { at } from './vec';
import { validLo, validHi } from './window';
import { depthwise_forward, depthwise_backward_data, depthwise_backward_filter } from './depthwise';

export const PAD_ZEROS: i32 = 0;
export const PAD_REFLECT: i32 = 1;
export const PAD_REPLICATE: i32 = 2;
export const PAD_CIRCULAR: i32 = 3;

/** Where padded coordinate i (−pad ≤ i < n + pad) reads from, or −1 for a zero. Mirrors torch.nn.functional.pad. */
// @ts-ignore: decorator
@inline function mapIndex(i: i32, n: i32, mode: i32): i32 {
  if (i >= 0 && i < n) return i;
  if (mode == PAD_ZEROS) return -1;
  if (mode == PAD_REFLECT) return i < 0 ? -i : 2 * n - 2 - i;
  if (mode == PAD_REPLICATE) return i < 0 ? 0 : n - 1;
  const r = i % n;                       // circular
  return r < 0 ? r + n : r;
}

/** Builds col [C·KH·KW × OH·OW] from one group's x [C, H, W]. */
function im2col(x: usize, C: i32, H: i32, W: i32, KH: i32, KW: i32, SH: i32, SW: i32,
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
function col2im(col: usize, C: i32, H: i32, W: i32, KH: i32, KW: i32, SH: i32, SW: i32,
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

/** Depthwise (one input channel per group, zero padding): the direct kernels of depthwise.ts. */
// @ts-ignore: decorator
@inline function isDepthwise(Cin: i32, groups: i32, mode: i32): bool {
  return groups > 1 && groups == Cin && mode == PAD_ZEROS;
}

// @ts-ignore: decorator
@inline function isPointwise(KH: i32, KW: i32, SH: i32, SW: i32, PT: i32, PL: i32, H: i32, W: i32, OH: i32, OW: i32): bool {
  return KH == 1 && KW == 1 && SH == 1 && SW == 1 && PT == 0 && PL == 0 && OH == H && OW == W;
}

/**
 * Packs the weights for the GEMM of conv2d_forward (transposed = 0: W_g [Mg × K] per group) or of
 * conv2d_backward_data (transposed = 1: W_gᵀ [K × Mg]), groups one after another; conv2d_packed_bytes
 * gives the size. Packing once per weight update saves re-packing per image and per call.
 */
export function conv2d_pack_weights(w: usize, Cout: i32, K: i32, groups: i32, transposed: i32, dst: usize): void {
  const Mg = Cout / groups;
  for (let g = 0; g < groups; g++) {
    const wg = w + (<usize>(g * Mg * K) << 2);
    if (transposed) pack_a(wg, 1, K, K, Mg, dst + <usize>(g * pack_a_bytes(K, Mg)));
    else pack_a(wg, K, 1, Mg, K, dst + <usize>(g * pack_a_bytes(Mg, K)));
  }
}

export function conv2d_packed_bytes(Cout: i32, K: i32, groups: i32, transposed: i32): i32 {
  const Mg = Cout / groups;
  return groups * (transposed ? pack_a_bytes(K, Mg) : pack_a_bytes(Mg, K));
}

/** Scratch bytes the three conv kernels need for a group's col matrix of K×P floats plus the GEMM's packing. */
export function conv2d_scratch_bytes(K: i32, P: i32): i32 {
  return ((K * P * 4 + 15) & ~15) + sgemm_scratch_bytes();
}

/** y[N, Cout, OH, OW] = conv(x[N, Cin, H, W], w[Cout, Cin/groups, KH, KW]) + b[Cout] (b = 0: no bias). */
export function conv2d_forward(x: usize, w: usize, b: usize, y: usize,
                               N: i32, Cin: i32, H: i32, W: i32, Cout: i32, KH: i32, KW: i32,
                               SH: i32, SW: i32, PT: i32, PL: i32, DH: i32, DW: i32, OH: i32, OW: i32,
                               groups: i32, mode: i32, scratch: usize, packedW: usize): void {
  if (isDepthwise(Cin, groups, mode)) {
    depthwise_forward(x, w, b, y, N, Cin, H, W, Cout / Cin, KH, KW, SH, SW, PT, PL, DH, DW, OH, OW);
    return;
  }
  const Cg = Cin / groups, Mg = Cout / groups, K = Cg * KH * KW, P = OH * OW;
  const pointwise = isPointwise(KH, KW, SH, SW, PT, PL, H, W, OH, OW);
  const col = scratch;
  const gemmScratch = scratch + ((<usize>(K * P) * 4 + 15) & ~15);
  for (let n = 0; n < N; n++) {
    for (let g = 0; g < groups; g++) {
      const xg = x + (<usize>((n * Cin + g * Cg) * H * W) << 2);
      if (!pointwise) im2col(xg, Cg, H, W, KH, KW, SH, SW, PT, PL, DH, DW, OH, OW, mode, col);
      const yg = y + (<usize>((n * Cout + g * Mg) * P) << 2);
      const bg = b ? at(b, g * Mg) : 0;   // the bias of this group's output channels, per GEMM row
      if (packedW) {
        sgemm_packed(Mg, P, K, packedW + <usize>(g * pack_a_bytes(Mg, K)), pointwise ? xg : col, P, 1, yg, P, 0, gemmScratch, bg);
      } else {
        sgemm_bias(Mg, P, K, w + (<usize>(g * Mg * K) << 2), K, 1, pointwise ? xg : col, P, 1, yg, P, bg, 0, gemmScratch);
      }
    }
  }
}

/** dx[N, Cin, H, W] = conv2d_forward's adjoint in x applied to dy[N, Cout, OH, OW]. */
export function conv2d_backward_data(dy: usize, w: usize, dx: usize,
                                     N: i32, Cin: i32, H: i32, W: i32, Cout: i32, KH: i32, KW: i32,
                                     SH: i32, SW: i32, PT: i32, PL: i32, DH: i32, DW: i32, OH: i32, OW: i32,
                                     groups: i32, mode: i32, scratch: usize, packedWT: usize): void {
  if (isDepthwise(Cin, groups, mode)) {
    depthwise_backward_data(dy, w, dx, N, Cin, H, W, Cout / Cin, KH, KW, SH, SW, PT, PL, DH, DW, OH, OW);
    return;
  }
  const Cg = Cin / groups, Mg = Cout / groups, K = Cg * KH * KW, P = OH * OW;
  const pointwise = isPointwise(KH, KW, SH, SW, PT, PL, H, W, OH, OW);
  const col = scratch;
  const gemmScratch = scratch + ((<usize>(K * P) * 4 + 15) & ~15);
  if (!pointwise) memory.fill(dx, 0, <usize>(N * Cin * H * W) << 2);
  for (let n = 0; n < N; n++) {
    for (let g = 0; g < groups; g++) {
      const dxg = dx + (<usize>((n * Cin + g * Cg) * H * W) << 2);
      // dcol[K × P] = W_gᵀ · dY_g: A[k, m] = w[g, m, k] (row stride 1, column stride K).
      const dyg = dy + (<usize>((n * Cout + g * Mg) * P) << 2);
      if (packedWT) {
        sgemm_packed(K, P, Mg, packedWT + <usize>(g * pack_a_bytes(K, Mg)), dyg, P, 1, pointwise ? dxg : col, P, 0, gemmScratch, 0);
      } else {
        sgemm(K, P, Mg, w + (<usize>(g * Mg * K) << 2), 1, K, dyg, P, 1, pointwise ? dxg : col, P, 0, gemmScratch);
      }
      if (!pointwise) col2im(col, Cg, H, W, KH, KW, SH, SW, PT, PL, DH, DW, OH, OW, mode, dxg);
    }
  }
}

/** dw[Cout, Cin/groups, KH, KW] = Σ_n dY_g · col_gᵀ; db[Cout] = Σ dy over batch and positions (db = 0: skip). */
export function conv2d_backward_filter(dy: usize, x: usize, dw: usize, db: usize,
                                       N: i32, Cin: i32, H: i32, W: i32, Cout: i32, KH: i32, KW: i32,
                                       SH: i32, SW: i32, PT: i32, PL: i32, DH: i32, DW: i32, OH: i32, OW: i32,
                                       groups: i32, mode: i32, scratch: usize): void {
  if (isDepthwise(Cin, groups, mode)) {
    depthwise_backward_filter(dy, x, dw, db, N, Cin, H, W, Cout / Cin, KH, KW, SH, SW, PT, PL, DH, DW, OH, OW);
    return;
  }
  const Cg = Cin / groups, Mg = Cout / groups, K = Cg * KH * KW, P = OH * OW;
  const pointwise = isPointwise(KH, KW, SH, SW, PT, PL, H, W, OH, OW);
  const col = scratch;
  const gemmScratch = scratch + ((<usize>(K * P) * 4 + 15) & ~15);
  for (let n = 0; n < N; n++) {
    for (let g = 0; g < groups; g++) {
      const xg = x + (<usize>((n * Cin + g * Cg) * H * W) << 2);
      if (!pointwise) im2col(xg, Cg, H, W, KH, KW, SH, SW, PT, PL, DH, DW, OH, OW, mode, col);
      // dW_g[Mg × K] += dY_g[Mg × P] · colᵀ: B[p, k] = col[k, p] (row stride 1, column stride P).
      sgemm(Mg, K, P,
            dy + (<usize>((n * Cout + g * Mg) * P) << 2), P, 1,
            pointwise ? xg : col, 1, P,
            dw + (<usize>(g * Mg * K) << 2), K, n > 0 ? 1 : 0, gemmScratch);
    }
  }
  if (db) channel_sum(dy, N, Cout, P, db);
}
