// Optimizers over the ops.sgdStep / ops.adamStep kernels: SGD (momentum, dampening, Nesterov, weight decay),
// Adam and AdamW, with a learning-rate schedule and optional gradient clipping (by global L2 norm, as
// torch.nn.utils.clip_grad_norm_, or by value). Parameters without a gradient are skipped, as in PyTorch.
import type { Engine } from '../engine.js';
import { Tensor } from '../tensor.js';
import { Param } from '../layers/layer.js';
import type { SgdState, AdamState } from '../ops/index.js';
import type { Schedule, ScheduleContext } from './schedules.js';

export interface OptimizerOptions {
  /** Learning rate (the base rate when a schedule is given). */
  lr?: number;
  /** Learning-rate schedule (nn.optim.schedules.*, or (ctx) => lr). */
  schedule?: Schedule;
  /** Clip the gradients' global L2 norm to this before each step. */
  clipGradNorm?: number;
  /** Clamp every gradient value to [−v, v] before each step. */
  clipGradValue?: number;
}

export interface SgdOptimizerOptions extends OptimizerOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
  weightDecay?: number;
}

export interface AdamOptimizerOptions extends OptimizerOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
}

/** Something that has parameters (a model) or a list of them. */
export type ParamSource = Param[] | { parameters(): Param[] };

function paramsOf(where: string, src: ParamSource): Param[] {
  const list = Array.isArray(src) ? src : typeof (src as { parameters?: unknown })?.parameters === 'function' ? src.parameters() : null;
  if (!list || !list.every((p) => p instanceof Param)) throw new Error(`${where}: params must be a model or an array of its parameters`);
  return list;
}

const KNOWN_COMMON = ['lr', 'schedule', 'clipGradNorm', 'clipGradValue'];

export abstract class Optimizer {
  abstract readonly type: string;
  /** The base learning rate. */
  readonly baseLr: number;
  /** The rate the last step used (the base rate before any step). */
  lr: number;
  /** Steps taken. */
  iterations = 0;
  /** The global gradient L2 norm measured by the last step when clipGradNorm is set. */
  lastGradNorm: number | null = null;
  readonly schedule: Schedule | null;
  private readonly clipNorm: number | null;
  private readonly clipValue: number | null;
  private bound: Param[] | null;
  protected readonly states = new Map<Param, { dispose(): void }>();
  /** @internal Set by fit(): steps per epoch and total steps, for schedules. */
  context: { stepsPerEpoch: number | null; totalSteps: number | null } = { stepsPerEpoch: null, totalSteps: null };

  constructor(readonly engine: Engine, where: string, params: ParamSource | null, o: OptimizerOptions, known: string[], defaultLr?: number) {
    if (o === null || typeof o !== 'object') throw new Error(`${where}: options must be an object, got ${String(o)}`);
    for (const k of Object.keys(o)) if (!known.includes(k) && !KNOWN_COMMON.includes(k)) {
      throw new Error(`${where}: unknown option '${k}' (known: ${[...KNOWN_COMMON, ...known].join(', ')})`);
    }
    const lr = o.lr ?? defaultLr;
    if (typeof lr !== 'number' || !Number.isFinite(lr) || lr < 0) throw new Error(`${where}: lr must be a non-negative number, got ${String(lr)}`);
    this.baseLr = this.lr = lr;
    if (o.schedule !== undefined && typeof o.schedule !== 'function') throw new Error(`${where}: schedule must be a function (nn.optim.schedules.*)`);
    this.schedule = o.schedule ?? null;
    const positive = (name: string, v: unknown) => {
      if (v === undefined) return null;
      if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) throw new Error(`${where}: ${name} must be a positive number, got ${String(v)}`);
      return v;
    };
    this.clipNorm = positive('clipGradNorm', o.clipGradNorm);
    this.clipValue = positive('clipGradValue', o.clipGradValue);
    this.bound = params ? paramsOf(where, params) : null;
  }

  /** The parameters this optimizer updates (bound at construction, or given to step()). */
  get params(): Param[] | null {
    return this.bound;
  }

  /** The learning rate the next step will use. */
  currentLr(): number {
    if (!this.schedule) return this.baseLr;
    const ctx: ScheduleContext = { step: this.iterations, baseLr: this.baseLr, ...this.context };
    const lr = this.schedule(ctx);
    if (typeof lr !== 'number' || !Number.isFinite(lr) || lr < 0) {
      throw new Error(`${this.type}: the schedule returned learning rate ${String(lr)} at step ${this.iterations}; expected a non-negative number`);
    }
    return lr;
  }

  /**
   * Updates every parameter that has a gradient, in place. params: a model or parameter list when the optimizer
   * was made without one.
   */
  step(params?: ParamSource): void {
    const list = params ? paramsOf(`${this.type}.step`, params) : this.bound;
    if (!list) throw new Error(`${this.type}.step: no parameters: pass the model (nn.optim.${this.type}(model, {...})) or step(model)`);
    const live = list.filter((p) => p.trainable && p.grad && !p.grad.disposed);
    if (this.clipNorm !== null) this.lastGradNorm = clipGradNorm(live, this.clipNorm);
    if (this.clipValue !== null) clipGradValue(live, this.clipValue);
    const lr = this.currentLr();
    this.lr = lr;
    for (const p of live) {
      const before = this.states.get(p) ?? null;
      const s = this.update(p.value, p.grad!, before, lr);
      if (s !== before) {
        for (const t of Object.values(s)) if (t instanceof Tensor) this.engine.keep(t);
        this.states.set(p, s);
      }
    }
    this.iterations++;
  }

  /** Drops the gradients of the bound (or given) parameters. */
  zeroGrad(params?: ParamSource): void {
    const list = params ? paramsOf(`${this.type}.zeroGrad`, params) : this.bound;
    if (!list) throw new Error(`${this.type}.zeroGrad: no parameters bound; pass the model`);
    for (const p of list) p.zeroGrad();
  }

  /** Frees the optimizer state (momentum buffers, Adam moments). */
  dispose(): void {
    for (const s of this.states.values()) s.dispose();
    this.states.clear();
  }

  /** Parameters that have optimizer state. */
  get stateSize(): number {
    return this.states.size;
  }

  protected abstract update(param: Tensor, grad: Tensor, state: { dispose(): void } | null, lr: number): { dispose(): void };
}

