// 2-D convolution (conv1d is the H = 1 case), NCHW, weights [Cout, Cin/groups, KH, KW], as GEMMs:
//   forward:         Y_g[Mg × P] = W_g[Mg × K] · col_g[K × P]          (K = Cg·KH·KW, P = OH·OW)
//   backward data:   dcol_g[K × P] = W_gᵀ · dY_g, then col2im adds dcol back onto dX
//   backward filter: dW_g[Mg × K] += dY_g · col_gᵀ, summed over the batch
// col is the im2col matrix: col[(c·KH + kh)·KW + kw, oh·OW + ow] = x[c, ih, iw] with
// ih = oh·SH − PT + kh·DH, iw = ow·SW − PL + kw·DW, and out-of-range (ih, iw) mapped by the padding mode.
// A 1×1, stride-1, unpadded convolution skips im2col: col is x itself. Depthwise convolution with zero
// padding runs the direct kernels of depthwise.ts instead.
import { sgemm, sgemm_bias, sgemm_conv, sgemm_packed, sgemm_scratch_bytes, pack_a_bytes, pack_a, channel_sum, MR, NR } from './gemm';
import { at } from './vec';
import { im2colPadded, col2im, padImage, paddedRows, writeGeometry, GEOMETRY_BYTES, PAD_ZEROS } from './im2col';
import { depthwise_forward, depthwise_backward_data, depthwise_backward_filter, depthwise_scratch_bytes } from './depthwise';
import { useDirect, directPrepare, directForward, directFilter, directTableBytes } from './conv-direct';

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
export function conv2d_scratch_bytes(N: i32, Cin: i32, H: i32, W: i32, Cout: i32, KH: i32, KW: i32,
                                     SH: i32, SW: i32, PT: i32, PL: i32, DH: i32, DW: i32, OH: i32, OW: i32,
                                     groups: i32, mode: i32): i32 {
  const Cg = Cin / groups, K = Cg * KH * KW, P = OH * OW, Mg = Cout / groups;
  const Hp = paddedRows(H, KH, SH, PT, DH, OH), Wp = paddedRows(W, KW, SW, PL, DW, OW);
  const forward = GEOMETRY_BYTES + 64 + ((Cg * Hp * Wp * 4 + 64 + 15) & ~15);
  const image = (Cg * Hp * Wp * 4 + 64 + 15) & ~15;
  const backward = ((K * P * 4 + 15) & ~15) + ((K * Mg * 4 + 15) & ~15) + image;
  const gemm = max(forward, backward) + max(sgemm_scratch_bytes(), directTableBytes(K, Cout));
  if (!isDepthwise(Cin, groups, mode)) return gemm;
  return max(gemm, depthwise_scratch_bytes(H, W, KH, KW, SH, SW, PT, PL, DH, DW, OH, OW));
}

/** 1 when conv2d_forward / conv2d_backward_filter run this geometry directly (conv-direct.ts), else 0. */
export function conv2d_is_direct(Cin: i32, H: i32, W: i32, Cout: i32, KH: i32, KW: i32, SH: i32, SW: i32, PT: i32, PL: i32,
                                 OH: i32, OW: i32, groups: i32): i32 {
  return useDirect(Cin, Cout, KH, KW, SW, groups, isPointwise(KH, KW, SH, SW, PT, PL, H, W, OH, OW)) ? 1 : 0;
}

/** Rows and columns a GEMM computes once both are rounded up to whole micro-tiles (its padded area). */
// @ts-ignore: decorator
@inline function paddedArea(M: i32, N: i32): i32 {
  return ((M + MR - 1) / MR) * MR * (((N + NR - 1) / NR) * NR);
}

