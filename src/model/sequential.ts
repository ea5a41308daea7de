// nn.sequential: a stack of layers with input-shape inference, forward/backward, train/eval modes, parameters
// and state_dict names as PyTorch's nn.Sequential (`0.weight`, `1.running_mean`, …), and the entry points of
// training (fit/evaluate/predict), checkpoints (save/load) and inspection (summary).
import type { Engine } from '../engine.js';
import { Tensor } from '../tensor.js';
import { Layer, Param, ShapeError, shapeStr, fmt, joinPath, pathOf, namedConfig, type LayerConfig } from '../layers/layer.js';
import { layerFromConfig } from '../layers/index.js';
import { BatchNormBase } from '../layers/norm.js';
import { Dropout } from '../layers/basic.js';
import { Rng, randomSeed } from '../layers/rng.js';
import { summarize, type SummaryOptions, type SummaryRow } from './summary.js';
import { encodeSafetensors, decodeSafetensors, DecodedSafetensors, writeFileAtomic, readFileBytes, type TensorEntry } from './checkpoint.js';
import { fuseForInference } from './fuse.js';
import { batchNormsOf, walkLayers, listOfLayers } from './containers.js';
import { fit, evaluate, predict, trainStep, type FitOptions, type History, type DataInput, type EvaluateOptions,
         type PredictOptions, type EvalResult, type StepResult, type XInput } from '../train/fit.js';
import type { Optimizer } from '../optim/optimizer.js';
import { activations, inputGradient, type InspectOptions, type Labels } from '../inspect/model.js';

export interface SequentialOptions {
  /** Per-sample input shape (no batch dimension), e.g. [1, 28, 28]. Without it the model is built on first use. */
  inputShape?: number[];
  /** Seed for the initial weights and dropout masks (default: a random one, see model.seed). */
  seed?: number;
}

/** The JSON architecture stored beside the weights in a checkpoint. */
export interface Architecture {
  format: 'simdnn.sequential';
  version: 1;
  inputShape: number[] | null;
  seed: number;
  layers: LayerConfig[];
}

const SHARED = Symbol('simdnn.sequential.shared');

export class Sequential {
  readonly layers: readonly Layer[];
  inputShape: number[] | null = null;
  outputShape: number[] | null = null;
  readonly seed: number;
  training = true;
  /** Set (e.g. by a callback) to stop fit() after the current batch. */
  stopTraining = false;
  private readonly rng: Rng;
  /** Outputs of layers 0..L-2 kept by a training forward for backward. */
  private acts: Tensor[] = [];
  private haveForward = false;
  private disposed = false;
  /** A slice (model.slice): the layers belong to another model. */
  private readonly sharesLayers: boolean = false;
  private replacements = 0;

  /** @internal Use nn.sequential(). */
  constructor(readonly engine: Engine, layerList: Layer[] | Record<string, Layer>, opts: SequentialOptions = {}) {
    const where = 'sequential';
    // An object of layers names them (torch's nn.Sequential(OrderedDict)): state_dict paths `features.0.weight`, `fc.bias`.
    const layers = layerList !== null && typeof layerList === 'object' && !Array.isArray(layerList) && !(layerList instanceof Layer)
      ? listOfLayers(where, 'layers', layerList) : layerList as Layer[];
    const shared = (opts as { [SHARED]?: boolean })?.[SHARED] === true;   // model.slice(): a view on another model's layers
    if (!Array.isArray(layers) || layers.length === 0) throw new Error(`${where}: layers must be a non-empty array of layers, got ${fmt(layers)}`);
    if (opts === null || typeof opts !== 'object') throw new Error(`${where}: options must be an object, got ${fmt(opts)}`);
    for (const k of Object.keys(opts)) if (k !== 'inputShape' && k !== 'seed') throw new Error(`${where}: unknown option '${k}' (known: inputShape, seed)`);
    layers.forEach((l, i) => {
      if (!(l instanceof Layer)) throw new Error(`${where}: layers[${i}] must be a layer (from nn.layers), got ${fmt(l)}`);
      if ((l.index >= 0 && !shared) || layers.indexOf(l) !== i) throw new Error(`${where}: layers[${i}] (${l.type}) is already used; make a new layer object`);
    });
    if (opts.seed !== undefined && (typeof opts.seed !== 'number' || !Number.isFinite(opts.seed))) {
      throw new Error(`${where}: seed must be a finite number, got ${fmt(opts.seed)}`);
    }
    this.seed = opts.seed ?? randomSeed();
    this.rng = new Rng(this.seed);
    this.layers = layers;
    this.sharesLayers = shared;
    if (shared) {
      this.inputShape = [...layers[0].inputShape];
      this.outputShape = [...layers[layers.length - 1].outputShape];
      return;
    }
    layers.forEach((l, i) => { l.index = i; });
    if (opts.inputShape !== undefined) this.build(opts.inputShape);
  }

