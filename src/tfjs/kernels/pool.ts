// MaxPool, MaxPoolGrad, AvgPool and AvgPoolGrad (NHWC, tfjs's 'same'/'valid'/explicit padding, which may be
// uneven): MaxPool on float32 runs on the NHWC kernel of assembly/nhwc.ts; the others on simdnn's pooling
// kernels over NCHW planes. The kernels take the output size and the top/left
// padding and clip windows at the far edges, which is exactly tfjs's padding; max pooling treats padding as
// −∞ and ties go to the first maximum in row-major window order (tfjs's cpu backend picks the same one).
// MaxPoolGrad recomputes the argmax indices from the input (inference keeps no indices around).
import { backend_util, type TensorInfo } from '@tensorflow/tfjs-core';
import type { Tensor } from '../../tensor.js';
import type { SimdnnBackend } from '../backend.js';
import { nchwToNhwc } from '../layout.js';
import { nchwOf } from '../cached.js';
import { runSplit, MEMORY_BOUND_WEIGHT } from '../../ops/parallel.js';
import { attrsOf, kernel, type KernelArgs } from './kernel.js';

interface PoolAttrs {
  filterSize: number | [number, number];
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

type Info = backend_util.Conv2DInfo;

function poolInfo(op: string, x: TensorInfo | number[], a: PoolAttrs): Info {
  const shape = Array.isArray(x) ? x : x.shape;
  if (shape.length !== 4) throw new Error(`${op} (simdnn): input must be rank 4 (NHWC), got shape [${shape}]`);
  return backend_util.computePool2DInfo(shape as [number, number, number, number], a.filterSize, a.strides, 1, a.pad, a.dimRoundingMode);
}

/** A tensor as NCHW planes (cached on its dataId: MaxPoolGrad reads the forward's input again). */
function planes(b: SimdnnBackend, x: TensorInfo): Tensor {
  return nchwOf(b, x, x.shape);
}

/** NCHW planes [N, C, H, W] back to an NHWC output (the planes are disposed). */
function toOutput(b: SimdnnBackend, y: Tensor, nchw: number[], shape: number[]): TensorInfo {
  try {
    return b.makeOutput(nchwToNhwc(b.nn, y, nchw), shape, 'float32');
  } finally {
    y.dispose();
  }
}

function geometry(c: Info): number[] {
  return [c.inHeight, c.inWidth, c.filterHeight, c.filterWidth, c.strideHeight, c.strideWidth, c.padInfo.top, c.padInfo.left];
}

function maxPoolIndices(b: SimdnnBackend, x: TensorInfo, c: Info, values: Tensor, indices: number): void {
  const P = c.batchSize * c.inChannels;
  const [H, W, KH, KW, SH, SW, PT, PL] = geometry(c);
  b.nn.kernels.maxpool2d_forward(planes(b, x).offset, values.offset, indices, P, H, W, KH, KW, SH, SW, PT, PL, 1, 1, c.outHeight, c.outWidth);
}

/** tfjs's pooling kernels pass x through unchanged for a 1×1 window whose output shape is the input's. */
function isIdentity(c: Info): boolean {
  return c.filterHeight === 1 && c.filterWidth === 1 && c.inShape.every((d, i) => d === c.outShape[i]);
}

function identity(b: SimdnnBackend, x: TensorInfo): TensorInfo {
  b.incRef(x.dataId);
  return { ...x };
}

function maxPool(args: KernelArgs): TensorInfo {
  const { backend: b } = args;
  const { x } = args.inputs;
  const c = poolInfo('MaxPool', x, attrsOf<PoolAttrs>(args));
  if (isIdentity(c)) return identity(b, x);
  if (x.dtype === 'float32') return maxPoolNhwc(b, x, c);
  const nchw = [c.batchSize, c.inChannels, c.outHeight, c.outWidth];
  const y = b.nn.empty(nchw, 'float32', 'MaxPool');
  maxPoolIndices(b, x, c, y, 0);
  return toOutput(b, y, nchw, c.outShape);
}

/** MaxPool straight on the NHWC tensor (assembly/nhwc.ts: SIMD across channels, no transposes); rows split over threads. */
function maxPoolNhwc(b: SimdnnBackend, x: TensorInfo, c: Info): TensorInfo {
  const { info, t } = b.makeEmpty(c.outShape, 'float32');
  if (!t) return info;
  const xt = b.view(x);
  const [H, W, KH, KW, SH, SW, PT, PL] = geometry(c);
  const work = MEMORY_BOUND_WEIGHT * c.batchSize * c.outHeight * c.outWidth * c.inChannels * KH * KW;
  runSplit(b.nn, c.batchSize * c.outHeight, work, 'MaxPool', 0, (r0, count) => ({
    fn: 'maxpool_nhwc', args: [xt.offset, t.offset, H, W, c.inChannels, KH, KW, SH, SW, PT, PL, c.outHeight, c.outWidth, r0, r0 + count],
  }));
  return info;
}

function maxPoolGrad(args: KernelArgs): TensorInfo {
  const { backend: b } = args;
  const { dy, input } = args.inputs;
  const c = poolInfo('MaxPoolGrad', input, attrsOf<PoolAttrs>(args));
  const outPlanes = [c.batchSize, c.inChannels, c.outHeight, c.outWidth];
  const scratchValues = b.nn.empty(outPlanes, 'float32', 'MaxPoolGrad');
  const indices = b.nn.empty(outPlanes, 'int32', 'MaxPoolGrad');
  try {
    maxPoolIndices(b, input, c, scratchValues, indices.offset);
    const dyPlanes = nchwOf(b, dy, dy.shape);
    const inPlanes = [c.batchSize, c.inChannels, c.inHeight, c.inWidth];
    const dx = b.nn.empty(inPlanes, 'float32', 'MaxPoolGrad');
    b.nn.kernels.maxpool2d_backward(dyPlanes.offset, indices.offset, dx.offset, c.batchSize * c.inChannels,
      c.inHeight * c.inWidth, c.outHeight * c.outWidth, 0);
    return toOutput(b, dx, inPlanes, c.inShape);
  } finally {
    scratchValues.dispose();
    indices.dispose();
  }
}

/** tfjs averages over the window's part inside the input: count_include_pad = false. */
function avgPool(args: KernelArgs): TensorInfo {
  const { backend: b } = args;
  const { x } = args.inputs;
  const c = poolInfo('AvgPool', x, attrsOf<PoolAttrs>(args));
  if (isIdentity(c)) return identity(b, x);
  const nchw = [c.batchSize, c.inChannels, c.outHeight, c.outWidth];
  const y = b.nn.empty(nchw, 'float32', 'AvgPool');
  const [H, W, KH, KW, SH, SW, PT, PL] = geometry(c);
  b.nn.kernels.avgpool2d_forward(planes(b, x).offset, y.offset, c.batchSize * c.inChannels, H, W, KH, KW, SH, SW, PT, PL,
    c.outHeight, c.outWidth, 0, 0);
  return toOutput(b, y, nchw, c.outShape);
}

function avgPoolGrad(args: KernelArgs): TensorInfo {
  const { backend: b } = args;
  const { dy, input } = args.inputs;
  const c = poolInfo('AvgPoolGrad', input, attrsOf<PoolAttrs>(args));
  const dyPlanes = nchwOf(b, dy, dy.shape);
  const inPlanes = [c.batchSize, c.inChannels, c.inHeight, c.inWidth];
  const dx = b.nn.empty(inPlanes, 'float32', 'AvgPoolGrad');
  const [H, W, KH, KW, SH, SW, PT, PL] = geometry(c);
  // tfjs's AvgPoolGrad spreads dy/(KH·KW) over every window, whatever part of it is padding (its cpu and
  // webgl backends and its specs agree): a divisor override of KH·KW.
  b.nn.kernels.avgpool2d_backward(dyPlanes.offset, dx.offset, c.batchSize * c.inChannels, H, W, KH, KW, SH, SW, PT, PL,
    c.outHeight, c.outWidth, 0, KH * KW);
  return toOutput(b, dx, inPlanes, c.inShape);
}

export const poolKernels = [
  kernel('MaxPool', maxPool),
  kernel('MaxPoolGrad', maxPoolGrad),
  kernel('AvgPool', avgPool),
  kernel('AvgPoolGrad', avgPoolGrad),
];
