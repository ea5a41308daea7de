// Shape ops: reshape (a copy with a new shape; tensors own their memory, so no aliasing views).
import type { Engine } from '../engine.js';
import { Tensor } from '../tensor.js';
import { checkTensor, fail, shapeStr } from './check.js';

/**
 * x's elements in the same (row-major) order with shape `shape`; one dimension may be −1 (inferred), as
 * torch.reshape / tf.reshape. Returns a new tensor (a copy).
 */
export function reshape(e: Engine, x: Tensor, shape: readonly number[]): Tensor {
  const op = 'reshape';
  checkTensor(e, op, 'x', x, { dtype: x instanceof Tensor ? x.dtype : 'float32' });   // any dtype
  if (!Array.isArray(shape)) fail(op, 'shape', 'an array of integers', shape);
  const inferred = shape.filter((d) => d === -1).length;
  if (inferred > 1) fail(op, 'shape', 'at most one −1 (inferred) dimension', shape);
  for (const d of shape) {
    if (!Number.isInteger(d) || (d < 0 && d !== -1)) fail(op, 'shape', 'non-negative integers and at most one −1', shape);
  }
  const known = shape.reduce((a, d) => (d === -1 ? a : a * d), 1);
  let out = [...shape];
  if (inferred) {
    if (known === 0 || x.size % known !== 0) {
      throw new Error(`${op}: cannot infer the −1 dimension of ${shapeStr(shape)} for x of shape ${shapeStr(x.shape)} (${x.size} elements)`);
    }
    out = shape.map((d) => (d === -1 ? x.size / known : d));
  } else if (known !== x.size) {
    throw new Error(`${op}: shape ${shapeStr(shape)} has ${known} elements, x ${shapeStr(x.shape)} has ${x.size}`);
  }
  const y = e.empty(out, x.dtype, op);
  if (x.size > 0) y.view().set(x.view());   // both views taken after the allocation (it may grow the memory)
  return y;
}
