// conv2d / conv1d and their backward passes (PyTorch semantics, NCHW). The kernels run the GEMM
// formulation of assembly/conv.ts; conv1d is conv2d on [N, C, 1, L].
import type { Engine } from '../engine.js';
import type { Tensor } from '../tensor.js';
import { splitRange, runParts, runSplit, planSplit, runTogether, shareOut, MEMORY_BOUND_WEIGHT, type Parts, type Plan } from './parallel.js';
import { checkOptional, checkTensor, fail, pair, posInt, nonNegInt, options, shapeStr, show } from './check.js';

export type PaddingMode = 'zeros' | 'reflect' | 'replicate' | 'circular';
const PADDING_MODES: readonly PaddingMode[] = ['zeros', 'reflect', 'replicate', 'circular'];

export interface Conv2dOptions {
  stride?: number | [number, number];
  /** number | [ph, pw] | [top, bottom, left, right] | 'same' | 'valid' */
  padding?: number | [number, number] | [number, number, number, number] | 'same' | 'valid';
  dilation?: number | [number, number];
  groups?: number;
  paddingMode?: PaddingMode;
}

export interface Conv1dOptions {
  stride?: number;
  /** number | [left, right] | 'same' | 'valid' */
  padding?: number | [number, number] | 'same' | 'valid';
  dilation?: number;
  groups?: number;
  paddingMode?: PaddingMode;
}

export interface ConvBackwardFlags {
  /** Compute db (default true). */
  bias?: boolean;
  /** Compute dx (default true; a first layer needs none). */
  input?: boolean;
  /** Compute dw (default true; a frozen layer needs none). */
  weight?: boolean;
}

export interface ConvGrads {
  dx?: Tensor;
  dw?: Tensor;
  db?: Tensor;
}

/** Everything the conv kernels need, in 2-D form. */
interface Geometry {
  N: number; Cin: number; H: number; W: number; Cout: number; KH: number; KW: number;
  SH: number; SW: number; PT: number; PB: number; PL: number; PR: number; DH: number; DW: number;
  OH: number; OW: number; groups: number; mode: number;
}

function kernelArgs(g: Geometry): number[] {
  return [g.N, g.Cin, g.H, g.W, g.Cout, g.KH, g.KW, g.SH, g.SW, g.PT, g.PL, g.DH, g.DW, g.OH, g.OW, g.groups, g.mode];
}

/**
 * 'same' padding of one dimension: out = ⌈size / s⌉, total = max((out − 1)·s + d·(k − 1) + 1 − size, 0),
 * the odd pixel at the end (bottom/right). TensorFlow's rule; for stride 1 it is PyTorch's (total d·(k − 1)).
 */
