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
  const flops = 2 * rows * inF * outF, scratchBytes = e.kernels.sgemm_scratch_bytes();
  if (transposedIsLeaner(rows, outF)) {
    // yᵀ[out × rows] = W · xᵀ + b (a per-row bias) into a temporary, then transposed into y; threads take runs of
    // rows of y (columns of yᵀ), whole 8-column micro-tiles.
    const yt = e.empty([outF, rows], 'float32', op);
    try {
      runSplit(e, Math.ceil(rows / 8), flops, op, scratchBytes, (t0, n, scratch) => {
        const r0 = 8 * t0, r1 = Math.min(rows, 8 * (t0 + n));
        return {
          fn: 'sgemm_bias',
          args: [outF, r1 - r0, inF, w.offset, inF, 1, x.offset + r0 * inF * 4, 1, inF, yt.offset + r0 * 4, rows,
                 b ? b.offset : 0, 0, scratch],
        };
      });
      e.kernels.transpose2d(yt.offset, y.offset, 1, outF, rows);
    } finally {
      yt.dispose();
    }
    return y;
  }
  // y[rows × out] = x[rows × in] · Wᵀ + b (a per-column bias), B[k, j] = w[j, k]: row stride 1, column stride in.
  // Threads take runs of rows.
  runSplit(e, rows, flops, op, scratchBytes, (r0, n, scratch) => ({
    fn: 'sgemm_bias',
    args: [n, outF, inF, x.offset + r0 * inF * 4, inF, 1, w.offset, 1, inF, y.offset + r0 * outF * 4, outF, 0, b ? b.offset : 0, scratch],
  }));
  return y;
}

/**
 * Whether yᵀ = W·xᵀ wastes clearly less of the micro-kernel than y = x·Wᵀ: its tiles are 8 columns wide and (at
 * most) 6 rows high, so few output features (a classifier's 10) fill them badly as columns (10 of 16) and well as
 * rows (10 of 10 or 12) — provided there are enough rows of x to fill 8-wide columns in turn.
 */
function transposedIsLeaner(rows: number, outF: number): boolean {
  const padded = (n: number, m: number) => Math.ceil(n / m) * m;
  return padded(outF, 6) * padded(rows, 8) < 0.85 * padded(outF, 8) * rows;
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
  // dW = dyᵀ · x, threads taking runs of input features (columns of dW, whole 8-column micro-tiles: no reduction
  // across threads, and each thread packs only its own columns of x).
  if (dw) {
    runSplit(e, Math.ceil(inF / 8), flops, op, scratchBytes, (t0, n, scratch) => {
      const c0 = 8 * t0, c1 = Math.min(inF, 8 * (t0 + n));
      return {
        fn: 'sgemm', args: [outF, c1 - c0, rows, dy.offset, 1, outF, x.offset + c0 * 4, inF, 1, dw.offset + c0 * 4, inF, 0, scratch],
      };
    });
  }
  if (db) e.kernels.channel_sum(dy.offset, rows, outF, 1, 0, outF, db.offset);
  const grads: { dx: Tensor; dw?: Tensor; db?: Tensor } = { dx };
  if (dw) grads.dw = dw;
  if (db) grads.db = db;
  return grads;
}
