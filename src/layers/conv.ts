// Conv2d and Conv1d layers (torch.nn.Conv2d / Conv1d): weight [Cout, Cin/groups, KH, KW] (or [Cout, Cin/groups, K]),
// optional bias [Cout], every padding form and padding mode of ops.conv2d / ops.conv1d.
import type { Engine } from '../engine.js';
import type { Tensor } from '../tensor.js';
import type { Conv1dOptions, Conv2dOptions, ConvBackwardFlags, ConvGrads, PaddingMode } from '../ops/index.js';
import { samePadding } from '../ops/conv.js';
import { checkInit, initValues, type Initializer } from './init.js';
import {
  Layer, type Param, ShapeError, type LayerConfig, type LayerGeometry, boolOpt, checkOptions, fmt, optionalPosInt, pairOpt,
  posIntOpt,
} from './layer.js';
import type { Rng } from './rng.js';

const PADDING_MODES: readonly PaddingMode[] = ['zeros', 'reflect', 'replicate', 'circular'];

export interface Conv2dLayerOptions {
  /** Output channels (filters). */
  outChannels: number;
  /** Kernel size: a number or [kh, kw]. */
  kernel: number | [number, number];
  /** Input channels; inferred from the input shape when absent (checked when given). */
  inChannels?: number;
  stride?: number | [number, number];
  padding?: Conv2dOptions['padding'];
  dilation?: number | [number, number];
  groups?: number;
  paddingMode?: PaddingMode;
  /** Add a bias (default true). */
  bias?: boolean;
  /** Weight initialiser (default: PyTorch's, kaiming_uniform with a = √5). */
  weightInit?: Initializer;
  /** Bias initialiser (default: PyTorch's, U(±1/√fanIn)). */
  biasInit?: Initializer;
}

export interface Conv1dLayerOptions {
  outChannels: number;
  kernel: number;
  inChannels?: number;
  stride?: number;
  padding?: Conv1dOptions['padding'];
  /**
   * Causal convolution: all padding on the left, (kernel − 1)·dilation, so the output at step t depends on
   * inputs up to t only (WaveNet/TCN stacks). Cannot be combined with `padding`.
   */
  causal?: boolean;
  dilation?: number;
  groups?: number;
  paddingMode?: PaddingMode;
  bias?: boolean;
  weightInit?: Initializer;
  biasInit?: Initializer;
}

const KNOWN = ['outChannels', 'kernel', 'inChannels', 'stride', 'padding', 'dilation', 'groups', 'paddingMode', 'bias', 'weightInit', 'biasInit'];

/**
 * Resolves 2-D padding to [top, bottom, left, right] as ops.conv2d does ('same': ops' samePadding, which needs
 * the input's spatial size; without one, only the form is checked and zeros are returned).
 */
function resolvePadding(where: string, p: unknown, k: [number, number], d: [number, number], s: [number, number],
                        spatial?: [number, number]): [number, number, number, number] {
  if (p === 'valid') return [0, 0, 0, 0];
  if (p === 'same') {
    if (!spatial) return [0, 0, 0, 0];
    return [...samePadding(spatial[0], k[0], d[0], s[0]), ...samePadding(spatial[1], k[1], d[1], s[1])];
  }
  if (Array.isArray(p) && p.length === 4) {
    if (!p.every((v) => Number.isInteger(v) && v >= 0)) throw new Error(`${where}: padding must hold non-negative integers, got ${fmt(p)}`);
    return p as [number, number, number, number];
  }
  const [ph, pw] = pairOpt(where, 'padding', p, true);
  return [ph, ph, pw, pw];
}

/** Resolved options, in 2-D form (a conv1d is a conv2d over [C, 1, L]). */
interface ConvCfg {
  outChannels: number; inChannels?: number; kernel: [number, number]; stride: [number, number]; dilation: [number, number];
  padding: Conv2dOptions['padding'] | Conv1dOptions['padding']; groups: number; paddingMode: PaddingMode; bias: boolean;
}

