// nn.optim: optimizers bound to an engine, learning-rate schedules and gradient clipping.
//   const opt = nn.optim.sgd(model, { lr: 0.1, momentum: 0.9, schedule: nn.optim.schedules.cosine() });
//   const opt = nn.optim.adam({ lr: 1e-3 });   // unbound: fit() (or step(model)) supplies the parameters
import type { Engine } from '../engine.js';
import { Adam, SGD, clipGradNorm, clipGradValue, type AdamOptimizerOptions, type ParamSource, type SgdOptimizerOptions } from './optimizer.js';
import { schedules } from './schedules.js';
import { Param } from '../layers/layer.js';

export { Optimizer, SGD, Adam } from './optimizer.js';
export type { OptimizerOptions, SgdOptimizerOptions, AdamOptimizerOptions, ParamSource } from './optimizer.js';
export type { Schedule, ScheduleContext } from './schedules.js';

function split<O>(a: ParamSource | O, b: O | undefined): [ParamSource | null, O] {
  const isParams = Array.isArray(a) || (a !== null && typeof a === 'object' && typeof (a as { parameters?: unknown }).parameters === 'function');
  return isParams ? [a as ParamSource, (b ?? {}) as O] : [null, (a ?? {}) as O];
}

function params(where: string, src: ParamSource): Param[] {
  const list = Array.isArray(src) ? src : src?.parameters?.();
  if (!Array.isArray(list) || !list.every((p) => p instanceof Param)) throw new Error(`${where}: params must be a model or an array of its parameters`);
  return list.filter((p) => p.grad && !p.grad.disposed);
}

export function makeOptim(e: Engine) {
  return {
    /** torch.optim.SGD: sgd(model?, { lr, momentum, dampening, nesterov, weightDecay, schedule, clipGradNorm }). */
    sgd(a: ParamSource | SgdOptimizerOptions, b?: SgdOptimizerOptions): SGD {
      const [p, o] = split(a, b);
      return new SGD(e, p, o);
    },
    /** torch.optim.Adam (L2 weight decay added to the gradient). */
    adam(a?: ParamSource | AdamOptimizerOptions, b?: AdamOptimizerOptions): Adam {
      const [p, o] = split(a ?? {}, b);
      return new Adam(e, p, o, false);
    },
    /** torch.optim.AdamW (decoupled weight decay, default 0.01). */
    adamw(a?: ParamSource | AdamOptimizerOptions, b?: AdamOptimizerOptions): Adam {
      const [p, o] = split(a ?? {}, b);
      return new Adam(e, p, o, true);
    },
    schedules,
    /** Scales the gradients in place so their global L2 norm is ≤ maxNorm; returns the norm before. */
    clipGradNorm: (src: ParamSource, maxNorm: number): number => clipGradNorm(params('clipGradNorm', src), maxNorm),
    /** Clamps every gradient value to [−value, value] in place. */
    clipGradValue: (src: ParamSource, value: number): void => clipGradValue(params('clipGradValue', src), value),
  };
}

export type Optim = ReturnType<typeof makeOptim>;