  // ------------------------------------------------------------------------------------------ fine-tuning

  /**
   * Freezes layers [0, end) (`layers[:end]`; a negative end counts from the last layer, default: every layer):
   * their parameters get no gradients and optimizers skip them, a frozen BatchNorm runs in eval mode (running
   * statistics, not updated), and backward stops below the first trainable layer. Returns this.
   */
  freeze(end: number = this.layers.length): this {
    for (const l of this.layers.slice(0, this.endIndex('freeze', end))) l.trainable = false;
    return this;
  }

  /** Makes layers [0, end) trainable again (default: every layer). Returns this. */
  unfreeze(end: number = this.layers.length): this {
    for (const l of this.layers.slice(0, this.endIndex('unfreeze', end))) l.trainable = true;
    return this;
  }

  private endIndex(where: string, end: unknown): number {
    const n = this.layers.length;
    if (!Number.isInteger(end) || (end as number) < -n || (end as number) > n) {
      throw new Error(`${where}: end must be an integer in [${-n}, ${n}] (the model has ${n} layers; layers [0, end) are ${where === 'freeze' ? 'frozen' : 'unfrozen'}), got ${fmt(end)}`);
    }
    return (end as number) < 0 ? n + (end as number) : (end as number);
  }

  /**
   * A model made of layers [start, end) of this one (negative indices count from the end), sharing their weights,
   * buffers and mode: a feature extractor (`model.slice(0, -1)` drops the head). Its state_dict names keep the
   * original indices (as PyTorch's `model[a:b]`). Disposing the slice frees only its caches; the weights belong to
   * this model.
   */
  slice(start = 0, end: number = this.layers.length): Sequential {
    this.assertBuilt('slice');
    const n = this.layers.length;
    const norm = (v: unknown, name: string) => {
      if (!Number.isInteger(v) || (v as number) < -n || (v as number) > n) throw new Error(`slice: ${name} must be an integer in [${-n}, ${n}], got ${fmt(v)}`);
      return (v as number) < 0 ? n + (v as number) : (v as number);
    };
    const a = norm(start, 'start'), b = norm(end, 'end');
    if (a >= b) throw new Error(`slice: [${start}, ${end}) selects no layer of the ${n}`);
    const view = new Sequential(this.engine, this.layers.slice(a, b), { seed: this.seed, [SHARED]: true } as SequentialOptions);
    view.training = this.training;
    return view;
  }

