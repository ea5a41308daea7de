// The training loop: fit / evaluate / predict / trainStep over a Sequential, with softmax cross-entropy.
// Data is { x, y, shape } in host memory (or a Tensor x), or an (async) iterable of such batches. Batches are
// copied into wasm memory one at a time, so memory stays bounded by the batch, not the data set.
import type { Engine } from '../engine.js';
import { Tensor } from '../tensor.js';
import type { Sequential } from '../model/sequential.js';
import type { Optimizer } from '../optim/optimizer.js';
import { Rng } from '../layers/rng.js';
import type { Transform } from './augment.js';
import { makeReporter, type BatchLogs, type EpochLogs, type Verbose } from './progress.js';

export type XInput = Tensor | Float32Array | ArrayLike<number>;

/** In-memory data: x holds N samples (row-major), y their class indices; shape is per sample or [N, ...]. */
export interface ArrayData {
  x: XInput;
  y: Int32Array | ArrayLike<number> | Tensor;
  shape?: readonly number[];
}

export type Batch = ArrayData;
export type BatchSource = AsyncIterable<Batch> | Iterable<Batch>;
export type DataInput = ArrayData | BatchSource | (() => BatchSource);

export interface Callbacks {
  onTrainBegin?(): void | Promise<void>;
  onEpochBegin?(epoch: number): void | Promise<void>;
  onBatchEnd?(batch: number, logs: BatchLogs): void | boolean | Promise<void | boolean>;
  onEpochEnd?(epoch: number, logs: EpochLogs): void | boolean | Promise<void | boolean>;
  onTrainEnd?(history: History): void | Promise<void>;
}

export interface FitOptions {
  optimizer: Optimizer;
  epochs?: number;
  batchSize?: number;
  /** Reshuffle the samples every epoch (default true; in-memory data only). */
  shuffle?: boolean;
  /** Data evaluated after every epoch. */
  validation?: DataInput;
  /** Or hold out this fraction of the (in-memory) data, taken from the end, before shuffling. */
  validationSplit?: number;
  /** Callbacks; returning false from onBatchEnd/onEpochEnd (or setting model.stopTraining) stops training. */
  callbacks?: Callbacks | Callbacks[];
  /** Augmentation applied to every training batch (nn.augment.*). */
  augment?: Transform;
  /** Seed for shuffling, augmentation and dropout (default: the model's seed). */
  seed?: number;
  /** 'auto' / 1 (default): a progress bar in a terminal, plain lines otherwise; 'bar', 'lines', 0 = silent. */
  verbose?: Verbose;
  /** Print function for lines (default console.log); giving one selects lines. */
  print?: (line: string) => void;
  /** Seconds between progress lines inside an epoch in lines mode (default 10). */
  lineInterval?: number;
  /** Batches per epoch of an iterable source (for the progress bar and schedules). */
  stepsPerEpoch?: number;
  /** Drop a last incomplete batch (default false). */
  dropLast?: boolean;
}

export interface History {
  epochs: number[];
  history: { loss: number[]; accuracy: number[]; valLoss: number[]; valAccuracy: number[]; lr: number[]; seconds: number[]; imagesPerSec: number[] };
}

export interface EvaluateOptions {
  batchSize?: number;
}

export interface EvalResult {
  loss: number;
  accuracy: number;
  count: number;
}

export interface PredictOptions {
  batchSize?: number;
  /** Shape of x when it is an array: per sample or [N, ...]. */
  shape?: readonly number[];
}

export interface StepResult {
  loss: number;
  correct: number;
  size: number;
}

// ------------------------------------------------------------------------------------------------ data

interface HostData {
  x: Float32Array;
  y: Int32Array;
  n: number;
  sampleShape: number[];
  sampleSize: number;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v instanceof Tensor) return v.toString();
  if (ArrayBuffer.isView(v)) return `${v.constructor.name}(${(v as unknown as ArrayLike<number>).length})`;
  if (Array.isArray(v)) return `Array(${v.length})`;
  return typeof v;
}

