// Pooling over NCHW planes (P = N·C planes of H×W), forward and backward side by side.
// Window of output (oh, ow): rows oh·SH − PH + kh·DH, columns ow·SW − PW + kw·DW.
import { at, sumf, fillf, gather4 } from './vec';
import { validLo, validHi } from './window';

/**
 * Max pooling: y[p, oh, ow] = max over the window (padding counts as −inf), idx = h·W + w of the first
 * maximum in row-major window order; NaN propagates, the last NaN's index wins (PyTorch's
 * `val > max || isnan(val)`); a window of −inf points at its first in-range element.
 * idx = 0: values only (inference), no indices written.
 */
export function maxpool2d_forward(x: usize, y: usize, idx: usize, P: i32, H: i32, W: i32,
                                  KH: i32, KW: i32, SH: i32, SW: i32, PH: i32, PW: i32, DH: i32, DW: i32,
                                  OH: i32, OW: i32): void {
  // Output columns [owLo, owHi) have windows entirely inside the row: the SIMD path takes them four at a time.
  if (ASC_FEATURE_SIMD && idx == 0 && KH == 2 && KW == 2 && SH == 2 && SW == 2 && DH == 1 && DW == 1 && PH == 0 && PW == 0 &&
      OH * 2 == H && OW * 2 == W && W % 8 == 0) {
    maxpool2x2Values(x, y, P * OH, W);
    return;
  }
  if (ASC_FEATURE_SIMD && KH == 2 && KW == 2 && SH == 2 && SW == 2 && DH == 1 && DW == 1 && PH == 0 && PW == 0 &&
      OH * 2 == H && OW * 2 == W && W % 8 == 0) {
    maxpool2x2Indices(x, y, idx, P, OH, W);
    return;
  }
  const owLo = validLo(-PW, SW, OW), owHi = validHi(-PW, SW, W - (KW - 1) * DW, OW, owLo);   // whole window inside
  for (let p = 0; p < P; p++) {
    const xp = x + (<usize>(p * H * W) << 2);
    const yp = y + (<usize>(p * OH * OW) << 2);
    const ip = idx + (<usize>(p * OH * OW) << 2);
    for (let oh = 0; oh < OH; oh++) {
      const h0 = oh * SH - PH;
      let ow = 0;
      if (ASC_FEATURE_SIMD) {
        for (; ow < owLo; ow++) maxWindow(xp, yp, ip, idx != 0, H, W, KH, KW, DH, DW, h0, ow * SW - PW, oh * OW + ow);
        const laneStep = i32x4.mul(i32x4(0, 1, 2, 3), i32x4.splat(SW));
        if (idx != 0 && KH == 2 && KW == 2 && SH == 2 && SW == 2 && DH == 1 && DW == 1 && h0 >= 0 && h0 + 1 < H) {
          // 2×2 / 2: one pair of loads per input row gives four windows; taps in row-major window order.
          const row0 = xp + (<usize>(h0 * W) << 2), row1 = row0 + (<usize>W << 2);
          for (; ow < owHi && owHi - owLo >= 4; ow += 4) {
            if (ow + 4 > owHi) ow = owHi - 4;   // the last group overlaps the one before: same values stored again
            const w0 = 2 * ow - PW;
            const p0 = at(row0, w0), p1 = at(row1, w0);
            const a0 = v128.load(p0), a1 = v128.load(p0, 16), b0 = v128.load(p1), b1 = v128.load(p1, 16);
            let best = v128.shuffle<f32>(a0, a1, 0, 2, 4, 6);
            let bestIdx = i32x4.add(i32x4.splat(h0 * W + w0), laneStep);
            let v = v128.shuffle<f32>(a0, a1, 1, 3, 5, 7);
            let take = v128.or(f32x4.gt(v, best), f32x4.ne(v, v));
            best = v128.bitselect(v, best, take);
            bestIdx = v128.bitselect(i32x4.add(bestIdx, i32x4.splat(1)), bestIdx, take);
            const belowIdx = i32x4.add(i32x4.splat((h0 + 1) * W + w0), laneStep);
            v = v128.shuffle<f32>(b0, b1, 0, 2, 4, 6);
            take = v128.or(f32x4.gt(v, best), f32x4.ne(v, v));
            best = v128.bitselect(v, best, take);
            bestIdx = v128.bitselect(belowIdx, bestIdx, take);
            v = v128.shuffle<f32>(b0, b1, 1, 3, 5, 7);
            take = v128.or(f32x4.gt(v, best), f32x4.ne(v, v));
            best = v128.bitselect(v, best, take);
            bestIdx = v128.bitselect(i32x4.add(belowIdx, i32x4.splat(1)), bestIdx, take);
            v128.store(at(yp, oh * OW + ow), best);
            v128.store(at(ip, oh * OW + ow), bestIdx);
          }
        }
        for (; ow < owHi && owHi - owLo >= 4; ow += 4) {
          if (ow + 4 > owHi) ow = owHi - 4;   // the last group overlaps the one before: same values stored again
          const w0 = ow * SW - PW;
          let best = f32x4.splat(-Infinity), bestIdx = i32x4.splat(-1);
          let first = true;
          for (let kh = 0; kh < KH; kh++) {
            const h = h0 + kh * DH;
            if (h < 0 || h >= H) continue;
            const row = xp + (<usize>(h * W) << 2);
            for (let kw = 0; kw < KW; kw++) {
              const w = w0 + kw * DW;
              const v = gather4(at(row, w), SW);
              const vi = i32x4.add(i32x4.splat(h * W + w), laneStep);
              // The first in-range element is taken as is; then v > best || isNaN(v), as the scalar path.
              const take = first ? i32x4.splat(-1) : v128.or(f32x4.gt(v, best), f32x4.ne(v, v));
              best = v128.bitselect(v, best, take);
              bestIdx = v128.bitselect(vi, bestIdx, take);
              first = false;
            }
          }
          v128.store(at(yp, oh * OW + ow), best);
          if (idx != 0) v128.store(at(ip, oh * OW + ow), bestIdx);
        }
      }
      for (; ow < OW; ow++) maxWindow(xp, yp, ip, idx != 0, H, W, KH, KW, DH, DW, h0, ow * SW - PW, oh * OW + ow);
    }
  }
}

