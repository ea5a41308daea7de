// Adaptive average and max pooling over NCHW planes (P = N·C planes of H×W → OH×OW), PyTorch's windows:
// output row oh covers input rows [⌊oh·H/OH⌋, ⌈(oh+1)·H/OH⌉), columns likewise, so neighbouring windows
// overlap by a row/column when H is not a multiple of OH. Forward and backward side by side.
// (Max pooling's backward is maxpool2d_backward of pool.ts: dx[p, idx] += dy.)
import { at, sumf } from './vec';

/** First input index of adaptive window o: ⌊o·L/O⌋. */
// @ts-ignore: decorator
@inline function winStart(o: i32, L: i32, O: i32): i32 {
  return <i32>((<i64>o * <i64>L) / <i64>O);
}

/** One past the last input index of adaptive window o: ⌈(o+1)·L/O⌉. */
// @ts-ignore: decorator
@inline function winEnd(o: i32, L: i32, O: i32): i32 {
  return <i32>(((<i64>(o + 1) * <i64>L) + <i64>O - 1) / <i64>O);
}

/** y[p, oh, ow] = mean of x[p] over the adaptive window (every window holds at least one element). */
export function adaptive_avgpool2d_forward(x: usize, y: usize, P: i32, H: i32, W: i32, OH: i32, OW: i32): void {
  for (let p = 0; p < P; p++) {
    const xp = x + (<usize>(p * H * W) << 2);
    const yp = y + (<usize>(p * OH * OW) << 2);
    for (let oh = 0; oh < OH; oh++) {
      const hs = winStart(oh, H, OH), he = winEnd(oh, H, OH);
      for (let ow = 0; ow < OW; ow++) {
        const ws = winStart(ow, W, OW), we = winEnd(ow, W, OW);
        let s: f32 = 0;
        for (let h = hs; h < he; h++) s += sumf(at(xp, h * W + ws), we - ws);
        store<f32>(at(yp, oh * OW + ow), s / <f32>((he - hs) * (we - ws)));
      }
    }
  }
}

/** Adjoint of adaptive_avgpool2d_forward: dy / window size added to every element of its window (dx zeroed first). */
export function adaptive_avgpool2d_backward(dy: usize, dx: usize, P: i32, H: i32, W: i32, OH: i32, OW: i32): void {
  memory.fill(dx, 0, <usize>(P * H * W) << 2);
  for (let p = 0; p < P; p++) {
    const dxp = dx + (<usize>(p * H * W) << 2);
    const dyp = dy + (<usize>(p * OH * OW) << 2);
    for (let oh = 0; oh < OH; oh++) {
      const hs = winStart(oh, H, OH), he = winEnd(oh, H, OH);
      for (let ow = 0; ow < OW; ow++) {
        const ws = winStart(ow, W, OW), we = winEnd(ow, W, OW);
        const g = load<f32>(at(dyp, oh * OW + ow)) / <f32>((he - hs) * (we - ws));
        for (let h = hs; h < he; h++) {
          const row = dxp + (<usize>(h * W) << 2);
          for (let w = ws; w < we; w++) store<f32>(at(row, w), load<f32>(at(row, w)) + g);
        }
      }
    }
  }
}

/**
 * Adaptive max pooling: y = max over the window, idx = h·W + w of the first maximum in row-major order; NaN
 * propagates (the last NaN's index wins, PyTorch's `val > max || isnan(val)`); a window of −inf points at its
 * first element. idx = 0: values only.
 */
export function adaptive_maxpool2d_forward(x: usize, y: usize, idx: usize, P: i32, H: i32, W: i32, OH: i32, OW: i32): void {
  for (let p = 0; p < P; p++) {
    const xp = x + (<usize>(p * H * W) << 2);
    const yp = y + (<usize>(p * OH * OW) << 2);
    const ip = idx + (<usize>(p * OH * OW) << 2);
    for (let oh = 0; oh < OH; oh++) {
      const hs = winStart(oh, H, OH), he = winEnd(oh, H, OH);
      for (let ow = 0; ow < OW; ow++) {
        const ws = winStart(ow, W, OW), we = winEnd(ow, W, OW);
        let best: f32 = -Infinity;
        let bestIdx = hs * W + ws;
        for (let h = hs; h < he; h++) {
          const row = xp + (<usize>(h * W) << 2);
          for (let w = ws; w < we; w++) {
            const v = load<f32>(at(row, w));
            if (v > best || isNaN(v)) {
              best = v;
              bestIdx = h * W + w;
            }
          }
        }
        store<f32>(at(yp, oh * OW + ow), best);
        if (idx != 0) store<i32>(at(ip, oh * OW + ow), bestIdx);
      }
    }
  }
}
