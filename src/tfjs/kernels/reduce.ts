// Reductions over any axes (Sum, Mean, Max, Min, Prod, All, Any, ArgMax, ArgMin): the reduced axes are
// permuted innermost (Transpose), then each output element folds one contiguous run — for float32 Sum, Mean, Prod,
// Max, Min, ArgMax and ArgMin on simdnn's SIMD row-reduction kernel (assembly/reduce.ts reduce_rows), for int32 and
// bool in JS loops. Float32 Sum and Mean over the leading axes run on the SIMD column-sum kernel without the transpose.
import { backend_util, upcastType, util, type DataType, type TensorInfo } from '@tensorflow/tfjs-core';
import type { SimdnnBackend } from '../backend.js';
import { attrsOf, kernel, type KernelArgs } from './kernel.js';
import { transposeOp } from './transpose.js';

interface ReduceAttrs {
  axis: number | number[];
  /** Max names its axes reductionIndices. */
  reductionIndices?: number | number[];
  keepDims?: boolean;
}

/** x with the given axes innermost, the output shape and the reduced run length. */
function prepare(b: SimdnnBackend, x: TensorInfo, axis: number | number[], keepDims: boolean) {
  const origAxes = util.parseAxisParam(axis, x.shape);
  let axes = origAxes;
  const perm = backend_util.getAxesPermutation(axes, x.shape.length);
  let input = x, transposed = false;
  if (perm != null) {
    input = transposeOp(b, x, perm);
    axes = backend_util.getInnerMostAxes(axes.length, x.shape.length);
    transposed = true;
  }
  const [outShape, reduceShape] = backend_util.computeOutAndReduceShapes(input.shape, axes);
  const shape = keepDims ? backend_util.expandShapeToKeepDim(outShape, origAxes) : outShape;
  return { input, transposed, shape, inner: util.sizeFromShape(reduceShape) };
}

type Fold = (v: Float32Array | Int32Array, start: number, n: number) => number;

/**
 * Sum or Mean over the leading axes ([0, 1, 2] of NHWC: batch-norm moments and per-channel gradients) without
 * the transpose: column sums of x as [rows, m], accumulated in float64 (SIMD kernel for float32, a JS loop for
 * int32). Null when the axes are not the leading ones.
 */
function leadingSum(b: SimdnnBackend, x: TensorInfo, axis: number | number[], keepDims: boolean, dtype: DataType,
                    mode: 'sum' | 'mean'): TensorInfo | null {
  const axes = util.parseAxisParam(axis, x.shape).slice().sort((p, q) => p - q);
  if (axes.length === 0 || !axes.every((a, i) => a === i) || axes.length === x.shape.length) return null;
  const outShape = x.shape.slice(axes.length);
  const { info, t } = b.makeEmpty(keepDims ? [...axes.map(() => 1), ...outShape] : outShape, dtype);
  if (!t) return info;
  const m = t.size, rows = util.sizeFromShape(x.shape) / m;
  const xt = b.tensor(x);
  if (x.dtype === 'float32' && xt) {
    const acc = b.nn.scratch(8 * m, 'tfjs column sums');
    b.nn.kernels.sum_columns(xt.offset, rows, m, t.offset, acc, mode === 'mean' ? 1 : 0);
    return info;
  }
  const v = b.values(x), out = t.view();
  const acc = new Float64Array(m);
  for (let r = 0; r < v.length; r += m) for (let k = 0; k < m; k++) acc[k] += v[r + k];
  for (let k = 0; k < m; k++) out[k] = mode === 'mean' ? acc[k] / rows : acc[k];
  return info;
}

/** reduce_rows's operation codes (assembly/reduce.ts ROW_*). */
const ROW_OPS: Record<string, number> = { Sum: 0, Mean: 1, Prod: 2, Max: 3, Min: 4, ArgMax: 5, ArgMin: 6 };

function reduceKernel(name: string, fold: Fold, outDtype: (x: DataType) => DataType, columns?: 'sum' | 'mean') {
  return kernel(name, (args: KernelArgs) => {
    const { backend: b } = args;
    const { x } = args.inputs;
    const { axis, reductionIndices, keepDims = false } = attrsOf<ReduceAttrs>(args);
    if (columns) {
      const fast = leadingSum(b, x, axis ?? reductionIndices, keepDims, outDtype(x.dtype), columns);
      if (fast) return fast;
    }
    const { input, transposed, shape, inner } = prepare(b, x, axis ?? reductionIndices, keepDims);
    try {
      const { info, t } = b.makeEmpty(shape, outDtype(x.dtype));
      if (!t) return info;
      const xt = b.tensor(input);
      if (x.dtype === 'float32' && name in ROW_OPS && xt) {
        b.nn.kernels.reduce_rows(ROW_OPS[name], xt.offset, t.size, inner, t.offset);
        return info;
      }
      const v = b.values(input), out = t.view();
      for (let o = 0; o < out.length; o++) out[o] = fold(v, o * inner, inner);
      return info;
    } finally {
      if (transposed) b.disposeData(input.dataId);
    }
  });
}

const sum: Fold = (v, s, n) => { let a = 0; for (let i = s; i < s + n; i++) a += v[i]; return a; };
const prod: Fold = (v, s, n) => { let a = 1; for (let i = s; i < s + n; i++) a *= v[i]; return a; };
const max: Fold = (v, s, n) => {
  let a = -Infinity;
  for (let i = s; i < s + n; i++) { const x = v[i]; if (x > a || Number.isNaN(x)) { a = x; if (Number.isNaN(x)) break; } }
  return a;
};
const min: Fold = (v, s, n) => {
  let a = Infinity;
  for (let i = s; i < s + n; i++) { const x = v[i]; if (x < a || Number.isNaN(x)) { a = x; if (Number.isNaN(x)) break; } }
  return a;
};
const all: Fold = (v, s, n) => { for (let i = s; i < s + n; i++) if (!v[i]) return 0; return 1; };
const any: Fold = (v, s, n) => { for (let i = s; i < s + n; i++) if (v[i]) return 1; return 0; };
/** Index of the first maximum / minimum in the run. */
const argMax: Fold = (v, s, n) => { let k = 0; for (let i = 1; i < n; i++) if (v[s + i] > v[s + k]) k = i; return k; };
const argMin: Fold = (v, s, n) => { let k = 0; for (let i = 1; i < n; i++) if (v[s + i] < v[s + k]) k = i; return k; };

const same = (d: DataType) => d;
const sumType = (d: DataType) => upcastType(d, 'int32');

export const reduceKernels = [
  reduceKernel('Sum', sum, sumType, 'sum'),
  reduceKernel('Prod', prod, sumType),
  reduceKernel('Mean', (v, s, n) => sum(v, s, n) / n, () => 'float32', 'mean'),
  reduceKernel('Max', max, same),
  reduceKernel('Min', min, same),
  reduceKernel('All', all, () => 'bool'),
  reduceKernel('Any', any, () => 'bool'),
  reduceKernel('ArgMax', argMax, () => 'int32'),
  reduceKernel('ArgMin', argMin, () => 'int32'),
];
