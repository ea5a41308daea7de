// Locally connected 2-D op (unshared weights per output position; Keras's LocallyConnected2D in NCHW) and its
// backward, on the kernels of assembly/local.ts.
//   x [N, Cin, H, W], w [OH·OW, Cout, Cin·KH·KW], b [Cout, OH, OW] | null → y [N, Cout, OH, OW]
//   y[n, co, oh, ow] = Σ_{ci, kh, kw} w[oh·OW + ow, co, (ci·KH + kh)·KW + kw] · x[n, ci, oh·SH − PT + kh, ow·SW − PL + kw] + b[co, oh, ow]
// The weight's last axis is torch's F.unfold order, so w[p] is the [Cout, K] matrix of a conv weight reshaped.
import type { Engine } from '../engine.js';
import type { Tensor } from '../tensor.js';
import { checkOptional, checkTensor, fail, nonNegInt, options, pair, shapeStr } from './check.js';
import { samePadding } from './conv.js';
import { runSplit } from './parallel.js';

export interface LocallyConnected2dOptions {
  /** Kernel size (required: the flattened weight does not carry it). */
  kernel: number | [number, number];
  stride?: number | [number, number];
  /** number | [ph, pw] | [top, bottom, left, right] | 'valid' | 'same' (TensorFlow's rule, the odd pixel at bottom/right). */
  padding?: number | [number, number] | [number, number, number, number] | 'valid' | 'same';
}

export interface LocalBackwardFlags {
  /** Compute db (default true). */
  bias?: boolean;
  /** Compute dx (default true). */
  input?: boolean;
  /** Compute dw (default true). */
  weight?: boolean;
}

interface LocalGeometry {
  N: number; Cin: number; H: number; W: number; Cout: number; KH: number; KW: number; SH: number; SW: number;
  PT: number; PL: number; OH: number; OW: number; K: number; P: number;
}

/** Output size, padding and kernel of the op for an input [N, Cin, H, W] (shared with the layer's shape inference). */
export function localGeometry(op: string, xShape: readonly number[], opts: Partial<LocallyConnected2dOptions>):
    Omit<LocalGeometry, 'Cout'> & { PB: number; PR: number } {
  if (opts.kernel === undefined) fail(op, 'kernel', 'a positive integer or a pair of them', undefined);
  const [KH, KW] = pair(op, 'kernel', opts.kernel);
  const [SH, SW] = pair(op, 'stride', opts.stride ?? 1);
  const [N, Cin, H, W] = xShape;
  const p = opts.padding ?? 0;
  let pad: [number, number, number, number];
  if (p === 'valid') pad = [0, 0, 0, 0];
  else if (p === 'same') pad = [...samePadding(H, KH, 1, SH), ...samePadding(W, KW, 1, SW)];
  else if (Array.isArray(p) && p.length === 4) pad = p.map((v, i) => nonNegInt(op, `padding[${i}]`, v)) as [number, number, number, number];
  else if (typeof p === 'string') fail(op, 'padding', "a non-negative integer, [ph, pw], [top, bottom, left, right], 'same' or 'valid'", p);
  else { const [ph, pw] = pair(op, 'padding', p, true); pad = [ph, ph, pw, pw]; }
  const [PT, PB, PL, PR] = pad;
  const OH = Math.floor((H + PT + PB - KH) / SH) + 1, OW = Math.floor((W + PL + PR - KW) / SW) + 1;
  if (OH < 1 || OW < 1) {
    throw new Error(`${op}: output size must be positive: input ${H}×${W}, kernel ${KH}×${KW}, stride ${SH}×${SW}, ` +
      `padding [${pad.join(', ')}] gives ${OH}×${OW}`);
  }
  return { N, Cin, H, W, KH, KW, SH, SW, PT, PB, PL, PR, OH, OW, K: Cin * KH * KW, P: OH * OW };
}

