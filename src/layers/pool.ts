// Pooling layers: MaxPool2d, AvgPool2d (torch.nn.MaxPool2d / AvgPool2d) and GlobalAvgPool2d
// (torch.nn.AdaptiveAvgPool2d(1): output [C, 1, 1]).
import type { Tensor } from '../tensor.js';
import type { AdaptiveOutputSize, AvgPool2dOptions, MaxPool2dOptions } from '../ops/index.js';
import { Layer, ShapeError, type LayerConfig, type LayerGeometry, boolOpt, checkOptions, fmt, optionalPosInt, pairOpt, reshapeCopy } from './layer.js';

/** PyTorch's pooling_output_shape (the ceil-mode correction included). */
function poolOut(size: number, k: number, pad: number, stride: number, dilation: number, ceil: boolean): number {
  let out = Math.floor((size + 2 * pad - dilation * (k - 1) - 1 + (ceil ? stride - 1 : 0)) / stride) + 1;
  if (ceil && (out - 1) * stride >= size + pad) out--;
  return out;
}

interface PoolCfg {
  kernel: [number, number]; stride: [number, number]; padding: [number, number] | 'same' | 'valid'; dilation: [number, number]; ceilMode: boolean;
}

function poolCfg(where: string, o: Record<string, unknown>, dilated: boolean): PoolCfg {
  if (o.kernel === undefined) throw new Error(`${where}: kernel is required (a positive integer or [kh, kw])`);
  const kernel = pairOpt(where, 'kernel', o.kernel);
  const stride = pairOpt(where, 'stride', o.stride ?? kernel);
  const dilation = dilated ? pairOpt(where, 'dilation', o.dilation ?? 1) : [1, 1] as [number, number];
  const ceilMode = boolOpt(where, 'ceilMode', o.ceilMode, false);
  const p = o.padding ?? 0;
  if (typeof p === 'string') {
    if (p !== 'same' && p !== 'valid') throw new Error(`${where}: padding must be a non-negative integer, a pair of them, 'same' or 'valid', got ${fmt(p)}`);
    if (p === 'same' && ceilMode) throw new Error(`${where}: ceilMode must be false with padding 'same' (its output size is ⌈input / stride⌉), got true`);
    return { kernel, stride, padding: p, dilation, ceilMode };
  }
  const padding = pairOpt(where, 'padding', p, true);
  if (padding[0] > Math.floor(kernel[0] / 2) || padding[1] > Math.floor(kernel[1] / 2)) {
    throw new Error(`${where}: padding must be at most half the kernel (≤ [${Math.floor(kernel[0] / 2)}, ${Math.floor(kernel[1] / 2)}]), got [${padding}]`);
  }
  return { kernel, stride, padding, dilation, ceilMode };
}

function poolShape(c: PoolCfg, inShape: readonly number[]): [number, number, number] {
  if (inShape.length !== 3) throw new ShapeError('[C, H, W]', inShape, 'pooling takes [C, H, W] per sample');
  const [C, H, W] = inShape;
  // TensorFlow's 'same': ⌈in / stride⌉ whatever the kernel (ops.maxPool2d / avgPool2d check the windows).
  if (c.padding === 'same') return [C, Math.ceil(H / c.stride[0]), Math.ceil(W / c.stride[1])];
  const pad = c.padding === 'valid' ? [0, 0] : c.padding;
  const OH = poolOut(H, c.kernel[0], pad[0], c.stride[0], c.dilation[0], c.ceilMode);
  const OW = poolOut(W, c.kernel[1], pad[1], c.stride[1], c.dilation[1], c.ceilMode);
  if (OH < 1 || OW < 1) {
    throw new ShapeError(`[C, H ≥ ${c.dilation[0] * (c.kernel[0] - 1) + 1 - 2 * pad[0]}, W ≥ ${c.dilation[1] * (c.kernel[1] - 1) + 1 - 2 * pad[1]}]`,
      inShape, `kernel ${c.kernel[0]}×${c.kernel[1]} does not fit: output would be ${OH}×${OW}`);
  }
  return [C, OH, OW];
}

export interface MaxPool2dLayerOptions extends MaxPool2dOptions {}
export interface AvgPool2dLayerOptions extends AvgPool2dOptions {}

/**
 * Max pooling layers: the argmax indices of a training forward are kept for backward's scatter (and freed by it or
 * by clearCache); an inference forward keeps nothing.
 */
