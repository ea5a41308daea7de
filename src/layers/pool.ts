// Pooling layers: MaxPool2d, AvgPool2d (torch.nn.MaxPool2d / AvgPool2d) and GlobalAvgPool2d
// (torch.nn.AdaptiveAvgPool2d(1): output [C, 1, 1]).
import type { Tensor } from '../tensor.js';
import type { AvgPool2dOptions, MaxPool2dOptions } from '../ops/index.js';
import { Layer, ShapeError, type LayerConfig, type LayerGeometry, boolOpt, checkOptions, optionalPosInt, pairOpt, reshapeCopy } from './layer.js';

/** PyTorch's pooling_output_shape (the ceil-mode correction included). */
function poolOut(size: number, k: number, pad: number, stride: number, dilation: number, ceil: boolean): number {
  let out = Math.floor((size + 2 * pad - dilation * (k - 1) - 1 + (ceil ? stride - 1 : 0)) / stride) + 1;
  if (ceil && (out - 1) * stride >= size + pad) out--;
  return out;
}

interface PoolCfg { kernel: [number, number]; stride: [number, number]; padding: [number, number]; dilation: [number, number]; ceilMode: boolean }

function poolCfg(where: string, o: Record<string, unknown>, dilated: boolean): PoolCfg {
  if (o.kernel === undefined) throw new Error(`${where}: kernel is required (a positive integer or [kh, kw])`);
  const kernel = pairOpt(where, 'kernel', o.kernel);
  const stride = pairOpt(where, 'stride', o.stride ?? kernel);
  const padding = pairOpt(where, 'padding', o.padding ?? 0, true);
  const dilation = dilated ? pairOpt(where, 'dilation', o.dilation ?? 1) : [1, 1] as [number, number];
  const ceilMode = boolOpt(where, 'ceilMode', o.ceilMode, false);
  if (padding[0] > Math.floor(kernel[0] / 2) || padding[1] > Math.floor(kernel[1] / 2)) {
    throw new Error(`${where}: padding must be at most half the kernel (≤ [${Math.floor(kernel[0] / 2)}, ${Math.floor(kernel[1] / 2)}]), got [${padding}]`);
  }
  return { kernel, stride, padding, dilation, ceilMode };
}

function poolShape(c: PoolCfg, inShape: readonly number[]): [number, number, number] {
  if (inShape.length !== 3) throw new ShapeError('[C, H, W]', inShape, 'pooling takes [C, H, W] per sample');
  const [C, H, W] = inShape;
  const OH = poolOut(H, c.kernel[0], c.padding[0], c.stride[0], c.dilation[0], c.ceilMode);
  const OW = poolOut(W, c.kernel[1], c.padding[1], c.stride[1], c.dilation[1], c.ceilMode);
  if (OH < 1 || OW < 1) {
    throw new ShapeError(`[C, H ≥ ${c.dilation[0] * (c.kernel[0] - 1) + 1 - 2 * c.padding[0]}, W ≥ ${c.dilation[1] * (c.kernel[1] - 1) + 1 - 2 * c.padding[1]}]`,
      inShape, `kernel ${c.kernel[0]}×${c.kernel[1]} does not fit: output would be ${OH}×${OW}`);
  }
  return [C, OH, OW];
}

export interface MaxPool2dLayerOptions extends MaxPool2dOptions {}
export interface AvgPool2dLayerOptions extends AvgPool2dOptions {}

export class MaxPool2d extends Layer {
  readonly type = 'maxPool2d';
  private readonly cfg: PoolCfg;
  private indices: Tensor | null = null;
  private xShape: number[] = [];

  constructor(o: MaxPool2dLayerOptions) {
    super();
    this.cfg = poolCfg('maxPool2d', checkOptions('maxPool2d', o, ['kernel', 'stride', 'padding', 'dilation', 'ceilMode']), true);
  }

  inferShape(inShape: readonly number[]): number[] {
    return poolShape(this.cfg, inShape);
  }