const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** Resolves the per-sample shape of x given the model's input shape and an optional shape. */
function sampleShapeOf(where: string, model: Sequential, xLen: number, given: readonly number[] | undefined, xTensor: Tensor | null,
                       n: number | null): number[] {
  if (xTensor) return xTensor.shape.slice(1);
  const inShape = model.inputShape;
  if (given !== undefined) {
    if (!Array.isArray(given) || !given.every((d) => Number.isInteger(d) && d > 0)) {
      throw new Error(`${where}: shape must be an array of positive integers, got ${JSON.stringify(given)}`);
    }
    if (inShape) {
      if (given.length === inShape.length + 1) return given.slice(1);
      if (given.length === inShape.length) return [...given];
      throw new Error(`${where}: shape ${JSON.stringify(given)} must be per sample [${inShape.join(', ')}] or [N, ${inShape.join(', ')}]`);
    }
    if (n !== null && given.length > 1 && given[0] === n && prod(given) === xLen) return given.slice(1);
    return [...given];
  }
  if (inShape) return [...inShape];
  throw new Error(`${where}: the model has no input shape yet: pass data.shape (per sample) or nn.sequential(..., { inputShape })`);
}

function toHost(where: string, model: Sequential, d: ArrayData, classes: number | null): HostData {
  if (!d || typeof d !== 'object') throw new Error(`${where}: data must be { x, y, shape } or an iterable of batches, got ${describe(d)}`);
  const { x, y } = d;
  if (x === undefined || y === undefined) throw new Error(`${where}: data needs both x and y, got x ${describe(x)}, y ${describe(y)}`);
  const yArr = y instanceof Tensor ? y.read() : y;
  if (!yArr || typeof (yArr as ArrayLike<number>).length !== 'number') throw new Error(`${where}: y must be an Int32Array (or array of class indices), got ${describe(y)}`);
  const n = yArr.length;
  if (n === 0) throw new Error(`${where}: the data is empty (0 samples)`);
  const xTensor = x instanceof Tensor ? x : null;
  if (xTensor && xTensor.dtype !== 'float32') throw new Error(`${where}: x must be float32, got ${xTensor.dtype}`);
  const xArr: ArrayLike<number> = xTensor ? xTensor.read() : x as ArrayLike<number>;
  if (!xArr || typeof xArr.length !== 'number') throw new Error(`${where}: x must be a Float32Array, an array or a Tensor, got ${describe(x)}`);
  const sampleShape = sampleShapeOf(where, model, xArr.length, d.shape, xTensor, n);
  const sampleSize = prod(sampleShape);
  if (model.inputShape && (sampleShape.length !== model.inputShape.length || sampleShape.some((s, i) => s !== model.inputShape![i]))) {
    throw new Error(`${where}: samples of shape [${sampleShape.join(', ')}] do not match the model's input [${model.inputShape.join(', ')}]`);
  }
  if (xArr.length !== n * sampleSize) {
    throw new Error(`${where}: x has ${xArr.length} values, expected ${n} samples × ${sampleSize} (shape [${sampleShape.join(', ')}]) = ${n * sampleSize} for the ${n} labels in y`);
  }
  const ys = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = yArr[i];
    if (!Number.isInteger(v) || v < 0 || (classes !== null && v >= classes)) {
      throw new Error(`${where}: y[${i}] = ${v} is not a class index in [0, ${classes ?? '∞'})${classes !== null ? ` (the model outputs ${classes} classes)` : ''}`);
    }
    ys[i] = v;
  }
  const xs = xArr instanceof Float32Array ? xArr : Float32Array.from(xArr);
  for (let i = 0; i < xs.length; i++) {
    if (!Number.isFinite(xs[i])) throw new Error(`${where}: x[${i}] = ${xs[i]} is not finite (sample ${Math.floor(i / sampleSize)})`);
  }
  return { x: xs, y: ys, n, sampleShape, sampleSize };
}

function isSource(d: unknown): d is BatchSource | (() => BatchSource) {
  if (typeof d === 'function') return true;
  return !!d && typeof d === 'object' && (Symbol.asyncIterator in d || Symbol.iterator in d) && !('x' in d);
}

function classesOf(where: string, model: Sequential): number {
  const out = model.outputShape!;
  if (out.length !== 1) throw new Error(`${where}: cross-entropy needs the model to output [classes] per sample, got [${out.join(', ')}] (add flatten() and linear())`);
  return out[0];
}