function resolve(e: Engine, op: string, x: Tensor, w: Tensor, opts: LocallyConnected2dOptions): LocalGeometry {
  checkTensor(e, op, 'x', x, { rank: 4 });
  checkTensor(e, op, 'w', w, { rank: 3 });
  const g = localGeometry(op, x.shape, options(op, opts));
  const [P, Cout, K] = w.shape;
  if (P !== g.P || K !== g.K) {
    throw new Error(`${op}: w must have shape [OH·OW, Cout, Cin·KH·KW] = [${g.P}, Cout, ${g.K}] (output ${g.OH}×${g.OW}, ` +
      `Cin ${g.Cin}, kernel ${g.KH}×${g.KW}), got ${shapeStr(w.shape)}`);
  }
  return { ...g, Cout };
}

const geometryArgs = (g: LocalGeometry) => [g.N, g.Cin, g.H, g.W, g.Cout, g.KH, g.KW, g.SH, g.SW, g.PT, g.PL, g.OH, g.OW];

export function locallyConnected2d(e: Engine, x: Tensor, w: Tensor, b: Tensor | null, opts: LocallyConnected2dOptions): Tensor {
  const op = 'locallyConnected2d';
  const g = resolve(e, op, x, w, opts);
  checkOptional(e, op, 'b', b, { shape: [g.Cout, g.OH, g.OW] });
  const y = e.empty([g.N, g.Cout, g.OH, g.OW], 'float32', op);
  // Threads take runs of output positions (each writes its own y columns); scratch holds one position's N patches.
  runSplit(e, g.P, 2 * g.N * g.P * g.Cout * g.K, op, g.N * g.K * 4, (p0, n, scratch) => ({
    fn: 'local2d_forward', args: [x.offset, w.offset, b ? b.offset : 0, y.offset, scratch, ...geometryArgs(g), p0, p0 + n],
  }));
  return y;
}

export function locallyConnected2dBackward(e: Engine, dy: Tensor, x: Tensor, w: Tensor, opts: LocallyConnected2dOptions,
                                           flags?: LocalBackwardFlags): { dx?: Tensor; dw?: Tensor; db?: Tensor } {
  const op = 'locallyConnected2dBackward';
  const g = resolve(e, op, x, w, opts);
  checkTensor(e, op, 'dy', dy, { shape: [g.N, g.Cout, g.OH, g.OW] });
  const f = options(op, flags);
  for (const k of ['bias', 'input', 'weight'] as const) {
    if (f[k] !== undefined && typeof f[k] !== 'boolean') fail(op, `flags.${k}`, 'a boolean', f[k]);
  }
  const out: { dx?: Tensor; dw?: Tensor; db?: Tensor } = {};
  const flops = 2 * g.N * g.P * g.Cout * g.K;
  try {
    if (f.input ?? true) {
      const dx = out.dx = e.empty(x.shape, 'float32', op);
      // Windows overlap across positions, so threads take images (each owns its dx planes).
      runSplit(e, g.N, flops, op, 2 * g.K * 4, (n0, n, scratch) => ({
        fn: 'local2d_backward_data', args: [dy.offset, w.offset, dx.offset, scratch, ...geometryArgs(g), n0, n0 + n],
      }));
    }
    if (f.weight ?? true) {
      const dw = out.dw = e.empty(w.shape, 'float32', op);
      // Threads take runs of positions (each owns its dW rows); scratch holds one position's N patches.
      runSplit(e, g.P, flops, op, g.N * g.K * 4, (p0, n, scratch) => ({
        fn: 'local2d_backward_filter', args: [dy.offset, x.offset, dw.offset, scratch, ...geometryArgs(g), p0, p0 + n],
      }));
    }
    if (f.bias ?? true) {
      // db[co, oh, ow] = Σ_n dy[n, co, oh, ow]: dy seen as [N, Cout·OH·OW, 1].
      out.db = e.empty([g.Cout, g.OH, g.OW], 'float32', op);
      e.kernels.channel_sum(dy.offset, g.N, g.Cout * g.P, 1, 0, g.Cout * g.P, out.db.offset);
    }
  } catch (err) {
    out.dx?.dispose(); out.dw?.dispose(); out.db?.dispose();
    throw err;
  }
  return out;
}
