// Adaptive average and max pooling over NCHW (torch.nn.functional.adaptive_avg_pool2d / adaptive_max_pool2d),
// forward and backward. Output (oh, ow) covers input rows [⌊oh·H/OH⌋, ⌈(oh+1)·H/OH⌉) and the columns likewise,
// so windows overlap when H is not a multiple of OH (assembly/adaptive-pool.ts). Threads split planes.
import type { Engine } from '../engine.js';
import type { Tensor } from '../tensor.js';
import { checkShape, checkTensor, fail, shapeStr } from './check.js';
import { runSplit, MEMORY_BOUND_WEIGHT } from './parallel.js';

/** Output [oh, ow], or one number for both; null in a pair keeps that input size (PyTorch's None). */
export type AdaptiveOutputSize = number | [number | null, number | null];

const WHAT = 'a positive integer or a pair of positive integers (null keeps the input size)';

/** [OH, OW] for an input of H×W. */
function resolveOutput(op: string, outputSize: unknown, H: number, W: number): [number, number] {
  const ok = (d: unknown) => d === null || (Number.isInteger(d) && (d as number) > 0);
  if (Number.isInteger(outputSize) && (outputSize as number) > 0) return [outputSize as number, outputSize as number];
  if (Array.isArray(outputSize) && outputSize.length === 2 && outputSize.every(ok)) {
    return [outputSize[0] ?? H, outputSize[1] ?? W];
  }
  return fail(op, 'outputSize', WHAT, outputSize);
}

function checkXShape(op: string, xShape: unknown): readonly number[] {
  checkShape(op, 'xShape', xShape);
  if (xShape.length !== 4) fail(op, 'xShape', 'a 4-element shape [N, C, H, W]', xShape);
  return xShape;
}

/** dy must be [N, C, OH, OW] for xShape [N, C, H, W]. */
function checkDy(e: Engine, op: string, dy: Tensor, xShape: readonly number[]): void {
  checkTensor(e, op, 'dy', dy, { rank: 4 });
  if (dy.shape[0] !== xShape[0] || dy.shape[1] !== xShape[1]) {
    throw new Error(`${op}: dy must have N, C = ${xShape[0]}, ${xShape[1]} of xShape ${shapeStr(xShape)}, got shape ${shapeStr(dy.shape)}`);
  }
}

export function adaptiveAvgPool2d(e: Engine, x: Tensor, outputSize: AdaptiveOutputSize): Tensor {
  const op = 'adaptiveAvgPool2d';
  checkTensor(e, op, 'x', x, { rank: 4 });
  const [N, C, H, W] = x.shape;
  const [OH, OW] = resolveOutput(op, outputSize, H, W);
  const y = e.empty([N, C, OH, OW], 'float32', op);
  runSplit(e, N * C, MEMORY_BOUND_WEIGHT * x.size, op, 0, (p0, n) => ({
    fn: 'adaptive_avgpool2d_forward', args: [x.offset + p0 * H * W * 4, y.offset + p0 * OH * OW * 4, n, H, W, OH, OW],
  }));
  return y;
}

/** dx [xShape]: each dy spread evenly over its window (the output size is dy's). */
export function adaptiveAvgPool2dBackward(e: Engine, dy: Tensor, xShape: readonly number[]): Tensor {
  const op = 'adaptiveAvgPool2dBackward';
  const [N, C, H, W] = checkXShape(op, xShape);
  checkDy(e, op, dy, xShape);
  const [OH, OW] = [dy.shape[2], dy.shape[3]];
  const dx = e.empty([N, C, H, W], 'float32', op);
  runSplit(e, N * C, MEMORY_BOUND_WEIGHT * dx.size, op, 0, (p0, n) => ({
    fn: 'adaptive_avgpool2d_backward', args: [dy.offset + p0 * OH * OW * 4, dx.offset + p0 * H * W * 4, n, H, W, OH, OW],
  }));
  return dx;
}

/** Values and indices (int32, flat h·W + w within each plane, as PyTorch's return_indices). */
export function adaptiveMaxPool2d(e: Engine, x: Tensor, outputSize: AdaptiveOutputSize): { y: Tensor; indices: Tensor } {
  const op = 'adaptiveMaxPool2d';
  checkTensor(e, op, 'x', x, { rank: 4 });
  const [N, C, H, W] = x.shape;
  const [OH, OW] = resolveOutput(op, outputSize, H, W);
  const y = e.empty([N, C, OH, OW], 'float32', op);
  let indices: Tensor;
  try {
    indices = e.empty([N, C, OH, OW], 'int32', op);
  } catch (err) { y.dispose(); throw err; }
  runSplit(e, N * C, MEMORY_BOUND_WEIGHT * x.size, op, 0, (p0, n) => ({
    fn: 'adaptive_maxpool2d_forward',
    args: [x.offset + p0 * H * W * 4, y.offset + p0 * OH * OW * 4, indices.offset + p0 * OH * OW * 4, n, H, W, OH, OW],
  }));
  return { y, indices };
}

/** dx [xShape]: dy added at the recorded indices (maxpool2d_backward's scatter). */
export function adaptiveMaxPool2dBackward(e: Engine, dy: Tensor, indices: Tensor, xShape: readonly number[]): Tensor {
  const op = 'adaptiveMaxPool2dBackward';
  const [N, C, H, W] = checkXShape(op, xShape);
  checkDy(e, op, dy, xShape);
  checkTensor(e, op, 'indices', indices, { dtype: 'int32', shape: dy.shape });
  const dx = e.empty([N, C, H, W], 'float32', op);
  const bad = e.kernels.maxpool2d_backward(dy.offset, indices.offset, dx.offset, N * C, H * W, dy.shape[2] * dy.shape[3], 0);
  if (bad > 0) {
    dx.dispose();
    throw new Error(`${op}: indices must lie in [0, H·W = ${H * W}), got ${bad} outside that range`);
  }
  return dx;
}