  /**
   * Replaces layer `index` (negative counts from the end) with a new, unbuilt layer — a new head for fine-tuning —
   * built for the same input; the old layer is disposed. Unless it is the last layer, its output shape must be the
   * old one's. Returns this.
   */
  replace(index: number, layer: Layer): this {
    const where = 'replace';
    this.assertBuilt(where);
    if (this.sharesLayers) throw new Error(`${where}: this model is a slice of another; replace layers in the original`);
    const n = this.layers.length;
    if (!Number.isInteger(index) || index < -n || index >= n) throw new Error(`${where}: index must be an integer in [${-n}, ${n - 1}], got ${fmt(index)}`);
    const i = index < 0 ? n + index : index;
    if (!(layer instanceof Layer)) throw new Error(`${where}: layer must be a layer (from nn.layers), got ${fmt(layer)}`);
    if (layer.index >= 0 || this.layers.includes(layer)) throw new Error(`${where}: the ${layer.type} layer is already used; make a new layer object`);
    const old = this.layers[i];
    let out: number[];
    try {
      out = layer.inferShape(old.inputShape);
    } catch (e) {
      const msg = e instanceof ShapeError ? `expects input ${e.expected}, got ${shapeStr(old.inputShape)}${e.detail ? `: ${e.detail}` : ''}` : (e as Error).message;
      throw new Error(`${where}: the new layer ${i} (${layer.type}) ${msg}`);
    }
    if (i < n - 1 && shapeStr(out) !== shapeStr(old.outputShape)) {
      throw new Error(`${where}: the new layer ${i} (${layer.type}) outputs ${shapeStr(out)}, but layer ${i + 1} (${this.layers[i + 1].type}) takes ${shapeStr(old.outputShape)}`);
    }
    this.clearCache();
    layer.build(this.engine, old.inputShape, this.rng.fork(`layer/${i}/replaced/${this.replacements++}`));
    layer.index = i;
    if (layer.name === null) layer.name = old.name;   // a new head keeps the module name (`fc`, `classifier`)
    layer.training = this.training;
    old.dispose();
    (this.layers as Layer[])[i] = layer;
    if (i === n - 1) this.outputShape = [...layer.outputShape];
    return this;
  }

  get built(): boolean {
    return this.inputShape !== null;
  }

  /**
   * Infers every layer's shapes from the per-sample input shape and allocates the parameters. A mismatch is an
   * Error naming the layer index and type, the shape it expects and the shape it gets (and where from).
   */
  build(inputShape: readonly number[]): this {
    const where = 'sequential';
    if (this.built) throw new Error(`${where}: the model is already built for input ${shapeStr(this.inputShape!)}`);
    if (!Array.isArray(inputShape) || inputShape.length === 0 || !inputShape.every((d) => Number.isInteger(d) && d > 0)) {
      throw new Error(`${where}: inputShape must be a non-empty array of positive integers (per sample, no batch dimension), got ${fmt(inputShape)}`);
    }
    // Infer every shape first (no allocation), so a mismatch leaves nothing half-built.
    let shape = [...inputShape];
    const shapes: number[][] = [];
    this.layers.forEach((layer, i) => {
      try {
        shapes.push(shape);
        shape = layer.inferShape(shape);
      } catch (e) {
        const from = i === 0 ? 'the model input' : `the output of layer ${i - 1} (${this.layers[i - 1].type})`;
        if (e instanceof ShapeError) {
          throw new Error(`${where}: layer ${i} (${layer.type}) expects input ${e.expected}, got ${shapeStr(shape)} from ${from}${e.detail ? `: ${e.detail}` : ''}`);
        }
        throw new Error(`${where}: layer ${i} (${layer.type}) with input ${shapeStr(shape)} from ${from}: ${(e as Error).message}`);
      }
    });
    let i = 0;
    try {
      for (; i < this.layers.length; i++) this.layers[i].build(this.engine, shapes[i], this.rng.fork(`layer/${i}`));
    } catch (e) {
      for (const l of this.layers) l.dispose();   // free what the earlier layers allocated
      throw new Error(`${where}: building layer ${i} (${this.layers[i].type}): ${(e as Error).message}`);
    }
    this.inputShape = [...inputShape];
    this.outputShape = shape;
    this.setTraining(this.training);
    return this;
  }

  /** Training mode: batch-norm batch statistics, dropout on. Returns this. */
  train(on = true): this {
    this.setTraining(on);
    return this;
  }

  /** Evaluation mode: batch-norm running statistics, dropout off. Returns this. */
  eval(): this {
    this.setTraining(false);
    return this;
  }

  private setTraining(on: boolean): void {
    if (typeof on !== 'boolean') throw new Error(`train: mode must be a boolean, got ${fmt(on)}`);
    this.training = on;
    for (const l of this.layers) l.training = on;
  }

