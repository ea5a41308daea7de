// Concatenation and its inverse along one axis (default 1: channels of NCHW). concat's backward is split of dy
// with the inputs' sizes along the axis; split's backward is concat of the gradients.
import type { Engine } from '../engine.js';
import type { Tensor } from '../tensor.js';
import { checkTensor, fail, shapeStr } from './check.js';

function checkAxis(op: string, axis: unknown, rank: number): number {
  if (!Number.isInteger(axis) || (axis as number) < -rank || (axis as number) >= rank) {
    fail(op, 'axis', `an integer in [${-rank}, ${rank - 1}] for rank ${rank}`, axis);
  }
  return (axis as number) < 0 ? (axis as number) + rank : (axis as number);
}

const prod = (s: readonly number[], a: number, b: number) => s.slice(a, b).reduce((p, d) => p * d, 1);

/** Joins tensors along `axis`; every other dimension must match. */
export function concat(e: Engine, tensors: readonly Tensor[], axis = 1): Tensor {
  const op = 'concat';
  if (!Array.isArray(tensors) || tensors.length === 0) fail(op, 'tensors', 'a non-empty array of Tensors', tensors);
  tensors.forEach((t, i) => checkTensor(e, op, `tensors[${i}]`, t));
  const first = tensors[0], rank = first.rank;
  const ax = checkAxis(op, axis, rank);
  tensors.forEach((t, i) => {
    if (t.rank !== rank || t.shape.some((d: number, k: number) => k !== ax && d !== first.shape[k])) {
      const what = ax === 1 && rank === 4 ? 'batch and spatial sizes' : `every dimension but axis ${ax}`;
      throw new Error(`${op}: tensors[${i}] ${shapeStr(t.shape)} does not match tensors[0] ${shapeStr(first.shape)} in ${what}`);
    }
  });
  const total = tensors.reduce((a, t) => a + t.shape[ax], 0);
  const outShape = [...first.shape];
  outShape[ax] = total;
  const y = e.empty(outShape, 'float32', op);
  const rows = prod(first.shape, 0, ax), inner = prod(first.shape, ax + 1, rank), outLen = total * inner;
  let at = 0;
  for (const t of tensors) {
    const len = t.shape[ax] * inner;
    e.kernels.copy_blocks(t.offset, y.offset + at * inner * 4, rows, len, len, outLen, 0);
    at += t.shape[ax];
  }
  return y;
}

/** Splits x along `axis` into pieces of the given sizes (they must sum to x.shape[axis]); new tensors. */
export function split(e: Engine, x: Tensor, sizes: readonly number[], axis = 1): Tensor[] {
  const op = 'split';
  checkTensor(e, op, 'x', x);
  const ax = checkAxis(op, axis, x.rank);
  if (!Array.isArray(sizes) || sizes.length === 0 || !sizes.every((s) => Number.isInteger(s) && s > 0)) {
    fail(op, 'sizes', 'a non-empty array of positive integers', sizes);
  }
  const sum = sizes.reduce((a, b) => a + b, 0);
  if (sum !== x.shape[ax]) {
    throw new Error(`split: sizes [${sizes.join(', ')}] must sum to x.shape[${ax}] = ${x.shape[ax]} (x ${shapeStr(x.shape)}), got ${sum}`);
  }
  const rows = prod(x.shape, 0, ax), inner = prod(x.shape, ax + 1, x.rank), inLen = sum * inner;
  const out: Tensor[] = [];
  let at = 0;
  try {
    for (const s of sizes) {
      const shape = [...x.shape];
      shape[ax] = s;
      const t = e.empty(shape, 'float32', op);
      out.push(t);
      e.kernels.copy_blocks(x.offset + at * inner * 4, t.offset, rows, s * inner, inLen, s * inner, 0);
      at += s;
    }
  } catch (err) {
    for (const t of out) t.dispose();
    throw err;
  }
  return out;
}
