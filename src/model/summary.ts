// model.summary(): per layer the output shape, parameters, multiply-adds, activation memory and receptive field,
// with totals. Formulas (per sample): conv out = ⌊(W + 2P − D(K − 1) − 1)/S⌋ + 1, params = Cout·Cin/g·K² + Cout,
// MACs = Cout·H'·W'·(Cin/g)·K² (linear: in·out; batch norm: one multiply-add per element), activation memory =
// output elements · 4 bytes, receptive field r ← r + (K_eff − 1)·jump, jump ← jump·S (K_eff = D(K − 1) + 1).
//
// nn.summary(model, inputShape) describes a model from shapes alone: it re-creates the layers from their configs
// (no engine, no weights), infers every shape and counts parameters from the shapes build() would allocate, so
// VGG-16's 528 MB of weights never exist.
import type { Sequential } from './sequential.js';
import { Layer, ShapeError, shapeStr, fmt, pathOf, joinPath, type LayerConfig } from '../layers/layer.js';
import { layerFromConfig } from '../layers/index.js';

export interface SummaryOptions {
  /** Where to print the table: a function, or false for none (default console.log). */
  print?: ((line: string) => void) | false;
}

export interface SummaryRow {
  index: number;
  /** Module name (state_dict path component): the layer's name, or its index. */
  name: string;
  type: string;
  outputShape: number[];
  params: number;
  /** Multiply-adds per sample. */
  macs: number;
  /** Output activation size per sample in KB (float32). */
  activationKB: number;
  /** Receptive field [h, w] in input pixels, or 'all' once a layer sees the whole input. */
  receptiveField: [number, number] | 'all' | null;
}

const num = (n: number) => Math.round(n).toLocaleString('en-US');

function human(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return String(n);
}

/** What nn.summary returns: the printed table, its rows, and the totals (per sample). */
export interface SummaryReport {
  text: string;
  rows: SummaryRow[];
  inputShape: number[];
  outputShape: number[];
  /** Parameter values (every trainable tensor of the state_dict). */
  params: number;
  trainableParams: number;
  /** Buffer values (batch-norm running statistics; num_batches_tracked not counted). */
  buffers: number;
  /** Multiply-adds per sample: conv, linear, and one per element for batch norm (see the top of this file). */
  macs: number;
  /** Output activations of every top-level layer, KB per sample (float32). */
  activationKB: number;
  /** The state_dict the model has (or would have once built): PyTorch names and shapes, parameters and buffers. */
  stateShapes: { name: string; shape: number[] }[];
}

interface Target { inputShape: number[]; outputShape: number[]; seed: number | null; layers: readonly Layer[]; trainable: number | null }

const count = (shapes: { shape: number[] }[]) => shapes.reduce((a, p) => a + p.shape.reduce((b, d) => b * d, 1), 0);

export function summarize(model: Sequential, opts: SummaryOptions): SummaryReport {
  const trainable = model.parameters().filter((p) => p.trainable).reduce((a, p) => a + p.value.size, 0);
  return summarizeLayers({ inputShape: model.inputShape!, outputShape: model.outputShape!, seed: model.seed, layers: model.layers, trainable }, opts);
}

/**
 * nn.summary(model, inputShape): the summary of a model — built or not (an unbuilt nn.sequential, or a spec from
 * nn.models.*({ build: false })), or a list/object of layers — for a per-sample input shape, computed from shapes
 * alone. The model itself is not changed: its layers are re-created from their configs and only those copies infer
 * shapes. Without inputShape a built model's own is used.
 */
export function summaryOf(model: Sequential | Layer[] | Record<string, Layer>, inputShape: readonly number[] | undefined,
                          opts: SummaryOptions = {}): SummaryReport {
  const where = 'summary';
  let configs: LayerConfig[], seed: number | null = null;
  if (Array.isArray(model) || (model !== null && typeof model === 'object' && !('toJSON' in model))) {
    const list = Array.isArray(model) ? model.map((l) => [null, l] as const) : Object.entries(model);
    configs = list.map(([k, l], i) => {
      if (!(l instanceof Layer)) throw new Error(`${where}: layers[${k ?? i}] must be a layer, got ${fmt(l)}`);
      const c = l.config();
      return k !== null ? { ...c, name: k } : l.name !== null ? { ...c, name: l.name } : c;
    });
  } else if (model && typeof (model as Sequential).toJSON === 'function') {
    const m = model as Sequential;
    if (inputShape === undefined && m.built) return summarize(m, opts);
    const arch = m.toJSON();
    configs = arch.layers;
    seed = arch.seed;
    inputShape ??= arch.inputShape ?? undefined;
  } else {
    throw new Error(`${where}: model must be a model (nn.sequential, nn.models.*) or an array/object of layers, got ${fmt(model)}`);
  }
  if (!Array.isArray(inputShape) || inputShape.length === 0 || !inputShape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new Error(`${where}: inputShape must be a non-empty array of positive integers (per sample, no batch dimension), got ${fmt(inputShape)}`);
  }
  const layers = configs.map((c, i) => layerFromConfig(c, `${where}: layer ${i}`));
  layers.forEach((l, i) => { l.index = i; });
  let shape = [...inputShape];
  layers.forEach((l, i) => {
    try {
      const out = l.inferShape(shape);
      l.inputShape = [...shape];
      l.outputShape = [...out];
      shape = out;
    } catch (e) {
      const from = i === 0 ? 'the model input' : `the output of layer ${i - 1} (${layers[i - 1].type})`;
      if (e instanceof ShapeError) {
        throw new Error(`${where}: layer ${i} (${l.type}) expects input ${e.expected}, got ${shapeStr(shape)} from ${from}${e.detail ? `: ${e.detail}` : ''}`);
      }
      throw new Error(`${where}: layer ${i} (${l.type}) with input ${shapeStr(shape)} from ${from}: ${(e as Error).message}`);
    }
  });
  return summarizeLayers({ inputShape: [...inputShape], outputShape: shape, seed, layers, trainable: null }, opts);
}

