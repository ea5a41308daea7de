// Normalisation layers: BatchNorm2d / BatchNorm1d (running statistics, PyTorch's state_dict names weight, bias,
// running_mean, running_var, num_batches_tracked), LayerNorm, GroupNorm and InstanceNorm2d.
import type { Engine } from '../engine.js';
import type { Tensor } from '../tensor.js';
import { Layer, type Param, ShapeError, type LayerConfig, type StateBuffer, boolOpt, checkOptions, numberOpt, optionalPosInt,
         posIntOpt, fmt, shapeStr } from './layer.js';
import type { Rng } from './rng.js';

export interface BatchNormLayerOptions {
  /** Channels (C); inferred from the input when absent. */
  numFeatures?: number;
  eps?: number;
  /** Running-stat update factor (default 0.1): running = (1 − momentum)·running + momentum·batch. */
  momentum?: number;
  /** Learnable γ (weight) and β (bias), default true. */
  affine?: boolean;
  /** Keep running statistics for eval mode (default true); without them eval uses batch statistics. */
  trackRunningStats?: boolean;
}

/**
 * A normalisation layer that keeps its input and statistics from a training forward for backward; one place
 * for the cache's lifetime and for handing dγ/dβ to the parameters.
 */
abstract class NormWithStats extends Layer {
  protected cache: { x: Tensor; mean: Tensor; invStd: Tensor; training: boolean } | null = null;

  /** The cache of the last training forward (an Error without one). */
  protected cached(): { x: Tensor; mean: Tensor; invStd: Tensor; training: boolean } {
    if (!this.cache) throw new Error(`${this.label}: backward without a training forward`);
    return this.cache;
  }

  /** Whether backward should compute dγ, dβ: not for a frozen layer (or one without them). */
  protected wantParamGrads(gamma: Param | null, beta: Param | null): boolean {
    return !!(gamma?.trainable || beta?.trainable);
  }

  /** Adds dγ, dβ into the parameters (frees them when the layer has none), drops the cache, returns dx. */
  protected finishBackward(g: { dx: Tensor; dgamma?: Tensor; dbeta?: Tensor }, gamma: Param | null, beta: Param | null): Tensor {
    if (gamma && g.dgamma) gamma.accumulate(g.dgamma); else g.dgamma?.dispose();
    if (beta && g.dbeta) beta.accumulate(g.dbeta); else g.dbeta?.dispose();
    this.clearCache();
    return g.dx;
  }

  override clearCache(): void {
    if (!this.cache) return;
    this.cache.mean.dispose();
    this.cache.invStd.dispose();
    this.cache = null;
  }
}

class BatchNormBase extends NormWithStats {
  readonly type: string;
  private readonly cfg: { numFeatures?: number; eps: number; momentum: number; affine: boolean; trackRunningStats: boolean };
  gammaP: Param | null = null;
  betaP: Param | null = null;
  runningMean: StateBuffer | null = null;
  runningVar: StateBuffer | null = null;
  /** PyTorch's num_batches_tracked (saved as int64). */
  numBatchesTracked = 0;

  constructor(type: string, private readonly ranks: readonly number[], o: BatchNormLayerOptions | undefined) {
    super();
    this.type = type;
    const c = checkOptions(type, o, ['numFeatures', 'eps', 'momentum', 'affine', 'trackRunningStats']);
    this.cfg = {
      numFeatures: optionalPosInt(type, 'numFeatures', c.numFeatures),
      eps: numberOpt(type, 'eps', c.eps ?? 1e-5, 0),
      momentum: numberOpt(type, 'momentum', c.momentum ?? 0.1, 0, 1),
      affine: boolOpt(type, 'affine', c.affine, true),
      trackRunningStats: boolOpt(type, 'trackRunningStats', c.trackRunningStats, true),
    };
  }

  get eps(): number { return this.cfg.eps; }

  inferShape(inShape: readonly number[]): number[] {
    const C = this.cfg.numFeatures;
    const form = this.ranks.includes(3) ? `[${C ?? 'C'}, H, W]` : `[${C ?? 'C'}] or [${C ?? 'C'}, L]`;
    if (!this.ranks.includes(inShape.length)) throw new ShapeError(form, inShape, `${this.type} takes ${form} per sample`);
    if (C !== undefined && inShape[0] !== C) throw new ShapeError(form, inShape, `numFeatures ${C}`);
    this.cfg.numFeatures = inShape[0];
    return [...inShape];
  }

  override build(e: Engine, inShape: readonly number[], rng: Rng): void {
    super.build(e, inShape, rng);
    const C = this.cfg.numFeatures!;
    if (this.cfg.affine) {
      this.gammaP = this.addParam('weight', new Float32Array(C).fill(1), [C]);
      this.betaP = this.addParam('bias', new Float32Array(C), [C]);
    }
    if (this.cfg.trackRunningStats) {
      this.runningMean = this.addBuffer('running_mean', new Float32Array(C), [C]);
      this.runningVar = this.addBuffer('running_var', new Float32Array(C).fill(1), [C]);
    }
  }

