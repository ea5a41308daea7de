// The layer base class. A layer is made by a factory (nn.layers.conv2d({...})) without an engine, and built by
// nn.sequential once its input shape is known: build() checks that shape, infers what was left open (input
// channels, features) and allocates the parameters on the engine.
//
// forward(x) returns a new tensor owned by the caller and never disposes x. In training mode with
// `keepForBackward` it keeps what backward needs (references to x or y, owned statistics/indices); backward(dy)
// returns dx (or null when not asked for), adds the parameter gradients into param.grad, and drops the cache.
// Shapes inside a layer are per sample (no batch dimension) unless they say otherwise.
import type { Engine } from '../engine.js';
import type { Tensor } from '../tensor.js';
import type { Rng } from './rng.js';

/** A trainable tensor and its gradient (null until a backward pass produced one, and after zeroGrad). */
export class Param {
  grad: Tensor | null = null;
  /** False freezes it: backward computes no gradient for it and optimizers skip it. */
  trainable = true;
  /** The state_dict name within its layer (a container prefixes its children's: `body.0.weight`). */
  constructor(public name: string, public value: Tensor) {}

  /** Adds g into grad (taking ownership of g when there is none yet). */
  accumulate(g: Tensor): void {
    if (!this.trainable) { g.dispose(); return; }
    if (!this.grad || this.grad.disposed) {
      this.grad = g.engine.keep(g);
      return;
    }
    if (g.size !== this.grad.size) throw new Error(`${this.name}: gradient of ${g.size} values for a parameter of ${this.grad.size}`);
    g.engine.kernels.axpy(this.grad.offset, g.offset, g.size, 1);
    this.grad.version++;
    g.dispose();
  }

  zeroGrad(): void {
    this.grad?.dispose();
    this.grad = null;
  }
}

/** A non-trainable state tensor saved with the model (BatchNorm's running statistics). */
export interface StateBuffer {
  name: string;
  value: Tensor;
}

/** Thrown by checkInput/build: the layer expected one input shape and got another. */
export class ShapeError extends Error {
  constructor(readonly expected: string, readonly actual: readonly number[], readonly detail = '') {
    super(`expects input ${expected}, got [${actual.join(', ')}]${detail ? ` (${detail})` : ''}`);
  }
}

/** For model.summary(): how a layer maps receptive fields (2-D spatial layers), and its multiply-adds. */
export interface LayerGeometry {
  /** Effective kernel (dilation applied) and stride along H and W, when the layer is spatial. */
  kernel?: [number, number];
  stride?: [number, number];
  /** The layer sees its whole input (linear, global pooling, flatten). */
  global?: boolean;
}

export interface LayerConfig {
  type: string;
  [k: string]: unknown;
}

export abstract class Layer {
  /** The layer's type as the factory names it: 'conv2d', 'batchNorm2d', … */
  abstract readonly type: string;
  /** Index in its model (set by sequential). */
  index = -1;
  /**
   * Module name in its parent (PyTorch's attribute / OrderedDict key: 'conv1', 'features', 'layer1'), given by an
   * object of layers in nn.sequential / nn.named; null: the index ('0', '1', …). '' adds no path component.
   */
  name: string | null = null;
  training = true;
  readonly params: Param[] = [];
  readonly buffers: StateBuffer[] = [];
  inputShape: number[] = [];
  outputShape: number[] = [];
  protected e!: Engine;
  protected built = false;
  /** Set by `trainable = false`. */
  protected frozen = false;

  /**
   * False freezes the layer (fine-tuning): its parameters get no gradients and optimizers skip them, and a frozen
   * BatchNorm runs in eval mode (running statistics, not updated) even when the model trains.
   */
  get trainable(): boolean {
    return !this.frozen;
  }

  set trainable(v: boolean) {
    if (typeof v !== 'boolean') throw new Error(`${this.label}: trainable must be a boolean, got ${fmt(v)}`);
    this.frozen = !v;
    for (const p of this.params) p.trainable = v;
  }

  /** The layer's name in messages: "layer 3 (conv2d)". */
  get label(): string {
    return this.index >= 0 ? `layer ${this.index} (${this.type})` : this.type;
  }

  /**
   * Checks inShape (per sample), infers open hyper-parameters and returns the output shape (per sample).
   * Throws ShapeError on a mismatch. Must not allocate.
   */
  abstract inferShape(inShape: readonly number[]): number[];

  /** Allocates parameters (after inferShape). */
  build(e: Engine, inShape: readonly number[], _rng: Rng): void {
    if (this.built) throw new Error(`${this.label}: this layer object is already part of a model; make a new one`);
    this.e = e;
    this.inputShape = [...inShape];
    this.outputShape = this.inferShape(inShape);
    this.built = true;
  }

  abstract forward(x: Tensor, keepForBackward: boolean): Tensor;

  /** dx for dy (null when needInput is false and the layer can skip it); gradients go into the params. */
  abstract backward(dy: Tensor, needInput: boolean): Tensor | null;

  /** Frees what forward kept for backward. */
  clearCache(): void {}

