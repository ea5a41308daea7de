// Shape and creation kernels: Reshape, ExpandDims and Identity share the data (one more reference); Cast,
// Fill, ZerosLike, OnesLike, Range and OneHot write new tensors with JS loops over the memory views.
import { util, type DataType, type TensorInfo } from '@tensorflow/tfjs-core';
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

export const shapeKernels = [
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
  kernel('Range', range),
  kernel('OneHot', oneHot),
];