function posInt(where: string, name: string, v: unknown): number {
  if (!Number.isInteger(v) || (v as number) <= 0) throw new Error(`${where}: ${name} must be a positive integer, got ${String(v)}`);
  return v as number;
}

/** Copies samples idx[from..to) of host data into a new batch tensor pair (x float32, y int32). */
function hostBatch(e: Engine, d: HostData, idx: Int32Array | null, from: number, to: number,
                   augment: Transform | undefined, rng: Rng | null, scratch: { buf: Float32Array | null }): { x: Tensor; y: Tensor } {
  const B = to - from, S = d.sampleSize;
  let buf = scratch.buf;
  if (!buf || buf.length < B * S) buf = scratch.buf = new Float32Array(B * S);
  const host = buf.subarray(0, B * S);
  const labels = new Int32Array(B);
  for (let b = 0; b < B; b++) {
    const i = idx ? idx[from + b] : from + b;
    host.set(d.x.subarray(i * S, (i + 1) * S), b * S);
    labels[b] = d.y[i];
  }
  if (augment) augment(host, [B, ...d.sampleShape] as unknown as [number, number, number, number], rng!);
  const x = e.empty([B, ...d.sampleShape], 'float32', 'fit batch');
  const y = e.empty([B], 'int32', 'fit labels');
  x.view().set(host);
  y.view().set(labels);
  return { x, y };
}

/** One batch from an iterable source as tensors; `owned` says whether the caller must dispose them. */
function sourceBatch(where: string, e: Engine, model: Sequential, b: Batch, classes: number | null, index: number):
    { x: Tensor; y: Tensor; owned: [boolean, boolean] } {
  if (!b || typeof b !== 'object' || b.x === undefined || b.y === undefined) {
    throw new Error(`${where}: batch ${index} must be { x, y, shape? }, got ${describe(b)}`);
  }
  if (b.x instanceof Tensor && b.y instanceof Tensor && b.y.dtype === 'int32') {
    const K = classes, l = b.y.view();
    if (K !== null) for (let i = 0; i < l.length; i++) if (!(l[i] >= 0 && l[i] < K)) throw new Error(`${where}: batch ${index}: y[${i}] = ${l[i]} is not a class index in [0, ${K})`);
    return { x: b.x, y: b.y, owned: [false, false] };
  }
  const h = toHost(`${where}: batch ${index}`, model, b, classes);
  const x = b.x instanceof Tensor ? b.x : e.tensor(h.x, [h.n, ...h.sampleShape]);
  const y = e.tensor(h.y, [h.n], 'int32');
  return { x, y, owned: [!(b.x instanceof Tensor), true] };
}

async function* iterate(src: BatchSource | (() => BatchSource)): AsyncGenerator<Batch> {
  const s = typeof src === 'function' ? src() : src;
  if (!s || (typeof s !== 'object')) throw new Error(`fit: the data function must return an iterable of batches`);
  for await (const b of s as AsyncIterable<Batch>) yield b;
}

// -------------------------------------------------------------------------------------------- training

function argmaxCorrect(logits: Tensor, labels: Tensor): number {
  const [N, K] = logits.shape;
  const v = logits.view() as Float32Array, l = labels.view() as Int32Array;
  let correct = 0;
  for (let n = 0; n < N; n++) {
    let best = 0, bv = v[n * K];
    for (let k = 1; k < K; k++) if (v[n * K + k] > bv) { bv = v[n * K + k]; best = k; }
    if (best === l[n]) correct++;
  }
  return correct;
}