  /** Multiply-adds per sample. */
  macs(): number {
    return 0;
  }

  geometry(): LayerGeometry {
    return {};
  }

  /** Names and shapes of the parameters build() allocates (after inferShape; nothing allocated): for nn.summary. */
  paramShapes(): { name: string; shape: number[] }[] {
    return [];
  }

  /** Names and shapes of the state buffers build() allocates (BatchNorm's running statistics). */
  bufferShapes(): { name: string; shape: number[] }[] {
    return [];
  }

  /** The layer's hyper-parameters as JSON (what nn.load rebuilds it from). */
  abstract config(): LayerConfig;

  /** Frees the parameters, buffers and caches. */
  dispose(): void {
    this.clearCache();
    for (const p of this.params) { p.value.dispose(); p.zeroGrad(); }
    for (const b of this.buffers) b.value.dispose();
  }

  // ------------------------------------------------------------------------------------------- helpers

  protected addParam(name: string, data: Float32Array, shape: readonly number[]): Param {
    const t = this.e.keep(this.e.tensor(data, shape));
    const p = new Param(name, t);
    p.trainable = !this.frozen;
    this.params.push(p);
    return p;
  }

  protected addBuffer(name: string, data: Float32Array, shape: readonly number[]): StateBuffer {
    const b = { name, value: this.e.keep(this.e.tensor(data, shape)) };
    this.buffers.push(b);
    return b;
  }

  /** The batch shape [N, ...per-sample shape] of x. */
  protected withBatch(x: Tensor, shape: readonly number[]): number[] {
    return [x.shape[0], ...shape];
  }
}

// --------------------------------------------------------------------------------------------- utilities

/** A state_dict path from parts, skipping empty ones ('' names add no component). */
export const joinPath = (...parts: string[]) => parts.filter((p) => p !== '').join('.');

/** The layer's path component in its parent: its name, or its index. */
export const pathOf = (l: Layer) => l.name ?? String(l.index);

/** A layer's config with its module name (when it has one), as containers and checkpoints store it. */
export const namedConfig = (l: Layer): LayerConfig => (l.name !== null ? { ...l.config(), name: l.name } : l.config());

export const shapeStr = (s: readonly number[]) => `[${s.join(', ')}]`;

/** A copy of x with another shape of the same size (a reshape; tensors own their memory, so it copies). */
export function reshapeCopy(e: Engine, x: Tensor, shape: readonly number[]): Tensor {
  const y = e.empty(shape, x.dtype, 'reshape');
  y.view().set(x.view());   // both views derived after the allocation
  return y;
}

/** A positive integer option, or throw naming the layer factory and argument. */
export function posIntOpt(where: string, name: string, v: unknown): number {
  if (!Number.isInteger(v) || (v as number) <= 0) throw new Error(`${where}: ${name} must be a positive integer, got ${fmt(v)}`);
  return v as number;
}

export function optionalPosInt(where: string, name: string, v: unknown): number | undefined {
  return v === undefined || v === null ? undefined : posIntOpt(where, name, v);
}

export function numberOpt(where: string, name: string, v: unknown, lo = -Infinity, hi = Infinity, hiOpen = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || (hiOpen ? v >= hi : v > hi)) {
    const range = lo === -Infinity && hi === Infinity ? 'a finite number' : `a number in [${lo}, ${hi}${hiOpen ? ')' : ']'}`;
    throw new Error(`${where}: ${name} must be ${range}, got ${fmt(v)}`);
  }
  return v;
}

export function boolOpt(where: string, name: string, v: unknown, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') throw new Error(`${where}: ${name} must be a boolean, got ${fmt(v)}`);
  return v;
}

/** A scalar or [h, w] pair of integers (≥ 1, or ≥ 0 with allowZero). */
export function pairOpt(where: string, name: string, v: unknown, allowZero = false): [number, number] {
  const ok = (d: unknown) => Number.isInteger(d) && (d as number) >= (allowZero ? 0 : 1);
  if (ok(v)) return [v as number, v as number];
  if (Array.isArray(v) && v.length === 2 && v.every(ok)) return [v[0], v[1]];
  throw new Error(`${where}: ${name} must be a ${allowZero ? 'non-negative' : 'positive'} integer or a pair of them, got ${fmt(v)}`);
}

/** Checks that opts is a plain object with only known keys. */
export function checkOptions(where: string, opts: unknown, known: readonly string[]): Record<string, unknown> {
  if (opts === undefined || opts === null) return {};
  if (typeof opts !== 'object' || Array.isArray(opts)) throw new Error(`${where}: options must be an object, got ${fmt(opts)}`);
  for (const k of Object.keys(opts)) {
    if (!known.includes(k)) throw new Error(`${where}: unknown option '${k}' (known: ${known.join(', ')})`);
  }
  return opts as Record<string, unknown>;
}

export function fmt(v: unknown): string {
  if (typeof v === 'string') return `'${v}'`;
  if (Array.isArray(v)) return `[${v.map(fmt).join(', ')}]`;
  if (v && typeof v === 'object') { try { return JSON.stringify(v); } catch { return String(v); } }
  return String(v);
}
