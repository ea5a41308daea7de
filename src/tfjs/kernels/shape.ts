// Shape and data-movement kernels: Reshape and Identity share the data (one more reference), the rest copy
// with JS loops over the memory views (Cast, Fill, ZerosLike, OnesLike, Slice, Concat, Pack, Unpack, Tile,
// Range, PadV2, SplitV, GatherV2, OneHot, Reverse).
import { backend_util, slice_util, util, type DataType, type TensorInfo } from '@tensorflow/tfjs-core';
import type { SimdnnBackend } from '../backend.js';
import { attrsOf, kernel, type KernelArgs } from './kernel.js';

/** The same data under another shape. */
export function reshape(b: SimdnnBackend, x: TensorInfo, shape: number[]): TensorInfo {
  const size = util.sizeFromShape(x.shape);
  const $shape = util.inferFromImplicitShape(shape, size);
  if (util.sizeFromShape($shape) !== size) {
    throw new Error(`Reshape (simdnn): cannot reshape [${x.shape}] (${size} elements) to [${shape}]`);
  }
  b.incRef(x.dataId);
  return { dataId: x.dataId, shape: $shape, dtype: x.dtype };
}

function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  for (let i = shape.length - 1, acc = 1; i >= 0; i--) { s[i] = acc; acc *= shape[i]; }
  return s;
}

/** Calls f(outIndex, inIndex) for every element of a box [begin, begin + size) of x (strided steps). */
function forBox(xShape: readonly number[], begin: readonly number[], size: readonly number[], steps: readonly number[] | null,
                f: (o: number, i: number) => void): void {
  const rank = size.length, n = util.sizeFromShape([...size]);
  if (n === 0) return;
  const xs = stridesOf(xShape);
  const idx = new Array<number>(rank).fill(0);
  let at = 0;
  for (let d = 0; d < rank; d++) at += begin[d] * xs[d];
  for (let o = 0; o < n; o++) {
    f(o, at);
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]++;
      const step = (steps ? steps[d] : 1) * xs[d];
      at += step;
      if (idx[d] < size[d]) break;
      at -= step * size[d];
      idx[d] = 0;
    }
  }
}

function cast(args: KernelArgs): TensorInfo {
  const { backend: b } = args;
  const { x } = args.inputs;
  const { dtype } = attrsOf<{ dtype: DataType }>(args);
  if (dtype === x.dtype) {
    b.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype };
  }
  const { info, t } = b.makeEmpty(x.shape, dtype);
  if (!t) return info;
  const v = b.values(x), out = t.view();
  if (dtype === 'bool') for (let i = 0; i < v.length; i++) out[i] = v[i] !== 0 ? 1 : 0;
  else if (dtype === 'int32') for (let i = 0; i < v.length; i++) out[i] = Math.trunc(v[i]);
  else out.set(v);
  return info;
}

function fill(args: KernelArgs): TensorInfo {
  const { shape, value, dtype } = attrsOf<{ shape: number[]; value: number | string; dtype: DataType }>(args);
  if (dtype === 'string' || typeof value === 'string') {
    const bytes = util.encodeString(String(value));
    return args.backend.makeStrings(Array.from({ length: util.sizeFromShape(shape) }, () => bytes), shape);
  }
  const { info, t } = args.backend.makeEmpty(shape, dtype ?? 'float32');
  if (t) t.view().fill(Number(value));
  return info;
}

function filled(value: number) {
  return (args: KernelArgs): TensorInfo => {
    const { x } = args.inputs;
    const { info, t } = args.backend.makeEmpty(x.shape, x.dtype);
    if (t) t.view().fill(value);
    return info;
  };
}

function slice(args: KernelArgs): TensorInfo {
  const { x } = args.inputs;
  const a = attrsOf<{ begin: number | number[]; size: number | number[] }>(args);
  const [begin, size] = slice_util.parseSliceParams(x as never, a.begin, a.size);
  slice_util.assertParamsValid(x as never, begin, size);
  return sliceOp(args.backend, x, begin, size);
}