/**
 * 2×2 / 2 max pooling, values only (inference), when every window is inside: output row r of all planes reads
 * input rows 2r and 2r + 1, so the planes are one run of `rows` row pairs of width W (a multiple of 8).
 * pmax(a, b) = a < b ? b : a is one instruction and keeps the first of equal values, so comparing in row-major
 * window order gives PyTorch's first maximum (also for −0 vs +0); but it drops a NaN in b. A running sum of every
 * tap is NaN whenever a tap is (it may also turn NaN from inf − inf or overflow: harmless), and then the row is
 * redone with the NaN-propagating scalar window.
 */
function maxpool2x2Values(x: usize, y: usize, rows: i32, W: i32): void {
  const OW = W >> 1;
  for (let r = 0; r < rows; r++) {
    const row0 = x + (<usize>(2 * r * W) << 2), row1 = row0 + (<usize>W << 2);
    const yr = y + (<usize>(r * OW) << 2);
    let nanProbe = f32x4.splat(0);
    for (let ow = 0; ow < OW; ow += 4) {
      const p0 = row0 + (<usize>ow << 3), p1 = row1 + (<usize>ow << 3);
      const a0 = v128.load(p0), a1 = v128.load(p0, 16), b0 = v128.load(p1), b1 = v128.load(p1, 16);
      const top = f32x4.pmax(v128.shuffle<f32>(a0, a1, 0, 2, 4, 6), v128.shuffle<f32>(a0, a1, 1, 3, 5, 7));
      const bottom = f32x4.pmax(v128.shuffle<f32>(b0, b1, 0, 2, 4, 6), v128.shuffle<f32>(b0, b1, 1, 3, 5, 7));
      nanProbe = f32x4.add(nanProbe, f32x4.add(f32x4.add(a0, a1), f32x4.add(b0, b1)));
      v128.store(yr + (<usize>ow << 2), f32x4.pmax(top, bottom));
    }
    if (v128.any_true(f32x4.ne(nanProbe, nanProbe))) {
      for (let ow = 0; ow < OW; ow++) maxWindow(row0, yr, 0, false, 2, W, 2, 2, 1, 1, 0, 2 * ow, ow);
    }
  }
}

/**
 * 2×2 / 2 max pooling with indices, every window inside and W a multiple of 8: the 2×2 path of
 * maxpool2d_forward without its per-row edge handling (taps in row-major window order; v > best || isNaN(v)).
 */