  forward(x: Tensor, keep: boolean): Tensor {
    const training = this.training && this.trainable;   // a frozen BatchNorm runs in eval mode
    const useBatch = training || !this.runningMean;
    const r = this.e.ops.batchNorm2d(x, this.gammaP?.value ?? null, this.betaP?.value ?? null,
      this.runningMean?.value ?? null,
      this.runningVar?.value ?? null, { training: useBatch, momentum: this.cfg.momentum, eps: this.cfg.eps });
    if (training && this.runningMean) this.numBatchesTracked++;
    this.clearCache();
    if (keep) this.cache = { x, mean: r.mean, invStd: r.invStd, training: useBatch };
    else { r.mean.dispose(); r.invStd.dispose(); }
    return r.y;
  }

  backward(dy: Tensor): Tensor {
    const c = this.cached();
    const g = this.e.ops.batchNorm2dBackward(dy, c.x, this.gammaP?.value ?? null, c.mean, c.invStd,
      { training: c.training, params: this.wantParamGrads(this.gammaP, this.betaP) });
    return this.finishBackward(g, this.gammaP, this.betaP);
  }

  override macs(): number {
    return this.inputShape.reduce((a, b) => a * b, 1);
  }

  override paramShapes(): { name: string; shape: number[] }[] {
    const C = this.cfg.numFeatures!;
    return this.cfg.affine ? [{ name: 'weight', shape: [C] }, { name: 'bias', shape: [C] }] : [];
  }

  override bufferShapes(): { name: string; shape: number[] }[] {
    const C = this.cfg.numFeatures!;
    return this.cfg.trackRunningStats ? [{ name: 'running_mean', shape: [C] }, { name: 'running_var', shape: [C] }] : [];
  }

  config(): LayerConfig {
    return { type: this.type, ...this.cfg };
  }
}

export class BatchNorm2d extends BatchNormBase {
  constructor(o?: BatchNormLayerOptions) { super('batchNorm2d', [3], o); }
}

export class BatchNorm1d extends BatchNormBase {
  constructor(o?: BatchNormLayerOptions) { super('batchNorm1d', [1, 2], o); }
}

// ------------------------------------------------------------------------------------------- layer norm

export interface LayerNormLayerOptions {
  /** The trailing per-sample dims to normalise over (default: the whole per-sample shape). */
  normalizedShape?: number | number[];
  eps?: number;
  /** Learnable weight and bias of normalizedShape (default true). */
  elementwiseAffine?: boolean;
}

export class LayerNorm extends NormWithStats {
  readonly type = 'layerNorm';
  private normalizedShape: number[] | null;
  private readonly eps: number;
  private readonly affine: boolean;
  private gamma: Param | null = null;
  private beta: Param | null = null;

  constructor(o?: LayerNormLayerOptions) {
    super();
    const c = checkOptions('layerNorm', o, ['normalizedShape', 'eps', 'elementwiseAffine']);
    const ns = c.normalizedShape;
    if (ns === undefined) this.normalizedShape = null;
    else if (Number.isInteger(ns) && (ns as number) > 0) this.normalizedShape = [ns as number];
    else if (Array.isArray(ns) && ns.length > 0 && ns.every((d) => Number.isInteger(d) && d > 0)) this.normalizedShape = [...ns];
    else throw new Error(`layerNorm: normalizedShape must be a positive integer or an array of them, got ${fmt(ns)}`);
    this.eps = numberOpt('layerNorm', 'eps', c.eps ?? 1e-5, 0);
    this.affine = boolOpt('layerNorm', 'elementwiseAffine', c.elementwiseAffine, true);
  }

  inferShape(inShape: readonly number[]): number[] {
    const ns = this.normalizedShape ?? [...inShape];
    const tail = inShape.slice(inShape.length - ns.length);
    if (ns.length > inShape.length || tail.some((d, i) => d !== ns[i])) {
      throw new ShapeError(`[..., ${ns.join(', ')}]`, inShape, `normalizedShape ${shapeStr(ns)} must be the trailing dims`);
    }
    this.normalizedShape = ns;
    return [...inShape];
  }

  override build(e: Engine, inShape: readonly number[], rng: Rng): void {
    super.build(e, inShape, rng);
    if (this.affine) {
      const ns = this.normalizedShape!, n = ns.reduce((a, b) => a * b, 1);
      this.gamma = this.addParam('weight', new Float32Array(n).fill(1), ns);
      this.beta = this.addParam('bias', new Float32Array(n), ns);
    }
  }

  override paramShapes(): { name: string; shape: number[] }[] {
    const ns = this.normalizedShape!;
    return this.affine ? [{ name: 'weight', shape: [...ns] }, { name: 'bias', shape: [...ns] }] : [];
  }

  forward(x: Tensor, keep: boolean): Tensor {
    const r = this.e.ops.layerNorm(x, this.normalizedShape!, this.gamma?.value ?? null, this.beta?.value ?? null, { eps: this.eps });
    this.clearCache();
    if (keep) this.cache = { x, mean: r.mean, invStd: r.invStd, training: true };
    else { r.mean.dispose(); r.invStd.dispose(); }
    return r.y;
  }