abstract class ConvBase extends Layer {
  protected weight!: Param;
  protected biasP: Param | null = null;
  protected x: Tensor | null = null;
  protected cfg: ConvCfg;
  protected weightInit: Initializer;
  protected biasInit: Initializer;
  protected out: [number, number] = [1, 1];

  constructor(where: string, o: Record<string, unknown>, oneD: boolean) {
    super();
    const outChannels = posIntOpt(where, 'outChannels', o.outChannels);
    const kernel = oneD ? [1, posIntOpt(where, 'kernel', o.kernel)] as [number, number] : pairOpt(where, 'kernel', o.kernel);
    const stride = oneD ? [1, posIntOpt(where, 'stride', o.stride ?? 1)] as [number, number] : pairOpt(where, 'stride', o.stride ?? 1);
    const dilation = oneD ? [1, posIntOpt(where, 'dilation', o.dilation ?? 1)] as [number, number] : pairOpt(where, 'dilation', o.dilation ?? 1);
    const groups = posIntOpt(where, 'groups', o.groups ?? 1);
    const inChannels = optionalPosInt(where, 'inChannels', o.inChannels);
    const paddingMode = (o.paddingMode ?? 'zeros') as PaddingMode;
    if (!PADDING_MODES.includes(paddingMode)) {
      throw new Error(`${where}: paddingMode must be one of ${PADDING_MODES.map((m) => `'${m}'`).join(', ')}, got ${fmt(o.paddingMode)}`);
    }
    if (outChannels % groups !== 0) throw new Error(`${where}: groups ${groups} must divide outChannels ${outChannels}`);
    if (inChannels !== undefined && inChannels % groups !== 0) throw new Error(`${where}: groups ${groups} must divide inChannels ${inChannels}`);
    if (oneD && o.causal !== undefined && typeof o.causal !== 'boolean') throw new Error(`${where}: causal must be a boolean, got ${fmt(o.causal)}`);
    if (oneD && o.causal && o.padding !== undefined) {
      throw new Error(`${where}: causal: true sets the padding itself ((kernel − 1)·dilation on the left); remove padding ${fmt(o.padding)}`);
    }
    const padding = oneD && o.causal ? [(kernel[1] - 1) * dilation[1], 0] : o.padding ?? 0;
    if (oneD) {
      // Validate 1-D padding here; keep the user's form for ops.conv1d.
      if (!(padding === 'same' || padding === 'valid' || (Number.isInteger(padding) && (padding as number) >= 0) ||
            (Array.isArray(padding) && padding.length === 2 && padding.every((v) => Number.isInteger(v) && v >= 0)))) {
        throw new Error(`${where}: padding must be a non-negative integer, [left, right], 'same' or 'valid', got ${fmt(padding)}`);
      }
    }
    const bias = boolOpt(where, 'bias', o.bias, true);
    this.weightInit = (o.weightInit ?? 'default') as Initializer;
    this.biasInit = (o.biasInit ?? 'default') as Initializer;
    checkInit(`${where}: weightInit`, this.weightInit);
    checkInit(`${where}: biasInit`, this.biasInit);
    // Resolve once to reject a malformed padding at construction.
    if (!oneD) resolvePadding(where, padding, kernel, dilation, stride);
    this.cfg = { outChannels, kernel, inChannels, stride, padding: padding as ConvCfg['padding'], dilation, groups, paddingMode, bias };
  }

  /** The per-side padding [top, bottom, left, right] (2-D form). */
  protected abstract pad4(spatial: [number, number]): [number, number, number, number];
  protected abstract opsOptions(): Conv2dOptions | Conv1dOptions;
  /** The op (conv2d or conv1d) and its backward, with this layer's options. */
  protected abstract convForward(x: Tensor, w: Tensor, b: Tensor | null): Tensor;
  protected abstract convBackward(dy: Tensor, x: Tensor, w: Tensor, flags: ConvBackwardFlags): ConvGrads;

  forward(x: Tensor, keep: boolean): Tensor {
    const y = this.convForward(x, this.weight.value, this.biasP?.value ?? null);
    this.x = keep ? x : null;
    return y;
  }

