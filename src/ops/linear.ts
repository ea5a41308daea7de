// Fully connected layer: y = x·Wᵀ + b over x [..., in], w [out, in] (PyTorch's F.linear), on the SGEMM.
import type { Engine } from '../engine.js';
import type { Tensor } from '../tensor.js';
import { checkOptional, checkTensor, fail, options, shapeStr } from './check.js';
import { runSplit } from './parallel.js';

function dims(op: string, x: Tensor, w: Tensor): { rows: number; inF: number; outF: number } {
  const inF = x.shape[x.rank - 1];
  if (w.shape[1] !== inF) {
    throw new Error(`${op}: w.shape[1] must equal the input features x.shape[-1] = ${inF}, got w shape ${shapeStr(w.shape)}`);
  }
  return { rows: x.size / inF, inF, outF: w.shape[0] };
}

export function linear(e: Engine, x: Tensor, w: Tensor, b: Tensor | null): Tensor {
  const op = 'linear';
  checkTensor(e, op, 'x', x, { minRank: 1 });
  checkTensor(e, op, 'w', w, { rank: 2 });
  const { rows, inF, outF } = dims(op, x, w);
  checkOptional(e, op, 'b', b, { shape: [outF] });
  const y = e.empty([...x.shape.slice(0, -1), outF], 'float32', op);
  // y[rows × out] = x[rows × in] · Wᵀ + b (a per-column bias), B[k, j] = w[j, k]: row stride 1, column stride in.
  // Threads take runs of rows.
  runSplit(e, rows, 2 * rows * inF * outF, op, e.kernels.sgemm_scratch_bytes(), (r0, n, scratch) => ({
    fn: 'sgemm_bias',
    args: [n, outF, inF, x.offset + r0 * inF * 4, inF, 1, w.offset, 1, inF, y.offset + r0 * outF * 4, outF, 0, b ? b.offset : 0, scratch],
  }));
  return y;
}

/** opts: bias (default true) computes db; weight (default true) computes dw: false for a frozen layer, dw is then absent. */
export function linearBackward(e: Engine, dy: Tensor, x: Tensor, w: Tensor, opts?: { bias?: boolean; weight?: boolean }):
    { dx: Tensor; dw?: Tensor; db?: Tensor } {
  const op = 'linearBackward';
  checkTensor(e, op, 'x', x, { minRank: 1 });
  checkTensor(e, op, 'w', w, { rank: 2 });
  const { rows, inF, outF } = dims(op, x, w);
  checkTensor(e, op, 'dy', dy, { shape: [...x.shape.slice(0, -1), outF] });
  const o = options(op, opts);
  const bias = o.bias ?? true, weight = o.weight ?? true;
  if (typeof bias !== 'boolean') fail(op, 'opts.bias', 'a boolean', bias);
  if (typeof weight !== 'boolean') fail(op, 'opts.weight', 'a boolean', weight);
  const dx = e.empty(x.shape, 'float32', op);
  const dw = weight ? e.empty(w.shape, 'float32', op) : undefined;
  const db = bias ? e.empty([outF], 'float32', op) : undefined;
  const flops = 2 * rows * inF * outF, scratchBytes = e.kernels.sgemm_scratch_bytes();
  // dx = dy · W, threads taking runs of rows of dx.
  runSplit(e, rows, flops, op, scratchBytes, (r0, n, scratch) => ({
    fn: 'sgemm', args: [n, inF, outF, dy.offset + r0 * outF * 4, outF, 1, w.offset, inF, 1, dx.offset + r0 * inF * 4, inF, 0, scratch],
  }));
  // dW = dyᵀ · x, threads taking runs of output features (rows of dW: no reduction across threads).
  if (dw) {
    runSplit(e, outF, flops, op, scratchBytes, (o0, n, scratch) => ({
      fn: 'sgemm', args: [n, inF, rows, dy.offset + o0 * 4, 1, outF, x.offset, inF, 1, dw.offset + o0 * inF * 4, inF, 0, scratch],
    }));
  }
  if (db) e.kernels.channel_sum(dy.offset, rows, outF, 1, db.offset);
  const grads: { dx: Tensor; dw?: Tensor; db?: Tensor } = { dx };
  if (dw) grads.dw = dw;
  if (db) grads.db = db;
  return grads;
}
