// Batch, layer, group and instance normalisation, forward and backward (PyTorch semantics).
import type { Engine } from '../engine.js';
import type { Tensor } from '../tensor.js';
import { checkOptional, checkShape, checkTensor, fail, finite, options, posInt, shapeStr } from './check.js';
import { runParts, runSplit, shareOut, splitParts, MEMORY_BOUND_WEIGHT } from './parallel.js';

export interface BatchNormOptions {
  training?: boolean;
  momentum?: number;
  eps?: number;
}

export interface NormResult {
  y: Tensor;
  mean: Tensor;
  invStd: Tensor;
}

export interface NormGrads {
  dx: Tensor;
  dgamma?: Tensor;
  dbeta?: Tensor;
}

export interface NormStats {
  mean: Tensor;
  invStd: Tensor;
}

const ptr = (t: Tensor | null) => (t ? t.offset : 0);

/** [N, C, rest…] → N, C, and the product of the rest (1 for rank 2). */
function nchw(x: Tensor): [number, number, number] {
  return [x.shape[0], x.shape[1], x.shape.slice(2).reduce((a, b) => a * b, 1)];
}

function eps(op: string, v: unknown): number {
  return v === undefined ? 1e-5 : finite(op, 'eps', v, 0);
}

// ---------------------------------------------------------------------------------------------- batch norm

export function batchNorm2d(e: Engine, x: Tensor, gamma: Tensor | null, beta: Tensor | null,
                            runningMean: Tensor | null, runningVar: Tensor | null, opts?: BatchNormOptions): NormResult {
  const op = 'batchNorm2d';
  const o = options(op, opts);
  checkTensor(e, op, 'x', x, { minRank: 2 });
  const [N, C, HW] = nchw(x);
  checkOptional(e, op, 'gamma', gamma, { shape: [C] });
  checkOptional(e, op, 'beta', beta, { shape: [C] });
  checkOptional(e, op, 'runningMean', runningMean, { shape: [C] });
  checkOptional(e, op, 'runningVar', runningVar, { shape: [C] });
  if ((runningMean === null) !== (runningVar === null)) {
    fail(op, 'runningMean/runningVar', 'both tensors or both null', `${runningMean === null ? 'null' : 'a tensor'} and ${runningVar === null ? 'null' : 'a tensor'}`);
  }
  const training = o.training ?? false;
  if (typeof training !== 'boolean') fail(op, 'training', 'a boolean', training);
  const momentum = o.momentum === undefined ? 0.1 : finite(op, 'momentum', o.momentum, 0);
  const epsilon = eps(op, o.eps);
  if (!training && !runningMean) fail(op, 'runningMean', 'a tensor in eval mode (training: false)', null);
  if (training && N * HW < 2) {
    throw new Error(`${op}: training needs more than 1 value per channel, got input shape ${shapeStr(x.shape)}`);
  }
  const y = e.empty(x.shape, 'float32', op);
  const mean = e.empty([C], 'float32', op);
  const invStd = e.empty([C], 'float32', op);
  if (training) {
    // Statistics and normalisation in one pass over each channel; threads take runs of channels.
    runSplit(e, C, MEMORY_BOUND_WEIGHT * x.size, op, 0, (c0, n) => ({
      fn: 'batchnorm_train_forward',
      args: [x.offset, y.offset, N, C, HW, epsilon, momentum, ptr(gamma), ptr(beta), mean.offset, invStd.offset,
             ptr(runningMean), ptr(runningVar), c0, c0 + n],
    }));
  } else {
    e.kernels.batchnorm_eval_stats(runningMean!.offset, runningVar!.offset, C, epsilon, mean.offset, invStd.offset);
    // A pure stream: threads take runs of images where there are enough (the contiguous parts of x and y the ops
    // around split the same way; two threads streaming interleaved channel rows contend), else runs of channels.
    const byImages = shareOut(e, N, MEMORY_BOUND_WEIGHT * x.size);
    const image = 4 * C * HW;
    const normalize = (n0: number, count: number, c0: number, c1: number) => ({
      fn: 'batchnorm_forward',
      args: [x.offset + n0 * image, y.offset + n0 * image, count, C, HW, ptr(gamma), ptr(beta), mean.offset, invStd.offset, c0, c1],
    });
    if (byImages.parts.length > 1) runParts(e, byImages, op, 0, (n0, count) => normalize(n0, count, 0, C));
    else runSplit(e, C, MEMORY_BOUND_WEIGHT * x.size, op, 0, (c0, n) => normalize(0, N, c0, c0 + n));
  }
  if (training && runningMean) { runningMean.version++; runningVar!.version++; }
  return { y, mean, invStd };
}