  /** Trainable tensors in state_dict order. */
  parameters(): Param[] {
    this.assertBuilt('parameters');
    return this.layers.flatMap((l) => l.params);
  }

  /** [name, param] pairs with PyTorch's names (`0.weight`, `0.bias`, …). */
  namedParameters(): [string, Param][] {
    this.assertBuilt('namedParameters');
    return this.layers.flatMap((l) => l.params.map((p) => [joinPath(pathOf(l), p.name), p] as [string, Param]));
  }

  /** Number of parameter values (trainable ones only with trainableOnly). */
  countParams(trainableOnly = false): number {
    return this.parameters().filter((p) => !trainableOnly || p.trainable).reduce((a, p) => a + p.value.size, 0);
  }

  /** Drops every parameter gradient (PyTorch's zero_grad(set_to_none=True)). */
  zeroGrad(): void {
    for (const p of this.parameters()) p.zeroGrad();
  }

  /**
   * Runs the layers on x [N, ...inputShape] and returns the output (a new tensor the caller owns). In training
   * mode the model keeps what backward() needs until backward() or clearCache(); in eval mode nothing is kept.
   */
  forward(x: Tensor): Tensor {
    return this.run(x, this.training, true);
  }

  /** @internal forward with an explicit mode; keep = store for backward (training only). */
  run(x: Tensor, training: boolean, keep: boolean): Tensor {
    const where = 'forward';
    this.assertAlive();
    if (!(x instanceof Tensor)) throw new Error(`${where}: x must be a Tensor, got ${fmt(x)}`);
    if (!this.built) this.build(x.shape.slice(1));
    this.checkInput(where, x);
    this.clearCache();
    const saved = this.training;
    if (training !== saved) this.setTraining(training);
    keep = keep && training;
    let cur = x;
    const acts: Tensor[] = [];
    try {
      this.layers.forEach((layer, i) => {
        let y: Tensor;
        try {
          y = layer.forward(cur, keep);
        } catch (e) {
          throw new Error(`forward: layer ${i} (${layer.type}) on input ${shapeStr(cur.shape)}: ${(e as Error).message}`);
        }
        if (cur !== x && !keep) cur.dispose();
        if (keep && i < this.layers.length - 1) acts.push(y);
        cur = y;
      });
    } catch (e) {
      if (cur !== x) cur.dispose();
      for (const a of acts) a.dispose();
      for (const l of this.layers) l.clearCache();
      if (training !== saved) this.setTraining(saved);
      throw e;
    }
    if (training !== saved) this.setTraining(saved);
    if (keep) { this.acts = acts; this.haveForward = true; }
    return cur;
  }

  /**
   * Backpropagates dy (the gradient of the loss with respect to the last forward's output): parameter gradients
   * are added into param.grad; returns the gradient with respect to the input when inputGrad is true (else null).
   * dy stays owned by the caller.
   */
  backward(dy: Tensor, opts: { inputGrad?: boolean } = {}): Tensor | null {
    const where = 'backward';
    this.assertAlive();
    if (!this.haveForward) throw new Error(`${where}: no training forward to backpropagate (call forward() in training mode first)`);
    if (!(dy instanceof Tensor)) throw new Error(`${where}: dy must be a Tensor, got ${fmt(dy)}`);
    const want = [dy.shape[0], ...this.outputShape!];
    if (dy.shape.length !== want.length || dy.shape.some((d, i) => d !== want[i])) {
      this.clearCache();
      throw new Error(`${where}: dy must have the output's shape ${shapeStr(want)}, got ${shapeStr(dy.shape)}`);
    }
    // Without an input gradient, layers below the first one with trainable parameters need no backward (frozen body).
    const stop = opts.inputGrad ? 0 : Math.max(0, this.layers.findIndex((l) => l.params.some((p) => p.trainable)));
    const lowest = this.layers.some((l) => l.params.some((p) => p.trainable)) || opts.inputGrad ? stop : this.layers.length;
    let cur: Tensor | null = dy;
    try {
      for (let i = this.layers.length - 1; i >= lowest; i--) {
        const layer = this.layers[i];
        let dx: Tensor | null;
        try {
          dx = layer.backward(cur!, i > lowest || !!opts.inputGrad);
        } catch (e) {
          throw new Error(`backward: layer ${i} (${layer.type}): ${(e as Error).message}`);
        }
        if (cur !== dy) cur!.dispose();
        cur = dx;
        if (i > 0) this.acts[i - 1].dispose();
      }
    } catch (e) {
      if (cur && cur !== dy) cur.dispose();
      this.clearCache();
      throw e;
    }
    if (lowest > 0) {   // what the skipped layers kept
      for (const a of this.acts) a.dispose();
      for (let i = 0; i < lowest; i++) this.layers[i].clearCache();
      if (!opts.inputGrad && cur && cur !== dy) { cur.dispose(); cur = null; }
    }
    this.acts = [];
    this.haveForward = false;
    return cur && cur !== dy ? cur : null;
  }