/** The box [begin, begin + size) of x as a new tensor. */
export function sliceOp(b: SimdnnBackend, x: TensorInfo, begin: number[], size: number[]): TensorInfo {
  const { info, t } = b.makeEmpty(size, x.dtype);
  if (!t) return info;
  const v = b.values(x), out = t.view();
  forBox(x.shape, begin, size, null, (o, i) => { out[o] = v[i]; });
  return info;
}

function stridedSlice(args: KernelArgs): TensorInfo {
  const { backend: b } = args;
  const { x } = args.inputs;
  const a = attrsOf<{ begin: number[]; end: number[]; strides: number[]; beginMask: number; endMask: number;
    ellipsisMask: number; newAxisMask: number; shrinkAxisMask: number }>(args);
  const s = slice_util.sliceInfo(x.shape, a.begin, a.end, a.strides, a.beginMask, a.endMask, a.ellipsisMask, a.newAxisMask, a.shrinkAxisMask);
  if (s.isIdentity) return reshape(b, x, s.finalShape);
  if (s.sliceDim0 || s.isSimpleSlice) {
    // A plain box: slice, then drop/insert the shrunk and new axes.
    const sliced = sliceOp(b, x, s.begin, slice_util.computeOutShape(s.begin, s.end, s.strides));
    const out = reshape(b, sliced, s.finalShape);
    b.disposeData(sliced.dataId);
    return out;
  }
  const { info, t } = b.makeEmpty(s.finalShape, x.dtype);
  if (!t) return info;
  const v = b.values(x), out = t.view();
  forBox(x.shape, s.begin, s.finalShapeSparse, s.strides, (o, i) => { out[o] = v[i]; });
  return info;
}

/** Concat along axis: each input is `rows` blocks, interleaved into the output. */
function concatInto(b: SimdnnBackend, list: TensorInfo[], axis: number, shape: number[], dtype: DataType): TensorInfo {
  const { info, t } = b.makeEmpty(shape, dtype);
  if (!t) return info;
  const rows = util.sizeFromShape(shape.slice(0, axis)), outRow = util.sizeFromShape(shape.slice(axis));
  const out = t.view();
  let col = 0;
  for (const x of list) {
    const len = util.sizeFromShape(x.shape.slice(axis)), v = b.values(x);
    for (let r = 0; r < rows; r++) out.set(v.subarray(r * len, (r + 1) * len), r * outRow + col);
    col += len;
  }
  return info;
}

function concat(args: KernelArgs): TensorInfo {
  const list = args.inputs as unknown as TensorInfo[];
  const { axis } = attrsOf<{ axis: number }>(args);
  const $axis = util.parseAxisParam(axis, list[0].shape)[0];
  backend_util.assertParamsConsistent(list.map((x) => x.shape), $axis);
  const shape = backend_util.computeOutShape(list.map((x) => x.shape), $axis);
  const dtype = list.reduce<DataType>((d, x) => (x.dtype === 'float32' ? 'float32' : d), list[0].dtype);
  return concatInto(args.backend, list.filter((x) => util.sizeFromShape(x.shape) > 0), $axis, shape, dtype);
}

function pack(args: KernelArgs): TensorInfo {
  const list = args.inputs as unknown as TensorInfo[];
  const { axis } = attrsOf<{ axis: number }>(args);
  const rank = list[0].shape.length, $axis = axis < 0 ? axis + rank + 1 : axis;
  for (const x of list) {
    util.assertShapesMatch(list[0].shape, x.shape, 'All tensors passed to stack must have matching shapes');
    util.assert(x.dtype === list[0].dtype, () => 'All tensors passed to stack must have matching dtypes');
  }
  const expanded = list.map((x) => ({ ...x, shape: [...x.shape.slice(0, $axis), 1, ...x.shape.slice($axis)] }));
  const shape = [...list[0].shape.slice(0, $axis), list.length, ...list[0].shape.slice($axis)];
  return concatInto(args.backend, expanded, $axis, shape, list[0].dtype);
}

