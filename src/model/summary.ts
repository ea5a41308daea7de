// model.summary(): per layer the output shape, parameters, multiply-adds, activation memory and receptive field,
// with totals. Formulas (per sample): conv out = ⌊(W + 2P − D(K − 1) − 1)/S⌋ + 1, params = Cout·Cin/g·K² + Cout,
// MACs = Cout·H'·W'·(Cin/g)·K² (linear: in·out; batch norm: one multiply-add per element), activation memory =
// output elements · 4 bytes, receptive field r ← r + (K_eff − 1)·jump, jump ← jump·S (K_eff = D(K − 1) + 1).
import type { Sequential } from './sequential.js';

export interface SummaryOptions {
  /** Where to print the table: a function, or false for none (default console.log). */
  print?: ((line: string) => void) | false;
}

export interface SummaryRow {
  index: number;
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

export function summarize(model: Sequential, opts: SummaryOptions): { text: string; rows: SummaryRow[] } {
  const spatial = model.inputShape!.length >= 2;
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
      index: l.index, type: l.type, outputShape: [...l.outputShape],
      params: l.params.reduce((a, p) => a + p.value.size, 0),
      macs: l.macs(), activationKB: (size * 4) / 1024,
      receptiveField: spatial ? (rf === 'all' ? 'all' : [...rf] as [number, number]) : null,
    };
  });
  const rfStr = (r: SummaryRow['receptiveField']) => r === null ? '-' : r === 'all' ? 'all' : model.inputShape!.length === 2 ? `${r[1]}` : `${r[0]}×${r[1]}`;
  const header = ['#', 'layer', 'output shape', 'params', 'MACs', 'act. KB', 'recept. field'];
  const table = rows.map((r) => [String(r.index), r.type, `[${r.outputShape.join(', ')}]`, num(r.params), num(r.macs),
                                   r.activationKB.toFixed(1), rfStr(r.receptiveField)]);
  const widths = header.map((h, c) => Math.max(h.length, ...table.map((row) => row[c].length)));
  const line = (cells: string[]) => cells.map((s, c) => (c <= 2 ? s.padEnd(widths[c]) : s.padStart(widths[c]))).join('  ');
  const rule = '─'.repeat(widths.reduce((a, b) => a + b, 0) + 2 * (widths.length - 1));
  const params = rows.reduce((a, r) => a + r.params, 0);
  const trainable = model.parameters().filter((p) => p.trainable).reduce((a, p) => a + p.value.size, 0);
  const buffers = model.layers.reduce((a, l) => a + l.buffers.reduce((b, x) => b + x.value.size, 0), 0);
  const macs = rows.reduce((a, r) => a + r.macs, 0);
  const act = rows.reduce((a, r) => a + r.activationKB, 0);
  const inputKB = (model.inputShape!.reduce((a, b) => a * b, 1) * 4) / 1024;
  const lines = [
    `sequential: input [${model.inputShape!.join(', ')}] → output [${model.outputShape!.join(', ')}] (per sample; seed ${model.seed})`,
    rule, line(header), rule, ...table.map(line), rule,
    `parameters: ${num(params)} (${num(trainable)} trainable; ${(params * 4 / 1024).toFixed(1)} KB)` +
      (buffers ? `, buffers: ${num(buffers)} (batch-norm running statistics)` : ''),
    `multiply-adds: ${num(macs)} per sample (${human(macs)}); forward + backward ≈ ${human(3 * macs)} per sample`,
    `activation memory: ${act.toFixed(1)} KB per sample (input ${inputKB.toFixed(1)} KB); a training batch of 64 keeps ≈ ${(act * 64 / 1024).toFixed(1)} MB`,
  ];
  const text = lines.join('\n');
  const print = opts.print === undefined ? (s: string) => console.log(s) : opts.print;
  if (print) print(text);
  return { text, rows };
}