  backward(dy: Tensor): Tensor {
    const c = this.cached();
    const g = this.e.ops.layerNormBackward(dy, c.x, this.normalizedShape!, this.gamma?.value ?? null, c,
      { params: this.wantParamGrads(this.gamma, this.beta) });
    return this.finishBackward(g, this.gamma, this.beta);
  }

  config(): LayerConfig {
    return { type: this.type, normalizedShape: this.normalizedShape, eps: this.eps, elementwiseAffine: this.affine };
  }
}

// ------------------------------------------------------------------------------------------- group norm

export interface GroupNormLayerOptions {
  groups: number;
  /** Channels; inferred when absent. */
  numChannels?: number;
  eps?: number;
  affine?: boolean;
}

export interface InstanceNormLayerOptions {
  numFeatures?: number;
  eps?: number;
  /** Learnable per-channel weight and bias (default false, as PyTorch's InstanceNorm2d). */
  affine?: boolean;
}

class RowNormChannels extends NormWithStats {
  readonly type: string;
  protected channels: number | undefined;
  protected gamma: Param | null = null;
  protected beta: Param | null = null;

  constructor(type: string, protected readonly groups: number | null, channels: number | undefined,
              protected readonly eps: number, protected readonly affine: boolean) {
    super();
    this.type = type;
    this.channels = channels;
  }

  inferShape(inShape: readonly number[]): number[] {
    const C = this.channels;
    const form = `[${C ?? 'C'}, ...]`;
    if (inShape.length < (this.groups === null ? 2 : 1)) throw new ShapeError(this.groups === null ? `[${C ?? 'C'}, H, W]` : form, inShape);
    if (C !== undefined && inShape[0] !== C) throw new ShapeError(form, inShape, `${C} channels`);
    if (this.groups !== null && inShape[0] % this.groups !== 0) throw new ShapeError(form, inShape, `channels not divisible by groups ${this.groups}`);
    this.channels = inShape[0];
    return [...inShape];
  }

  override build(e: Engine, inShape: readonly number[], rng: Rng): void {
    super.build(e, inShape, rng);
    if (this.affine) {
      const C = this.channels!;
      this.gamma = this.addParam('weight', new Float32Array(C).fill(1), [C]);
      this.beta = this.addParam('bias', new Float32Array(C), [C]);
    }
  }

  override paramShapes(): { name: string; shape: number[] }[] {
    const C = this.channels!;
    return this.affine ? [{ name: 'weight', shape: [C] }, { name: 'bias', shape: [C] }] : [];
  }

  forward(x: Tensor, keep: boolean): Tensor {
    const o = this.e.ops, g = this.gamma?.value ?? null, b = this.beta?.value ?? null;
    const r = this.groups === null ? o.instanceNorm(x, g, b, { eps: this.eps }) : o.groupNorm(x, this.groups, g, b, { eps: this.eps });
    this.clearCache();
    if (keep) this.cache = { x, mean: r.mean, invStd: r.invStd, training: true };
    else { r.mean.dispose(); r.invStd.dispose(); }
    return r.y;
  }

  backward(dy: Tensor): Tensor {
    const c = this.cached();
    const o = this.e.ops, g = this.gamma?.value ?? null;
    const flags = { params: this.wantParamGrads(this.gamma, this.beta) };
    const r = this.groups === null ? o.instanceNormBackward(dy, c.x, g, c, flags) : o.groupNormBackward(dy, c.x, this.groups, g, c, flags);
    return this.finishBackward(r, this.gamma, this.beta);
  }

  config(): LayerConfig {
    return this.groups === null
      ? { type: this.type, numFeatures: this.channels, eps: this.eps, affine: this.affine }
      : { type: this.type, groups: this.groups, numChannels: this.channels, eps: this.eps, affine: this.affine };
  }
}

export class GroupNorm extends RowNormChannels {
  constructor(o: GroupNormLayerOptions) {
    const c = checkOptions('groupNorm', o, ['groups', 'numChannels', 'eps', 'affine']);
    const groups = posIntOpt('groupNorm', 'groups', c.groups);
    const ch = optionalPosInt('groupNorm', 'numChannels', c.numChannels);
    if (ch !== undefined && ch % groups !== 0) throw new Error(`groupNorm: groups ${groups} must divide numChannels ${ch}`);
    super('groupNorm', groups, ch, numberOpt('groupNorm', 'eps', c.eps ?? 1e-5, 0), boolOpt('groupNorm', 'affine', c.affine, true));
  }
}

export class InstanceNorm2d extends RowNormChannels {
  constructor(o?: InstanceNormLayerOptions) {
    const c = checkOptions('instanceNorm2d', o, ['numFeatures', 'eps', 'affine']);
    super('instanceNorm2d', null, optionalPosInt('instanceNorm2d', 'numFeatures', c.numFeatures),
          numberOpt('instanceNorm2d', 'eps', c.eps ?? 1e-5, 0), boolOpt('instanceNorm2d', 'affine', c.affine, false));
  }
}

export { BatchNormBase };
