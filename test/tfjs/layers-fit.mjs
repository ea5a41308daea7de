// tfjs-layers on the simdnn backend, against tfjs's own cpu backend: a Sequential conv net (Conv2D,
// BatchNormalization, MaxPooling2D, Dropout, Dense) with identical initial weights on both backends.
//  1. predict agrees with cpu (the project's rule |got − want| ≤ 1e-4·(|want| + max|want|));
//  2. one model.fit step (one batch, SGD) leaves every weight agreeing with cpu by the same rule;
//  3. the rest of one epoch on 256 MNIST digits (the `mnist` package): the epoch's loss agrees with cpu's and
//     the held-out accuracy is within 1 point; then simdnn alone trains 3 epochs on 512 digits and must
//     exceed 80 % held-out accuracy (the issue's ±1 % check after training to > 90 % on both: layers-fit-accuracy.mjs);
//  4. tf.memory() (tensors and bytes) and the simdnn engine's live tensors stay flat over 500 fit steps.
// Prints one line per check and closes with "N passed, M failed". Run by test/suites/tfjs.run.mjs.
import * as tf from '@tensorflow/tfjs';
import { setSimdnnOptions } from 'simdnn/tfjs';
import { fileURLToPath } from 'node:url';
import { loadDigits } from '../../examples/mnist-data.mjs';