function maxpool2x2Indices(x: usize, y: usize, idx: usize, P: i32, OH: i32, W: i32): void {
  const OW = W >> 1;
  const lane2 = i32x4(0, 2, 4, 6), one = i32x4.splat(1);
  for (let p = 0; p < P; p++) {
    for (let oh = 0; oh < OH; oh++) {
      const r = p * OH + oh;
      const row0 = x + (<usize>(2 * r * W) << 2), row1 = row0 + (<usize>W << 2);
      const yr = y + (<usize>(r * OW) << 2), ir = idx + (<usize>(r * OW) << 2);
      for (let ow = 0; ow < OW; ow += 4) {
        const p0 = row0 + (<usize>ow << 3), p1 = row1 + (<usize>ow << 3);
        const a0 = v128.load(p0), a1 = v128.load(p0, 16), b0 = v128.load(p1), b1 = v128.load(p1, 16);
        const topIdx = i32x4.add(i32x4.splat(2 * oh * W + 2 * ow), lane2), belowIdx = i32x4.add(topIdx, i32x4.splat(W));
        let best = v128.shuffle<f32>(a0, a1, 0, 2, 4, 6), bestIdx = topIdx;
        let v = v128.shuffle<f32>(a0, a1, 1, 3, 5, 7);
        let take = v128.or(f32x4.gt(v, best), f32x4.ne(v, v));
        best = v128.bitselect(v, best, take);
        bestIdx = v128.bitselect(i32x4.add(topIdx, one), bestIdx, take);
        v = v128.shuffle<f32>(b0, b1, 0, 2, 4, 6);
        take = v128.or(f32x4.gt(v, best), f32x4.ne(v, v));
        best = v128.bitselect(v, best, take);
        bestIdx = v128.bitselect(belowIdx, bestIdx, take);
        v = v128.shuffle<f32>(b0, b1, 1, 3, 5, 7);
        take = v128.or(f32x4.gt(v, best), f32x4.ne(v, v));
        best = v128.bitselect(v, best, take);
        bestIdx = v128.bitselect(i32x4.add(belowIdx, one), bestIdx, take);
        v128.store(yr + (<usize>ow << 2), best);
        v128.store(ir + (<usize>ow << 2), bestIdx);
      }
    }
  }
}

/** One max-pool window at (h0, w0) written to output position o (the scalar path and the edges). */
// @ts-ignore: decorator
@inline function maxWindow(xp: usize, yp: usize, ip: usize, withIdx: bool, H: i32, W: i32, KH: i32, KW: i32, DH: i32, DW: i32,
                           h0: i32, w0: i32, o: i32): void {
  let best: f32 = -Infinity;
  let bestIdx: i32 = -1;
  for (let kh = 0; kh < KH; kh++) {
    const h = h0 + kh * DH;
    if (h < 0 || h >= H) continue;
    const row = xp + (<usize>(h * W) << 2);
    for (let kw = 0; kw < KW; kw++) {
      const w = w0 + kw * DW;
      if (w < 0 || w >= W) continue;
      const v = load<f32>(at(row, w));
      if (v > best || isNaN(v) || bestIdx < 0) {
        best = v;
        bestIdx = h * W + w;
      }
    }
  }
  store<f32>(at(yp, o), best);
  if (withIdx) store<i32>(at(ip, o), bestIdx);
}

/** dx[p, idx] += dy[p, o] for every output o (dx is zeroed first). Returns how many indices were outside [0, HW) (skipped), and stores it at badOut (an i32) unless that is 0
 * (a worker thread's return value is not seen by the caller). */
export function maxpool2d_backward(dy: usize, idx: usize, dx: usize, P: i32, HW: i32, OHW: i32, badOut: usize): i32 {
  let bad = 0;
  for (let p = 0; p < P; p++) {
    const dyp = dy + (<usize>(p * OHW) << 2);
    const ip = idx + (<usize>(p * OHW) << 2);
    const dxp = dx + (<usize>(p * HW) << 2);
    // Zeroed plane by plane, just before its scatter: the plane is still in L1 for it (a whole run's planes zeroed
    // first would be written out to memory and read back once they pass the L2's size).
    memory.fill(dxp, 0, <usize>HW << 2);
    for (let o = 0; o < OHW; o++) {
      const i = load<i32>(at(ip, o));
      if (<u32>i >= <u32>HW) { bad++; continue; }
      const d = at(dxp, i);
      store<f32>(d, load<f32>(d) + load<f32>(at(dyp, o)));
    }
  }
  if (badOut) store<i32>(badOut, bad);
  return bad;
}

