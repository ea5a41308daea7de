// Data-movement kernels over boxes of a tensor: Slice, StridedSlice, Concat, Pack, Unpack, SplitV, Tile,
// PadV2, MirrorPad and Reverse, as JS loops over the memory views (an odometer over the box's dimensions).
import { backend_util, slice_util, util, type DataType, type TensorInfo } from '@tensorflow/tfjs-core';
import type { SimdnnBackend } from '../backend.js';
import { attrsOf, kernel, type KernelArgs } from './kernel.js';
import { reshape } from './shape.js';

export function stridesOf(shape: readonly number[]): number[] {
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

function slice(args: KernelArgs): TensorInfo {
  const { x } = args.inputs;
  const a = attrsOf<{ begin: number | number[]; size: number | number[] }>(args);
  const [begin, size] = slice_util.parseSliceParams(x as never, a.begin, a.size);
  slice_util.assertParamsValid(x as never, begin, size);
  // The whole tensor (tfjs-layers' predict slices its input into batches, often one): share x's data, as Reshape
  // does (tfjs never changes the data behind a dataId).
  if (size.every((d, i) => d === x.shape[i])) {
    args.backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: [...size], dtype: x.dtype };
  }
  return sliceOp(args.backend, x, begin, size);
}

/** The box [begin, begin + size) of x as a new tensor. */
export function sliceOp(b: SimdnnBackend, x: TensorInfo, begin: number[], size: number[]): TensorInfo {
  const { info, t } = b.makeEmpty(size, x.dtype);
  if (!t) return info;
  const v = b.values(x), out = t.view();
  // The box is a sequence of contiguous runs: dims after `d` are whole, dim d is partial. Long runs are block
  // copies (a batch slice is one run); short ones go element by element.
  let d = size.length - 1;
  while (d > 0 && size[d] === x.shape[d]) d--;
  const run = size.slice(d).reduce((p, q) => p * q, 1);
  if (run < 16) {
    forBox(x.shape, begin, size, null, (o, i) => { out[o] = v[i]; });
    return info;
  }
  const outer = size.slice(0, d), xs = stridesOf(x.shape);
  forBox(outer.length ? x.shape.slice(0, d) : [1], outer.length ? begin.slice(0, d) : [0], outer.length ? outer : [1], null, (r, at) => {
    // at indexes x's leading d dims; scale it to x's elements and add the offset within dim d.
    const src = (outer.length ? at * xs[d - 1] : 0) + begin[d] * xs[d];
    out.set(v.subarray(src, src + run), r * run);
  });
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
    // simdnn's SIMD block copy (4-byte elements, bits as they are): every output row from the same source row.
    b.nn.kernels.copy_blocks(b.tensor(x)!.offset, t.offset, out.length / m, m, 0, m, 0);
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

export const sliceKernels = [
  kernel('MirrorPad', mirrorPad),
  kernel('Slice', slice),
  kernel('StridedSlice', stridedSlice),
  kernel('Concat', concat),
  kernel('Pack', pack),
  kernel('Unpack', unpack),
  kernel('SplitV', splitV),
  kernel('Tile', tile),
  kernel('PadV2', padV2),
  kernel('Reverse', reverse),
];
