// Linear, activations, Dropout and Flatten.
import type { Engine } from '../engine.js';
import type { Tensor } from '../tensor.js';
import { checkInit, initValues, type Initializer } from './init.js';
import { Layer, type Param, ShapeError, type LayerConfig, type LayerGeometry, boolOpt, checkOptions, numberOpt,
         optionalPosInt, posIntOpt, reshapeCopy, fmt } from './layer.js';
import type { Rng } from './rng.js';

// ------------------------------------------------------------------------------------------------ linear

export interface LinearLayerOptions {
  outFeatures: number;
  /** Inferred from the input's last dimension when absent. */
  inFeatures?: number;
  bias?: boolean;
  weightInit?: Initializer;
  biasInit?: Initializer;
}

export class Linear extends Layer {
  readonly type = 'linear';
  private inFeatures: number | undefined;
  private readonly outFeatures: number;
  private readonly hasBias: boolean;
  private readonly weightInit: Initializer;
  private readonly biasInit: Initializer;
  private weight!: Param;
  private biasP: Param | null = null;
  private x: Tensor | null = null;

  constructor(o: LinearLayerOptions) {
    super();
    const c = checkOptions('linear', o, ['outFeatures', 'inFeatures', 'bias', 'weightInit', 'biasInit']);
    this.outFeatures = posIntOpt('linear', 'outFeatures', c.outFeatures);
    this.inFeatures = optionalPosInt('linear', 'inFeatures', c.inFeatures);
    this.hasBias = boolOpt('linear', 'bias', c.bias, true);
    this.weightInit = (c.weightInit ?? 'default') as Initializer;
    this.biasInit = (c.biasInit ?? 'default') as Initializer;
    checkInit('linear: weightInit', this.weightInit);
    checkInit('linear: biasInit', this.biasInit);
  }

  inferShape(inShape: readonly number[]): number[] {
    const F = this.inFeatures;
    const expected = F !== undefined ? `[..., ${F}]` : '[..., features]';
    if (inShape.length < 1) throw new ShapeError(expected, inShape);
    const last = inShape[inShape.length - 1];
    if (F !== undefined && last !== F) {
      throw new ShapeError(`[${F}]`, inShape, `inFeatures ${F}${inShape.length > 1 ? '; add a flatten() layer before it?' : ''}`);
    }
    this.inFeatures = last;
    return [...inShape.slice(0, -1), this.outFeatures];
  }

  override build(e: Engine, inShape: readonly number[], rng: Rng): void {
    super.build(e, inShape, rng);
    const ws = [this.outFeatures, this.inFeatures!];
    this.weight = this.addParam('weight', initValues(this.weightInit, ws, rng), ws);
    if (this.hasBias) this.biasP = this.addParam('bias', initValues(this.biasInit, [this.outFeatures], rng, { weightShape: ws }), [this.outFeatures]);
  }

  get weightTensor(): Tensor { return this.weight.value; }
  get biasTensor(): Tensor | null { return this.biasP?.value ?? null; }

  forward(x: Tensor, keep: boolean): Tensor {
    this.x = keep ? x : null;
    return this.e.ops.linear(x, this.weight.value, this.biasP?.value ?? null);
  }

  backward(dy: Tensor, needInput: boolean): Tensor | null {
    if (!this.x) throw new Error(`${this.label}: backward without a training forward`);
    // Frozen weights / bias get no gradient computed at all.
    const g = this.e.ops.linearBackward(dy, this.x, this.weight.value, { bias: !!this.biasP?.trainable, weight: this.weight.trainable });
    if (g.dw) this.weight.accumulate(g.dw);
    if (g.db) this.biasP!.accumulate(g.db);
    this.x = null;
    if (!needInput) { g.dx.dispose(); return null; }
    return g.dx;
  }

  override clearCache(): void {
    this.x = null;
  }

  override paramShapes(): { name: string; shape: number[] }[] {
    const ws = { name: 'weight', shape: [this.outFeatures, this.inFeatures!] };
    return this.hasBias ? [ws, { name: 'bias', shape: [this.outFeatures] }] : [ws];
  }

  override macs(): number {
    return (this.outputShape.reduce((a, b) => a * b, 1) / this.outFeatures) * this.inFeatures! * this.outFeatures;
  }

  override geometry(): LayerGeometry {
    return { global: true };
  }

  config(): LayerConfig {
    return { type: this.type, inFeatures: this.inFeatures, outFeatures: this.outFeatures, bias: this.hasBias };
  }
}

// ------------------------------------------------------------------------------------------- activations

type Kind = 'relu' | 'leakyRelu' | 'sigmoid' | 'tanh';

class Activation extends Layer {
  /** The forward input (relu, leaky relu) or output (sigmoid, tanh) the derivative is read from. */
  private ref: Tensor | null = null;
  private ownsRef = false;

  constructor(readonly type: Kind, private readonly slope = 0.01) {
    super();
  }

  inferShape(inShape: readonly number[]): number[] {
    return [...inShape];
  }

  forward(x: Tensor, keep: boolean): Tensor {
    const o = this.e.ops;
    this.clearCache();
    switch (this.type) {
      case 'relu': { const y = o.relu(x); if (keep) this.ref = x; return y; }
      case 'leakyRelu': { const y = o.leakyRelu(x, this.slope); if (keep) this.ref = x; return y; }
      default: {
        const y = this.type === 'sigmoid' ? o.sigmoid(x) : o.tanh(x);
        // The output is handed to the caller (who may dispose it), so keep a private copy for backward.
        if (keep) { this.ref = reshapeCopy(this.e, y, y.shape); this.ownsRef = true; }
        return y;
      }
    }
  }