function unpack(args: KernelArgs): TensorInfo[] {
  const { backend: b } = args;
  const { value: x } = args.inputs;
  const { axis } = attrsOf<{ axis: number }>(args);
  const $axis = axis < 0 ? axis + x.shape.length : axis;
  const n = x.shape[$axis], outShape = x.shape.filter((_, i) => i !== $axis);
  const size = x.shape.map((d, i) => (i === $axis ? 1 : d));
  const outs: TensorInfo[] = [];
  for (let k = 0; k < n; k++) {
    const { info, t } = b.makeEmpty(outShape, x.dtype);
    outs.push(info);
    if (!t) continue;
    const v = b.values(x), out = t.view();
    forBox(x.shape, x.shape.map((_, i) => (i === $axis ? k : 0)), size, null, (o, i) => { out[o] = v[i]; });
  }
  return outs;
}

function splitV(args: KernelArgs): TensorInfo[] {
  const { backend: b } = args;
  const { x } = args.inputs;
  const { numOrSizeSplits, axis } = attrsOf<{ numOrSizeSplits: number | number[]; axis: number }>(args);
  const $axis = util.parseAxisParam(axis, x.shape)[0];
  const sizes = backend_util.prepareSplitSize(x as never, numOrSizeSplits, $axis);
  const outs: TensorInfo[] = [];
  let start = 0;
  for (const s of sizes) {
    const begin = x.shape.map((_, i) => (i === $axis ? start : 0));
    const size = x.shape.map((d, i) => (i === $axis ? s : d));
    const { info, t } = b.makeEmpty(size, x.dtype);
    outs.push(info);
    start += s;
    if (!t) continue;
    const v = b.values(x), out = t.view();
    forBox(x.shape, begin, size, null, (o, i) => { out[o] = v[i]; });
  }
  return outs;
}

