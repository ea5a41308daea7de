// nn.sequential: a stack of layers with input-shape inference, forward/backward, train/eval modes, parameters
// and state_dict names as PyTorch's nn.Sequential (`0.weight`, `1.running_mean`, …), and the entry points of
// training (fit/evaluate/predict), checkpoints (save/load) and inspection (summary).
import type { Engine } from '../engine.js';
import { Tensor } from '../tensor.js';
import { Layer, Param, ShapeError, shapeStr, fmt, type LayerConfig } from '../layers/layer.js';
import { layerFromConfig } from '../layers/index.js';
import { BatchNormBase } from '../layers/norm.js';
import { Dropout } from '../layers/basic.js';
import { Rng, randomSeed } from '../layers/rng.js';
import { summarize, type SummaryOptions, type SummaryRow } from './summary.js';
import { encodeSafetensors, decodeSafetensors, DecodedSafetensors, writeFileAtomic, readFileBytes, type TensorEntry } from './checkpoint.js';
import { fuseForInference } from './fuse.js';
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

  /** @internal Use nn.sequential(). */
  constructor(readonly engine: Engine, layers: Layer[], opts: SequentialOptions = {}) {
    const where = 'sequential';
    if (!Array.isArray(layers) || layers.length === 0) throw new Error(`${where}: layers must be a non-empty array of layers, got ${fmt(layers)}`);
    if (opts === null || typeof opts !== 'object') throw new Error(`${where}: options must be an object, got ${fmt(opts)}`);
    for (const k of Object.keys(opts)) if (k !== 'inputShape' && k !== 'seed') throw new Error(`${where}: unknown option '${k}' (known: inputShape, seed)`);
    layers.forEach((l, i) => {
      if (!(l instanceof Layer)) throw new Error(`${where}: layers[${i}] must be a layer (from nn.layers), got ${fmt(l)}`);
      if (l.index >= 0 || layers.indexOf(l) !== i) throw new Error(`${where}: layers[${i}] (${l.type}) is already used; make a new layer object`);
    });
    if (opts.seed !== undefined && (typeof opts.seed !== 'number' || !Number.isFinite(opts.seed))) {
      throw new Error(`${where}: seed must be a finite number, got ${fmt(opts.seed)}`);
    }
    this.seed = opts.seed ?? randomSeed();
    this.rng = new Rng(this.seed);
    this.layers = layers;
    layers.forEach((l, i) => { l.index = i; });
    if (opts.inputShape !== undefined) this.build(opts.inputShape);
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
    return this.layers.flatMap((l) => l.params.map((p) => [`${l.index}.${p.name}`, p] as [string, Param]));
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
    let cur: Tensor | null = dy;
    try {
      for (let i = this.layers.length - 1; i >= 0; i--) {
        const layer = this.layers[i];
        let dx: Tensor | null;
        try {
          dx = layer.backward(cur!, i > 0 || !!opts.inputGrad);
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
    return { format: 'simdnn.sequential', version: 1, inputShape: this.inputShape, seed: this.seed, layers: this.layers.map((l) => l.config()) };
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
      for (const p of l.params) m.set(`${l.index}.${p.name}`, p.value);
      for (const b of l.buffers) m.set(`${l.index}.${b.name}`, b.value);
    }
    return m;
  }

  /** The checkpoint entries: every state tensor plus BatchNorm's num_batches_tracked (int64, as PyTorch). */
  private checkpointEntries(): TensorEntry[] {
    const out: TensorEntry[] = [];
    for (const l of this.layers) {
      for (const p of l.params) out.push({ name: `${l.index}.${p.name}`, dtype: 'F32', shape: [...p.value.shape], data: p.value.read() as Float32Array });
      for (const b of l.buffers) out.push({ name: `${l.index}.${b.name}`, dtype: 'F32', shape: [...b.value.shape], data: b.value.read() as Float32Array });
      if (l instanceof BatchNormBase && l.runningMean) {
        out.push({ name: `${l.index}.num_batches_tracked`, dtype: 'I64', shape: [], data: new BigInt64Array([BigInt(l.numBatchesTracked)]) });
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
    for (const l of this.layers) if (l instanceof BatchNormBase && l.runningMean) bnCounters.set(`${l.index}.num_batches_tracked`, l);
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
    for (const l of this.layers) l.dispose();
    this.disposed = true;
  }

  /** Re-seeds the dropout masks (fit's seed option does this so a seeded fit is reproducible). */
  reseed(seed: number): void {
    const r = new Rng(seed);
    for (const l of this.layers) if (l instanceof Dropout && this.built) l.reseed(r);
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