export function samePadding(size: number, k: number, d: number, s: number): [number, number] {
  const out = Math.ceil(size / s);
  const total = Math.max((out - 1) * s + d * (k - 1) + 1 - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/** Validates x, w and the options and resolves the geometry (x, w already given as 4-D dims). */
function resolve(op: string, x: readonly number[], w: readonly number[], stride: [number, number],
                 dilation: [number, number], pad: [number, number, number, number], groups: number,
                 paddingMode: unknown, dims: readonly string[]): Geometry {
  const [N, Cin, H, W] = x;
  const [Cout, Cg, KH, KW] = w;
  if (Cin % groups !== 0) fail(op, 'groups', `a divisor of the input channels ${Cin}`, groups);
  if (Cout % groups !== 0) fail(op, 'groups', `a divisor of the output channels ${Cout} (w.shape[0])`, groups);
  if (Cg !== Cin / groups) {
    throw new Error(`${op}: w.shape[1] must be Cin/groups = ${Cin}/${groups} = ${Cin / groups}, got ${Cg} (w shape ${shapeStr(w)})`);
  }
  const modeIndex = PADDING_MODES.indexOf(paddingMode as PaddingMode);
  if (modeIndex < 0) fail(op, 'paddingMode', PADDING_MODES.map((m) => `'${m}'`).join(' | '), paddingMode);
  const [PT, PB, PL, PR] = pad;
  if (modeIndex === 1 || modeIndex === 3) {
    // reflect needs pad < size, circular pad ≤ size (torch.nn.functional.pad).
    const strict = modeIndex === 1;
    const sides: [number, number, string][] = [[PT, H, 'top'], [PB, H, 'bottom'], [PL, W, 'left'], [PR, W, 'right']];
    for (const [p, size, side] of sides) {
      if (strict ? p >= size : p > size) {
        fail(op, `padding (${side})`, `${strict ? '<' : '≤'} the input ${side === 'top' || side === 'bottom' ? dims[0] : dims[1]} ${size} for paddingMode '${paddingMode}'`, p);
      }
    }
  }
  const [SH, SW] = stride, [DH, DW] = dilation;
  const OH = Math.floor((H + PT + PB - DH * (KH - 1) - 1) / SH) + 1;
  const OW = Math.floor((W + PL + PR - DW * (KW - 1) - 1) / SW) + 1;
  if (OH < 1 || OW < 1) {
    throw new Error(`${op}: output size must be positive: input ${dims.map((d, i) => `${d}=${[H, W][i]}`).join(', ')} with ` +
      `padding ${show(pad)}, dilated kernel ${DH * (KH - 1) + 1}×${DW * (KW - 1) + 1} and stride ${show(stride)} gives ${OH}×${OW}`);
  }
  return { N, Cin, H, W, Cout, KH, KW, SH, SW, PT, PB, PL, PR, DH, DW, OH, OW, groups, mode: modeIndex };
}

function conv2dGeometry(op: string, x: Tensor, w: Tensor, opts: Conv2dOptions): Geometry {
  const stride = pair(op, 'stride', opts.stride ?? 1);
  const dilation = pair(op, 'dilation', opts.dilation ?? 1);
  const groups = posInt(op, 'groups', opts.groups ?? 1);
  const [KH, KW] = [w.shape[2], w.shape[3]];
  const p = opts.padding ?? 0;
  let pad: [number, number, number, number];
  if (p === 'valid') pad = [0, 0, 0, 0];
  else if (p === 'same') pad = [...samePadding(x.shape[2], KH, dilation[0], stride[0]), ...samePadding(x.shape[3], KW, dilation[1], stride[1])];
  else if (Array.isArray(p) && p.length === 4) {
    pad = p.map((v, i) => nonNegInt(op, `padding[${i}]`, v)) as [number, number, number, number];
  } else {
    const [ph, pw] = pair(op, 'padding', p, true);
    pad = [ph, ph, pw, pw];
  }
  return resolve(op, x.shape, w.shape, stride, dilation, pad, groups, opts.paddingMode ?? 'zeros', ['H', 'W']);
}

function conv1dGeometry(op: string, x: Tensor, w: Tensor, opts: Conv1dOptions): Geometry {
  const stride = posInt(op, 'stride', opts.stride ?? 1);
  const dilation = posInt(op, 'dilation', opts.dilation ?? 1);
  const groups = posInt(op, 'groups', opts.groups ?? 1);
  const K = w.shape[2];
  const p = opts.padding ?? 0;
  let lr: [number, number];
  if (p === 'valid') lr = [0, 0];
  else if (p === 'same') lr = samePadding(x.shape[2], K, dilation, stride);
  else if (Array.isArray(p) && p.length === 2) lr = [nonNegInt(op, 'padding[0]', p[0]), nonNegInt(op, 'padding[1]', p[1])];
  else if (typeof p === 'number') lr = [nonNegInt(op, 'padding', p), p];
  else fail(op, 'padding', "a non-negative integer, [left, right], 'same' or 'valid'", p);
  const [N, C, L] = x.shape;
  return resolve(op, [N, C, 1, L], [w.shape[0], w.shape[1], 1, K], [1, stride], [1, dilation], [0, 0, lr[0], lr[1]],
                 groups, opts.paddingMode ?? 'zeros', ['H', 'L']);
}

/** The weights packed for the forward (or, transposed, the backward-data) GEMM; 0 where the kernel packs none. */
function packedWeights(e: Engine, g: Geometry, w: Tensor, transposed: boolean, op: string): number {
  if (g.groups > 1 && g.groups === g.Cin && g.mode === 0) return 0;   // depthwise: direct kernels, no GEMM
  const K = (g.Cin / g.groups) * g.KH * g.KW;
  const t = transposed ? 1 : 0;
  const bytes = e.kernels.conv2d_packed_bytes(g.Cout, K, g.groups, t);
  return e.packs.get(w, `conv ${g.Cout} ${K} ${g.groups} ${t}`, bytes, op,
                     (dst) => e.kernels.conv2d_pack_weights(w.offset, g.Cout, K, g.groups, t, dst));
}

/**
 * How conv work is shared out over threads: by images, or (one image) by output channels; `queued`: the parts are
 * chunks that the threads claim as they become free (shareOut), else one fixed share per thread.
 */
type Split = Parts & { by: 'images' | 'channels' };

function convFlops(g: Geometry): number {
  return 2 * g.N * g.Cout * (g.Cin / g.groups) * g.KH * g.KW * g.OH * g.OW;
}

/**
 * Whether conv2d_forward and conv2d_backward_filter compute this geometry directly (few taps: assembly/conv-direct.ts)
 * rather than as a GEMM. Such a conv then splits only by images or output channels, which leave its sums as they are.
 */
function isDirect(e: Engine, g: Geometry): boolean {
  return e.kernels.conv2d_is_direct(g.Cin, g.H, g.W, g.Cout, g.KH, g.KW, g.SH, g.SW, g.PT, g.PL, g.OH, g.OW, g.groups) !== 0;
}

function worthSplitting(e: Engine, g: Geometry): boolean {
  return e.threads >= 2 && convFlops(g) >= e.minParallelFlops;
}

/** perThread: the most image chunks per thread (fewer where each chunk owns a buffer of partial sums). */
function split(e: Engine, g: Geometry, byChannelsOk: boolean, perThread?: number): Split | null {
  if (!worthSplitting(e, g)) return null;
  if (g.N >= 2) return { by: 'images', ...shareOut(e, g.N, convFlops(g), 1, perThread) };
  if (byChannelsOk && g.groups === 1 && g.Cout >= 2 * e.threads) return { by: 'channels', parts: splitRange(g.Cout, e.threads), queued: false };
  return null;
}

/**
 * One image, groups = 1: threads take runs of output pixels (GEMM columns, whole 8-column micro-tiles), after the
 * image is padded once (conv2d_prepare_image); splitting by output channels would make every thread pad the image
 * and pack all of the implicit im2col matrix again.
 */
function forwardByColumns(e: Engine, g: Geometry, x: Tensor, w: Tensor, b: Tensor | null, y: Tensor, op: string): void {
  const packed = packedWeights(e, g, w, false, op);
  const bytes = e.kernels.conv2d_scratch_bytes(...kernelArgs(g));
  const prepared = e.scratch(bytes, `${op} (padded image)`, e.threads);   // a slot of its own, beside the threads'
  e.kernels.conv2d_prepare_image(x.offset, ...kernelArgs(g), prepared);
  const P = g.OH * g.OW, tiles = Math.ceil(P / 8);
  runParts(e, shareOut(e, tiles, convFlops(g)), op,
           e.kernels.sgemm_scratch_bytes(), (t0, n, _p, scratch) => ({
    fn: 'conv2d_forward_columns',
    args: [x.offset, w.offset, b ? b.offset : 0, y.offset, ...kernelArgs(g), prepared, 8 * t0, Math.min(P, 8 * (t0 + n)),
           scratch, packed],
  }));
}

/**
 * 3×3, stride 1, undilated, ungrouped, zero-padded, enough channels: Winograd F(2×2, 3×3) (assembly/winograd.ts),
 * 16 instead of 36 multiplies per 2×2 outputs and channel pair. Threads take runs of tile rows (two output rows).
 */
function useWinograd(g: Geometry): boolean {
  return g.KH === 3 && g.KW === 3 && g.SH === 1 && g.SW === 1 && g.DH === 1 && g.DW === 1 && g.groups === 1 &&
    g.mode === 0 && g.Cin >= WINOGRAD_MIN_CHANNELS && g.Cout >= WINOGRAD_MIN_CHANNELS && g.OH >= 4 && g.OW >= 4;
}

const WINOGRAD_MIN_CHANNELS = 8;

function forwardWinograd(e: Engine, g: Geometry, x: Tensor, w: Tensor, b: Tensor | null, y: Tensor, op: string): void {
  const k = e.kernels;
  const U = e.packs.get(w, `winograd ${g.Cout} ${g.Cin}`, k.winograd_weights_bytes(g.Cout, g.Cin), op,
                        (dst) => k.winograd_pack_weights(w.offset, g.Cout, g.Cin, 0, dst));
  runWinograd(e, g, x, U, b, y, [g.Cin, g.H, g.W, g.Cout, g.PT, g.PL, g.OH, g.OW], op);
}

/**
 * conv2d_winograd over the N images of `input` (channels, size, output channels, top/left padding, output size as
 * given: the forward's, or backward-data's roles swapped), tile rows split over the threads.
 */
function runWinograd(e: Engine, g: Geometry, input: Tensor, U: number, b: Tensor | null, out: Tensor, sizes: number[], op: string): void {
  const plan = planWinograd(e, g, input, U, b, out, sizes);
  runParts(e, plan.parts, op, plan.scratchBytes, plan.make);
}

function planWinograd(e: Engine, g: Geometry, input: Tensor, U: number, b: Tensor | null, out: Tensor,
                      [Cin, H, W, Cout, PT, PL, OH, OW]: number[]): Plan {
  const tileRows = g.N * Math.ceil(OH / 2);
  const flops = 2 * g.N * g.Cout * g.Cin * 9 * g.OH * g.OW;
  return planSplit(e, tileRows, flops, e.kernels.winograd_scratch_bytes(Cin, Cout, OH, OW, tileRows), (r0, count, scratch) => ({
    fn: 'conv2d_winograd',
    args: [input.offset, U, b ? b.offset : 0, out.offset, Cin, H, W, Cout, PT, PL, 0, OH, OW, r0, r0 + count, scratch],
  }), e.kernels.winograd_batch_rows(Cin, OW));
}

/**
 * dx of a Winograd-eligible convolution padded by at most 2 on each side is itself one: a 3×3 stride-1 convolution of
 * dy (Cout → Cin channels) with the filters turned by 180° and transposed, padded 2 − PT on top and 2 − PL on the left.
 */
function useWinogradData(g: Geometry): boolean {
  return useWinograd(g) && Math.max(g.PT, g.PB, g.PL, g.PR) <= 2 && g.H >= 4 && g.W >= 4;
}

function backwardDataWinograd(e: Engine, g: Geometry, dy: Tensor, w: Tensor, dx: Tensor, op: string): Plan {
  const k = e.kernels;
  const U = e.packs.get(w, `winograd dx ${g.Cout} ${g.Cin}`, k.winograd_weights_bytes(g.Cin, g.Cout), op,
                        (dst) => k.winograd_pack_weights(w.offset, g.Cout, g.Cin, 1, dst));
  return planWinograd(e, g, dy, U, null, dx, [g.Cout, g.OH, g.OW, g.Cin, 2 - g.PT, 2 - g.PL, g.H, g.W]);
}

/**
 * dW of a Winograd-eligible convolution by F(3×3, 2×2) (assembly/winograd.ts): threads take runs of tile rows, each
 * run summing its tiles in the transformed domain into its own 16·Cout·Cin floats; the sums are then added in run
 * order (deterministic for a given thread count) and transformed into dW.
 */
function backwardFilterWinograd(e: Engine, g: Geometry, dy: Tensor, x: Tensor, dw: Tensor, op: string, temps: Tensor[]): Deferred {
  const k = e.kernels;
  const tileRows = g.N * Math.ceil(g.OH / 2), flops = 2 * g.N * g.Cout * g.Cin * 9 * g.OH * g.OW;
  // Queued as two chunks per thread when there is work for them (each chunk sums into its own block, added in
  // chunk order: the result depends on the thread count only), else one fixed share per thread.
  const parts = shareOut(e, tileRows, flops, k.winograd_batch_rows(Math.max(g.Cin, g.Cout), g.OW), 2);
  const sums = e.empty([parts.parts.length * 16 * g.Cout * g.Cin], 'float32', op);
  temps.push(sums);
  const plan: Plan = {
    parts, flops, items: tileRows,
    scratchBytes: k.winograd_filter_scratch_bytes(g.Cin, g.Cout, g.OH, g.OW, tileRows),
    make: (r0, count, p, scratch) => ({
      fn: 'conv2d_winograd_filter',
      args: [x.offset, dy.offset, sums.offset + p * 64 * g.Cout * g.Cin, g.Cin, g.H, g.W, g.Cout, g.PT, g.PL, g.OH, g.OW,
             r0, r0 + count, scratch],
    }),
  };
  // The transform into dW reads every part's sums (16·parts floats per pair): with several parts on a large layer (S3:
  // 4 × 1 MB) it is worth splitting too, by runs of four pairs (one vector); pairs are independent.
  const pairs = g.Cout * g.Cin, nParts = parts.parts.length;
  const finish = () => runSplit(e, Math.ceil(pairs / 4), MEMORY_BOUND_WEIGHT * 16 * nParts * pairs, op, 0, (q0, count) => ({
    fn: 'winograd_filter_finish',
    args: [sums.offset, nParts, dw.offset, g.Cout, g.Cin, 4 * q0, Math.min(pairs, 4 * (q0 + count))],
  }));
  return { plan, finish };
}

function forward(e: Engine, g: Geometry, x: Tensor, w: Tensor, b: Tensor | null, outShape: number[], op: string): Tensor {
  const y = e.empty(outShape, 'float32', op);
  if (useWinograd(g)) {
    forwardWinograd(e, g, x, w, b, y, op);
    return y;
  }
  if (g.N === 1 && g.groups === 1 && worthSplitting(e, g) && g.OH * g.OW >= 16 * e.threads && !isDirect(e, g)) {
    forwardByColumns(e, g, x, w, b, y, op);
    return y;
  }
  const s = split(e, g, true);
  const packed = s?.by === 'channels' || isDirect(e, g) ? 0 : packedWeights(e, g, w, false, op);
  const inImage = g.Cin * g.H * g.W * 4, outImage = g.Cout * g.OH * g.OW * 4, K = (g.Cin / g.groups) * g.KH * g.KW;
  runParts(e, s, op, e.kernels.conv2d_scratch_bytes(...kernelArgs(g)), (start, count, _p, scratch) => {
    // Images [start, start + count), or output channels [start, start + count) of the one image.
    const part = !s ? g : s.by === 'images' ? { ...g, N: count } : { ...g, Cout: count };
    const xo = s?.by === 'images' ? x.offset + start * inImage : x.offset;
    const yo = !s ? y.offset : s.by === 'images' ? y.offset + start * outImage : y.offset + start * g.OH * g.OW * 4;
    const wo = s?.by === 'channels' ? w.offset + start * K * 4 : w.offset;
    const bo = !b ? 0 : s?.by === 'channels' ? b.offset + start * 4 : b.offset;
    return { fn: 'conv2d_forward', args: [xo, wo, bo, yo, ...kernelArgs(part), scratch, packed] };
  });
  return y;
}

/**
 * One image, groups = 1: both backward passes split by input channels — a thread's channels [c0, c1) own rows
 * [c0·taps, c1·taps) of the col matrix, hence its part of dx (col2im) and its columns of dW, with no partial sums
 * and no repeated im2col. null when not worth it or too few channels to share.
 */
function inputChannelParts(e: Engine, g: Geometry): [number, number][] | null {
  if (g.N !== 1 || g.groups !== 1 || !worthSplitting(e, g) || g.Cin < 2 * e.threads) return null;
  return splitRange(g.Cin, e.threads);
}

function channelScratch(e: Engine, g: Geometry, channels: number, op: string, t: number): number {
  return e.scratch(e.kernels.conv2d_scratch_bytes(...kernelArgs({ ...g, Cin: channels })), op, t);
}

/** A planned share-out (runTogether) and what to do once it has run (adding up partial sums). */
interface Deferred {
  plan: Plan;
  finish?: () => void;
}

/**
 * The gradients asked for. dx, dW and db read only dy, x and w: their chunks go into one queue (runTogether), so the
 * threads wait once, at the end, not once per gradient. One image by input channels runs on its own (fixed shares).
 */
function backward(e: Engine, g: Geometry, dy: Tensor, x: Tensor, w: Tensor, flags: ConvBackwardFlags, op: string): ConvGrads {
  const grads: ConvGrads = {};
  const temps: Tensor[] = [];
  try {
    if (flags.input ?? true) grads.dx = e.empty(x.shape, 'float32', op);
    if (flags.weight ?? true) grads.dw = e.empty(w.shape, 'float32', op);
    if (flags.bias ?? true) grads.db = e.empty([g.Cout], 'float32', op);
    const byInputChannels = inputChannelParts(e, g);
    const work: Deferred[] = [];
    if (grads.dx && useWinogradData(g)) work.push({ plan: backwardDataWinograd(e, g, dy, w, grads.dx, op) });
    else if (grads.dx && byInputChannels) {
      e.parallel(byInputChannels.map(([c0, count], t) => ({
        fn: 'conv2d_backward_data_channels',
        args: [dy.offset, w.offset, grads.dx!.offset, ...kernelArgs(g), c0, c0 + count, channelScratch(e, g, count, op, t)],
      })));
    } else if (grads.dx) work.push({ plan: backwardDataByImages(e, g, dy, w, grads.dx, op) });
    if (grads.dw && useWinograd(g)) work.push(backwardFilterWinograd(e, g, dy, x, grads.dw, op, temps));
    else if (grads.dw && byInputChannels && !isDirect(e, g)) {
      e.parallel(byInputChannels.map(([c0, count], t) => ({
        fn: 'conv2d_backward_filter_channels',
        args: [dy.offset, x.offset, grads.dw!.offset, ...kernelArgs(g), c0, c0 + count, channelScratch(e, g, count, op, t)],
      })));
    } else if (grads.dw) work.push(backwardFilter(e, g, dy, x, grads.dw, op, temps));
    if (grads.db) {
      // db[c] = Σ_{n, p} dy[n, c, p]: threads take runs of channels (no cross-thread reduction).
      const db = grads.db.offset, P = g.OH * g.OW;
      work.push({ plan: planSplit(e, g.Cout, g.N * g.Cout * P * MEMORY_BOUND_WEIGHT, 0, (c0, n) => ({
        fn: 'channel_sum', args: [dy.offset, g.N, g.Cout, P, c0, c0 + n, db],
      })) });
    }
    runTogether(e, op, work.map((d) => d.plan));
    for (const d of work) d.finish?.();
  } catch (err) {
    grads.dx?.dispose(); grads.dw?.dispose(); grads.db?.dispose();
    throw err;
  } finally {
    for (const t of temps) t.dispose();
  }
  return grads;
}

/** dx by images (or on one thread), im2col and GEMM with the packed transposed filters. */
function backwardDataByImages(e: Engine, g: Geometry, dy: Tensor, w: Tensor, dx: Tensor, op: string): Plan {
  const inImage = g.Cin * g.H * g.W * 4, outImage = g.Cout * g.OH * g.OW * 4;
  const s = split(e, g, false);
  const packedT = packedWeights(e, g, w, true, op);
  return {
    parts: s, scratchBytes: e.kernels.conv2d_scratch_bytes(...kernelArgs(g)), flops: convFlops(g), items: g.N,
    make: (n0, count, _p, scratch) => {
      const part = { ...g, N: s ? count : g.N };
      return { fn: 'conv2d_backward_data', args: [dy.offset + n0 * outImage, w.offset, dx.offset + n0 * inImage, ...kernelArgs(part), scratch, packedT] };
    },
  };
}

/**
 * dW by images: each run of images sums into its own buffer, then the buffers are added in run order (the runs
 * depend on the thread count only); one image: by output channels (rows of dW are independent).
 */
function backwardFilter(e: Engine, g: Geometry, dy: Tensor, x: Tensor, dw: Tensor, op: string, temps: Tensor[]): Deferred {
  const inImage = g.Cin * g.H * g.W * 4, outImage = g.Cout * g.OH * g.OW * 4, K = (g.Cin / g.groups) * g.KH * g.KW;
  const s = split(e, g, true, 2);
  const partials = s?.by === 'images' ? s.parts.slice(1).map(() => e.empty(dw.shape, 'float32', op)) : [];
  temps.push(...partials);
  const plan: Plan = {
    parts: s, scratchBytes: e.kernels.conv2d_scratch_bytes(...kernelArgs(g)), flops: convFlops(g),
    items: s?.by === 'channels' ? g.Cout : g.N,
    make: (start, count, p, scratch) => {
      const part = !s ? g : s.by === 'images' ? { ...g, N: count } : { ...g, Cout: count };
      const dyo = !s ? dy.offset : s.by === 'images' ? dy.offset + start * outImage : dy.offset + start * g.OH * g.OW * 4;
      const xo = s?.by === 'images' ? x.offset + start * inImage : x.offset;
      const dwo = !s ? dw.offset : s.by === 'images' ? (p === 0 ? dw.offset : partials[p - 1].offset) : dw.offset + start * K * 4;
      return { fn: 'conv2d_backward_filter', args: [dyo, xo, dwo, 0, ...kernelArgs(part), scratch] };
    },
  };
  const finish = () => {
    if (!partials.length) return;
    const total = dw.view();
    for (const p of partials) {
      const v = p.view();
      for (let i = 0; i < total.length; i++) total[i] += v[i];
    }
  };
  return { plan, finish };
}

function checkDy(e: Engine, op: string, dy: unknown, shape: number[]): Tensor {
  return checkTensor(e, op, 'dy', dy, { shape });
}

export function conv2d(e: Engine, x: Tensor, w: Tensor, b: Tensor | null, opts?: Conv2dOptions): Tensor {
  const op = 'conv2d';
  checkTensor(e, op, 'x', x, { rank: 4 });
  checkTensor(e, op, 'w', w, { rank: 4 });
  const g = conv2dGeometry(op, x, w, options(op, opts));
  checkOptional(e, op, 'b', b, { shape: [g.Cout] });
  return forward(e, g, x, w, b, [g.N, g.Cout, g.OH, g.OW], op);
}

export function conv2dBackward(e: Engine, dy: Tensor, x: Tensor, w: Tensor, opts?: Conv2dOptions, flags?: ConvBackwardFlags): ConvGrads {
  const op = 'conv2dBackward';
  checkTensor(e, op, 'x', x, { rank: 4 });
  checkTensor(e, op, 'w', w, { rank: 4 });
  const g = conv2dGeometry(op, x, w, options(op, opts));
  checkDy(e, op, dy, [g.N, g.Cout, g.OH, g.OW]);
  return backward(e, g, dy, x, w, options(op, flags), op);
}

export function conv1d(e: Engine, x: Tensor, w: Tensor, b: Tensor | null, opts?: Conv1dOptions): Tensor {
  const op = 'conv1d';
  checkTensor(e, op, 'x', x, { rank: 3 });
  checkTensor(e, op, 'w', w, { rank: 3 });
  const g = conv1dGeometry(op, x, w, options(op, opts));
  checkOptional(e, op, 'b', b, { shape: [g.Cout] });
  return forward(e, g, x, w, b, [g.N, g.Cout, g.OW], op);
}

export function conv1dBackward(e: Engine, dy: Tensor, x: Tensor, w: Tensor, opts?: Conv1dOptions, flags?: ConvBackwardFlags): ConvGrads {
  const op = 'conv1dBackward';
  checkTensor(e, op, 'x', x, { rank: 3 });
  checkTensor(e, op, 'w', w, { rank: 3 });
  const g = conv1dGeometry(op, x, w, options(op, opts));
  checkDy(e, op, dy, [g.N, g.Cout, g.OW]);
  return backward(e, g, dy, x, w, options(op, flags), op);
}