/** y[N, Cout, OH, OW] = conv(x[N, Cin, H, W], w[Cout, Cin/groups, KH, KW]) + b[Cout] (b = 0: no bias). */
export function conv2d_forward(x: usize, w: usize, b: usize, y: usize,
                               N: i32, Cin: i32, H: i32, W: i32, Cout: i32, KH: i32, KW: i32,
                               SH: i32, SW: i32, PT: i32, PL: i32, DH: i32, DW: i32, OH: i32, OW: i32,
                               groups: i32, mode: i32, scratch: usize, packedW: usize): void {
  if (isDepthwise(Cin, groups, mode)) {
    depthwise_forward(x, w, b, y, N, Cin, H, W, Cout / Cin, KH, KW, SH, SW, PT, PL, DH, DW, OH, OW, scratch);
    return;
  }
  const Cg = Cin / groups, Mg = Cout / groups, K = Cg * KH * KW, P = OH * OW;
  const pointwise = isPointwise(KH, KW, SH, SW, PT, PL, H, W, OH, OW);
  // The forward needs no col matrix: B panels are packed straight from a padded copy of the image
  // (implicit im2col; the copy applies the padding mode once, so packing never bounds-checks).
  const Hp = paddedRows(H, KH, SH, PT, DH, OH), Wp = paddedRows(W, KW, SW, PL, DW, OW);
  const geometry = scratch;
  const image = scratch + GEOMETRY_BYTES + 64;                       // 64: room for loads reaching back
  const gemmScratch = image + ((<usize>(Cg * Hp * Wp) * 4 + 64 + 15) & ~15);
  if (ASC_FEATURE_SIMD) {
    if (useDirect(Cin, Cout, KH, KW, SW, groups, pointwise)) {
      directPrepare(w, Cin, Cout, KH, KW, DH, DW, Hp, Wp, gemmScratch, true);
      for (let n = 0; n < N; n++) {
        padImage(x + (<usize>(n * Cin * H * W) << 2), Cin, H, W, PT, PL, mode, Hp, Wp, image);
        directForward(image, Wp, SH, gemmScratch, K, Cout, b, y + (<usize>(n * Cout * P) << 2), OH, OW);
      }
      return;
    }
  }
  writeGeometry(geometry, Cg, Hp, Wp, KH, KW, SH, SW, DH, DW, OW);
  for (let n = 0; n < N; n++) {
    for (let g = 0; g < groups; g++) {
      const xg = x + (<usize>((n * Cin + g * Cg) * H * W) << 2);
      const yg = y + (<usize>((n * Cout + g * Mg) * P) << 2);
      const bg = b ? at(b, g * Mg) : 0;   // the bias of this group's output channels, per GEMM row
      const wg = w + (<usize>(g * Mg * K) << 2);
      const pw = packedW ? packedW + <usize>(g * pack_a_bytes(Mg, K)) : 0;
      if (pointwise) {
        if (pw) sgemm_packed(Mg, P, K, pw, xg, P, 1, yg, P, 0, gemmScratch, bg);
        else sgemm_bias(Mg, P, K, wg, K, 1, xg, P, 1, yg, P, bg, 0, gemmScratch);
      } else {
        padImage(xg, Cg, H, W, PT, PL, mode, Hp, Wp, image);
        sgemm_conv(Mg, P, K, wg, K, 1, pw, image, geometry, yg, P, gemmScratch, bg);
      }
    }
  }
}

/**
 * One image, groups = 1, split over threads by output pixels (GEMM columns) instead of output channels, so that
 * no thread repeats another's image padding and B packing: conv2d_prepare_image writes the geometry and the padded
 * image once into `prepared` (conv2d_scratch_bytes of room; nothing for a pointwise conv), then each thread runs
 * conv2d_forward_columns on output pixels [j0, j1) with its own GEMM scratch.
 */
export function conv2d_prepare_image(x: usize, N: i32, Cin: i32, H: i32, W: i32, Cout: i32, KH: i32, KW: i32,
                                     SH: i32, SW: i32, PT: i32, PL: i32, DH: i32, DW: i32, OH: i32, OW: i32,
                                     groups: i32, mode: i32, prepared: usize): void {
  if (isPointwise(KH, KW, SH, SW, PT, PL, H, W, OH, OW)) return;
  const Hp = paddedRows(H, KH, SH, PT, DH, OH), Wp = paddedRows(W, KW, SW, PL, DW, OW);
  writeGeometry(prepared, Cin, Hp, Wp, KH, KW, SH, SW, DH, DW, OW);
  padImage(x, Cin, H, W, PT, PL, mode, Hp, Wp, prepared + GEOMETRY_BYTES + 64);
}