  backward(dy: Tensor, needInput: boolean): Tensor | null {
    if (!this.x) throw new Error(`${this.label}: backward without a training forward`);
    // Frozen weights / bias get no gradient computed at all; a first layer needs no dx.
    const g = this.convBackward(dy, this.x, this.weight.value,
      { bias: !!this.biasP?.trainable, input: needInput, weight: this.weight.trainable });
    if (g.dw) this.weight.accumulate(g.dw);
    if (g.db) this.biasP!.accumulate(g.db);
    this.x = null;
    return g.dx ?? null;
  }

  protected inferSpatial(inShape: readonly number[], expected: string, C: number, spatial: [number, number]): void {
    const { inChannels, groups } = this.cfg;
    if (inChannels !== undefined && C !== inChannels) throw new ShapeError(expected, inShape, `inChannels ${inChannels}`);
    if (C % groups !== 0) throw new ShapeError(expected, inShape, `${C} input channels are not divisible by groups ${groups}`);
    const [PT, PB, PL, PR] = this.pad4(spatial);
    const [KH, KW] = this.cfg.kernel, [SH, SW] = this.cfg.stride, [DH, DW] = this.cfg.dilation;
    const [H, W] = spatial;
    if (this.cfg.paddingMode === 'reflect' || this.cfg.paddingMode === 'circular') {
      const strict = this.cfg.paddingMode === 'reflect';
      for (const [p, size] of [[PT, H], [PB, H], [PL, W], [PR, W]]) {
        if (strict ? p >= size : p > size) {
          throw new ShapeError(expected, inShape, `paddingMode '${this.cfg.paddingMode}' needs padding ${strict ? '<' : '≤'} the input size`);
        }
      }
    }
    const OH = Math.floor((H + PT + PB - DH * (KH - 1) - 1) / SH) + 1;
    const OW = Math.floor((W + PL + PR - DW * (KW - 1) - 1) / SW) + 1;
    if (OH < 1 || OW < 1) throw new ShapeError(expected, inShape, `the dilated kernel does not fit: output would be ${OH}×${OW}`);
    this.out = [OH, OW];
    this.cfg.inChannels = C;
  }

  protected abstract weightShape(): number[];

  override build(e: Engine, inShape: readonly number[], rng: Rng): void {
    super.build(e, inShape, rng);
    const ws = this.weightShape();
    this.weight = this.addParam('weight', initValues(this.weightInit, ws, rng), ws);
    if (this.cfg.bias) this.biasP = this.addParam('bias', initValues(this.biasInit, [this.cfg.outChannels], rng, { weightShape: ws }), [this.cfg.outChannels]);
  }

  get weightTensor(): Tensor { return this.weight.value; }
  get biasTensor(): Tensor | null { return this.biasP?.value ?? null; }

  override clearCache(): void {
    this.x = null;
  }

  override paramShapes(): { name: string; shape: number[] }[] {
    const ws = { name: 'weight', shape: this.weightShape() };
    return this.cfg.bias ? [ws, { name: 'bias', shape: [this.cfg.outChannels] }] : [ws];
  }

  override macs(): number {
    const { outChannels, groups, kernel } = this.cfg;
    return outChannels * this.out[0] * this.out[1] * (this.cfg.inChannels! / groups) * kernel[0] * kernel[1];
  }

  override geometry(): LayerGeometry {
    const { kernel, dilation, stride } = this.cfg;
    return { kernel: [dilation[0] * (kernel[0] - 1) + 1, dilation[1] * (kernel[1] - 1) + 1], stride: [...stride] };
  }
}

export class Conv2d extends ConvBase {
  readonly type = 'conv2d';

  constructor(o: Conv2dLayerOptions) {
    super('conv2d', checkOptions('conv2d', o, KNOWN), false);
  }

  protected pad4(spatial: [number, number]) {
    return resolvePadding('conv2d', this.cfg.padding, this.cfg.kernel, this.cfg.dilation, this.cfg.stride, spatial);
  }