abstract class ArgmaxPool extends Layer {
  private indices: Tensor | null = null;
  private xShape: number[] = [];

  /** The pooled values alone (inference). */
  protected abstract values(x: Tensor): Tensor;
  /** The pooled values and, per output, the flat h·W + w of its maximum in the input plane. */
  protected abstract withIndices(x: Tensor): { y: Tensor; indices: Tensor };
  /** dx: dy added at the recorded indices. */
  protected abstract scatter(dy: Tensor, indices: Tensor, xShape: readonly number[]): Tensor;

  forward(x: Tensor, keep: boolean): Tensor {
    this.clearCache();
    if (!keep) return this.values(x);
    const { y, indices } = this.withIndices(x);
    this.indices = indices;
    this.xShape = [...x.shape];
    return y;
  }

  backward(dy: Tensor): Tensor {
    if (!this.indices) throw new Error(`${this.label}: backward without a training forward`);
    const dx = this.scatter(dy, this.indices, this.xShape);
    this.clearCache();
    return dx;
  }

  override clearCache(): void {
    this.indices?.dispose();
    this.indices = null;
  }
}

export class MaxPool2d extends ArgmaxPool {
  readonly type = 'maxPool2d';
  private readonly cfg: PoolCfg;

  constructor(o: MaxPool2dLayerOptions) {
    super();
    this.cfg = poolCfg('maxPool2d', checkOptions('maxPool2d', o, ['kernel', 'stride', 'padding', 'dilation', 'ceilMode']), true);
  }

  inferShape(inShape: readonly number[]): number[] {
    return poolShape(this.cfg, inShape);
  }

  protected values(x: Tensor): Tensor {
    return this.e.ops.maxPool2dValues(x, this.cfg);
  }

  protected withIndices(x: Tensor): { y: Tensor; indices: Tensor } {
    return this.e.ops.maxPool2d(x, this.cfg);
  }

  protected scatter(dy: Tensor, indices: Tensor, xShape: readonly number[]): Tensor {
    return this.e.ops.maxPool2dBackward(dy, indices, xShape);
  }

  override geometry(): LayerGeometry {
    const c = this.cfg;
    return { kernel: [c.dilation[0] * (c.kernel[0] - 1) + 1, c.dilation[1] * (c.kernel[1] - 1) + 1], stride: [...c.stride] };
  }

  config(): LayerConfig {
    return { type: this.type, ...this.cfg };
  }
}

export class AvgPool2d extends Layer {
  readonly type = 'avgPool2d';
  private readonly cfg: PoolCfg & { countIncludePad: boolean; divisorOverride?: number };
  private xShape: number[] | null = null;

  constructor(o: AvgPool2dLayerOptions) {
    super();
    const where = 'avgPool2d';
    const opts = checkOptions(where, o, ['kernel', 'stride', 'padding', 'ceilMode', 'countIncludePad', 'divisorOverride']);
    const { dilation: _d, ...c } = poolCfg(where, opts, false);
    const divisorOverride = optionalPosInt(where, 'divisorOverride', opts.divisorOverride);
    // TensorFlow's 'same' divides by the in-range count: countIncludePad is false there (true is an error).
    const countIncludePad = boolOpt(where, 'countIncludePad', opts.countIncludePad, c.padding !== 'same');
    if (c.padding === 'same' && countIncludePad) {
      throw new Error(`${where}: countIncludePad must be false or absent with padding 'same' (padded cells are never counted), got true`);
    }
    this.cfg = { ...c, dilation: [1, 1], countIncludePad,
                 ...(divisorOverride !== undefined ? { divisorOverride } : {}) };
  }

  private opsOptions(): AvgPool2dOptions {
    const { dilation: _d, ...o } = this.cfg;
    return o;
  }

  inferShape(inShape: readonly number[]): number[] {
    return poolShape(this.cfg, inShape);
  }

  forward(x: Tensor, keep: boolean): Tensor {
    this.xShape = keep ? [...x.shape] : null;
    return this.e.ops.avgPool2d(x, this.opsOptions());
  }

  backward(dy: Tensor): Tensor {
    if (!this.xShape) throw new Error(`${this.label}: backward without a training forward`);
    const dx = this.e.ops.avgPool2dBackward(dy, this.xShape, this.opsOptions());
    this.xShape = null;
    return dx;
  }