/**
 * The divisor of average-pool output (oh, ow), PyTorch's rule: the window clipped to the padded input
 * (countIncludePad) or to the input itself; divisorOverride > 0 replaces it. Returns 0 for an empty window.
 */
// @ts-ignore: decorator
@inline function avgDivisor(h0: i32, w0: i32, H: i32, W: i32, KH: i32, KW: i32, PH: i32, PW: i32,
                            countIncludePad: i32, divisorOverride: i32): i32 {
  const h1p = min(h0 + KH, H + PH), w1p = min(w0 + KW, W + PW);
  const padded = (h1p - h0) * (w1p - w0);
  const hs = max(h0, 0), ws = max(w0, 0), he = min(h1p, H), we = min(w1p, W);
  if (hs >= he || ws >= we) return 0;
  if (divisorOverride > 0) return divisorOverride;
  return countIncludePad ? padded : (he - hs) * (we - ws);
}

/** Average pooling: y = Σ window / divisor (see avgDivisor); an empty window gives 0. */
export function avgpool2d_forward(x: usize, y: usize, P: i32, H: i32, W: i32,
                                  KH: i32, KW: i32, SH: i32, SW: i32, PH: i32, PW: i32, OH: i32, OW: i32,
                                  countIncludePad: i32, divisorOverride: i32): void {
  const owLo = validLo(-PW, SW, OW), owHi = validHi(-PW, SW, W - (KW - 1), OW, owLo);
  for (let p = 0; p < P; p++) {
    const xp = x + (<usize>(p * H * W) << 2);
    const yp = y + (<usize>(p * OH * OW) << 2);
    for (let oh = 0; oh < OH; oh++) {
      const h0 = oh * SH - PH;
      const hs = max(h0, 0), he = min(h0 + KH, H);
      let ow = 0;
      if (ASC_FEATURE_SIMD) {
        for (; ow < owLo; ow++) avgWindow(xp, yp, H, W, KH, KW, PH, PW, h0, ow * SW - PW, oh * OW + ow, countIncludePad, divisorOverride);
        // Interior columns: windows lie inside the row, so all four lanes share one divisor.
        for (; ow < owHi && owHi - owLo >= 4; ow += 4) {
          if (ow + 4 > owHi) ow = owHi - 4;   // the last group overlaps the one before: same values stored again
          const w0 = ow * SW - PW;
          const div = avgDivisor(h0, w0, H, W, KH, KW, PH, PW, countIncludePad, divisorOverride);
          let s = f32x4.splat(0);
          for (let h = hs; h < he; h++) {
            const row = xp + (<usize>(h * W) << 2);
            for (let kw = 0; kw < KW; kw++) s = f32x4.add(s, gather4(at(row, w0 + kw), SW));
          }
          v128.store(at(yp, oh * OW + ow), div != 0 ? f32x4.div(s, f32x4.splat(<f32>div)) : f32x4.splat(0));
        }
      }
      for (; ow < OW; ow++) avgWindow(xp, yp, H, W, KH, KW, PH, PW, h0, ow * SW - PW, oh * OW + ow, countIncludePad, divisorOverride);
    }
  }
}

/** One average-pool window at (h0, w0) written to output position o (the scalar path and the edges). */
// @ts-ignore: decorator
@inline function avgWindow(xp: usize, yp: usize, H: i32, W: i32, KH: i32, KW: i32, PH: i32, PW: i32,
                           h0: i32, w0: i32, o: i32, countIncludePad: i32, divisorOverride: i32): void {
  const div = avgDivisor(h0, w0, H, W, KH, KW, PH, PW, countIncludePad, divisorOverride);
  let s: f32 = 0;
  if (div != 0) {
    const hs = max(h0, 0), he = min(h0 + KH, H), ws = max(w0, 0), we = min(w0 + KW, W);
    for (let h = hs; h < he; h++) {
      const row = xp + (<usize>(h * W) << 2);
      for (let w = ws; w < we; w++) s += load<f32>(at(row, w));
    }
    s /= <f32>div;
  }
  store<f32>(at(yp, o), s);
}

