// Conv2D, its two backprops, FusedConv2D and the depthwise family in tfjs's conventions (NHWC or NCHW,
// [KH, KW, Cin, Cout] filters, 'same'/'valid'/explicit padding) on simdnn's GEMM convolution. NHWC
// activations are transposed to NCHW and back by the SIMD transpose kernel; filters are brought to OIHW once
// per filter value (cached on the filter's dataId, so simdnn's pack cache, keyed on that tensor, packs it once
// per value too), and so are NCHW copies of activations that both backprops read.
import { backend_util, type TensorInfo } from '@tensorflow/tfjs-core';
import type { Tensor } from '../../tensor.js';
import type { SimdnnBackend } from '../backend.js';
import { batchedTranspose, nchwToNhwc, oihwToFilter } from '../layout.js';
import { depthwiseOihwOf, nchwOf, oihwOf } from '../cached.js';
import { applyActivation, type FusedActivation } from './activation.js';
import { addBias } from './bias.js';
import { kernel, type KernelArgs } from './kernel.js';
import { sliceOp } from './slice.js';

type Info = backend_util.Conv2DInfo;
type Shape4 = [number, number, number, number];

/** The attributes tfjs's conv kernels share. */
interface ConvAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dataFormat?: 'NHWC' | 'NCHW';
  dilations?: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** simdnn's conv options for a tfjs conv info; checks that simdnn's output size agrees with tfjs's. */
function convOptions(op: string, c: Info, groups = 1) {
  const { top, bottom, left, right } = c.padInfo;
  const oh = Math.floor((c.inHeight + top + bottom - c.dilationHeight * (c.filterHeight - 1) - 1) / c.strideHeight) + 1;
  const ow = Math.floor((c.inWidth + left + right - c.dilationWidth * (c.filterWidth - 1) - 1) / c.strideWidth) + 1;
  if (oh !== c.outHeight || ow !== c.outWidth) {
    throw new Error(`${op} (simdnn): output ${c.outHeight}×${c.outWidth} from this dimRoundingMode is not supported ` +
      `(the padding gives ${oh}×${ow})`);
  }
  return { stride: [c.strideHeight, c.strideWidth] as [number, number], padding: [top, bottom, left, right] as Shape4,
           dilation: [c.dilationHeight, c.dilationWidth] as [number, number], groups };
}

const channelsLast = (c: Info) => c.dataFormat === 'channelsLast';

/** An activation as NCHW: a cached transposed copy for NHWC (both backprops and the forward share it). */
function nchw(b: SimdnnBackend, x: TensorInfo, c: Info, dims: 'in' | 'out'): Tensor {
  const shape = dims === 'in' ? [c.batchSize, c.inChannels, c.inHeight, c.inWidth] : [c.batchSize, c.outChannels, c.outHeight, c.outWidth];
  if (!channelsLast(c)) return b.view(x, shape);
  return nchwOf(b, x, [shape[0], shape[2], shape[3], shape[1]]);
}

/** An NCHW result as a tfjs output in the conv's data format (disposing the NCHW tensor when transposed). */
function output(b: SimdnnBackend, y: Tensor, c: Info, shape: readonly number[]): TensorInfo {
  if (!channelsLast(c)) return b.makeOutput(y, c.outShape, 'float32');
  try {
    return b.makeOutput(nchwToNhwc(b.nn, y, shape), c.outShape, 'float32');
  } finally {
    y.dispose();
  }
}

/** In NCHW a 1-D per-channel parameter applies along C: read it as [C, 1, 1] (tfjs's rule). */
function channelwise(p: TensorInfo, c: Info): TensorInfo {
  return !channelsLast(c) && p.shape.length === 1 && p.shape[0] !== 1 ? { ...p, shape: [p.shape[0], 1, 1] } : p;
}

function forward(op: string, b: SimdnnBackend, x: TensorInfo, w: Tensor, c: Info, groups: number,
                 bias: TensorInfo | undefined, act: FusedActivation | null): TensorInfo {
  const xs = nchw(b, x, c, 'in');
  // A per-channel bias goes into the GEMM's epilogue; any other broadcastable bias is added afterwards.
  const biasInGemm = bias && bias.shape.length <= 1 && bias.shape[0] === c.outChannels ? b.view(bias, [c.outChannels]) : null;
  const y = b.nn.ops.conv2d(xs, w, biasInGemm, convOptions(op, c, groups));
  const out = output(b, y, c, y.shape);
  if (bias && !biasInGemm) addBias(b, out, channelwise(bias, c), op);
  if (act) applyActivation(b, out, { ...act, prelu: act.prelu && channelwise(act.prelu, c) }, op);
  return out;
}