  override clearCache(): void {
    this.xShape = null;
  }

  override macs(): number {
    return 0;
  }

  override geometry(): LayerGeometry {
    return { kernel: [...this.cfg.kernel], stride: [...this.cfg.stride] };
  }

  config(): LayerConfig {
    return { type: this.type, ...this.opsOptions() };
  }
}

export class GlobalAvgPool2d extends Layer {
  readonly type = 'globalAvgPool2d';
  private xShape: number[] | null = null;

  constructor(o?: Record<string, never>) {
    super();
    checkOptions('globalAvgPool2d', o, []);
  }

  inferShape(inShape: readonly number[]): number[] {
    if (inShape.length !== 3) throw new ShapeError('[C, H, W]', inShape, 'globalAvgPool2d takes [C, H, W] per sample');
    return [inShape[0], 1, 1];
  }

  forward(x: Tensor, keep: boolean): Tensor {
    this.xShape = keep ? [...x.shape] : null;
    return this.e.ops.globalAvgPool2d(x);
  }

  backward(dy: Tensor): Tensor {
    if (!this.xShape) throw new Error(`${this.label}: backward without a training forward`);
    const dx = this.e.ops.globalAvgPool2dBackward(dy, this.xShape);
    this.xShape = null;
    return dx;
  }

  override clearCache(): void {
    this.xShape = null;
  }

  override geometry(): LayerGeometry {
    return { global: true };
  }

  config(): LayerConfig {
    return { type: this.type };
  }
}

export interface AdaptiveAvgPool2dLayerOptions {
  /** Output [oh, ow] (or one number for both); null in a pair keeps that input size (PyTorch's None). */
  outputSize: AdaptiveOutputSize;
}

export type AdaptiveMaxPool2dLayerOptions = AdaptiveAvgPool2dLayerOptions;

/** outputSize as given (a positive integer, or a pair of them or null), checked. */
function adaptiveSize(where: string, v: unknown): [number | null, number | null] {
  if (v === undefined) throw new Error(`${where}: outputSize is required (a positive integer or [oh, ow])`);
  const ok = (d: unknown) => d === null || (Number.isInteger(d) && (d as number) > 0);
  if (Number.isInteger(v) && (v as number) > 0) return [v as number, v as number];
  if (Array.isArray(v) && v.length === 2 && v.every(ok)) return [v[0], v[1]];
  throw new Error(`${where}: outputSize must be a positive integer or a pair of positive integers (null keeps the input size), got ${fmt(v)}`);
}

/** [C, OH, OW] of an adaptive pooling of inShape [C, H, W]. */
function adaptiveShape(where: string, size: [number | null, number | null], inShape: readonly number[]): [number, number, number] {
  if (inShape.length !== 3) throw new ShapeError('[C, H, W]', inShape, `${where} takes [C, H, W] per sample`);
  const [C, H, W] = inShape;
  return [C, size[0] ?? H, size[1] ?? W];
}

/**
 * torch.nn.AdaptiveAvgPool2d(outputSize). The cases that are another op run as it: an identity (input size = output
 * size, as AlexNet's (6, 6) and VGG's (7, 7) at 224×224), an exact average pooling (input a multiple of the output:
 * kernel = stride = in / out) or a global average (output 1×1); other sizes run ops.adaptiveAvgPool2d (PyTorch's
 * overlapping windows).
 */
export class AdaptiveAvgPool2d extends Layer {
  readonly type = 'adaptiveAvgPool2d';
  private readonly size: [number | null, number | null];
  private mode: 'identity' | 'pool' | 'global' | 'adaptive' = 'identity';
  private kernel: [number, number] = [1, 1];
  private out: [number, number] = [1, 1];
  private xShape: number[] | null = null;

  constructor(o: AdaptiveAvgPool2dLayerOptions) {
    super();
    const c = checkOptions('adaptiveAvgPool2d', o, ['outputSize']);
    this.size = adaptiveSize('adaptiveAvgPool2d', c.outputSize);
  }

  /** The output [oh, ow] (after the input shape is known when outputSize has a null). */
  get outputSize(): [number, number] {
    return [this.size[0] ?? this.out[0], this.size[1] ?? this.out[1]];
  }