function summarizeLayers(model: Target, opts: SummaryOptions): SummaryReport {
  const spatial = model.inputShape.length >= 2;
  let rf: [number, number] | 'all' = [1, 1], jump: [number, number] = [1, 1];
  const rows: SummaryRow[] = model.layers.map((l) => {
    const g = l.geometry();
    if (g.global) rf = 'all';
    else if (g.kernel && g.stride && rf !== 'all') {
      rf = [rf[0] + (g.kernel[0] - 1) * jump[0], rf[1] + (g.kernel[1] - 1) * jump[1]];
      jump = [jump[0] * g.stride[0], jump[1] * g.stride[1]];
    }
    const size = l.outputShape.reduce((a, b) => a * b, 1);
    return {
      index: l.index, name: pathOf(l), type: l.type, outputShape: [...l.outputShape],
      params: count(l.paramShapes()),
      macs: l.macs(), activationKB: (size * 4) / 1024,
      receptiveField: spatial ? (rf === 'all' ? 'all' : [...rf] as [number, number]) : null,
    };
  });
  const rfStr = (r: SummaryRow['receptiveField']) => r === null ? '-' : r === 'all' ? 'all' : model.inputShape.length === 2 ? `${r[1]}` : `${r[0]}×${r[1]}`;
  const header = ['#', 'layer', 'output shape', 'params', 'MACs', 'act. KB', 'recept. field'];
  const table = rows.map((r) => [r.name, r.type, `[${r.outputShape.join(', ')}]`, num(r.params), num(r.macs),
                                   r.activationKB.toFixed(1), rfStr(r.receptiveField)]);
  const widths = header.map((h, c) => Math.max(h.length, ...table.map((row) => row[c].length)));
  const line = (cells: string[]) => cells.map((s, c) => (c <= 2 ? s.padEnd(widths[c]) : s.padStart(widths[c]))).join('  ');
  const rule = '─'.repeat(widths.reduce((a, b) => a + b, 0) + 2 * (widths.length - 1));
  const params = rows.reduce((a, r) => a + r.params, 0);
  const trainable = model.trainable ?? model.layers.reduce((a, l) => a + (l.trainable ? count(l.paramShapes()) : 0), 0);
  const buffers = model.layers.reduce((a, l) => a + count(l.bufferShapes()), 0);
  const macs = rows.reduce((a, r) => a + r.macs, 0);
  const act = rows.reduce((a, r) => a + r.activationKB, 0);
  const inputKB = (model.inputShape.reduce((a, b) => a * b, 1) * 4) / 1024;
  const lines = [
    `sequential: input [${model.inputShape.join(', ')}] → output [${model.outputShape.join(', ')}] (per sample${model.seed !== null ? `; seed ${model.seed}` : ''}${model.trainable === null ? '; shapes only, no weights allocated' : ''})`,
    rule, line(header), rule, ...table.map(line), rule,
    `parameters: ${num(params)} (${num(trainable)} trainable; ${(params * 4 / 1024).toFixed(1)} KB)` +
      (buffers ? `, buffers: ${num(buffers)} (batch-norm running statistics)` : ''),
    `multiply-adds: ${num(macs)} per sample (${human(macs)}); forward + backward ≈ ${human(3 * macs)} per sample`,
    `activation memory: ${act.toFixed(1)} KB per sample (input ${inputKB.toFixed(1)} KB); a training batch of 64 keeps ≈ ${(act * 64 / 1024).toFixed(1)} MB`,
  ];
  const text = lines.join('\n');
  const print = opts.print === undefined ? (s: string) => console.log(s) : opts.print;
  if (print) print(text);
  const stateShapes = model.layers.flatMap((l) => [...l.paramShapes(), ...l.bufferShapes()].map((p) => ({ name: joinPath(pathOf(l), p.name), shape: p.shape })));
  return { text, rows, stateShapes, inputShape: [...model.inputShape], outputShape: [...model.outputShape], params, trainableParams: trainable, buffers, macs, activationKB: act };
}