function conv2D({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const b = backend;
  const { x, filter } = inputs;
  const { strides, pad, dataFormat, dilations, dimRoundingMode } = attrs as unknown as ConvAttrs;
  const c = backend_util.computeConv2DInfo(x.shape as Shape4, filter.shape as Shape4,
    strides, dilations ?? 1, pad, dimRoundingMode, false, backend_util.convertConv2DDataFormat(dataFormat ?? 'NHWC'));
  return forward('Conv2D', b, x, oihwOf(b, filter), c, 1, undefined, null);
}

function fusedConv2D({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const b = backend;
  const { x, filter, bias, preluActivationWeights } = inputs;
  const a = attrs as unknown as ConvAttrs & { activation: string; leakyreluAlpha?: number };
  const c = backend_util.computeConv2DInfo(x.shape as Shape4, filter.shape as Shape4,
    a.strides, a.dilations ?? 1, a.pad, a.dimRoundingMode, false, backend_util.convertConv2DDataFormat(a.dataFormat ?? 'NHWC'));
  const act = { name: a.activation, prelu: preluActivationWeights, alpha: a.leakyreluAlpha };
  return forward('FusedConv2D', b, x, oihwOf(b, filter), c, 1, bias, act);
}

function conv2DBackpropInput({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const b = backend;
  const { dy, filter } = inputs;
  const a = attrs as unknown as ConvAttrs & { inputShape: [number, number, number, number] };
  const c = backend_util.computeConv2DInfo(a.inputShape, filter.shape as Shape4, a.strides, 1, a.pad,
    a.dimRoundingMode, false, backend_util.convertConv2DDataFormat(a.dataFormat ?? 'NHWC'));
  return backwardData('Conv2DBackpropInput', b, dy, oihwOf(b, filter), c, 1);
}

/**
 * tfjs's backprops read dy only over the output extent of the conv info, even when dy is larger (a
 * conv2dTranspose with an outputShape smaller than the stride allows): the top-left box of dy.
 */
function croppedDy(b: SimdnnBackend, dy: TensorInfo, c: Info): TensorInfo {
  const want = c.outShape;
  if (dy.shape.every((d, i) => d === want[i])) return dy;
  if (dy.shape.length !== 4 || dy.shape.some((d, i) => d < want[i])) {
    throw new Error(`Conv2DBackpropInput (simdnn): dy must have shape [${want}], got [${dy.shape}]`);
  }
  return sliceOp(b, dy, [0, 0, 0, 0], [...want]);
}

/** dx from dy; x itself is not read (only its shape), so a view at dy's data stands in for it. */
function backwardData(op: string, b: SimdnnBackend, dy: TensorInfo, w: Tensor, c: Info, groups: number): TensorInfo {
  const cropped = croppedDy(b, dy, c);
  try {
    const dys = nchw(b, cropped, c, 'out');
    const inNchw = [c.batchSize, c.inChannels, c.inHeight, c.inWidth];
    const xShapeOnly = b.view(cropped, inNchw);
    const { dx } = b.nn.ops.conv2dBackward(dys, xShapeOnly, w, convOptions(op, c, groups), { bias: false, input: true, weight: false });
    if (!channelsLast(c)) return b.makeOutput(dx!, c.inShape, 'float32');
    try {
      return b.makeOutput(nchwToNhwc(b.nn, dx!, inNchw), c.inShape, 'float32');
    } finally {
      dx!.dispose();
    }
  } finally {
    if (cropped !== dy) b.disposeData(cropped.dataId);
  }
}

function conv2DBackpropFilter({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const b = backend;
  const { x, dy } = inputs;
  const a = attrs as unknown as ConvAttrs & { filterShape: [number, number, number, number] };
  const c = backend_util.computeConv2DInfo(x.shape as Shape4, a.filterShape, a.strides, 1, a.pad,
    a.dimRoundingMode, false, backend_util.convertConv2DDataFormat(a.dataFormat ?? 'NHWC'));
  const [KH, KW, Cin, Cout] = a.filterShape;
  const dw = backwardFilter('Conv2DBackpropFilter', b, x, dy, c, [Cout, Cin, KH, KW], 1);
  try {
    return b.makeOutput(oihwToFilter(b.nn, dw, dw.shape), a.filterShape, 'float32');
  } finally {
    dw.dispose();
  }
}

/** dW in OIHW; the weights are not read (only their shape), so a view at x's data stands in for them. */
function backwardFilter(op: string, b: SimdnnBackend, x: TensorInfo, dy: TensorInfo, c: Info, wShape: number[], groups: number): Tensor {
  const xs = nchw(b, x, c, 'in');
  const dys = nchw(b, dy, c, 'out');
  const wShapeOnly = b.view(x, wShape);
  return b.nn.ops.conv2dBackward(dys, xs, wShapeOnly, convOptions(op, c, groups), { bias: false, input: false, weight: true }).dw!;
}

// ------------------------------------------------------------------------------------------- depthwise

function depthwiseInfo(xShape: number[], fShape: number[], a: ConvAttrs): Info {
  return backend_util.computeConv2DInfo(xShape as Shape4, fShape as Shape4,
    a.strides, a.dilations ?? 1, a.pad, a.dimRoundingMode, true, backend_util.convertConv2DDataFormat(a.dataFormat ?? 'NHWC'));
}

function depthwiseConv2dNative({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const b = backend;
  const { x, filter } = inputs;
  const c = depthwiseInfo(x.shape, filter.shape, attrs as unknown as ConvAttrs);
  return forward('DepthwiseConv2dNative', b, x, depthwiseOihwOf(b, filter), c, c.inChannels, undefined, null);
}

function fusedDepthwiseConv2D({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const b = backend;
  const { x, filter, bias, preluActivationWeights } = inputs;
  const a = attrs as unknown as ConvAttrs & { activation: string; leakyreluAlpha?: number };
  const c = depthwiseInfo(x.shape, filter.shape, a);
  const act = { name: a.activation, prelu: preluActivationWeights, alpha: a.leakyreluAlpha };
  return forward('FusedDepthwiseConv2D', b, x, depthwiseOihwOf(b, filter), c, c.inChannels, bias, act);
}

function depthwiseBackpropInput({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const b = backend;
  const { dy, filter } = inputs;
  const a = attrs as unknown as ConvAttrs & { inputShape: number[] };
  const c = depthwiseInfo(a.inputShape, filter.shape, a);
  return backwardData('DepthwiseConv2dNativeBackpropInput', b, dy, depthwiseOihwOf(b, filter), c, c.inChannels);
}

function depthwiseBackpropFilter({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const b = backend;
  const { x, dy } = inputs;
  const a = attrs as unknown as ConvAttrs & { filterShape: [number, number, number, number] };
  const c = depthwiseInfo(x.shape, a.filterShape, a);
  const [KH, KW, C, M] = a.filterShape;
  const dw = backwardFilter('DepthwiseConv2dNativeBackpropFilter', b, x, dy, c, [C * M, 1, KH, KW], C);
  try {
    // [C·M, KH·KW] → [KH·KW, C·M] = [KH, KW, C, M].
    return b.makeOutput(batchedTranspose(b.nn, dw, 1, C * M, KH * KW, [KH * KW * C * M], 'tfjs depthwise filter'), a.filterShape, 'float32');
  } finally {
    dw.dispose();
  }
}

export const convKernels = [
  kernel('Conv2D', conv2D),
  kernel('FusedConv2D', fusedConv2D),
  kernel('Conv2DBackpropInput', conv2DBackpropInput),
  kernel('Conv2DBackpropFilter', conv2DBackpropFilter),
  kernel('DepthwiseConv2dNative', depthwiseConv2dNative),
  kernel('FusedDepthwiseConv2D', fusedDepthwiseConv2D),
  kernel('DepthwiseConv2dNativeBackpropInput', depthwiseBackpropInput),
  kernel('DepthwiseConv2dNativeBackpropFilter', depthwiseBackpropFilter),
];
