// Max, average and global-average pooling over NCHW, forward and backward (PyTorch semantics).
import type { Engine } from '../engine.js';
import type { Tensor } from '../tensor.js';
import { checkShape, checkTensor, fail, options, pair, posInt, shapeStr } from './check.js';
import { runParts, runSplit, shareOut, MEMORY_BOUND_WEIGHT } from './parallel.js';
import { samePadding } from './conv.js';

/**
 * Pooling padding: symmetric (a number or [ph, pw], PyTorch) or TensorFlow's 'same' (out = ⌈in / stride⌉, total
 * max((out − 1)·stride + (k − 1)·dilation + 1 − in, 0), the odd pixel at bottom/right) or 'valid' (none).
 */
export type PoolPadding = number | [number, number] | 'same' | 'valid';

export interface MaxPool2dOptions {
  kernel: number | [number, number];
  stride?: number | [number, number];
  padding?: PoolPadding;
  dilation?: number | [number, number];
  ceilMode?: boolean;
}

export interface AvgPool2dOptions {
  kernel: number | [number, number];
  stride?: number | [number, number];
  padding?: PoolPadding;
  ceilMode?: boolean;
  /** Default true; with padding 'same' it must be false or absent (TensorFlow divides by the in-range count). */
  countIncludePad?: boolean;
  divisorOverride?: number;
}

interface PoolGeometry {
  N: number; C: number; H: number; W: number; KH: number; KW: number; SH: number; SW: number;
  PH: number; PW: number; DH: number; DW: number; OH: number; OW: number;
}

/** PyTorch's pooling_output_shape: with ceilMode the last window must start inside the input or left padding. */
function outputSize(size: number, k: number, pad: number, stride: number, dilation: number, ceil: boolean): number {
  let out = Math.floor((size + 2 * pad - dilation * (k - 1) - 1 + (ceil ? stride - 1 : 0)) / stride) + 1;
  if (ceil && (out - 1) * stride >= size + pad) out--;
  return out;
}

/**
 * The kernels take the top/left padding and the output size; cells past the input at the bottom/right are
 * skipped like padding, so the asymmetric 'same' padding needs no more than its top/left part and its output size.
 */
function geometry(op: string, xShape: readonly number[], opts: Partial<MaxPool2dOptions>, dilated: boolean): PoolGeometry {
  if (opts.kernel === undefined) fail(op, 'kernel', 'a positive integer or a pair of them', undefined);
  const [KH, KW] = pair(op, 'kernel', opts.kernel);
  const [SH, SW] = pair(op, 'stride', opts.stride ?? [KH, KW]);
  const [DH, DW] = dilated ? pair(op, 'dilation', opts.dilation ?? 1) : [1, 1];
  const ceil = opts.ceilMode ?? false;
  if (typeof ceil !== 'boolean') fail(op, 'ceilMode', 'a boolean', ceil);
  const [N, C, H, W] = xShape;
  const p = opts.padding ?? 0;
  if (typeof p === 'string' && p !== 'same' && p !== 'valid') {
    fail(op, 'padding', "a non-negative integer, a pair of them, 'same' or 'valid'", p);
  }
  if (p === 'same') {
    if (ceil) fail(op, 'ceilMode', "false with padding 'same' (its output size is ⌈input / stride⌉)", ceil);
    const [PH] = samePadding(H, KH, DH, SH), [PW] = samePadding(W, KW, DW, SW);
    const OH = Math.ceil(H / SH), OW = Math.ceil(W / SW);
    // A dilated kernel can step over the whole input from the padding: such a window would have no element.
    for (const [size, k, d, s, pad, out, dim] of [[H, KH, DH, SH, PH, OH, 'H'], [W, KW, DW, SW, PW, OW, 'W']] as const) {
      for (let o = 0; o < out; o++) {
        let inside = false;
        for (let t = 0; t < k && !inside; t++) inside = o * s - pad + t * d >= 0 && o * s - pad + t * d < size;
        if (!inside) {
          fail(op, 'dilation', `small enough that every 'same' window holds an input element (output ${dim} ${o} of ` +
            `input ${dim} = ${size}, kernel ${k}, stride ${s} sees only padding)`, [DH, DW]);
        }
      }
    }
    return { N, C, H, W, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW };
  }
  const [PH, PW] = p === 'valid' ? [0, 0] : pair(op, 'padding', p, true);
  if (PH > Math.floor(KH / 2) || PW > Math.floor(KW / 2)) {
    fail(op, 'padding', `at most half the kernel (≤ [${Math.floor(KH / 2)}, ${Math.floor(KW / 2)}] for kernel [${KH}, ${KW}])`, [PH, PW]);
  }
  const OH = outputSize(H, KH, PH, SH, DH, ceil), OW = outputSize(W, KW, PW, SW, DW, ceil);
  if (OH < 1 || OW < 1) {
    throw new Error(`${op}: output size must be positive: input ${H}×${W}, kernel ${KH}×${KW}, stride ${SH}×${SW}, ` +
      `padding ${PH}×${PW}, dilation ${DH}×${DW} gives ${OH}×${OW}`);
  }
  return { N, C, H, W, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW };
}

