// Transpose: permutations that collapse to a (batched) 2-D transpose — NHWC ↔ NCHW, matrix transposes — run
// on the SIMD 2-D transpose kernel (4×4 register blocks); any other permutation on the N-d one (an odometer over
// the outer axes around a copy or a SIMD strided gather of the innermost).
import type { DataType, TensorInfo } from '@tensorflow/tfjs-core';
import type { SimdnnBackend } from '../backend.js';
import { attrsOf, kernel, type KernelArgs } from './kernel.js';

/** Merges input axes that stay adjacent and in order under perm; drops size-1 axes. */
export function collapse(shape: readonly number[], perm: readonly number[]): { shape: number[]; perm: number[] } {
  const keep = perm.filter((p) => shape[p] !== 1);
  // Groups of consecutive input axes in output order.
  const groups: number[][] = [];
  for (const p of keep) {
    const last = groups[groups.length - 1];
    if (last && last[last.length - 1] + 1 === p) last.push(p);
    else groups.push([p]);
  }
  const order = [...groups].sort((g1, g2) => g1[0] - g2[0]);
  const newShape = order.map((g) => g.reduce((s, a) => s * shape[a], 1));
  const newPerm = groups.map((g) => order.indexOf(g));
  return { shape: newShape, perm: newPerm };
}

/** x's values permuted by perm (out.shape[i] = x.shape[perm[i]]) into the memory at outOffset. */
function transposeInto(b: SimdnnBackend, x: TensorInfo, perm: readonly number[], outOffset: number): void {
  const { shape, perm: p } = collapse(x.shape, perm);
  const src = b.tensor(x);
  if (!src) return;
  const k = b.nn.kernels;
  if (p.every((v, i) => v === i)) {                     // only size-1 axes move: a copy
    k.copy_blocks(src.offset, outOffset, 1, src.size, 0, 0, 0);
    return;
  }
  if (p.length === 2) {
    k.transpose2d(src.offset, outOffset, 1, shape[0], shape[1]);
    return;
  }
  if (p.length === 3 && p[0] === 0 && p[1] === 2 && p[2] === 1) {
    k.transpose2d(src.offset, outOffset, shape[0], shape[1], shape[2]);
    return;
  }
  const rank = shape.length;
  const strides = new Array<number>(rank);
  for (let i = rank - 1, s = 1; i >= 0; i--) { strides[i] = s; s *= shape[i]; }
  const meta = b.nn.scratch(12 * rank, 'Transpose');
  b.nn.i32(meta, 2 * rank).set([...p.map((a) => shape[a]), ...p.map((a) => strides[a])]);
  k.transpose_nd(src.offset, outOffset, rank, meta);
}

/** A new tensor holding x permuted by perm. */
export function transposeOp(b: SimdnnBackend, x: TensorInfo, perm: readonly number[], dtype: DataType = x.dtype): TensorInfo {
  const shape = perm.map((a) => x.shape[a]);
  const { info, t } = b.makeEmpty(shape, dtype);
  if (t) transposeInto(b, x, perm, t.offset);
  return info;
}

function transpose(args: KernelArgs): TensorInfo {
  const { perm } = attrsOf<{ perm: number[] }>(args);
  return transposeOp(args.backend, args.inputs.x, perm);
}

export const transposeKernels = [kernel('Transpose', transpose)];