export function trainStep(model: Sequential, x: Tensor, labels: Tensor, optimizer: Optimizer): StepResult {
  const where = 'trainStep';
  if (!optimizer || typeof optimizer.step !== 'function') throw new Error(`${where}: optimizer must be an optimizer (nn.optim.sgd/adam/adamw), got ${describe(optimizer)}`);
  if (!(labels instanceof Tensor) || labels.dtype !== 'int32') throw new Error(`${where}: labels must be an int32 Tensor, got ${describe(labels)}`);
  const e = model.engine;
  const params = model.parameters();
  if (optimizer.params && !optimizer.params.some((p) => params.includes(p))) {
    throw new Error(`${where}: the optimizer is bound to parameters of another model; make it with nn.optim.${optimizer.type}(model, {...}) or without parameters`);
  }
  for (const p of params) p.zeroGrad();
  const logits = model.run(x, true, true);
  let ce: ReturnType<Engine['ops']['softmaxCrossEntropy']>;
  try {
    if (logits.rank !== 2) throw new Error(`${where}: cross-entropy needs [N, classes] outputs, got [${logits.shape.join(', ')}]`);
    ce = e.ops.softmaxCrossEntropy(logits, labels);
  } catch (err) {
    logits.dispose();
    model.clearCache();
    throw err;
  }
  const correct = argmaxCorrect(logits, labels);
  logits.dispose();
  ce.probs.dispose();
  if (!Number.isFinite(ce.loss)) {
    ce.dlogits.dispose();
    model.clearCache();
    throw new Error(`${where}: the loss is ${ce.loss} at optimizer step ${optimizer.iterations + 1} (lr ${optimizer.currentLr()}); ` +
      'the parameters are left as they were before this step. Lower the learning rate, clip gradients (clipGradNorm) or check the data for NaN/Inf');
  }
  try {
    model.backward(ce.dlogits);
  } finally {
    ce.dlogits.dispose();
  }
  if (optimizer.params) optimizer.step(); else optimizer.step(model);
  return { loss: ce.loss, correct, size: x.shape[0] };
}

function asList(cb: Callbacks | Callbacks[] | undefined): Callbacks[] {
  if (cb === undefined) return [];
  const list = Array.isArray(cb) ? cb : [cb];
  list.forEach((c, i) => { if (!c || typeof c !== 'object') throw new Error(`fit: callbacks[${i}] must be an object of callback functions, got ${describe(c)}`); });
  return list;
}

const FIT_KEYS = ['optimizer', 'epochs', 'batchSize', 'shuffle', 'validation', 'validationSplit', 'callbacks', 'augment', 'seed',
                  'verbose', 'print', 'lineInterval', 'stepsPerEpoch', 'dropLast'];