function checkXShape(op: string, xShape: unknown): readonly number[] {
  checkShape(op, 'xShape', xShape);
  if (xShape.length !== 4) fail(op, 'xShape', 'a 4-element shape [N, C, H, W]', xShape);
  return xShape;
}

export function maxPool2d(e: Engine, x: Tensor, opts: MaxPool2dOptions): { y: Tensor; indices: Tensor } {
  return maxPoolForward(e, 'maxPool2d', x, opts, true) as { y: Tensor; indices: Tensor };
}

/** Max pooling without indices, for inference (PyTorch's F.max_pool2d with return_indices=False): less to write. */
export function maxPool2dValues(e: Engine, x: Tensor, opts: MaxPool2dOptions): Tensor {
  return maxPoolForward(e, 'maxPool2dValues', x, opts, false).y;
}

function maxPoolForward(e: Engine, op: string, x: Tensor, opts: MaxPool2dOptions, withIndices: boolean): { y: Tensor; indices: Tensor | null } {
  checkTensor(e, op, 'x', x, { rank: 4 });
  const g = geometry(op, x.shape, options(op, opts), true);
  const y = e.empty([g.N, g.C, g.OH, g.OW], 'float32', op);
  let indices: Tensor | null = null;
  try {
    indices = withIndices ? e.empty([g.N, g.C, g.OH, g.OW], 'int32', op) : null;
  } catch (err) { y.dispose(); throw err; }
  const inPlane = g.H * g.W * 4, outPlane = g.OH * g.OW * 4;
  runSplit(e, g.N * g.C, MEMORY_BOUND_WEIGHT * x.size, op, 0, (p0, n) => ({
    fn: 'maxpool2d_forward',
    // Index address 0 tells the kernel to write values only.
    args: [x.offset + p0 * inPlane, y.offset + p0 * outPlane, indices ? indices.offset + p0 * outPlane : 0, n, g.H, g.W,
           g.KH, g.KW, g.SH, g.SW, g.PH, g.PW, g.DH, g.DW, g.OH, g.OW],
  }));
  return { y, indices };
}

export function maxPool2dBackward(e: Engine, dy: Tensor, indices: Tensor, xShape: readonly number[]): Tensor {
  const op = 'maxPool2dBackward';
  const [N, C, H, W] = checkXShape(op, xShape);
  checkTensor(e, op, 'dy', dy, { rank: 4 });
  checkTensor(e, op, 'indices', indices, { dtype: 'int32', shape: dy.shape });
  if (dy.shape[0] !== N || dy.shape[1] !== C) {
    throw new Error(`${op}: dy must have N, C = ${N}, ${C} of xShape ${shapeStr(xShape)}, got shape ${shapeStr(dy.shape)}`);
  }
  const dx = e.empty([N, C, H, W], 'float32', op);
  // Planes split over the threads (queued chunks when there is work for two per thread, else one share each); each
  // part counts its out-of-range indices into its own word.
  const OHW = dy.shape[2] * dy.shape[3], planes = N * C, flops = MEMORY_BOUND_WEIGHT * dx.size;
  const parts = shareOut(e, planes, flops);
  let bad = 0, counters: Tensor | null = null;
  try {
    const words = counters = e.empty([parts.parts.length], 'int32', op);
    runParts(e, parts, op, 0, (p0, n, p) => ({
      fn: 'maxpool2d_backward',
      args: [dy.offset + 4 * p0 * OHW, indices.offset + 4 * p0 * OHW, dx.offset + 4 * p0 * H * W, n, H * W, OHW, words.offset + 4 * p],
    }));
    bad = (words.view() as Int32Array).reduce((sum, v) => sum + v, 0);
  } catch (err) {
    dx.dispose();
    throw err;
  } finally {
    counters?.dispose();
  }
  if (bad > 0) {
    dx.dispose();
    throw new Error(`${op}: indices must lie in [0, H·W = ${H * W}), got ${bad} outside that range`);
  }
  return dx;
}

