// Elementwise sum of two tensors of the same shape (the join of a residual block).
// Backward: y = a + b passes dy through unchanged to both inputs (dA = dB = dy), so there is no addBackward op;
// a caller that needs two gradient tensors uses dy for both (or copies it).
import type { Engine } from '../engine.js';
import type { Tensor } from '../tensor.js';
import { checkTensor, shapeStr, sameShape } from './check.js';
import { runSplit, MEMORY_BOUND_WEIGHT } from './parallel.js';

/** a + b, same shape (no broadcasting), a new tensor. */
export function add(e: Engine, a: Tensor, b: Tensor): Tensor {
  checkTensor(e, 'add', 'a', a);
  checkTensor(e, 'add', 'b', b);
  if (!sameShape(a.shape, b.shape)) {
    throw new Error(`add: b must have the shape of a ${shapeStr(a.shape)}, got ${shapeStr(b.shape)} (no broadcasting)`);
  }
  const y = e.empty(a.shape, 'float32', 'add');
  runSplit(e, a.size, MEMORY_BOUND_WEIGHT * a.size, 'add', 0, (i0, n) => ({
    fn: 'add_forward', args: [a.offset + 4 * i0, b.offset + 4 * i0, y.offset + 4 * i0, n],
  }));
  return y;
}
