// Seeing what a net learns, on a Sequential: every layer's output (activations), the gradient of the loss with
// respect to the input (saliency), and FGSM adversarial examples built from it.
//
// All of it runs in eval mode by default (batch-norm running statistics, dropout off: what predict() uses), and
// leaves the model as it was: its mode, its parameter gradients (param.grad) and its batch-norm running statistics.
import type { Engine } from '../engine.js';
import { Tensor } from '../tensor.js';
import type { Sequential } from '../model/sequential.js';
import type { Layer } from '../layers/layer.js';
import { shapeStr, fmt } from '../layers/layer.js';

export interface InspectOptions {
  /** Run the layers in training mode (batch statistics, dropout on; batch-norm running statistics are updated). Default false. */
  training?: boolean;
}

export type Labels = Tensor | Int32Array | ArrayLike<number>;

function checkOpts(where: string, opts: unknown): InspectOptions {
  if (opts === undefined || opts === null) return {};
  if (typeof opts !== 'object' || Array.isArray(opts)) throw new Error(`${where}: options must be an object, got ${fmt(opts)}`);
  for (const k of Object.keys(opts)) if (k !== 'training') throw new Error(`${where}: unknown option '${k}' (known: training)`);
  const t = (opts as InspectOptions).training;
  if (t !== undefined && typeof t !== 'boolean') throw new Error(`${where}: training must be a boolean, got ${fmt(t)}`);
  return opts as InspectOptions;
}

/** Checks x against the model's input shape (building the model on first use, as forward does). */
function checkInput(where: string, model: Sequential, x: unknown): asserts x is Tensor {
  if (!(x instanceof Tensor)) throw new Error(`${where}: x must be a Tensor, got ${fmt(x)}`);
  if (x.disposed) throw new Error(`${where}: x was disposed`);
  if (x.dtype !== 'float32') throw new Error(`${where}: x must be float32, got ${x.dtype}`);
  if (!model.built) model.build(x.shape.slice(1));
  const s = model.inputShape!;
  if (x.rank !== s.length + 1 || s.some((d, i) => x.shape[i + 1] !== d)) {
    throw new Error(`${where}: x must have shape [N, ${s.join(', ')}] (the model's input ${shapeStr(s)} with a batch dimension), got ${shapeStr(x.shape)}`);
  }
}

/** Runs fn with the model in the given mode, restoring the mode afterwards. */
function inMode<T>(model: Sequential, training: boolean, fn: () => T): T {
  const saved = model.training;
  if (saved !== training) model.train(training);
  try {
    return fn();
  } finally {
    if (saved !== training) model.train(saved);
  }
}

/**
 * Every layer's output for x: element i is the output of model.layers[i] (the last one is the model's output), as
 * new tensors the caller owns (dispose them, or call this inside nn.tidy). This is what a tfjs model with every
 * layer as an output returns from predict(), and what PyTorch forward hooks collect.
 */
export function activations(model: Sequential, x: Tensor, opts?: InspectOptions): Tensor[] {
  const where = 'activations';
  const o = checkOpts(where, opts);
  checkInput(where, model, x);
  model.clearCache();
  return inMode(model, o.training ?? false, () => {
    const outs: Tensor[] = [];
    let cur = x;
    try {
      model.layers.forEach((layer: Layer, i: number) => {
        try {
          cur = layer.forward(cur, false);
        } catch (e) {
          throw new Error(`${where}: layer ${i} (${layer.type}) on input ${shapeStr(cur.shape)}: ${(e as Error).message}`);
        }
        outs.push(cur);
      });
    } catch (e) {
      for (const t of outs) t.dispose();
      throw e;
    }
    return outs;
  });
}

/** Labels as an int32 tensor of length N (a new one when given as an array: `owned`). */
function labelTensor(e: Engine, where: string, labels: Labels, n: number): { t: Tensor; owned: boolean } {
  if (labels instanceof Tensor) {
    if (labels.dtype !== 'int32' || labels.rank !== 1 || labels.shape[0] !== n) {
      throw new Error(`${where}: labels must be an int32 Tensor of shape [${n}], got ${labels.dtype} ${shapeStr(labels.shape)}`);
    }
    return { t: labels, owned: false };
  }
  if (!labels || typeof (labels as ArrayLike<number>).length !== 'number') throw new Error(`${where}: labels must be an int32 Tensor or an array of class indices, got ${fmt(labels)}`);
  if (labels.length !== n) throw new Error(`${where}: labels has ${labels.length} entries, expected ${n} (one per sample)`);
  for (let i = 0; i < n; i++) {
    if (!Number.isInteger(labels[i])) throw new Error(`${where}: labels[${i}] = ${fmt(labels[i])} is not a class index`);
  }
  return { t: e.tensor(labels, [n], 'int32'), owned: true };
}

export interface LossGradient {
  /** The mean softmax cross-entropy of the batch. */
  loss: number;
  /** d loss / d x, shape of x (a new tensor the caller owns). */
  grad: Tensor;
  /** The model's outputs (logits) for x, [N, classes] (a new tensor the caller owns). */
  logits: Tensor;
}

/**
 * The mean softmax cross-entropy of model(x) against labels, and its gradient with respect to x. Parameter
 * gradients are not computed (param.grad is left as it was).
 */