  protected opsOptions(): Conv2dOptions {
    const c = this.cfg;
    return { stride: c.stride, padding: c.padding as Conv2dOptions['padding'], dilation: c.dilation, groups: c.groups, paddingMode: c.paddingMode };
  }

  protected weightShape(): number[] {
    const c = this.cfg;
    return [c.outChannels, c.inChannels! / c.groups, c.kernel[0], c.kernel[1]];
  }

  inferShape(inShape: readonly number[]): number[] {
    const expected = this.cfg.inChannels !== undefined ? `[${this.cfg.inChannels}, H, W]` : '[C, H, W]';
    if (inShape.length !== 3) throw new ShapeError(expected, inShape, 'conv2d takes [C, H, W] per sample');
    this.inferSpatial(inShape, expected, inShape[0], [inShape[1], inShape[2]]);
    return [this.cfg.outChannels, this.out[0], this.out[1]];
  }

  protected convForward(x: Tensor, w: Tensor, b: Tensor | null): Tensor {
    return this.e.ops.conv2d(x, w, b, this.opsOptions());
  }

  protected convBackward(dy: Tensor, x: Tensor, w: Tensor, flags: ConvBackwardFlags): ConvGrads {
    return this.e.ops.conv2dBackward(dy, x, w, this.opsOptions(), flags);
  }

  config(): LayerConfig {
    const c = this.cfg;
    return { type: this.type, inChannels: c.inChannels, outChannels: c.outChannels, kernel: c.kernel, stride: c.stride,
             padding: c.padding, dilation: c.dilation, groups: c.groups, paddingMode: c.paddingMode, bias: c.bias };
  }
}

export class Conv1d extends ConvBase {
  readonly type = 'conv1d';

  constructor(o: Conv1dLayerOptions) {
    super('conv1d', checkOptions('conv1d', o, [...KNOWN, 'causal']), true);
  }

  protected pad4(spatial: [number, number]): [number, number, number, number] {
    const p = this.cfg.padding as unknown;
    const k = this.cfg.kernel[1], d = this.cfg.dilation[1];
    if (p === 'valid') return [0, 0, 0, 0];
    if (p === 'same') return [0, 0, ...samePadding(spatial[1], k, d, this.cfg.stride[1])];
    if (Array.isArray(p)) return [0, 0, p[0], p[1]];
    return [0, 0, p as number, p as number];
  }

  protected opsOptions(): Conv1dOptions {
    const c = this.cfg;
    return { stride: c.stride[1], padding: c.padding as Conv1dOptions['padding'], dilation: c.dilation[1], groups: c.groups, paddingMode: c.paddingMode };
  }

  protected weightShape(): number[] {
    const c = this.cfg;
    return [c.outChannels, c.inChannels! / c.groups, c.kernel[1]];
  }

  inferShape(inShape: readonly number[]): number[] {
    const expected = this.cfg.inChannels !== undefined ? `[${this.cfg.inChannels}, L]` : '[C, L]';
    if (inShape.length !== 2) throw new ShapeError(expected, inShape, 'conv1d takes [C, L] per sample');
    this.inferSpatial(inShape, expected, inShape[0], [1, inShape[1]]);
    return [this.cfg.outChannels, this.out[1]];
  }

  protected convForward(x: Tensor, w: Tensor, b: Tensor | null): Tensor {
    return this.e.ops.conv1d(x, w, b, this.opsOptions());
  }

  protected convBackward(dy: Tensor, x: Tensor, w: Tensor, flags: ConvBackwardFlags): ConvGrads {
    return this.e.ops.conv1dBackward(dy, x, w, this.opsOptions(), flags);
  }

  config(): LayerConfig {
    const c = this.cfg;
    return { type: this.type, inChannels: c.inChannels, outChannels: c.outChannels, kernel: c.kernel[1], stride: c.stride[1],
             padding: c.padding, dilation: c.dilation[1], groups: c.groups, paddingMode: c.paddingMode, bias: c.bias };
  }
}