  forward(x: Tensor, keep: boolean): Tensor {
    this.indices?.dispose();
    this.indices = null;
    if (!keep) return this.e.ops.maxPool2dValues(x, this.cfg);   // inference: no indices to write
    const { y, indices } = this.e.ops.maxPool2d(x, this.cfg);
    this.indices = indices;
    this.xShape = [...x.shape];
    return y;
  }

  backward(dy: Tensor): Tensor {
    if (!this.indices) throw new Error(`${this.label}: backward without a training forward`);
    const dx = this.e.ops.maxPool2dBackward(dy, this.indices, this.xShape);
    this.clearCache();
    return dx;
  }

  override clearCache(): void {
    this.indices?.dispose();
    this.indices = null;
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
    this.cfg = { ...c, dilation: [1, 1], countIncludePad: boolOpt(where, 'countIncludePad', opts.countIncludePad, true),
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
  /** Output [oh, ow] (or one number for both). */
  outputSize: number | [number, number];
}

/**
 * torch.nn.AdaptiveAvgPool2d(outputSize) for the inputs where it is an existing op: an identity (input size = output
 * size, as AlexNet's (6, 6) and VGG's (7, 7) at 224×224), an exact average pooling (input a multiple of the output:
 * kernel = stride = in / out) or a global average (output 1×1). Other sizes (PyTorch's overlapping windows) are an
 * Error when the model is built.
 */
export class AdaptiveAvgPool2d extends Layer {
  readonly type = 'adaptiveAvgPool2d';
  readonly outputSize: [number, number];
  private mode: 'identity' | 'pool' | 'global' = 'identity';
  private kernel: [number, number] = [1, 1];
  private xShape: number[] | null = null;

  constructor(o: AdaptiveAvgPool2dLayerOptions) {
    super();
    const c = checkOptions('adaptiveAvgPool2d', o, ['outputSize']);
    if (c.outputSize === undefined) throw new Error('adaptiveAvgPool2d: outputSize is required (a positive integer or [oh, ow])');
    this.outputSize = pairOpt('adaptiveAvgPool2d', 'outputSize', c.outputSize);
  }

  inferShape(inShape: readonly number[]): number[] {
    const [OH, OW] = this.outputSize;
    const expected = `[C, H, W] with H, W equal to [${OH}, ${OW}] or multiples of them`;
    if (inShape.length !== 3) throw new ShapeError(expected, inShape, 'adaptiveAvgPool2d takes [C, H, W] per sample');
    const [C, H, W] = inShape;
    if (H === OH && W === OW) this.mode = 'identity';
    else if (OH === 1 && OW === 1) this.mode = 'global';
    else if (H % OH === 0 && W % OW === 0) { this.mode = 'pool'; this.kernel = [H / OH, W / OW]; }
    else {
      throw new ShapeError(expected, inShape, `only an identity, an exact average pooling (input a multiple of the output) or a 1×1 output are supported; ${H}×${W} → ${OH}×${OW} needs overlapping windows`);
    }
    return [C, OH, OW];
  }

  forward(x: Tensor, keep: boolean): Tensor {
    this.xShape = keep ? [...x.shape] : null;
    if (this.mode === 'global') return this.e.ops.globalAvgPool2d(x);
    if (this.mode === 'pool') return this.e.ops.avgPool2d(x, { kernel: this.kernel, stride: this.kernel });
    return reshapeCopy(this.e, x, x.shape);
  }

  backward(dy: Tensor): Tensor {
    if (!this.xShape) throw new Error(`${this.label}: backward without a training forward`);
    const xs = this.xShape;
    this.xShape = null;
    if (this.mode === 'global') return this.e.ops.globalAvgPool2dBackward(dy, xs);
    if (this.mode === 'pool') return this.e.ops.avgPool2dBackward(dy, xs, { kernel: this.kernel, stride: this.kernel });
    return reshapeCopy(this.e, dy, dy.shape);
  }

  override clearCache(): void {
    this.xShape = null;
  }

  override geometry(): LayerGeometry {
    if (this.mode === 'global') return { global: true };
    return { kernel: [...this.kernel], stride: [...this.kernel] };
  }

  config(): LayerConfig {
    return { type: this.type, outputSize: [...this.outputSize] };
  }
}