export async function fit(model: Sequential, data: DataInput, opts: FitOptions): Promise<History> {
  const where = 'fit';
  if (!opts || typeof opts !== 'object') throw new Error(`${where}: options { optimizer, epochs, batchSize, ... } are required`);
  for (const k of Object.keys(opts)) if (!FIT_KEYS.includes(k)) throw new Error(`${where}: unknown option '${k}' (known: ${FIT_KEYS.join(', ')})`);
  const optimizer = opts.optimizer;
  if (!optimizer || typeof optimizer.step !== 'function') throw new Error(`${where}: optimizer is required (nn.optim.sgd/adam/adamw), got ${describe(optimizer)}`);
  const epochs = posInt(where, 'epochs', opts.epochs ?? 1);
  const batchSize = posInt(where, 'batchSize', opts.batchSize ?? 32);
  const shuffle = opts.shuffle ?? true;
  if (typeof shuffle !== 'boolean') throw new Error(`${where}: shuffle must be a boolean, got ${String(shuffle)}`);
  const callbacks = asList(opts.callbacks);
  if (opts.augment !== undefined && typeof opts.augment !== 'function') throw new Error(`${where}: augment must be a transform (nn.augment.*), got ${describe(opts.augment)}`);
  const seed = opts.seed ?? model.seed;
  if (typeof seed !== 'number' || !Number.isFinite(seed)) throw new Error(`${where}: seed must be a finite number, got ${String(seed)}`);
  if (opts.seed !== undefined) model.reseed(opts.seed);
  const rng = new Rng(seed).fork('fit');
  const augRng = new Rng(seed).fork('augment');
  const e = model.engine;

  // Resolve the data (building the model from it if needed) before anything is allocated.
  let train: HostData | null = null, source: BatchSource | (() => BatchSource) | null = null;
  let validation: DataInput | undefined = opts.validation;
  if (isSource(data)) {
    if (opts.validationSplit !== undefined) throw new Error(`${where}: validationSplit needs in-memory data; pass validation instead`);
    source = data;
    if (!model.built) throw new Error(`${where}: with an iterable data source, build the model first (nn.sequential(..., { inputShape }))`);
  } else {
    if (!model.built) {
      const d = data as ArrayData;
      const xT = d?.x instanceof Tensor ? d.x : null;
      const n = d?.y ? (d.y as ArrayLike<number>).length ?? null : null;
      if (d?.x === undefined || d?.y === undefined) throw new Error(`${where}: data must be { x, y, shape } or an iterable of batches, got ${describe(data)}`);
      model.build(sampleShapeOf(where, model, (d.x as ArrayLike<number>).length ?? 0, d.shape, xT, n));
    }
    train = toHost(where, model, data as ArrayData, classesOf(where, model));
    if (opts.validationSplit !== undefined) {
      const f = opts.validationSplit;
      if (typeof f !== 'number' || !(f > 0 && f < 1)) throw new Error(`${where}: validationSplit must be in (0, 1), got ${String(f)}`);
      if (validation !== undefined) throw new Error(`${where}: give validation or validationSplit, not both`);
      const nVal = Math.floor(train.n * f);
      if (nVal < 1 || nVal >= train.n) throw new Error(`${where}: validationSplit ${f} of ${train.n} samples leaves an empty set`);
      const nTrain = train.n - nVal, S = train.sampleSize;
      validation = { x: train.x.subarray(nTrain * S), y: train.y.subarray(nTrain), shape: train.sampleShape };
      train = { ...train, x: train.x.subarray(0, nTrain * S), y: train.y.subarray(0, nTrain), n: nTrain };
    }
  }
  const classes = classesOf(where, model);
  if (opts.augment && (model.inputShape!.length !== 3)) throw new Error(`${where}: augment needs [C, H, W] samples, the model takes [${model.inputShape!.join(', ')}]`);
  const dropLast = opts.dropLast ?? false;
  const stepsPerEpoch = train
    ? (dropLast ? Math.floor(train.n / batchSize) : Math.ceil(train.n / batchSize))
    : opts.stepsPerEpoch !== undefined ? posInt(where, 'stepsPerEpoch', opts.stepsPerEpoch) : null;
  if (stepsPerEpoch === 0) throw new Error(`${where}: batchSize ${batchSize} with dropLast leaves no batch of ${train!.n} samples`);
  const valHost = validation !== undefined && !isSource(validation) ? toHost(`${where}: validation`, model, validation as ArrayData, classes) : null;
  optimizer.context = { stepsPerEpoch, totalSteps: stepsPerEpoch ? stepsPerEpoch * epochs : null };

  const reporter = await makeReporter(opts.verbose ?? 'auto', opts.print, opts.lineInterval ?? 10);
  const history: History = { epochs: [], history: { loss: [], accuracy: [], valLoss: [], valAccuracy: [], lr: [], seconds: [], imagesPerSec: [] } };
  const scratch = { buf: null as Float32Array | null };
  const order = train ? Int32Array.from({ length: train.n }, (_, i) => i) : null;
  model.stopTraining = false;
  const wasTraining = model.training;
  model.train();
  let yieldAt = performance.now() + 100;
  try {
    for (const c of callbacks) await c.onTrainBegin?.();
    for (let epoch = 0; epoch < epochs && !model.stopTraining; epoch++) {
      for (const c of callbacks) await c.onEpochBegin?.(epoch);
      reporter?.epochBegin(epoch, epochs, stepsPerEpoch);
      if (order && shuffle) rng.shuffle(order);
      const t0 = performance.now();
      let lossSum = 0, correct = 0, seen = 0, batch = 0;
      const runBatch = async (x: Tensor, y: Tensor) => {
        let r: StepResult;
        try {
          r = trainStep(model, x, y, optimizer);
        } catch (err) {
          const msg = (err as Error).message;
          throw new Error(`${where}: epoch ${epoch + 1}/${epochs}, batch ${batch + 1}${stepsPerEpoch ? `/${stepsPerEpoch}` : ''}: ${msg.startsWith('trainStep: ') ? msg.slice(11) : msg}`);
        }
        lossSum += r.loss * r.size; correct += r.correct; seen += r.size; batch++;
        const logs: BatchLogs = { batch: batch - 1, size: r.size, loss: lossSum / seen, accuracy: correct / seen, lr: optimizer.lr,
                                  imagesPerSec: seen / ((performance.now() - t0) / 1000) };
        reporter?.batch(batch, logs);
        for (const c of callbacks) if ((await c.onBatchEnd?.(batch - 1, logs)) === false) model.stopTraining = true;
        if (performance.now() > yieldAt) {   // let timers and signals run (progress redraws, Ctrl-C)
          await new Promise((r) => setTimeout(r, 0));
          yieldAt = performance.now() + 100;
        }
      };
      if (train) {
        for (let from = 0; from < train.n && !model.stopTraining; from += batchSize) {
          const to = Math.min(from + batchSize, train.n);
          if (dropLast && to - from < batchSize) break;
          const { x, y } = hostBatch(e, train, order, from, to, opts.augment, augRng, scratch);
          try { await runBatch(x, y); } finally { x.dispose(); y.dispose(); }
        }
      } else {
        let index = 0;
        for await (const b of iterate(source!)) {
          const t = sourceBatch(where, e, model, b, classes, index++);
          try {
            if (opts.augment) {
              const host = t.x.read() as Float32Array;
              opts.augment(host, t.x.shape as unknown as [number, number, number, number], augRng);
              const xa = e.tensor(host, t.x.shape);
              try { await runBatch(xa, t.y); } finally { xa.dispose(); }
            } else {
              await runBatch(t.x, t.y);
            }
          } finally {
            if (t.owned[0]) t.x.dispose();
            if (t.owned[1]) t.y.dispose();
          }
          if (model.stopTraining) break;
        }
        if (seen === 0) throw new Error(`${where}: the data source yielded no batches in epoch ${epoch + 1}`);
      }
      const seconds = (performance.now() - t0) / 1000;
      const logs: EpochLogs = { loss: lossSum / seen, accuracy: correct / seen, lr: optimizer.lr, seconds, imagesPerSec: seen / seconds };
      if (validation !== undefined) {
        const v = valHost ? evaluateHost(model, valHost, Math.max(batchSize, 256)) : await evaluate(model, validation, { batchSize: Math.max(batchSize, 256) });
        logs.valLoss = v.loss;
        logs.valAccuracy = v.accuracy;
        model.train();
      }
      history.epochs.push(epoch);
      const h = history.history;
      h.loss.push(logs.loss); h.accuracy.push(logs.accuracy); h.lr.push(logs.lr); h.seconds.push(logs.seconds); h.imagesPerSec.push(logs.imagesPerSec);
      if (logs.valLoss !== undefined) { h.valLoss.push(logs.valLoss); h.valAccuracy.push(logs.valAccuracy!); }
      reporter?.epochEnd(epoch, epochs, logs);
      for (const c of callbacks) if ((await c.onEpochEnd?.(epoch, logs)) === false) model.stopTraining = true;
    }
    for (const c of callbacks) await c.onTrainEnd?.(history);
  } finally {
    reporter?.stop();
    model.clearCache();
    model.zeroGrad();   // gradients are per step; free them
    model.train(wasTraining);
  }
  return history;
}