/** Adjoint of avgpool2d_forward: each dy / divisor is added to every input position of its window. */
export function avgpool2d_backward(dy: usize, dx: usize, P: i32, H: i32, W: i32,
                                   KH: i32, KW: i32, SH: i32, SW: i32, PH: i32, PW: i32, OH: i32, OW: i32,
                                   countIncludePad: i32, divisorOverride: i32): void {
  memory.fill(dx, 0, <usize>(P * H * W) << 2);
  const owLo = validLo(-PW, SW, OW), owHi = validHi(-PW, SW, W - (KW - 1), OW, owLo);
  for (let p = 0; p < P; p++) {
    const dxp = dx + (<usize>(p * H * W) << 2);
    const dyp = dy + (<usize>(p * OH * OW) << 2);
    for (let oh = 0; oh < OH; oh++) {
      const h0 = oh * SH - PH;
      const hs = max(h0, 0), he = min(h0 + KH, H);
      let ow = 0;
      if (ASC_FEATURE_SIMD) {
        // Interior groups of four windows (one shared divisor) whose columns are contiguous in dx:
        // stride 1 (overlapping windows: one vector add per tap) or kernel = stride = 2 (g0 g0 g1 g1 …).
        if (SW == 1 || (SW == 2 && KW == 2)) {
          for (; ow < owLo; ow++) avgWindowBackward(dxp, dyp, H, W, KH, KW, PH, PW, h0, ow * SW - PW, oh * OW + ow, countIncludePad, divisorOverride);
          for (; ow + 4 <= owHi; ow += 4) {
            const w0 = ow * SW - PW;
            const div = avgDivisor(h0, w0, H, W, KH, KW, PH, PW, countIncludePad, divisorOverride);
            if (div == 0) continue;
            const g = f32x4.div(v128.load(at(dyp, oh * OW + ow)), f32x4.splat(<f32>div));
            for (let h = hs; h < he; h++) {
              const row = dxp + (<usize>(h * W + w0) << 2);
              if (SW == 1) {
                for (let kw = 0; kw < KW; kw++) v128.store(at(row, kw), f32x4.add(v128.load(at(row, kw)), g));
              } else {
                v128.store(row, f32x4.add(v128.load(row), v128.shuffle<f32>(g, g, 0, 0, 1, 1)));
                v128.store(row, f32x4.add(v128.load(row, 16), v128.shuffle<f32>(g, g, 2, 2, 3, 3)), 16);
              }
            }
          }
        }
      }
      for (; ow < OW; ow++) avgWindowBackward(dxp, dyp, H, W, KH, KW, PH, PW, h0, ow * SW - PW, oh * OW + ow, countIncludePad, divisorOverride);
    }
  }
}

/** Adds one window's dy / divisor onto dx (the scalar path and the edges). */
// @ts-ignore: decorator
@inline function avgWindowBackward(dxp: usize, dyp: usize, H: i32, W: i32, KH: i32, KW: i32, PH: i32, PW: i32,
                                   h0: i32, w0: i32, o: i32, countIncludePad: i32, divisorOverride: i32): void {
  const hs = max(h0, 0), he = min(h0 + KH, H);
  const div = avgDivisor(h0, w0, H, W, KH, KW, PH, PW, countIncludePad, divisorOverride);
  if (div == 0) return;
  const g = load<f32>(at(dyp, o)) / <f32>div;
  const ws = max(w0, 0), we = min(w0 + KW, W);
  for (let h = hs; h < he; h++) {
    const row = dxp + (<usize>(h * W) << 2);
    for (let w = ws; w < we; w++) store<f32>(at(row, w), load<f32>(at(row, w)) + g);
  }
}

/** y[p] = mean of plane p (global average pooling, HW = H·W). */
export function global_avgpool_forward(x: usize, y: usize, P: i32, HW: i32): void {
  for (let p = 0; p < P; p++) {
    store<f32>(at(y, p), sumf(x + (<usize>(p * HW) << 2), HW) / <f32>HW);
  }
}

/** dx[p, :] = dy[p] / HW. */
export function global_avgpool_backward(dy: usize, dx: usize, P: i32, HW: i32): void {
  for (let p = 0; p < P; p++) {
    fillf(dx + (<usize>(p * HW) << 2), HW, load<f32>(at(dy, p)) / <f32>HW);
  }
}