  backward(dy: Tensor): Tensor {
    if (!this.ref) throw new Error(`${this.label}: backward without a training forward`);
    const o = this.e.ops, r = this.ref;
    let dx: Tensor;
    switch (this.type) {
      case 'relu': dx = o.reluBackward(dy, r); break;
      case 'leakyRelu': dx = o.leakyReluBackward(dy, r, this.slope); break;
      case 'sigmoid': dx = o.sigmoidBackward(dy, r); break;
      default: dx = o.tanhBackward(dy, r);
    }
    this.clearCache();
    return dx;
  }

  override clearCache(): void {
    if (this.ownsRef) this.ref?.dispose();
    this.ref = null;
    this.ownsRef = false;
  }

  config(): LayerConfig {
    return this.type === 'leakyRelu' ? { type: this.type, negativeSlope: this.slope } : { type: this.type };
  }
}

export class ReLU extends Activation {
  constructor(o?: Record<string, never>) { checkOptions('relu', o, []); super('relu'); }
}
export class LeakyReLU extends Activation {
  constructor(o?: { negativeSlope?: number }) {
    const c = checkOptions('leakyRelu', o, ['negativeSlope']);
    super('leakyRelu', numberOpt('leakyRelu', 'negativeSlope', c.negativeSlope ?? 0.01));
  }
}
export class Sigmoid extends Activation {
  constructor(o?: Record<string, never>) { checkOptions('sigmoid', o, []); super('sigmoid'); }
}
export class Tanh extends Activation {
  constructor(o?: Record<string, never>) { checkOptions('tanh', o, []); super('tanh'); }
}

// -------------------------------------------------------------------------------------------- dropout

export interface DropoutLayerOptions {
  /** Probability of zeroing an element (default 0.5). */
  p?: number;
}

/** Inverted dropout: in training each element is zeroed with probability p and the rest scaled by 1/(1 − p); identity in eval. */
export class Dropout extends Layer {
  readonly type = 'dropout';
  readonly p: number;
  private rng: Rng | null = null;
  private mask: Float32Array | null = null;
  private masked = false;

  constructor(o?: DropoutLayerOptions) {
    super();
    const c = checkOptions('dropout', o, ['p']);
    this.p = numberOpt('dropout', 'p', c.p ?? 0.5, 0, 1);
  }

  inferShape(inShape: readonly number[]): number[] {
    return [...inShape];
  }

  override build(e: Engine, inShape: readonly number[], rng: Rng): void {
    super.build(e, inShape, rng);
    this.rng = rng.fork(`dropout/${this.index}`);
  }

  /** Re-seeds the mask stream (sequential.seedDropout / fit's seed). */
  reseed(rng: Rng): void {
    this.rng = rng.fork(`dropout/${this.index}`);
  }

  forward(x: Tensor, keep: boolean): Tensor {
    const y = reshapeCopy(this.e, x, x.shape);
    this.masked = false;
    if (!this.training || this.p === 0) return y;
    const n = x.size;
    if (!this.mask || this.mask.length !== n) this.mask = new Float32Array(n);
    const m = this.mask, rng = this.rng!, p = this.p;
    const scale = p >= 1 ? 0 : 1 / (1 - p);
    for (let i = 0; i < n; i++) m[i] = rng.next() < p ? 0 : scale;
    const v = y.view() as Float32Array;
    for (let i = 0; i < n; i++) v[i] *= m[i];
    this.masked = keep;
    return y;
  }

  backward(dy: Tensor): Tensor {
    const dx = reshapeCopy(this.e, dy, dy.shape);
    if (this.masked) {
      const v = dx.view() as Float32Array, m = this.mask!;
      for (let i = 0; i < v.length; i++) v[i] *= m[i];
    }
    this.masked = false;
    return dx;
  }

  config(): LayerConfig {
    return { type: this.type, p: this.p };
  }
}

// -------------------------------------------------------------------------------------------- flatten

export interface FlattenLayerOptions {
  /** First dim to flatten, counting the batch as dim 0 (default 1, as torch.nn.Flatten). */
  startDim?: number;
  /** Last dim to flatten (default -1). */
  endDim?: number;
}

export class Flatten extends Layer {
  readonly type = 'flatten';
  private readonly startDim: number;
  private readonly endDim: number;

  constructor(o?: FlattenLayerOptions) {
    super();
    const c = checkOptions('flatten', o, ['startDim', 'endDim']);
    const s = c.startDim ?? 1, en = c.endDim ?? -1;
    if (!Number.isInteger(s) || (s as number) < 1) throw new Error(`flatten: startDim must be an integer ≥ 1 (dim 0 is the batch), got ${fmt(s)}`);
    if (!Number.isInteger(en)) throw new Error(`flatten: endDim must be an integer, got ${fmt(en)}`);
    this.startDim = s as number;
    this.endDim = en as number;
  }

  inferShape(inShape: readonly number[]): number[] {
    const rank = inShape.length + 1;
    const end = this.endDim < 0 ? rank + this.endDim : this.endDim;
    if (this.startDim >= rank || end < this.startDim || end >= rank) {
      throw new ShapeError(`rank ≥ ${Math.max(this.startDim, end)} per sample`, inShape, `startDim ${this.startDim}, endDim ${this.endDim}`);
    }
    const a = this.startDim - 1, b = end - 1;
    return [...inShape.slice(0, a), inShape.slice(a, b + 1).reduce((p, d) => p * d, 1), ...inShape.slice(b + 1)];
  }

  forward(x: Tensor): Tensor {
    return reshapeCopy(this.e, x, this.withBatch(x, this.outputShape));
  }

  backward(dy: Tensor): Tensor {
    return reshapeCopy(this.e, dy, this.withBatch(dy, this.inputShape));
  }

  config(): LayerConfig {
    return { type: this.type, startDim: this.startDim, endDim: this.endDim };
  }
}