function tile(args: KernelArgs): TensorInfo {
  const { backend: b } = args;
  const { x } = args.inputs;
  const { reps } = attrsOf<{ reps: number[] }>(args);
  const shape = x.shape.map((d, i) => d * reps[i]);
  const { info, t } = b.makeEmpty(shape, x.dtype);
  if (!t) return info;
  const v = b.values(x), out = t.view(), xs = stridesOf(x.shape), rank = shape.length;
  // Repeating only along leading dims of size 1 ([1, 1, 1, C] → [N, H, W, C]): x is the output's period.
  let k = rank;
  while (k > 0 && reps[k - 1] === 1) k--;
  if (x.shape.slice(0, k).every((d) => d === 1)) {
    const m = v.length;
    for (let r = 0; r < out.length; r += m) out.set(v, r);
    return info;
  }
  const idx = new Array<number>(rank).fill(0);
  for (let o = 0; o < out.length; o++) {
    let at = 0;
    for (let d = 0; d < rank; d++) at += (idx[d] % x.shape[d]) * xs[d];
    out[o] = v[at];
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return info;
}

function range(args: KernelArgs): TensorInfo {
  const { start, stop, dtype } = attrsOf<{ start: number; stop: number; step: number; dtype: 'float32' | 'int32' }>(args);
  let { step } = attrsOf<{ step: number }>(args);
  // tfjs's rules: empty when the step points away from stop (a step of 1 on a decreasing range means −1).
  const empty = start === stop || (start < stop && step < 0) || (stop < start && step > 1);
  const n = empty ? 0 : Math.abs(Math.ceil((stop - start) / step));
  if (stop < start && step === 1) step = -1;
  const { info, t } = args.backend.makeEmpty([n], dtype);
  if (t) {
    const out = t.view();
    for (let i = 0; i < n; i++) out[i] = start + i * step;
  }
  return info;
}

function padV2(args: KernelArgs): TensorInfo {
  const { backend: b } = args;
  const { x } = args.inputs;
  const { paddings, constantValue } = attrsOf<{ paddings: [number, number][]; constantValue: number }>(args);
  const shape = x.shape.map((d, i) => paddings[i][0] + d + paddings[i][1]);
  const { info, t } = b.makeEmpty(shape, x.dtype);
  if (!t) return info;
  const out = t.view();
  out.fill(constantValue);
  const v = b.values(x);
  // The box of the output that x fills, walked in x's order: o counts x's elements, i is the output position.
  forBox(shape, paddings.map(([lo]) => lo), x.shape, null, (o, i) => { out[i] = v[o]; });
  return info;
}

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

function oneHot(args: KernelArgs): TensorInfo {
  const { backend: b } = args;
  const { indices } = args.inputs;
  const { depth, onValue, offValue, dtype } = attrsOf<{ depth: number; onValue: number; offValue: number; dtype: DataType }>(args);
  const { info, t } = b.makeEmpty([...indices.shape, depth], dtype ?? 'int32');
  if (!t) return info;
  const out = t.view(), ids = b.values(indices);
  out.fill(offValue);
  for (let i = 0; i < ids.length; i++) if (ids[i] >= 0 && ids[i] < depth) out[i * depth + ids[i]] = onValue;
  return info;
}

function reverse(args: KernelArgs): TensorInfo {
  const { backend: b } = args;
  const { x } = args.inputs;
  const { dims } = attrsOf<{ dims: number | number[] }>(args);
  const axes = util.parseAxisParam(dims, x.shape);
  const { info, t } = b.makeEmpty(x.shape, x.dtype);
  if (!t) return info;
  const v = b.values(x), out = t.view(), xs = stridesOf(x.shape);
  forBox(x.shape, x.shape.map(() => 0), x.shape, null, (o, i) => {
    let src = 0;
    for (let d = 0; d < x.shape.length; d++) {
      const c = Math.floor(i / xs[d]) % x.shape[d];
      src += (axes.includes(d) ? x.shape[d] - 1 - c : c) * xs[d];
    }
    out[o] = v[src];
  });
  return info;
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

/** MirrorPad: 'reflect' mirrors about the edge element, 'symmetric' repeats it. */
function mirrorPad(args: KernelArgs): TensorInfo {
  const { backend: b } = args;
  const { x } = args.inputs;
  const { paddings, mode } = attrsOf<{ paddings: [number, number][]; mode: 'reflect' | 'symmetric' }>(args);
  const shape = x.shape.map((d, i) => paddings[i][0] + d + paddings[i][1]);
  const { info, t } = b.makeEmpty(shape, x.dtype);
  if (!t) return info;
  const out = t.view(), v = b.values(x), xs = stridesOf(x.shape), rank = shape.length, off = mode === 'reflect' ? 0 : 1;
  const idx = new Array<number>(rank).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let d = 0; d < rank; d++) {
      const n = x.shape[d];
      let j = idx[d] - paddings[d][0];
      if (j < 0) j = -j - off;
      else if (j >= n) j = 2 * n - 2 + off - j;
      src += j * xs[d];
    }
    out[o] = v[src];
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return info;
}

export const shapeKernels = [
  kernel('MirrorPad', mirrorPad),
  kernel('UnsortedSegmentSum', unsortedSegmentSum),
  cumulative('Cumsum', 0, (a, c) => a + c),
  cumulative('Cumprod', 1, (a, c) => a * c),
  kernel('Reshape', (args) => reshape(args.backend, args.inputs.x, attrsOf<{ shape: number[] }>(args).shape)),
  kernel('ExpandDims', (args) => {
    const { input } = args.inputs;
    const { dim } = attrsOf<{ dim: number }>(args);
    const rank = input.shape.length, axis = dim < 0 ? dim + rank + 1 : dim;
    if (dim < -(rank + 1) || dim > rank) throw new Error(`ExpandDims: axis must be in the interval [${-(rank + 1)}, ${rank}], got ${dim}`);
    return reshape(args.backend, input, [...input.shape.slice(0, axis), 1, ...input.shape.slice(axis)]);
  }),
  kernel('Identity', ({ inputs, backend }) => { backend.incRef(inputs.x.dataId); return { ...inputs.x }; }),
  kernel('Cast', cast),
  kernel('Fill', fill),
  kernel('ZerosLike', filled(0)),
  kernel('OnesLike', filled(1)),
  kernel('Slice', slice),
  kernel('StridedSlice', stridedSlice),
  kernel('Concat', concat),
  kernel('Pack', pack),
  kernel('Unpack', unpack),
  kernel('SplitV', splitV),
  kernel('Tile', tile),
  kernel('Range', range),
  kernel('PadV2', padV2),
  kernel('GatherV2', gatherV2),
  kernel('OneHot', oneHot),
  kernel('Reverse', reverse),
];