/** Scales the gradients so their global L2 norm is at most maxNorm; returns the norm before clipping. */
export function clipGradNorm(params: Param[], maxNorm: number): number {
  let sq = 0;
  for (const p of params) {
    const g = p.grad!.view() as Float32Array;
    for (let i = 0; i < g.length; i++) sq += g[i] * g[i];
  }
  const norm = Math.sqrt(sq);
  const coef = maxNorm / (norm + 1e-6);
  if (coef < 1) {
    for (const p of params) {
      const g = p.grad!;
      g.engine.kernels.scale(g.offset, g.size, coef);   // in place (assembly/elementwise.ts)
      g.version++;
    }
  }
  return norm;
}

export function clipGradValue(params: Param[], v: number): void {
  for (const p of params) {
    const g = p.grad!.view() as Float32Array;
    for (let i = 0; i < g.length; i++) g[i] = g[i] > v ? v : g[i] < -v ? -v : g[i];
  }
}

export class SGD extends Optimizer {
  readonly type = 'sgd';
  readonly momentum: number;
  readonly dampening: number;
  readonly nesterov: boolean;
  readonly weightDecay: number;

  constructor(e: Engine, params: ParamSource | null, o: SgdOptimizerOptions) {
    super(e, 'sgd', params, o, ['momentum', 'dampening', 'nesterov', 'weightDecay']);
    this.momentum = o.momentum ?? 0;
    this.dampening = o.dampening ?? 0;
    this.nesterov = o.nesterov ?? false;
    this.weightDecay = o.weightDecay ?? 0;
    if (!(this.momentum >= 0) || !Number.isFinite(this.momentum)) throw new Error(`sgd: momentum must be a non-negative number, got ${o.momentum}`);
    if (typeof this.nesterov !== 'boolean') throw new Error(`sgd: nesterov must be a boolean, got ${String(o.nesterov)}`);
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) throw new Error('sgd: nesterov needs momentum > 0 and dampening 0');
    if (!(this.weightDecay >= 0) || !Number.isFinite(this.weightDecay)) throw new Error(`sgd: weightDecay must be a non-negative number, got ${o.weightDecay}`);
    if (!Number.isFinite(this.dampening)) throw new Error(`sgd: dampening must be a finite number, got ${o.dampening}`);
  }

  protected update(param: Tensor, grad: Tensor, state: { dispose(): void } | null, lr: number) {
    return this.engine.ops.sgdStep(param, grad, state as SgdState | null,
      { lr, momentum: this.momentum, dampening: this.dampening, nesterov: this.nesterov, weightDecay: this.weightDecay });
  }
}

export class Adam extends Optimizer {
  readonly type: string;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly decoupled: boolean;

  constructor(e: Engine, params: ParamSource | null, o: AdamOptimizerOptions, decoupled: boolean) {
    const type = decoupled ? 'adamw' : 'adam';
    super(e, type, params, o, ['beta1', 'beta2', 'eps', 'weightDecay'], 1e-3);
    this.type = type;
    this.decoupled = decoupled;
    this.beta1 = o.beta1 ?? 0.9;
    this.beta2 = o.beta2 ?? 0.999;
    this.eps = o.eps ?? 1e-8;
    this.weightDecay = o.weightDecay ?? (decoupled ? 0.01 : 0);
    for (const [k, v] of [['beta1', this.beta1], ['beta2', this.beta2]] as const) {
      if (!(v >= 0 && v < 1)) throw new Error(`${type}: ${k} must be in [0, 1), got ${v}`);
    }
    if (!(this.eps >= 0) || !Number.isFinite(this.eps)) throw new Error(`${type}: eps must be a non-negative number, got ${o.eps}`);
    if (!(this.weightDecay >= 0) || !Number.isFinite(this.weightDecay)) throw new Error(`${type}: weightDecay must be a non-negative number, got ${o.weightDecay}`);
  }

  protected update(param: Tensor, grad: Tensor, state: { dispose(): void } | null, lr: number) {
    return this.engine.ops.adamStep(param, grad, state as AdamState | null,
      { lr, beta1: this.beta1, beta2: this.beta2, eps: this.eps, weightDecay: this.weightDecay, decoupled: this.decoupled });
  }
}