  /** Frees what a training forward kept for backward. */
  clearCache(): void {
    for (const a of this.acts) a.dispose();
    this.acts = [];
    this.haveForward = false;
    for (const l of this.layers) l.clearCache();
  }

  private checkInput(where: string, x: Tensor): void {
    const s = this.inputShape!;
    if (x.dtype !== 'float32') throw new Error(`${where}: x must be float32, got ${x.dtype}`);
    if (x.rank !== s.length + 1 || s.some((d, i) => x.shape[i + 1] !== d)) {
      throw new Error(`${where}: x must have shape [N, ${s.join(', ')}] (the model's input ${shapeStr(s)} with a batch dimension), got ${shapeStr(x.shape)}`);
    }
  }

  // ------------------------------------------------------------------------------------------ training

  /** One optimisation step on a batch: forward, softmax cross-entropy, backward, optimizer.step(). */
  trainStep(x: Tensor, labels: Tensor, optimizer: Optimizer): StepResult {
    this.assertAlive();
    return trainStep(this, x, labels, optimizer);
  }

  /** Trains the model; see FitOptions. Resolves to the per-epoch history. */
  fit(data: DataInput, opts: FitOptions): Promise<History> {
    this.assertAlive();
    return fit(this, data, opts);
  }

  /** Mean loss and accuracy over a data set, in eval mode. */
  evaluate(data: DataInput, opts?: EvaluateOptions): Promise<EvalResult> {
    this.assertAlive();
    return evaluate(this, data, opts);
  }

  /** The model's outputs (logits) for x, in eval mode, in batches; a new tensor [N, ...outputShape]. */
  predict(x: XInput, opts?: PredictOptions): Tensor {
    this.assertAlive();
    return predict(this, x, opts);
  }

  // ------------------------------------------------------------------------------------------ inspection

  /** A table of the layers (output shape, parameters, multiply-adds, activation memory, receptive field) and totals. */
  summary(opts: SummaryOptions = {}): string {
    this.assertBuilt('summary');
    return summarize(this, opts).text;
  }

  /** The rows summary() prints, as data. */
  summaryRows(): SummaryRow[] {
    this.assertBuilt('summaryRows');
    return summarize(this, { print: false }).rows;
  }

  /** Every layer's output for x (element i: layer i's), new tensors the caller owns; eval mode unless { training: true }. See src/inspect. */
  activations(x: Tensor, opts?: InspectOptions): Tensor[] {
    this.assertAlive();
    return activations(this, x, opts);
  }

  /** d loss / d x of the mean softmax cross-entropy against labels (saliency); eval mode; param.grad untouched. */
  inputGradient(x: Tensor, labels: Labels, opts?: InspectOptions): Tensor {
    this.assertAlive();
    return inputGradient(this, x, labels, opts);
  }

  /** The architecture as JSON (what save() stores next to the weights). */
  toJSON(): Architecture {
    return { format: 'simdnn.sequential', version: 1, inputShape: this.inputShape, seed: this.seed, layers: this.layers.map(namedConfig) };
  }

  /** A new model for inference with each BatchNorm folded into the conv/linear before it (eval mode). */
  fuseForInference(): Sequential {
    this.assertBuilt('fuseForInference');
    return fuseForInference(this);
  }

