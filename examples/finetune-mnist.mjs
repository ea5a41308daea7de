// Transfer learning on the MNIST digits of the `mnist` package: a conv net (the demo's) is trained on the digits
// 0–4 and saved; a copy is loaded, its body frozen and its 10-way head replaced by a 5-way one, which is then
// trained on a few examples of the digits 5–9 only. Prints the new head's accuracy on held-out 5–9s, the same head
// trained from scratch on those few examples (no pretrained body) for comparison, and checks that the frozen
// weights and batch-norm statistics are bit-identical after the head's training.
//   node examples/finetune-mnist.mjs [--per-class 50] [--epochs 3] [--head-epochs 30] [--seed 1]
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { init } from 'simdnn';
import { buildModel } from './mnist-model.mjs';
import { loadDigits, SIZE } from './mnist-data.mjs';

/** Digits whose label passes `keep`, relabelled by `map`, at most `perClass` of each class (Infinity: all). */
function select(data, from, to, keep, map, perClass = Infinity) {
  const seen = new Map(), idx = [];
  for (let i = from; i < to; i++) {
    const d = data.y[i];
    if (!keep(d) || (seen.get(d) ?? 0) >= perClass) continue;
    seen.set(d, (seen.get(d) ?? 0) + 1);
    idx.push(i);
  }
  const x = new Float32Array(idx.length * SIZE), y = new Int32Array(idx.length);
  idx.forEach((src, j) => { x.set(data.x.subarray(src * SIZE, (src + 1) * SIZE), j * SIZE); y[j] = map(data.y[src]); });
  return { x, y, shape: [1, 28, 28] };
}

const bytesOf = (t) => new Uint8Array(t.read().buffer);
const same = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);

export async function main(opts = {}) {
  const print = opts.print ?? ((s) => console.log(s));
  const nn = opts.nn ?? await init({ backend: process.env.SIMDNN_BACKEND || 'auto' });
  const seed = opts.seed ?? 1, perClass = opts.perClass ?? 50;
  const data = await loadDigits(seed);
  const nTest = 2000, trainEnd = data.n - nTest;
  const low = (d) => d < 5, high = (d) => d >= 5;
  const pretrainSet = select(data, 0, trainEnd, low, (d) => d);
  const fewHigh = select(data, 0, trainEnd, high, (d) => d - 5, perClass);
  const testHigh = select(data, trainEnd, data.n, high, (d) => d - 5);
  const sgd = (lr) => nn.optim.sgd({ lr, momentum: 0.9, nesterov: true });
  const t0 = performance.now();

  // 1. Pretrain on the digits 0–4 (the 10-way head simply never sees 5–9).
  const base = buildModel(nn, seed);
  let opt = sgd(0.03);
  await base.fit(pretrainSet, { optimizer: opt, epochs: opts.epochs ?? 3, batchSize: 64, seed, verbose: 0 });
  opt.dispose();
  const checkpoint = base.save();
  base.dispose();
  print(`pretrained on ${pretrainSet.y.length} digits 0–4 (${((performance.now() - t0) / 1000).toFixed(1)} s)`);

  // 2. Load, freeze everything but the head, replace the head with a 5-way one, train it on a few 5–9s.
  const model = nn.load(checkpoint);
  model.freeze(-1).replace(-1, nn.layers.linear(5));
  const frozen = model.namedParameters().filter(([, p]) => !p.trainable).map(([k, p]) => [k, bytesOf(p.value)]);
  const buffers = [...model.stateDict()].filter(([k]) => /running_/.test(k)).map(([k, t]) => [k, bytesOf(t)]);
  opt = sgd(0.05);
  const t1 = performance.now();
  await model.fit(fewHigh, { optimizer: opt, epochs: opts.headEpochs ?? 30, batchSize: 25, seed, verbose: 0 });
  opt.dispose();
  const headSeconds = (performance.now() - t1) / 1000;
  const tuned = await model.evaluate(testHigh, { batchSize: 500 });
  const state = model.stateDict();
  const params = new Map(model.namedParameters().map(([k, p]) => [k, p.value]));
  const intact = frozen.every(([k, b]) => same(bytesOf(params.get(k)), b)) && buffers.every(([k, b]) => same(bytesOf(state.get(k)), b));
  model.dispose();

  // 3. For comparison: the whole net trained from scratch on the same few 5–9s.
  const scratch = buildModel(nn, seed + 1);
  scratch.replace(-1, nn.layers.linear(5));
  opt = sgd(0.05);
  await scratch.fit(fewHigh, { optimizer: opt, epochs: opts.headEpochs ?? 30, batchSize: 25, seed, verbose: 0 });
  opt.dispose();
  const fromScratch = await scratch.evaluate(testHigh, { batchSize: 500 });
  scratch.dispose();

  print(`new head (5–9), trained on ${fewHigh.y.length} digits (${perClass} per class) over the frozen body in ${headSeconds.toFixed(1)} s: ` +
        `${(100 * tuned.accuracy).toFixed(2)} % on ${testHigh.y.length} held-out 5–9s`);
  print(`the same net trained from scratch on those ${fewHigh.y.length} digits: ${(100 * fromScratch.accuracy).toFixed(2)} %`);
  print(`frozen weights and running statistics bit-identical after the head's training: ${intact ? 'yes' : 'NO'}`);
  if (!opts.nn) nn.dispose();
  return { headAccuracy: tuned.accuracy, scratchAccuracy: fromScratch.accuracy, intact, headSeconds };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const arg = (name, dflt) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? Number(process.argv[i + 1]) : dflt; };
  const r = await main({ perClass: arg('per-class', 50), epochs: arg('epochs', 3), headEpochs: arg('head-epochs', 30), seed: arg('seed', 1) });
  if (!r.intact) process.exit(1);
}