// ------------------------------------------------------------------------------------------ evaluation

function evaluateHost(model: Sequential, d: HostData, batchSize: number): EvalResult {
  const e = model.engine;
  let lossSum = 0, correct = 0;
  const scratch = { buf: null as Float32Array | null };
  for (let from = 0; from < d.n; from += batchSize) {
    const to = Math.min(from + batchSize, d.n);
    const { x, y } = hostBatch(e, d, null, from, to, undefined, null, scratch);
    try {
      const r = evalBatch(model, x, y);
      lossSum += r.loss * r.size; correct += r.correct;
    } finally {
      x.dispose(); y.dispose();
    }
  }
  return { loss: lossSum / d.n, accuracy: correct / d.n, count: d.n };
}

function evalBatch(model: Sequential, x: Tensor, y: Tensor): StepResult {
  const logits = model.run(x, false, false);
  try {
    const ce = model.engine.ops.softmaxCrossEntropy(logits, y);
    ce.probs.dispose(); ce.dlogits.dispose();
    return { loss: ce.loss, correct: argmaxCorrect(logits, y), size: x.shape[0] };
  } finally {
    logits.dispose();
  }
}

export async function evaluate(model: Sequential, data: DataInput, opts: EvaluateOptions = {}): Promise<EvalResult> {
  const where = 'evaluate';
  const batchSize = posInt(where, 'batchSize', opts?.batchSize ?? 256);
  if (!model.built && !isSource(data)) {
    const d = data as ArrayData;
    if (d?.x === undefined || d?.y === undefined) throw new Error(`${where}: data must be { x, y, shape } or an iterable of batches, got ${describe(data)}`);
    model.build(sampleShapeOf(where, model, (d.x as ArrayLike<number>).length ?? 0, d.shape, d.x instanceof Tensor ? d.x : null, (d.y as ArrayLike<number>).length));
  }
  if (!model.built) throw new Error(`${where}: build the model first (nn.sequential(..., { inputShape }))`);
  const classes = classesOf(where, model);
  if (!isSource(data)) return evaluateHost(model, toHost(where, model, data as ArrayData, classes), batchSize);
  let lossSum = 0, correct = 0, n = 0, index = 0;
  for await (const b of iterate(data)) {
    const t = sourceBatch(where, model.engine, model, b, classes, index++);
    try {
      const r = evalBatch(model, t.x, t.y);
      lossSum += r.loss * r.size; correct += r.correct; n += r.size;
    } finally {
      if (t.owned[0]) t.x.dispose();
      if (t.owned[1]) t.y.dispose();
    }
  }
  if (n === 0) throw new Error(`${where}: the data is empty (0 samples)`);
  return { loss: lossSum / n, accuracy: correct / n, count: n };
}

