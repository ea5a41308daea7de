// Optimizer steps over one parameter tensor, in place (torch.optim.SGD / Adam / AdamW, single-tensor form).
import type { Engine } from '../engine.js';
import type { Tensor } from '../tensor.js';
import { checkSameShape, checkTensor, fail, finite, options } from './check.js';
import { runSplit, MEMORY_BOUND_WEIGHT } from './parallel.js';

export interface SgdOptions { lr: number; momentum?: number; dampening?: number; nesterov?: boolean; weightDecay?: number }
export interface AdamOptions { lr?: number; beta1?: number; beta2?: number; eps?: number; weightDecay?: number; decoupled?: boolean }

/** Optimizer state of one parameter: pass it back on the next step; dispose() frees its tensors. */
export interface SgdState { step: number; momentumBuffer: Tensor | null; dispose(): void }
export interface AdamState { step: number; m: Tensor; v: Tensor; dispose(): void }

function checkPair(e: Engine, op: string, param: Tensor, grad: Tensor): void {
  checkTensor(e, op, 'param', param);
  checkTensor(e, op, 'grad', grad);
  checkSameShape(op, 'param', param, 'grad', grad);
}

function checkStateTensor(e: Engine, op: string, name: string, t: Tensor, param: Tensor): void {
  checkTensor(e, op, name, t);
  checkSameShape(op, 'param', param, name, t);
}

function fraction(op: string, name: string, v: unknown): number {
  const x = finite(op, name, v, 0);
  if (x >= 1) fail(op, name, 'in [0, 1)', x);
  return x;
}

export function sgdStep(e: Engine, param: Tensor, grad: Tensor, state: SgdState | null, opts: SgdOptions): SgdState {
  const op = 'sgdStep';
  checkPair(e, op, param, grad);
  const o = options(op, opts);
  const lr = finite(op, 'lr', o.lr, 0);
  const momentum = finite(op, 'momentum', o.momentum ?? 0, 0);
  const dampening = finite(op, 'dampening', o.dampening ?? 0);
  const wd = finite(op, 'weightDecay', o.weightDecay ?? 0, 0);
  const nesterov = o.nesterov ?? false;
  if (typeof nesterov !== 'boolean') fail(op, 'nesterov', 'a boolean', nesterov);
  if (nesterov && (momentum <= 0 || dampening !== 0)) {
    fail(op, 'nesterov', 'used with momentum > 0 and dampening 0', `momentum ${momentum}, dampening ${dampening}`);
  }
  let s = state;
  if (s == null) {
    const buffer = momentum !== 0 ? e.empty(param.shape, 'float32', op) : null;
    s = { step: 0, momentumBuffer: buffer, dispose: () => buffer?.dispose() };
  } else if (s.momentumBuffer) {
    checkStateTensor(e, op, 'state.momentumBuffer', s.momentumBuffer, param);
  } else if (momentum !== 0) {
    fail(op, 'state', 'a state made with momentum (it has no momentum buffer)', `momentum ${momentum}`);
  }
  const buf = s.momentumBuffer;
  const first = s.step === 0 ? 1 : 0;
  // Elementwise: large tensors are split into ranges over the threads (results identical to one thread).
  runSplit(e, param.size, MEMORY_BOUND_WEIGHT * param.size, op, 0, (i0, n) => ({
    fn: 'sgd_step',
    args: [param.offset + 4 * i0, grad.offset + 4 * i0, buf ? buf.offset + 4 * i0 : 0, n, lr, momentum, dampening,
           nesterov ? 1 : 0, wd, first],
  }));
  s.step++;
  param.version++;
  return s;
}

export function adamStep(e: Engine, param: Tensor, grad: Tensor, state: AdamState | null, opts?: AdamOptions): AdamState {
  const op = 'adamStep';
  checkPair(e, op, param, grad);
  const o = options(op, opts);
  const lr = finite(op, 'lr', o.lr ?? 1e-3, 0);
  const beta1 = fraction(op, 'beta1', o.beta1 ?? 0.9);
  const beta2 = fraction(op, 'beta2', o.beta2 ?? 0.999);
  const eps = finite(op, 'eps', o.eps ?? 1e-8, 0);
  const wd = finite(op, 'weightDecay', o.weightDecay ?? 0, 0);
  const decoupled = o.decoupled ?? false;
  if (typeof decoupled !== 'boolean') fail(op, 'decoupled', 'a boolean', decoupled);
  let s = state;
  if (s == null) {
    const m = e.zeros(param.shape);
    const v = e.zeros(param.shape);
    s = { step: 0, m, v, dispose: () => { m.dispose(); v.dispose(); } };
  } else {
    checkStateTensor(e, op, 'state.m', s.m, param);
    checkStateTensor(e, op, 'state.v', s.v, param);
  }
  const t = s.step + 1;
  const { m, v } = s;
  runSplit(e, param.size, MEMORY_BOUND_WEIGHT * param.size, op, 0, (i0, n) => ({
    fn: 'adam_step',
    args: [param.offset + 4 * i0, grad.offset + 4 * i0, m.offset + 4 * i0, v.offset + 4 * i0, n, lr, beta1, beta2, eps, wd,
           decoupled ? 1 : 0, 1 - beta1 ** t, 1 - beta2 ** t],
  }));
  s.step = t;
  param.version++;
  return s;
}