// --compare N: digits of the cpu-vs-simdnn epoch (default 256: 8 steps; cpu's conv backprops take seconds per
// step); --test N: held-out digits (default 256). E.g. --compare 2048 --test 1000 for a longer accuracy check.
const arg = (name, def) => { const i = process.argv.indexOf(name); return i > 0 ? Number(process.argv[i + 1]) : def; };
const COMPARE = arg('--compare', 256), TEST = arg('--test', 256), BATCH = 32, EPOCHS = 3, TRAIN = Math.max(512, COMPARE);
let passed = 0, failed = 0;
function check(name, ok, detail = '') {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? ` — ${detail}` : ''}`);
}

/** Worst ratio |got − want| / (1e-4·(|want| + max|want|)) (≤ 1 passes). */
function closeness(got, want) {
  let maxAbs = 0;
  for (const w of want) maxAbs = Math.max(maxAbs, Math.abs(w));
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / (1e-4 * (Math.abs(want[i]) + maxAbs)));
  return got.length === want.length ? worst : Infinity;
}

function buildModel(seed) {
  const init = (s) => tf.initializers.glorotUniform({ seed: seed + s });
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(1) }),
      tf.layers.batchNormalization(),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 16, kernelSize: 3, activation: 'relu', kernelInitializer: init(2) }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.dropout({ rate: 0.25, seed: seed + 3 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: init(4) }),
    ],
  });
}

function compile(model, lr) {
  model.compile({ optimizer: tf.train.sgd(lr), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
}

/** The model on `backend` with the given initial weights (values), compiled. */
async function modelOn(backend, weights, lr = 0.05) {
  await tf.setBackend(backend);
  const model = buildModel(7);
  model.setWeights(weights.map((w) => tf.tensor(w.values, w.shape)));
  compile(model, lr);
  return model;
}

async function weightValues(model) {
  return Promise.all(model.getWeights().map(async (w) => ({ values: await w.data(), shape: w.shape, name: w.name })));
}

// uvu's directory scan (test/run-all.mjs) imports every .mjs under test/: run only as the main module.
if (process.argv[1] === fileURLToPath(import.meta.url)) await main();

async function main() {
  const data = await loadDigits(1);
  const xs = data.x.subarray(0, (TRAIN + TEST) * 784);
  const onehot = new Float32Array((TRAIN + TEST) * 10);
  for (let i = 0; i < TRAIN + TEST; i++) onehot[i * 10 + data.y[i]] = 1;
  setSimdnnOptions({ backend: process.env.SIMDNN_BACKEND || 'auto', threads: Number(process.env.SIMDNN_THREADS || 1) });

  // Initial weights made once on cpu.
  await tf.setBackend('cpu');
  const initial = await weightValues(buildModel(7));

  const tensors = () => ({
    xTrain: tf.tensor4d(xs.subarray(0, TRAIN * 784), [TRAIN, 28, 28, 1]), yTrain: tf.tensor2d(onehot.subarray(0, TRAIN * 10), [TRAIN, 10]),
    xTest: tf.tensor4d(xs.subarray(TRAIN * 784), [TEST, 28, 28, 1]), yTest: tf.tensor2d(onehot.subarray(TRAIN * 10), [TEST, 10]),
  });

  // 1–3: predict, one fit step, then the rest of one epoch on 256 digits, on both backends (cpu's conv
  // backprops are slow: its share is kept to 8 steps).
  const results = {};
  for (const backend of ['cpu', 'simdnn']) {
    const model = await modelOn(backend, initial);
    check(`${backend}: tf.getBackend()`, tf.getBackend() === backend, tf.getBackend());
    const t = tensors();
    const pred = model.predict(t.xTest);
    const predicted = await pred.data();
    pred.dispose();
    const xb = t.xTrain.slice([0, 0, 0, 0], [BATCH, 28, 28, 1]), yb = t.yTrain.slice([0, 0], [BATCH, 10]);
    await model.fit(xb, yb, { batchSize: BATCH, epochs: 1, shuffle: false, verbose: 0 });
    const afterStep = await weightValues(model);
    const xr = t.xTrain.slice([BATCH, 0, 0, 0], [COMPARE - BATCH, 28, 28, 1]), yr = t.yTrain.slice([BATCH, 0], [COMPARE - BATCH, 10]);
    const started = performance.now();
    const history = await model.fit(xr, yr, { batchSize: BATCH, epochs: 1, shuffle: false, verbose: 0 });
    const ms = (performance.now() - started) / ((COMPARE - BATCH) / BATCH);
    const [, acc] = model.evaluate(t.xTest, t.yTest, { batchSize: 128 });
    results[backend] = { predicted, afterStep, loss: history.history.loss[0], accuracy: (await acc.data())[0], ms };
    tf.dispose([xb, yb, xr, yr, acc, t.xTrain, t.yTrain, t.xTest, t.yTest]);
    model.dispose();
  }
  const { cpu, simdnn } = results;
  const predWorst = closeness(simdnn.predicted, cpu.predicted);
  check(`predict (${TEST} digits) agrees with cpu by the 1e-4 rule`, predWorst <= 1, `worst ${predWorst.toFixed(3)} of tolerance`);
  let stepWorst = 0, worstName = '';
  cpu.afterStep.forEach((w, i) => {
    const r = closeness(simdnn.afterStep[i].values, w.values);
    if (r > stepWorst) { stepWorst = r; worstName = w.name; }
  });
  check('weights after one fit step agree with cpu by the 1e-4 rule', stepWorst <= 1, `worst ${stepWorst.toFixed(3)} of tolerance (${worstName})`);
  console.log(`     after ${COMPARE / BATCH} steps (batch ${BATCH}): loss cpu ${cpu.loss.toFixed(5)}, simdnn ${simdnn.loss.toFixed(5)}; held-out accuracy ` +
              `cpu ${(100 * cpu.accuracy).toFixed(2)} %, simdnn ${(100 * simdnn.accuracy).toFixed(2)} %; fit step cpu ${cpu.ms.toFixed(1)} ms, simdnn ${simdnn.ms.toFixed(1)} ms`);
  check('epoch loss agrees with cpu (relative 1e-3)', Math.abs(simdnn.loss - cpu.loss) <= 1e-3 * Math.abs(cpu.loss),
        `${simdnn.loss} vs ${cpu.loss}`);
  check('held-out accuracy after the same steps within 1 point of cpu', Math.abs(simdnn.accuracy - cpu.accuracy) <= 0.01,
        `${(100 * (simdnn.accuracy - cpu.accuracy)).toFixed(2)} points`);

  // 3b: simdnn alone, a few epochs on 512 digits: it learns.
  {
    const model = await modelOn('simdnn', initial);
    const t = tensors();
    await model.fit(t.xTrain, t.yTrain, { batchSize: BATCH, epochs: EPOCHS, shuffle: false, verbose: 0 });
    const [, acc] = model.evaluate(t.xTest, t.yTest, { batchSize: 128 });
    const accuracy = (await acc.data())[0];
    check(`simdnn learns: ${EPOCHS} epochs on ${TRAIN} digits, held-out accuracy > 80 %`, accuracy > 0.8, `${(100 * accuracy).toFixed(2)} %`);
    tf.dispose([acc, t.xTrain, t.yTrain, t.xTest, t.yTest]);
    model.dispose();
  }

  // 4: memory flat over 500 fit steps on simdnn (64 digits, batch 8: 8 steps per epoch, 63 epochs = 504 steps),
  //    read at every epoch end from the 2nd epoch on (the first creates optimizer state and caches; within an
  //    epoch tfjs-layers holds each batch's loss and metric scalars until the epoch's end).
  {
    const model = await modelOn('simdnn', initial);
    const t = tensors();
    const backend = tf.backend();
    const xb = t.xTrain.slice([0, 0, 0, 0], [64, 28, 28, 1]), yb = t.yTrain.slice([0, 0], [64, 10]);
    const seen = [];
    let steps = 0;
    await model.fit(xb, yb, {
      batchSize: 8, epochs: 63, shuffle: false, verbose: 0,
      callbacks: { onBatchEnd: () => { steps++; }, onEpochEnd: () => {
        const m = tf.memory(), e = backend.memory();
        seen.push([m.numTensors, m.numBytes, e.simdnnTensors, e.simdnnBytes]);
      } },
    });
    const from = seen[1] ?? [];
    const same = (i) => seen.slice(1).every((r) => r[i] === from[i]);
    const range = (i) => `${Math.min(...seen.slice(1).map((r) => r[i]))}–${Math.max(...seen.slice(1).map((r) => r[i]))}`;
    check(`tf.memory() flat at every epoch end over ${steps} fit steps`, steps >= 500 && same(0) && same(1),
          `numTensors ${range(0)}, numBytes ${range(1)}`);
    check(`simdnn engine tensors and bytes flat at every epoch end over ${steps} fit steps`, steps >= 500 && same(2) && same(3),
          `tensors ${range(2)}, bytes ${range(3)}`);
    tf.dispose([xb, yb, t.xTrain, t.yTrain, t.xTest, t.yTest]);
    model.dispose();
  }

  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed > 0 ? 1 : 0;
}