/** Eval-mode outputs for x in batches of batchSize, without keeping backward buffers: a new tensor. */
export function predict(model: Sequential, x: XInput, opts: PredictOptions = {}): Tensor {
  const where = 'predict';
  const batchSize = posInt(where, 'batchSize', opts?.batchSize ?? 256);
  const e = model.engine;
  const xT = x instanceof Tensor ? x : null;
  if (xT && xT.dtype !== 'float32') throw new Error(`${where}: x must be float32, got ${xT.dtype}`);
  if (!xT && (!x || typeof (x as ArrayLike<number>).length !== 'number')) throw new Error(`${where}: x must be a Tensor or a Float32Array, got ${describe(x)}`);
  const len = xT ? xT.size : (x as ArrayLike<number>).length;
  if (!model.built) model.build(sampleShapeOf(where, model, len, opts.shape, xT, null));
  const sampleShape = sampleShapeOf(where, model, len, opts.shape, xT, null);
  const S = prod(model.inputShape!);
  if (sampleShape.length !== model.inputShape!.length || sampleShape.some((d, i) => d !== model.inputShape![i]) || len % S !== 0) {
    throw new Error(`${where}: x must hold samples of the model's input [${model.inputShape!.join(', ')}], got ${xT ? `shape [${xT.shape.join(', ')}]` : `${len} values`}`);
  }
  const N = len / S;
  if (N === 0) throw new Error(`${where}: x is empty`);
  if (xT && N <= batchSize) return model.run(xT, false, false);
  const outShape = [N, ...model.outputShape!];
  const O = prod(model.outputShape!);
  const out = e.empty(outShape, 'float32', 'predict');
  const host = xT ? null : (x instanceof Float32Array ? x : Float32Array.from(x as ArrayLike<number>));
  try {
    for (let from = 0; from < N; from += batchSize) {
      const B = Math.min(batchSize, N - from);
      const xb = e.empty([B, ...model.inputShape!], 'float32', 'predict batch');
      try {
        if (xT) xb.view().set(xT.view().subarray(from * S, (from + B) * S));
        else xb.view().set(host!.subarray(from * S, (from + B) * S));
        const y = model.run(xb, false, false);
        out.view().set(y.view(), from * O);
        y.dispose();
      } finally {
        xb.dispose();
      }
    }
  } catch (err) {
    out.dispose();
    throw err;
  }
  return out;
}
