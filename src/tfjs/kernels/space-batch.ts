// SpaceToBatchND and BatchToSpaceND (tf.pool's dilated pooling, dilated separable convs): composed of
// PadV2 / Reshape / Transpose / Slice. With block shape B (M spatial dims): SpaceToBatchND pads the spatial
// dims, splits each into (size/Bᵢ, Bᵢ), moves the block offsets in front of the batch; BatchToSpaceND undoes
// it and crops.
import { backend_util, slice_util, type TensorInfo } from '@tensorflow/tfjs-core';
import type { SimdnnBackend } from '../backend.js';
import { attrsOf, kernel, type KernelArgs } from './kernel.js';
import { reshape } from './shape.js';
import { sliceOp } from './slice.js';
import { transposeOp } from './transpose.js';

/** Runs steps on a chain of intermediates, disposing each when the next exists. */
function chain(b: SimdnnBackend, x: TensorInfo, steps: ((t: TensorInfo) => TensorInfo)[]): TensorInfo {
  let cur = x;
  for (const step of steps) {
    const next = step(cur);
    if (cur !== x) b.disposeData(cur.dataId);
    cur = next;
  }
  return cur;
}

function padded(b: SimdnnBackend, x: TensorInfo, paddings: [number, number][]): TensorInfo {
  const shape = x.shape.map((d, i) => paddings[i][0] + d + paddings[i][1]);
  const { info, t } = b.makeEmpty(shape, x.dtype);
  if (!t) return info;
  const out = t.view();
  out.fill(0);
  const v = b.values(x), os: number[] = [];
  for (let i = shape.length - 1, s = 1; i >= 0; i--) { os[i] = s; s *= shape[i]; }
  const idx = new Array<number>(x.shape.length).fill(0);
  for (let i = 0; i < v.length; i++) {
    let at = 0;
    for (let d = 0; d < idx.length; d++) at += (idx[d] + paddings[d][0]) * os[d];
    out[at] = v[i];
    for (let d = idx.length - 1; d >= 0; d--) {
      if (++idx[d] < x.shape[d]) break;
      idx[d] = 0;
    }
  }
  return info;
}

function spaceToBatchND(args: KernelArgs): TensorInfo {
  const { backend: b } = args;
  const { x } = args.inputs;
  const { blockShape, paddings } = attrsOf<{ blockShape: number[]; paddings: [number, number][] }>(args);
  const prod = blockShape.reduce((p, q) => p * q, 1);
  const full: [number, number][] = [[0, 0], ...paddings];
  while (full.length < x.shape.length) full.push([0, 0]);
  return chain(b, x, [
    (t) => padded(b, t, full),
    (t) => reshape(b, t, backend_util.getReshaped(t.shape, blockShape, prod, false)),
    (t) => transposeOp(b, t, backend_util.getPermuted(t.shape.length, blockShape.length, false)),
    (t) => reshape(b, t, backend_util.getReshapedPermuted(x.shape.map((d, i) => d + full[i][0] + full[i][1]), blockShape, prod, false)),
  ]);
}

function batchToSpaceND(args: KernelArgs): TensorInfo {
  const { backend: b } = args;
  const { x } = args.inputs;
  const { blockShape, crops } = attrsOf<{ blockShape: number[]; crops: [number, number][] }>(args);
  const prod = blockShape.reduce((p, q) => p * q, 1);
  const permutedShape = backend_util.getReshapedPermuted(x.shape, blockShape, prod);
  return chain(b, x, [
    (t) => reshape(b, t, backend_util.getReshaped(t.shape, blockShape, prod)),
    (t) => transposeOp(b, t, backend_util.getPermuted(t.shape.length, blockShape.length)),
    (t) => reshape(b, t, permutedShape),
    (t) => {
      // Begin and size cover the batch and block dims; parseSliceParams extends them to every dim.
      const [begin, size] = slice_util.parseSliceParams(t as never, backend_util.getSliceBeginCoords(crops, blockShape.length),
        backend_util.getSliceSize(permutedShape, crops, blockShape.length));
      return sliceOp(b, t, begin, size);
    },
  ]);
}

export const spaceBatchKernels = [kernel('SpaceToBatchND', spaceToBatchND), kernel('BatchToSpaceND', batchToSpaceND)];
