// LocallyConnected2d (Keras's LocallyConnected2D in NCHW): a convolution whose weights are not shared between output
// positions. weight [OH·OW, Cout, Cin·KH·KW] (per position the [Cout, Cin·KH·KW] matrix of a conv weight, k in
// torch's F.unfold order), bias [Cout, OH, OW]; see ops.locallyConnected2d.
import type { Engine } from '../engine.js';
import type { Tensor } from '../tensor.js';
import type { LocallyConnected2dOptions } from '../ops/index.js';
import { localGeometry } from '../ops/local.js';
import { checkInit, initValues, type Initializer } from './init.js';
import { Layer, type Param, ShapeError, type LayerConfig, type LayerGeometry, boolOpt, checkOptions, fmt, optionalPosInt, pairOpt,
         posIntOpt } from './layer.js';
import type { Rng } from './rng.js';

export interface LocallyConnected2dLayerOptions {
  outChannels: number;
  kernel: number | [number, number];
  /** Inferred from the input when absent (checked when given). */
  inChannels?: number;
  stride?: number | [number, number];
  /** number | [ph, pw] | [top, bottom, left, right] | 'valid' | 'same' (default 0). */
  padding?: LocallyConnected2dOptions['padding'];
  bias?: boolean;
  /** Default: U(±1/√fanIn) with fanIn = Cin·KH·KW, the inputs one output sees (as a conv's default). */
  weightInit?: Initializer;
  biasInit?: Initializer;
}

export class LocallyConnected2d extends Layer {
  readonly type = 'locallyConnected2d';
  private readonly outChannels: number;
  private inChannels: number | undefined;
  private readonly kernel: [number, number];
  private readonly stride: [number, number];
  private readonly padding: NonNullable<LocallyConnected2dOptions['padding']>;
  private readonly hasBias: boolean;
  private readonly weightInit: Initializer;
  private readonly biasInit: Initializer;
  private out: [number, number] = [1, 1];
  private weight!: Param;
  private biasP: Param | null = null;
  private x: Tensor | null = null;

  constructor(o: LocallyConnected2dLayerOptions) {
    super();
    const where = 'locallyConnected2d';
    const c = checkOptions(where, o, ['outChannels', 'kernel', 'inChannels', 'stride', 'padding', 'bias', 'weightInit', 'biasInit']);
    this.outChannels = posIntOpt(where, 'outChannels', c.outChannels);
    if (c.kernel === undefined) throw new Error(`${where}: kernel is required (a positive integer or [kh, kw])`);
    this.kernel = pairOpt(where, 'kernel', c.kernel);
    this.stride = pairOpt(where, 'stride', c.stride ?? 1);
    this.inChannels = optionalPosInt(where, 'inChannels', c.inChannels);
    const p = c.padding ?? 0;
    const okPair = Number.isInteger(p) && (p as number) >= 0 ||
      (Array.isArray(p) && (p.length === 2 || p.length === 4) && p.every((v) => Number.isInteger(v) && v >= 0));
    if (!(p === 'same' || p === 'valid' || okPair)) {
      throw new Error(`${where}: padding must be a non-negative integer, [ph, pw], [top, bottom, left, right], 'same' or 'valid', got ${fmt(p)}`);
    }
    this.padding = p as NonNullable<LocallyConnected2dOptions['padding']>;
    this.hasBias = boolOpt(where, 'bias', c.bias, true);
    this.weightInit = (c.weightInit ?? 'default') as Initializer;
    this.biasInit = (c.biasInit ?? 'default') as Initializer;
    checkInit(`${where}: weightInit`, this.weightInit);
    checkInit(`${where}: biasInit`, this.biasInit);
  }

  private opsOptions(): LocallyConnected2dOptions {
    return { kernel: this.kernel, stride: this.stride, padding: this.padding };
  }

  inferShape(inShape: readonly number[]): number[] {
    const C = this.inChannels;
    const expected = `[${C ?? 'C'}, H, W]`;
    if (inShape.length !== 3) throw new ShapeError(expected, inShape, 'locallyConnected2d takes [C, H, W] per sample');
    if (C !== undefined && inShape[0] !== C) throw new ShapeError(expected, inShape, `inChannels ${C}`);
    let g;
    try {
      g = localGeometry('locallyConnected2d', [1, ...inShape], this.opsOptions());
    } catch (err) {
      throw new ShapeError(expected, inShape, (err as Error).message.replace(/^locallyConnected2d: /, ''));
    }
    this.inChannels = inShape[0];
    this.out = [g.OH, g.OW];
    return [this.outChannels, g.OH, g.OW];
  }

  private weightShape(): number[] {
    return [this.out[0] * this.out[1], this.outChannels, this.inChannels! * this.kernel[0] * this.kernel[1]];
  }

  override build(e: Engine, inShape: readonly number[], rng: Rng): void {
    super.build(e, inShape, rng);
    const ws = this.weightShape();
    // Fans of one position's [Cout, K] matrix: the inputs one output sees, as for a conv.
    const fansOf = [ws[1], ws[2]];
    this.weight = this.addParam('weight', initValues(this.weightInit, ws, rng, { weightShape: fansOf }), ws);
    if (this.hasBias) {
      const bs = [this.outChannels, ...this.out];
      this.biasP = this.addParam('bias', initValues(this.biasInit, bs, rng, { weightShape: fansOf }), bs);
    }
  }

  get weightTensor(): Tensor { return this.weight.value; }
  get biasTensor(): Tensor | null { return this.biasP?.value ?? null; }

  forward(x: Tensor, keep: boolean): Tensor {
    const y = this.e.ops.locallyConnected2d(x, this.weight.value, this.biasP?.value ?? null, this.opsOptions());
    this.x = keep ? x : null;
    return y;
  }

  backward(dy: Tensor, needInput: boolean): Tensor | null {
    if (!this.x) throw new Error(`${this.label}: backward without a training forward`);
    // Frozen weights / bias get no gradient computed; a first layer needs no dx.
    const g = this.e.ops.locallyConnected2dBackward(dy, this.x, this.weight.value, this.opsOptions(),
      { bias: !!this.biasP?.trainable, input: needInput, weight: this.weight.trainable });
    if (g.dw) this.weight.accumulate(g.dw);
    if (g.db) this.biasP!.accumulate(g.db);
    this.x = null;
    return g.dx ?? null;
  }

  override clearCache(): void {
    this.x = null;
  }

  override paramShapes(): { name: string; shape: number[] }[] {
    const ws = { name: 'weight', shape: this.weightShape() };
    return this.hasBias ? [ws, { name: 'bias', shape: [this.outChannels, ...this.out] }] : [ws];
  }

  /** Every output value is one dot product of length Cin·KH·KW, as a conv's. */
  override macs(): number {
    return this.outChannels * this.out[0] * this.out[1] * this.inChannels! * this.kernel[0] * this.kernel[1];
  }

  override geometry(): LayerGeometry {
    return { kernel: [...this.kernel], stride: [...this.stride] };
  }

  config(): LayerConfig {
    return { type: this.type, inChannels: this.inChannels, outChannels: this.outChannels, kernel: this.kernel, stride: this.stride,
             padding: this.padding, bias: this.hasBias };
  }
}