/** opts.params (default true): compute dγ, dβ; false (a frozen layer) returns dx only. */
export function batchNorm2dBackward(e: Engine, dy: Tensor, x: Tensor, gamma: Tensor | null, mean: Tensor, invStd: Tensor,
                                    opts?: { training?: boolean; params?: boolean }): NormGrads {
  const op = 'batchNorm2dBackward';
  checkTensor(e, op, 'x', x, { minRank: 2 });
  checkTensor(e, op, 'dy', dy, { shape: x.shape });
  const [N, C, HW] = nchw(x);
  checkOptional(e, op, 'gamma', gamma, { shape: [C] });
  checkTensor(e, op, 'mean', mean, { shape: [C] });
  checkTensor(e, op, 'invStd', invStd, { shape: [C] });
  const o = options(op, opts);
  const training = o.training ?? true, params = o.params ?? true;
  if (typeof training !== 'boolean') fail(op, 'training', 'a boolean', training);
  if (typeof params !== 'boolean') fail(op, 'params', 'a boolean', params);
  const dx = e.empty(x.shape, 'float32', op);
  const dgamma = params ? e.empty([C], 'float32', op) : null;
  const dbeta = params ? e.empty([C], 'float32', op) : null;
  runSplit(e, C, MEMORY_BOUND_WEIGHT * x.size, op, 0, (c0, n) => ({
    fn: 'batchnorm_backward',
    args: [dy.offset, x.offset, ptr(gamma), mean.offset, invStd.offset, dx.offset, ptr(dgamma), ptr(dbeta), N, C, HW,
           training ? 1 : 0, c0, c0 + n],
  }));
  return dgamma && dbeta ? { dx, dgamma, dbeta } : { dx };
}

// ------------------------------------------------------------------------------------------------ row norm
// Layer, group and instance norm share the row-norm kernels: x viewed as R rows of D, G row-groups per
// sample of CPR channels with S elements each (see assembly/norm.ts).

interface RowLayout { R: number; D: number; G: number; CPR: number; S: number; channels: number; statsShape: number[] }

function rowForward(e: Engine, op: string, x: Tensor, gamma: Tensor | null, beta: Tensor | null, epsilon: number,
                    L: RowLayout, affineShape: readonly number[]): NormResult {
  checkOptional(e, op, 'gamma', gamma, { shape: affineShape });
  checkOptional(e, op, 'beta', beta, { shape: affineShape });
  const y = e.empty(x.shape, 'float32', op);
  const mean = e.empty(L.statsShape, 'float32', op);
  const invStd = e.empty(L.statsShape, 'float32', op);
  // The kernel's affine takes γ and β together: a lone γ gets β = 0, a lone β gets γ = 1.
  let g = gamma, b = beta, temp: Tensor | null = null;
  if (g && !b) b = temp = e.zeros(affineShape);
  else if (b && !g) { g = temp = e.empty(affineShape, 'float32', op); temp.view().fill(1); }
  // Split by samples (G rows each, so r % G, the γ group, stays aligned); rows are independent.
  runSplit(e, L.R / L.G, MEMORY_BOUND_WEIGHT * x.size, op, 0, (u0, n) => ({
    fn: 'rownorm_forward',
    args: [x.offset + 4 * u0 * L.G * L.D, y.offset + 4 * u0 * L.G * L.D, mean.offset + 4 * u0 * L.G, invStd.offset + 4 * u0 * L.G,
           n * L.G, L.D, epsilon, ptr(g), ptr(b), L.G, L.CPR, L.S],
  }));
  temp?.dispose();
  return { y, mean, invStd };
}

/** Flags of the row-norm backward ops: params (default true) computes dγ, dβ (when there is a γ). */
export interface NormBackwardFlags {
  params?: boolean;
}

function rowBackward(e: Engine, op: string, dy: Tensor, x: Tensor, gamma: Tensor | null, stats: NormStats,
                     L: RowLayout, affineShape: readonly number[], flags: NormBackwardFlags | undefined): NormGrads {
  checkTensor(e, op, 'dy', dy, { shape: x.shape });
  checkOptional(e, op, 'gamma', gamma, { shape: affineShape });
  const s = options(op, stats);
  checkTensor(e, op, 'mean', s.mean, { shape: L.statsShape });
  checkTensor(e, op, 'invStd', s.invStd, { shape: L.statsShape });
  const params = options(op, flags).params ?? true;
  if (typeof params !== 'boolean') fail(op, 'flags.params', 'a boolean', params);
  const dx = e.empty(x.shape, 'float32', op);
  const grads: NormGrads = { dx };
  if (gamma && params) {
    grads.dgamma = e.empty(affineShape, 'float32', op);
    grads.dbeta = e.empty(affineShape, 'float32', op);
  }
  // Split by samples like the forward; dγ and dβ sum over all rows, so threads after the first write partial
  // sums into their scratch, added afterwards in thread order (deterministic for a given thread count).
  const parts = splitParts(e, L.R / L.G, MEMORY_BOUND_WEIGHT * x.size);
  const channels = L.G * L.CPR;
  const partials = parts.map((_, t) => (t > 0 && grads.dgamma ? e.scratch(8 * channels, op, t) : 0));
  const mean = s.mean!, invStd = s.invStd!;
  e.parallel(parts.map(([u0, n], t) => {
    const r0 = u0 * L.G;
    const dg = t === 0 ? ptr(grads.dgamma ?? null) : partials[t], dbt = t === 0 ? ptr(grads.dbeta ?? null) : partials[t] && partials[t] + 4 * channels;
    return {
      fn: 'rownorm_backward',
      args: [dy.offset + 4 * r0 * L.D, x.offset + 4 * r0 * L.D, mean.offset + 4 * r0, invStd.offset + 4 * r0, dx.offset + 4 * r0 * L.D,
             dg, dbt, n * L.G, L.D, ptr(gamma), L.G, L.CPR, L.S],
    };
  }));
  if (grads.dgamma && grads.dbeta) {
    for (let t = 1; t < parts.length; t++) {
      e.kernels.add_forward(grads.dgamma.offset, partials[t], grads.dgamma.offset, channels);
      e.kernels.add_forward(grads.dbeta.offset, partials[t] + 4 * channels, grads.dbeta.offset, channels);
    }
  }
  return grads;
}

