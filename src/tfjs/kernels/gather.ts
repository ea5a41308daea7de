// Index-driven kernels: GatherV2, UnsortedSegmentSum (Gather's gradient), Cumsum and Cumprod. JS loops.
import { backend_util, util, type TensorInfo } from '@tensorflow/tfjs-core';
import { attrsOf, kernel, type KernelArgs } from './kernel.js';

function gatherV2(args: KernelArgs): TensorInfo {
  const { backend: b } = args;
  const { x, indices } = args.inputs;
  const { axis, batchDims = 0 } = attrsOf<{ axis: number; batchDims?: number }>(args);
  const $axis = util.parseAxisParam(axis, x.shape)[0];
  const info = backend_util.segment_util.collectGatherOpShapeInfo(x as never, indices as never, $axis, batchDims);
  const { info: out, t } = b.makeEmpty(info.outputShape, x.dtype);
  if (!t) return out;
  const v = b.values(x), ids = b.values(indices), o = t.view();
  // x as [batch, outer, dim, slice], indices as [batch, n].
  const { batchSize, outerSize, dimSize, sliceSize } = info;
  const n = ids.length / batchSize;
  let k = 0;
  for (let bi = 0; bi < batchSize; bi++) {
    for (let oi = 0; oi < outerSize; oi++) {
      for (let j = 0; j < n; j++) {
        const id = ids[bi * n + j];
        if (id < 0 || id >= dimSize) throw new Error(`GatherV2: the index value ${id} is not in [0, ${dimSize - 1}]`);
        const src = ((bi * outerSize + oi) * dimSize + id) * sliceSize;
        for (let s = 0; s < sliceSize; s++) o[k++] = v[src + s];
      }
    }
  }
  return out;
}

/** UnsortedSegmentSum: out[s] = Σ of x's slices whose segment id (indexing x's leading dimensions) is s. */
function unsortedSegmentSum(args: KernelArgs): TensorInfo {
  const { backend: b } = args;
  const { x, segmentIds } = args.inputs;
  const { numSegments } = attrsOf<{ numSegments: number }>(args);
  const inner = util.sizeFromShape(x.shape.slice(segmentIds.shape.length));
  const { info, t } = b.makeEmpty([numSegments, ...x.shape.slice(segmentIds.shape.length)], x.dtype);
  if (!t) return info;
  const out = t.view(), v = b.values(x), ids = b.values(segmentIds);
  out.fill(0);
  for (let i = 0; i < ids.length; i++) {
    const s = ids[i];
    if (s < 0 || s >= numSegments) continue;
    for (let k = 0; k < inner; k++) out[s * inner + k] += v[i * inner + k];
  }
  return info;
}

/** Cumsum / Cumprod along one axis (exclusive: start from the identity; reverse: from the end). */
function cumulative(name: string, identity: number, f: (a: number, b: number) => number) {
  return kernel(name, (args: KernelArgs) => {
    const { backend: b } = args;
    const { x } = args.inputs;
    const { axis, exclusive = false, reverse = false } = attrsOf<{ axis: number; exclusive?: boolean; reverse?: boolean }>(args);
    const $axis = util.parseAxisParam(axis, x.shape)[0];
    const dtype = x.dtype === 'bool' ? 'int32' : x.dtype;
    const { info, t } = b.makeEmpty(x.shape, dtype);
    if (!t) return info;
    const out = t.view(), v = b.values(x);
    const n = x.shape[$axis], inner = util.sizeFromShape(x.shape.slice($axis + 1)), outer = v.length / (n * inner);
    for (let o = 0; o < outer; o++) {
      for (let k = 0; k < inner; k++) {
        let acc = identity;
        for (let j = 0; j < n; j++) {
          const i = o * n * inner + (reverse ? n - 1 - j : j) * inner + k;
          if (exclusive) { out[i] = acc; acc = f(acc, v[i]); } else { acc = f(acc, v[i]); out[i] = acc; }
        }
      }
    }
    return info;
  });
}

export const gatherKernels = [
  kernel('UnsortedSegmentSum', unsortedSegmentSum),
  cumulative('Cumsum', 0, (a, c) => a + c),
  cumulative('Cumprod', 1, (a, c) => a * c),
  kernel('GatherV2', gatherV2),
];