export function lossAndInputGradient(model: Sequential, x: Tensor, labels: Labels, opts?: InspectOptions): LossGradient {
  const where = 'inputGradient';
  const o = checkOpts(where, opts);
  checkInput(where, model, x);
  const e = model.engine;
  const lab = labelTensor(e, where, labels, x.shape[0]);
  model.clearCache();
  const layers = model.layers;
  try {
    return inMode(model, o.training ?? false, () => {
      // Forward, each layer keeping what its backward needs (in eval mode too: layers support it).
      const outs: Tensor[] = [];
      let cur = x;
      try {
        layers.forEach((layer, i) => {
          try {
            cur = layer.forward(cur, true);
          } catch (err) {
            throw new Error(`${where}: layer ${i} (${layer.type}) on input ${shapeStr(cur.shape)}: ${(err as Error).message}`);
          }
          outs.push(cur);
        });
      } catch (err) {
        for (const t of outs) t.dispose();
        for (const l of layers) l.clearCache();
        throw err;
      }
      const logits = outs[outs.length - 1];
      let ce: ReturnType<Engine['ops']['softmaxCrossEntropy']>;
      try {
        if (logits.rank !== 2) throw new Error(`${where}: cross-entropy needs [N, classes] outputs, got ${shapeStr(logits.shape)}`);
        ce = e.ops.softmaxCrossEntropy(logits, lab.t);
      } catch (err) {
        for (const t of outs) t.dispose();
        for (const l of layers) l.clearCache();
        throw err;
      }
      ce.probs.dispose();
      // Backward with every parameter frozen: no weight gradients are computed (conv/linear skip them) and
      // param.grad is left alone; the flags are restored whatever happens.
      const params = model.parameters();
      const trainable = params.map((p) => p.trainable);
      let g: Tensor | null = ce.dlogits;
      try {
        for (const p of params) p.trainable = false;
        for (let i = layers.length - 1; i >= 0; i--) {
          let dx: Tensor | null;
          try {
            dx = layers[i].backward(g!, true);
          } catch (err) {
            throw new Error(`${where}: backward through layer ${i} (${layers[i].type}): ${(err as Error).message}`);
          }
          g!.dispose();
          g = dx;
          if (i < layers.length - 1) outs[i].dispose();
        }
      } catch (err) {
        g?.dispose();
        for (const t of outs) t.dispose();
        for (const l of layers) l.clearCache();
        throw err;
      } finally {
        params.forEach((p, i) => { p.trainable = trainable[i]; });
      }
      if (!g) throw new Error(`${where}: the first layer returned no input gradient`);
      return { loss: ce.loss, grad: g, logits };
    });
  } finally {
    if (lab.owned) lab.t.dispose();
  }
}

/** d loss / d x for the mean softmax cross-entropy of model(x) against labels (a new tensor shaped like x). */
export function inputGradient(model: Sequential, x: Tensor, labels: Labels, opts?: InspectOptions): Tensor {
  const r = lossAndInputGradient(model, x, labels, opts);
  r.logits.dispose();
  return r.grad;
}

/**
 * Saliency maps: max over channels of |d loss / d x|, per sample and pixel. grad [N, C, H, W] → a new tensor
 * [N, H, W] (Simonyan et al. 2014).
 */
export function saliency(e: Engine, grad: Tensor): Tensor {
  const where = 'saliency';
  if (!(grad instanceof Tensor) || grad.rank !== 4 || grad.dtype !== 'float32') {
    throw new Error(`${where}: grad must be a float32 Tensor [N, C, H, W], got ${grad instanceof Tensor ? `${grad.dtype} ${shapeStr(grad.shape)}` : fmt(grad)}`);
  }
  const [N, C, H, W] = grad.shape;
  const g = grad.read() as Float32Array, hw = H * W;
  const out = new Float32Array(N * hw);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const base = (n * C + c) * hw;
      for (let p = 0; p < hw; p++) {
        const v = Math.abs(g[base + p]);
        if (v > out[n * hw + p]) out[n * hw + p] = v;
      }
    }
  }
  return e.tensor(out, [N, H, W]);
}

export interface FgsmOptions extends InspectOptions {
  /** Clamp the result to [lo, hi], the data range (default [0, 1]); null: no clamping. */
  range?: [number, number] | null;
}

/**
 * The fast gradient sign method (Goodfellow et al. 2015): x + eps·sign(∇x loss), clamped to the data range.
 * sign(0) = 0 (as torch.sign). A new tensor shaped like x.
 */
export function fgsm(model: Sequential, x: Tensor, labels: Labels, eps: number, opts: FgsmOptions = {}): Tensor {
  const where = 'fgsm';
  if (typeof eps !== 'number' || !Number.isFinite(eps) || eps < 0) throw new Error(`${where}: eps must be a finite number ≥ 0, got ${fmt(eps)}`);
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) throw new Error(`${where}: options must be an object, got ${fmt(opts)}`);
  for (const k of Object.keys(opts)) if (k !== 'training' && k !== 'range') throw new Error(`${where}: unknown option '${k}' (known: range, training)`);
  const range = opts.range === undefined ? [0, 1] : opts.range;
  if (range !== null && !(Array.isArray(range) && range.length === 2 && range.every((v) => typeof v === 'number' && !Number.isNaN(v)) && range[0] <= range[1])) {
    throw new Error(`${where}: range must be [lo, hi] with lo ≤ hi, or null, got ${fmt(range)}`);
  }
  const grad = inputGradient(model, x, labels, opts.training === undefined ? {} : { training: opts.training });
  const g = grad.read() as Float32Array;
  grad.dispose();
  const v = x.read() as Float32Array;
  const lo = range ? range[0] : -Infinity, hi = range ? range[1] : Infinity;
  for (let i = 0; i < v.length; i++) {
    const s = g[i] > 0 ? 1 : g[i] < 0 ? -1 : 0;
    const a = v[i] + eps * s;
    v[i] = a < lo ? lo : a > hi ? hi : a;
  }
  return model.engine.tensor(v, x.shape);
}