function layerLayout(op: string, x: Tensor, normalizedShape: readonly number[]): RowLayout {
  checkShape(op, 'normalizedShape', normalizedShape);
  const k = normalizedShape.length;
  const tail = x.shape.slice(x.rank - k);
  if (k > x.rank || tail.some((d, i) => d !== normalizedShape[i])) {
    throw new Error(`${op}: normalizedShape ${shapeStr(normalizedShape)} must equal the trailing dims of x ${shapeStr(x.shape)}`);
  }
  const D = normalizedShape.reduce((a, b) => a * b, 1);
  const lead = x.shape.slice(0, x.rank - k);
  return { R: x.size / D, D, G: 1, CPR: D, S: 1, channels: D, statsShape: [...lead, ...normalizedShape.map(() => 1)] };
}

function groupLayout(op: string, x: Tensor, groups: number): RowLayout {
  const [N, C, HW] = nchw(x);
  if (C % groups !== 0) fail(op, 'groups', `a divisor of the channels ${C}`, groups);
  return { R: N * groups, D: (C / groups) * HW, G: groups, CPR: C / groups, S: HW, channels: C, statsShape: [N, groups] };
}

export function layerNorm(e: Engine, x: Tensor, normalizedShape: readonly number[], gamma: Tensor | null, beta: Tensor | null,
                          opts?: { eps?: number }): NormResult {
  const op = 'layerNorm';
  checkTensor(e, op, 'x', x, { minRank: 1 });
  const L = layerLayout(op, x, normalizedShape);
  return rowForward(e, op, x, gamma, beta, eps(op, options(op, opts).eps), L, normalizedShape);
}

export function layerNormBackward(e: Engine, dy: Tensor, x: Tensor, normalizedShape: readonly number[], gamma: Tensor | null,
                                  stats: NormStats, flags?: NormBackwardFlags): NormGrads {
  const op = 'layerNormBackward';
  checkTensor(e, op, 'x', x, { minRank: 1 });
  return rowBackward(e, op, dy, x, gamma, stats, layerLayout(op, x, normalizedShape), normalizedShape, flags);
}

export function groupNorm(e: Engine, x: Tensor, groups: number, gamma: Tensor | null, beta: Tensor | null,
                          opts?: { eps?: number }): NormResult {
  const op = 'groupNorm';
  checkTensor(e, op, 'x', x, { minRank: 2 });
  const L = groupLayout(op, x, posInt(op, 'groups', groups));
  return rowForward(e, op, x, gamma, beta, eps(op, options(op, opts).eps), L, [x.shape[1]]);
}

export function groupNormBackward(e: Engine, dy: Tensor, x: Tensor, groups: number, gamma: Tensor | null, stats: NormStats,
                                  flags?: NormBackwardFlags): NormGrads {
  const op = 'groupNormBackward';
  checkTensor(e, op, 'x', x, { minRank: 2 });
  return rowBackward(e, op, dy, x, gamma, stats, groupLayout(op, x, posInt(op, 'groups', groups)), [x.shape[1]], flags);
}

function instanceLayout(op: string, x: Tensor): RowLayout {
  const L = groupLayout(op, x, x.shape[1]);
  return { ...L, statsShape: [x.shape[0], x.shape[1]] };
}

export function instanceNorm(e: Engine, x: Tensor, gamma: Tensor | null, beta: Tensor | null, opts?: { eps?: number }): NormResult {
  const op = 'instanceNorm';
  checkTensor(e, op, 'x', x, { minRank: 3 });
  return rowForward(e, op, x, gamma, beta, eps(op, options(op, opts).eps), instanceLayout(op, x), [x.shape[1]]);
}

export function instanceNormBackward(e: Engine, dy: Tensor, x: Tensor, gamma: Tensor | null, stats: NormStats,
                                     flags?: NormBackwardFlags): NormGrads {
  const op = 'instanceNormBackward';
  checkTensor(e, op, 'x', x, { minRank: 3 });
  return rowBackward(e, op, dy, x, gamma, stats, instanceLayout(op, x), [x.shape[1]], flags);
}