  inferShape(inShape: readonly number[]): number[] {
    const [C, OH, OW] = adaptiveShape('adaptiveAvgPool2d', this.size, inShape);
    const [, H, W] = inShape;
    this.out = [OH, OW];
    if (H === OH && W === OW) this.mode = 'identity';
    else if (OH === 1 && OW === 1) this.mode = 'global';
    else if (H % OH === 0 && W % OW === 0) { this.mode = 'pool'; this.kernel = [H / OH, W / OW]; }
    else this.mode = 'adaptive';
    return [C, OH, OW];
  }

  forward(x: Tensor, keep: boolean): Tensor {
    this.xShape = keep ? [...x.shape] : null;
    if (this.mode === 'global') return this.e.ops.globalAvgPool2d(x);
    if (this.mode === 'pool') return this.e.ops.avgPool2d(x, { kernel: this.kernel, stride: this.kernel });
    if (this.mode === 'adaptive') return this.e.ops.adaptiveAvgPool2d(x, this.out);
    return reshapeCopy(this.e, x, x.shape);
  }

  backward(dy: Tensor): Tensor {
    if (!this.xShape) throw new Error(`${this.label}: backward without a training forward`);
    const xs = this.xShape;
    this.xShape = null;
    if (this.mode === 'global') return this.e.ops.globalAvgPool2dBackward(dy, xs);
    if (this.mode === 'pool') return this.e.ops.avgPool2dBackward(dy, xs, { kernel: this.kernel, stride: this.kernel });
    if (this.mode === 'adaptive') return this.e.ops.adaptiveAvgPool2dBackward(dy, xs);
    return reshapeCopy(this.e, dy, dy.shape);
  }

  override clearCache(): void {
    this.xShape = null;
  }

  override geometry(): LayerGeometry {
    if (this.mode === 'global') return { global: true };
    return adaptiveGeometry(this.inputShape, this.out);
  }

  config(): LayerConfig {
    return { type: this.type, outputSize: [...this.size] };
  }
}

/**
 * Receptive-field geometry of an adaptive pooling for nn.summary: the largest window and the step ⌊H/OH⌋ (≥ 1);
 * exact for the identity and exact-pooling cases, where every window has the same size and step.
 */
function adaptiveGeometry(inShape: readonly number[], out: [number, number]): LayerGeometry {
  const dim = (L: number, O: number): [number, number] => {
    let k = 1;
    for (let o = 0; o < O; o++) k = Math.max(k, Math.ceil(((o + 1) * L) / O) - Math.floor((o * L) / O));
    return [k, Math.max(1, Math.floor(L / O))];
  };
  const [kh, sh] = dim(inShape[1], out[0]), [kw, sw] = dim(inShape[2], out[1]);
  return { kernel: [kh, kw], stride: [sh, sw] };
}

/** torch.nn.AdaptiveMaxPool2d(outputSize) on ops.adaptiveMaxPool2d (indices kept for backward while training). */
export class AdaptiveMaxPool2d extends ArgmaxPool {
  readonly type = 'adaptiveMaxPool2d';
  private readonly size: [number | null, number | null];
  private out: [number, number] = [1, 1];

  constructor(o: AdaptiveMaxPool2dLayerOptions) {
    super();
    const c = checkOptions('adaptiveMaxPool2d', o, ['outputSize']);
    this.size = adaptiveSize('adaptiveMaxPool2d', c.outputSize);
  }

  inferShape(inShape: readonly number[]): number[] {
    const shape = adaptiveShape('adaptiveMaxPool2d', this.size, inShape);
    this.out = [shape[1], shape[2]];
    return shape;
  }

  protected values(x: Tensor): Tensor {
    const { y, indices } = this.e.ops.adaptiveMaxPool2d(x, this.out);   // no values-only kernel: indices dropped
    indices.dispose();
    return y;
  }

  protected withIndices(x: Tensor): { y: Tensor; indices: Tensor } {
    return this.e.ops.adaptiveMaxPool2d(x, this.out);
  }

  protected scatter(dy: Tensor, indices: Tensor, xShape: readonly number[]): Tensor {
    return this.e.ops.adaptiveMaxPool2dBackward(dy, indices, xShape);
  }

  override geometry(): LayerGeometry {
    return adaptiveGeometry(this.inputShape, this.out);
  }

  config(): LayerConfig {
    return { type: this.type, outputSize: [...this.size] };
  }
}