  // ------------------------------------------------------------------------------------------ state dict

  /** Every saved tensor by PyTorch name (parameters and buffers; not copies). num_batches_tracked is not a tensor here. */
  stateDict(): Map<string, Tensor> {
    this.assertBuilt('stateDict');
    const m = new Map<string, Tensor>();
    for (const l of this.layers) {
      for (const p of l.params) m.set(joinPath(pathOf(l), p.name), p.value);
      for (const b of l.buffers) m.set(joinPath(pathOf(l), b.name), b.value);
    }
    return m;
  }

  /** The checkpoint entries: every state tensor plus BatchNorm's num_batches_tracked (int64, as PyTorch). */
  private checkpointEntries(): TensorEntry[] {
    const out: TensorEntry[] = [];
    for (const l of this.layers) {
      for (const p of l.params) out.push({ name: joinPath(pathOf(l), p.name), dtype: 'F32', shape: [...p.value.shape], data: p.value.read() as Float32Array });
      for (const b of l.buffers) out.push({ name: joinPath(pathOf(l), b.name), dtype: 'F32', shape: [...b.value.shape], data: b.value.read() as Float32Array });
      for (const [path, bn] of batchNormsOf(l)) {
        out.push({ name: `${path}.num_batches_tracked`, dtype: 'I64', shape: [], data: new BigInt64Array([BigInt(bn.numBatchesTracked)]) });
      }
    }
    return out;
  }

  /** The model as safetensors bytes: the state_dict tensors, and the architecture JSON in the metadata. */
  save(): Uint8Array {
    this.assertBuilt('save');
    return encodeSafetensors(this.checkpointEntries(), { format: 'pt', 'simdnn.architecture': JSON.stringify(this.toJSON()) });
  }

  /** Node: writes save() to path atomically (a temporary file in the same directory, then rename). */
  async saveFile(path: string): Promise<void> {
    await writeFileAtomic(path, this.save());
  }

  /**
   * Loads weights into this model from safetensors bytes (ours or PyTorch's save_file(model.state_dict())) or a
   * { name: Float32Array | Tensor } object. Every name and shape is checked before anything is written: missing,
   * unexpected or mis-shaped tensors are an Error and leave the model unchanged.
   */
  loadWeights(source: Uint8Array | ArrayBuffer | Record<string, ArrayLike<number> | Tensor> | DecodedSafetensors,
              opts: { strict?: boolean } = {}): this {
    const where = 'loadWeights';
    this.assertBuilt(where);
    const strict = opts.strict ?? true;
    const given = new Map<string, { shape: number[] | null; data: ArrayLike<number> | Tensor }>();
    if (source instanceof Uint8Array || source instanceof ArrayBuffer || source instanceof DecodedSafetensors) {
      const { tensors } = source instanceof DecodedSafetensors ? source
        : decodeSafetensors(source instanceof ArrayBuffer ? new Uint8Array(source) : source);
      for (const t of tensors) given.set(t.name, { shape: t.shape, data: t.data as ArrayLike<number> });
    } else if (source && typeof source === 'object') {
      for (const [k, v] of Object.entries(source)) given.set(k, { shape: v instanceof Tensor ? [...v.shape] : null, data: v });
    } else {
      throw new Error(`${where}: source must be safetensors bytes (Uint8Array/ArrayBuffer) or an object of tensors, got ${fmt(source)}`);
    }
    const state = this.stateDict();
    const bnCounters = new Map<string, BatchNormBase>();
    for (const l of this.layers) for (const [path, bn] of batchNormsOf(l)) bnCounters.set(`${path}.num_batches_tracked`, bn);
    const missing = [...state.keys()].filter((k) => !given.has(k));
    const unexpected = [...given.keys()].filter((k) => !state.has(k) && !bnCounters.has(k))
      .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
    const list = (names: string[]) => names.length <= 12 ? names.join(', ') : `${names.slice(0, 12).join(', ')}, … (${names.length - 12} more)`;
    if (strict && (missing.length || unexpected.length)) {
      throw new Error(`${where}: the weights do not match the model${missing.length ? `; missing: ${list(missing)}` : ''}${
        unexpected.length ? `; unexpected: ${list(unexpected)}` : ''}`);
    }
    // Check every shape and size before writing anything.
    const writes: [Tensor, ArrayLike<number>][] = [];
    for (const [name, t] of state) {
      const g = given.get(name);
      if (!g) continue;
      const shape = g.shape ?? [...t.shape];
      const data = g.data instanceof Tensor ? g.data.read() : g.data;
      const okShape = shape.length === t.shape.length && shape.every((d, i) => d === t.shape[i]);
      if (!okShape || data.length !== t.size) {
        throw new Error(`${where}: '${name}' must have shape ${shapeStr(t.shape)} (${t.size} values), got ${
          g.shape ? shapeStr(shape) : `${data.length} values`}`);
      }
      for (let i = 0; i < data.length; i++) {
        if (typeof data[i] !== 'number') throw new Error(`${where}: '${name}' holds a non-number at [${i}]: ${fmt(data[i])}`);
      }
      writes.push([t, data]);
    }
    for (const [t, data] of writes) t.write(data);
    for (const [name, l] of bnCounters) {
      const g = given.get(name);
      if (g) l.numBatchesTracked = Number((g.data as ArrayLike<number>)[0] ?? 0);
    }
    return this;
  }