/**
 * [countIncludePad, divisorOverride] for the kernel. With padding 'same' the divisor is TensorFlow's: the number of
 * in-range elements of the window (countIncludePad false; true is rejected); divisorOverride still replaces it.
 */
function avgArgs(op: string, opts: Partial<AvgPool2dOptions>): [number, number] {
  const same = opts.padding === 'same';
  const cip = opts.countIncludePad ?? !same;
  if (typeof cip !== 'boolean') fail(op, 'countIncludePad', 'a boolean', cip);
  if (same && cip) fail(op, 'countIncludePad', "false or absent with padding 'same' (padded cells are never counted)", cip);
  const div = opts.divisorOverride == null ? 0 : posInt(op, 'divisorOverride', opts.divisorOverride);
  return [cip ? 1 : 0, div];
}

export function avgPool2d(e: Engine, x: Tensor, opts: AvgPool2dOptions): Tensor {
  const op = 'avgPool2d';
  checkTensor(e, op, 'x', x, { rank: 4 });
  const o = options(op, opts);
  if ('dilation' in o) fail(op, 'options', 'without dilation (average pooling has none)', o);
  const g = geometry(op, x.shape, o, false);
  const [cip, div] = avgArgs(op, o);
  const y = e.empty([g.N, g.C, g.OH, g.OW], 'float32', op);
  const inPlane = g.H * g.W * 4, outPlane = g.OH * g.OW * 4;
  runSplit(e, g.N * g.C, MEMORY_BOUND_WEIGHT * x.size, op, 0, (p0, n) => ({
    fn: 'avgpool2d_forward',
    args: [x.offset + p0 * inPlane, y.offset + p0 * outPlane, n, g.H, g.W, g.KH, g.KW, g.SH, g.SW, g.PH, g.PW, g.OH, g.OW, cip, div],
  }));
  return y;
}

export function avgPool2dBackward(e: Engine, dy: Tensor, xShape: readonly number[], opts: AvgPool2dOptions): Tensor {
  const op = 'avgPool2dBackward';
  const o = options(op, opts);
  const g = geometry(op, checkXShape(op, xShape), o, false);
  checkTensor(e, op, 'dy', dy, { shape: [g.N, g.C, g.OH, g.OW] });
  const [cip, div] = avgArgs(op, o);
  const dx = e.empty(xShape, 'float32', op);
  const inPlane = g.H * g.W * 4, outPlane = g.OH * g.OW * 4;
  runSplit(e, g.N * g.C, MEMORY_BOUND_WEIGHT * dx.size, op, 0, (p0, n) => ({
    fn: 'avgpool2d_backward',
    args: [dy.offset + p0 * outPlane, dx.offset + p0 * inPlane, n, g.H, g.W, g.KH, g.KW, g.SH, g.SW, g.PH, g.PW, g.OH, g.OW, cip, div],
  }));
  return dx;
}

export function globalAvgPool2d(e: Engine, x: Tensor): Tensor {
  const op = 'globalAvgPool2d';
  checkTensor(e, op, 'x', x, { rank: 4 });
  const [N, C, H, W] = x.shape;
  const y = e.empty([N, C, 1, 1], 'float32', op);
  runSplit(e, N * C, MEMORY_BOUND_WEIGHT * x.size, op, 0, (p0, n) => ({
    fn: 'global_avgpool_forward', args: [x.offset + 4 * p0 * H * W, y.offset + 4 * p0, n, H * W],
  }));
  return y;
}

export function globalAvgPool2dBackward(e: Engine, dy: Tensor, xShape: readonly number[]): Tensor {
  const op = 'globalAvgPool2dBackward';
  const [N, C, H, W] = checkXShape(op, xShape);
  checkTensor(e, op, 'dy', dy, { shape: [N, C, 1, 1] });
  const dx = e.empty([N, C, H, W], 'float32', op);
  runSplit(e, N * C, MEMORY_BOUND_WEIGHT * dx.size, op, 0, (p0, n) => ({
    fn: 'global_avgpool_backward', args: [dy.offset + 4 * p0, dx.offset + 4 * p0 * H * W, n, H * W],
  }));
  return dx;
}
