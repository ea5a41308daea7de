// Learning-rate schedules. A schedule is a function of the optimizer's step (0-based, counted in optimizer
// steps) and context; fit() tells it the steps per epoch and the total, so 'epoch'-unit schedules and
// schedules without an explicit length work there. Formulas follow torch.optim.lr_scheduler.

export interface ScheduleContext {
  /** Optimizer steps taken before this one. */
  step: number;
  /** The optimizer's base learning rate. */
  baseLr: number;
  /** Steps per epoch and total steps, when known (fit sets them). */
  stepsPerEpoch: number | null;
  totalSteps: number | null;
}

export type Schedule = (ctx: ScheduleContext) => number;

type Unit = 'step' | 'epoch';

function pos(where: string, name: string, v: unknown, allowZero = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || (allowZero ? v < 0 : v <= 0)) {
    throw new Error(`${where}: ${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, got ${String(v)}`);
  }
  return v;
}

function unitOf(where: string, v: unknown): Unit {
  if (v === undefined) return 'epoch';
  if (v !== 'step' && v !== 'epoch') throw new Error(`${where}: unit must be 'step' or 'epoch', got ${String(v)}`);
  return v;
}

/** t in the schedule's unit (epoch units need stepsPerEpoch). */
function time(where: string, unit: Unit, ctx: ScheduleContext): number {
  if (unit === 'step') return ctx.step;
  if (!ctx.stepsPerEpoch) throw new Error(`${where}: unit 'epoch' needs the steps per epoch (fit() provides them; elsewhere use unit: 'step')`);
  return Math.floor(ctx.step / ctx.stepsPerEpoch);
}

function length(where: string, given: number | undefined, unit: Unit, ctx: ScheduleContext): number {
  if (given !== undefined) return unit === 'epoch' ? given * (ctx.stepsPerEpoch ?? NaN) : given;
  if (!ctx.totalSteps) throw new Error(`${where}: the schedule length is unknown: pass steps (or epochs) or use it in fit() with a sized data set`);
  return ctx.totalSteps;
}

/** StepLR: lr = base · gamma^⌊t / stepSize⌋ (t in epochs by default). */
export function stepDecay(opts: { stepSize: number; gamma?: number; unit?: Unit }): Schedule {
  const where = 'schedules.step';
  const stepSize = pos(where, 'stepSize', opts?.stepSize);
  const gamma = pos(where, 'gamma', opts.gamma ?? 0.1, true);
  const unit = unitOf(where, opts.unit);
  return (ctx) => ctx.baseLr * gamma ** Math.floor(time(where, unit, ctx) / stepSize);
}

/** ExponentialLR: lr = base · gamma^t (t in epochs by default). */
export function exponential(opts: { gamma: number; unit?: Unit }): Schedule {
  const where = 'schedules.exponential';
  const gamma = pos(where, 'gamma', opts?.gamma, true);
  const unit = unitOf(where, opts.unit);
  return (ctx) => ctx.baseLr * gamma ** time(where, unit, ctx);
}

/**
 * Cosine annealing (CosineAnnealingLR, per step): lr = min + (base − min)·(1 + cos(π·t/T))/2, T = `steps` (or
 * `epochs` · steps per epoch, or fit's total steps).
 */
export function cosine(opts: { steps?: number; epochs?: number; minLr?: number } = {}): Schedule {
  const where = 'schedules.cosine';
  if (opts.steps !== undefined) pos(where, 'steps', opts.steps);
  if (opts.epochs !== undefined) pos(where, 'epochs', opts.epochs);
  const minLr = pos(where, 'minLr', opts.minLr ?? 0, true);
  return (ctx) => {
    const T = opts.steps ?? (opts.epochs !== undefined ? length(where, opts.epochs, 'epoch', ctx) : length(where, undefined, 'step', ctx));
    const t = Math.min(ctx.step, T);
    return minLr + (ctx.baseLr - minLr) * (1 + Math.cos((Math.PI * t) / T)) / 2;
  };
}

/**
 * One-cycle (OneCycleLR with cosine annealing): from maxLr/divFactor up to maxLr over pctStart of the steps,
 * then down to maxLr/(divFactor·finalDivFactor). maxLr defaults to the optimizer's lr.
 */
export function oneCycle(opts: { maxLr?: number; steps?: number; pctStart?: number; divFactor?: number; finalDivFactor?: number } = {}): Schedule {
  const where = 'schedules.oneCycle';
  if (opts.maxLr !== undefined) pos(where, 'maxLr', opts.maxLr);
  if (opts.steps !== undefined) pos(where, 'steps', opts.steps);
  const pct = opts.pctStart ?? 0.3;
  if (!(pct > 0 && pct < 1)) throw new Error(`${where}: pctStart must be in (0, 1), got ${pct}`);
  const div = pos(where, 'divFactor', opts.divFactor ?? 25), finalDiv = pos(where, 'finalDivFactor', opts.finalDivFactor ?? 1e4);
  const anneal = (start: number, end: number, p: number) => end + ((start - end) / 2) * (1 + Math.cos(Math.PI * p));
  return (ctx) => {
    const T = opts.steps ?? length(where, undefined, 'step', ctx);
    const max = opts.maxLr ?? ctx.baseLr, initial = max / div, min = initial / finalDiv;
    const t = Math.min(ctx.step, T - 1);
    const end1 = pct * T - 1, end2 = T - 1;
    if (t <= end1) return anneal(initial, max, end1 > 0 ? t / end1 : 1);
    return anneal(max, min, end2 > end1 ? (t - end1) / (end2 - end1) : 1);
  };
}

/**
 * Linear warm-up over `steps` optimizer steps from startFactor·lr to lr, then `then` (another schedule, which
 * sees the steps after the warm-up; default constant).
 */
export function warmup(opts: { steps: number; startFactor?: number; then?: Schedule }): Schedule {
  const where = 'schedules.warmup';
  const steps = pos(where, 'steps', opts?.steps);
  const from = opts.startFactor ?? 0;
  if (!(from >= 0 && from <= 1)) throw new Error(`${where}: startFactor must be in [0, 1], got ${from}`);
  if (opts.then !== undefined && typeof opts.then !== 'function') throw new Error(`${where}: then must be a schedule function`);
  return (ctx) => {
    if (ctx.step < steps) return ctx.baseLr * (from + ((1 - from) * (ctx.step + 1)) / steps);
    if (!opts.then) return ctx.baseLr;
    return opts.then({ ...ctx, step: ctx.step - steps, totalSteps: ctx.totalSteps === null ? null : Math.max(1, ctx.totalSteps - steps) });
  };
}

export const schedules = { step: stepDecay, exponential, cosine, oneCycle, warmup };