  /** Frees every parameter, buffer, gradient and cache. The model is unusable afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.clearCache();
    if (!this.sharesLayers) for (const l of this.layers) l.dispose();
    this.disposed = true;
  }

  /** Re-seeds the dropout masks (fit's seed option does this so a seeded fit is reproducible). */
  reseed(seed: number): void {
    const r = new Rng(seed);
    for (const [, l] of walkLayers(this.layers)) if (l instanceof Dropout && this.built) l.reseed(r);
  }

  private assertBuilt(where: string): void {
    this.assertAlive();
    if (!this.built) throw new Error(`${where}: the model is not built yet: pass inputShape to nn.sequential or run it once`);
  }

  private assertAlive(): void {
    if (this.disposed) throw new Error('sequential: this model was disposed');
  }
}

/** Rebuilds a model from an architecture JSON (nn.load). */
export function fromArchitecture(e: Engine, arch: Architecture, where: string): Sequential {
  if (!arch || arch.format !== 'simdnn.sequential' || !Array.isArray(arch.layers)) {
    throw new Error(`${where}: the architecture is not a simdnn.sequential description`);
  }
  const layers = arch.layers.map((c, i) => layerFromConfig(c, `${where}: layer ${i}`));
  return new Sequential(e, layers, { seed: arch.seed, ...(arch.inputShape ? { inputShape: arch.inputShape } : {}) });
}

/** nn.load: a model from checkpoint bytes written by model.save(). */
export function loadModel(e: Engine, bytes: Uint8Array | ArrayBuffer): Sequential {
  const where = 'load';
  const u8 = bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : bytes;
  if (!(u8 instanceof Uint8Array)) throw new Error(`${where}: bytes must be a Uint8Array or ArrayBuffer, got ${fmt(bytes)}`);
  const decoded = decodeSafetensors(u8);   // validates the whole file before anything is allocated
  const json = decoded.metadata['simdnn.architecture'];
  if (json === undefined) {
    throw new Error(`${where}: the file has no simdnn architecture (a PyTorch state_dict?); build the model with nn.sequential and call model.loadWeights(bytes)`);
  }
  let arch: Architecture;
  try {
    arch = JSON.parse(json);
  } catch (err) {
    throw new Error(`${where}: the architecture metadata is not valid JSON: ${(err as Error).message}`);
  }
  const model = fromArchitecture(e, arch, where);
  try {
    model.loadWeights(decoded);
  } catch (err) {
    model.dispose();
    throw new Error(`${where}: ${(err as Error).message}`);
  }
  return model;
}

export async function loadModelFile(e: Engine, path: string): Promise<Sequential> {
  return loadModel(e, await readFileBytes(path));
}