export function conv2d_forward_columns(x: usize, w: usize, b: usize, y: usize,
                                       N: i32, Cin: i32, H: i32, W: i32, Cout: i32, KH: i32, KW: i32,
                                       SH: i32, SW: i32, PT: i32, PL: i32, DH: i32, DW: i32, OH: i32, OW: i32,
                                       groups: i32, mode: i32, prepared: usize, j0: i32, j1: i32,
                                       scratch: usize, packedW: usize): void {
  const K = Cin * KH * KW, P = OH * OW, n = j1 - j0;
  if (isPointwise(KH, KW, SH, SW, PT, PL, H, W, OH, OW)) {
    if (packedW) sgemm_packed(Cout, n, K, packedW, at(x, j0), P, 1, at(y, j0), P, 0, scratch, b);
    else sgemm_bias(Cout, n, K, w, K, 1, at(x, j0), P, 1, at(y, j0), P, b, 0, scratch);
    return;
  }
  sgemm_conv(Cout, n, K, w, K, 1, packedW, prepared + GEOMETRY_BYTES + 64, prepared, at(y, j0), P, scratch, b, j0);
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

/**
 * conv2d_backward_data for one image, groups = 1, input channels [c0, c1) only — the split over threads: rows
 * [c0·taps, c1·taps) of dcol = Wᵀ·dY (taps = KH·KW) are exactly the rows col2im adds onto channels [c0, c1), so
 * each thread computes its own rows and adds them onto its own channels of dx (no thread writes another's).
 */
export function conv2d_backward_data_channels(dy: usize, w: usize, dx: usize,
                                              N: i32, Cin: i32, H: i32, W: i32, Cout: i32, KH: i32, KW: i32,
                                              SH: i32, SW: i32, PT: i32, PL: i32, DH: i32, DW: i32, OH: i32, OW: i32,
                                              groups: i32, mode: i32, c0: i32, c1: i32, scratch: usize): void {
  const taps = KH * KW, K = Cin * taps, P = OH * OW, C = c1 - c0, rows = C * taps;
  const pointwise = isPointwise(KH, KW, SH, SW, PT, PL, H, W, OH, OW);
  const dxc = dx + (<usize>(c0 * H * W) << 2);
  const col = scratch;
  const gemmScratch = scratch + ((<usize>(rows * P) * 4 + 15) & ~15);
  // dcol[rows × P] = (Wᵀ)[c0·taps.., :] · dY: A[k, m] = w[m, c0·taps + k] (row stride 1, column stride K).
  sgemm(rows, P, Cout, w + (<usize>(c0 * taps) << 2), 1, K, dy, P, 1, pointwise ? dxc : col, P, 0, gemmScratch);
  if (pointwise) return;
  memory.fill(dxc, 0, <usize>(C * H * W) << 2);
  col2im(col, C, H, W, KH, KW, SH, SW, PT, PL, DH, DW, OH, OW, mode, dxc);
}

/**
 * conv2d_backward_filter (no db) for one image, groups = 1, input channels [c0, c1) only — the split over threads:
 * columns [c0·taps, c1·taps) of dW = dY·colᵀ need only those channels' im2col rows, so each thread pads and unfolds
 * its own channels and writes its own columns of dW (no partial sums to add up).
 */
export function conv2d_backward_filter_channels(dy: usize, x: usize, dw: usize,
                                                N: i32, Cin: i32, H: i32, W: i32, Cout: i32, KH: i32, KW: i32,
                                                SH: i32, SW: i32, PT: i32, PL: i32, DH: i32, DW: i32, OH: i32, OW: i32,
                                                groups: i32, mode: i32, c0: i32, c1: i32, scratch: usize): void {
  const taps = KH * KW, K = Cin * taps, P = OH * OW, C = c1 - c0, Kp = C * taps;
  const pointwise = isPointwise(KH, KW, SH, SW, PT, PL, H, W, OH, OW);
  const Hp = paddedRows(H, KH, SH, PT, DH, OH), Wp = paddedRows(W, KW, SW, PL, DW, OW);
  const col = scratch;
  const dwT = col + ((<usize>(Kp * P) * 4 + 15) & ~15);
  const image = dwT + ((<usize>(Kp * Cout) * 4 + 15) & ~15);
  const gemmScratch = image + ((<usize>(C * Hp * Wp) * 4 + 64 + 15) & ~15);
  const xc = x + (<usize>(c0 * H * W) << 2);
  if (!pointwise) {
    padImage(xc, C, H, W, PT, PL, mode, Hp, Wp, image);
    im2colPadded(image, C, Hp, Wp, KH, KW, SH, SW, DH, DW, OH, OW, col);
  }
  const B = pointwise ? xc : col;
  const dwc = dw + (<usize>(c0 * taps) << 2);
  if (paddedArea(Kp, Cout) * 5 < paddedArea(Cout, Kp) * 4) {
    // dWᵀ[Kp × Cout] = col·dYᵀ (fewer wasted micro-tile lanes), then copied into dW's columns.
    sgemm(Kp, Cout, P, B, P, 1, dy, 1, P, dwT, Cout, 0, gemmScratch);
    for (let m = 0; m < Cout; m++) {
      for (let k = 0; k < Kp; k++) store<f32>(at(dwc, m * K + k), load<f32>(at(dwT, k * Cout + m)));
    }
  } else {
    // dW[:, c0·taps..] = dY[Cout × P] · colᵀ: B[p, k] = col[k, p]; C's rows are K apart.
    sgemm(Cout, Kp, P, dy, P, 1, B, 1, P, dwc, K, 0, gemmScratch);
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
  const Hp = paddedRows(H, KH, SH, PT, DH, OH), Wp = paddedRows(W, KW, SW, PL, DW, OW);
  const col = scratch;
  const dwT = col + ((<usize>(K * P) * 4 + 15) & ~15);
  const image = dwT + ((<usize>(K * Mg) * 4 + 15) & ~15);
  const gemmScratch = image + ((<usize>(Cg * Hp * Wp) * 4 + 64 + 15) & ~15);
  if (ASC_FEATURE_SIMD) {
    if (useDirect(Cin, Cout, KH, KW, SW, groups, pointwise)) {
      directPrepare(0, Cin, Cout, KH, KW, DH, DW, Hp, Wp, gemmScratch, false);
      for (let n = 0; n < N; n++) {
        padImage(x + (<usize>(n * Cin * H * W) << 2), Cin, H, W, PT, PL, mode, Hp, Wp, image);
        directFilter(image, Wp, SH, gemmScratch, K, KW, DW, Cout, dy + (<usize>(n * Cout * P) << 2), OH, OW, dw, n > 0);
      }
      if (db) channel_sum(dy, N, Cout, P, 0, Cout, db);
      return;
    }
  }
  // dW_g = Σ_n dY_g·colᵀ [Mg × K], or as its transpose col·dY_gᵀ [K × Mg] when that wastes much less of the
  // micro-tiles (few taps: a 1-channel 3×3 conv has K = 9, one full and one ninth-full 8-column panel).
  const transposed = paddedArea(K, Mg) * 5 < paddedArea(Mg, K) * 4;
  for (let g = 0; g < groups; g++) {
    for (let n = 0; n < N; n++) {
      const xg = x + (<usize>((n * Cin + g * Cg) * H * W) << 2);
      if (!pointwise) {
        padImage(xg, Cg, H, W, PT, PL, mode, Hp, Wp, image);
        im2colPadded(image, Cg, Hp, Wp, KH, KW, SH, SW, DH, DW, OH, OW, col);
      }
      const B = pointwise ? xg : col;
      const dyg = dy + (<usize>((n * Cout + g * Mg) * P) << 2);
      if (transposed) {
        // dWᵀ[K × Mg] += col[K × P] · dY_gᵀ: B[p, m] = dy[m, p] (row stride 1, column stride P).
        sgemm(K, Mg, P, B, P, 1, dyg, 1, P, dwT, Mg, n > 0 ? 1 : 0, gemmScratch);
      } else {
        // dW_g[Mg × K] += dY_g[Mg × P] · colᵀ: B[p, k] = col[k, p] (row stride 1, column stride P).
        sgemm(Mg, K, P, dyg, P, 1, B, 1, P, dw + (<usize>(g * Mg * K) << 2), K, n > 0 ? 1 : 0, gemmScratch);
      }
    }
    if (transposed) {
      const dwg = dw + (<usize>(g * Mg * K) << 2);
      for (let m = 0; m < Mg; m++) {
        for (let k = 0; k < K; k++) store<f32>(at(dwg, m * K + k), load<f32>(at(dwT, k * Mg + m)));
      }
    }
  }
  if (db) channel_sum(dy, N, Cout, P, 0, Cout, db);
}
