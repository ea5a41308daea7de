// The demo's Web Worker: starts simdnn, loads the digits, trains the MNIST conv net and answers the page's
// questions (class probabilities of a drawn digit, feature maps of a test digit) between training batches
// (fit yields to the event loop every 100 ms).
//   in:  { type: 'start', options: { backend, threads } }   → 'ready' { backend, threads, nTrain (available), nTest }
//        { type: 'train', options: { epochs, train (digits), batch, lr, seed, evalEvery, evalDigits } }
//                                     → 'batch' per step (loss, accuracy, imagesPerSec; every evalEvery steps, by
//                                       default ≈ 1/16 of the run, and at the last step also testAccuracy,
//                                       testLoss and the filters image), then 'done'
//        { type: 'stop' }              → training ends after the current batch ('done' with stopped: true)
//        { type: 'predict', id, pixels: 784 normalised values }   → 'probs' { id, probs: 10 numbers }
//        { type: 'inspect', id, index }   → 'inspect' { id, result: { label, probs, digit, maps } } (RGBA images)
//   out: also 'warning' (simdnn's console warnings) and 'error' { message }.
import { init } from '../../dist/index.js';
import { loadDigits, split, SIZE } from './data.js';
import { buildModel } from '../mnist-model.mjs';

let nn = null, model = null, data = null, sets = null, training = false, trained = false, stopRequested = false;
const post = (msg, transfer) => self.postMessage(msg, transfer ?? []);

// simdnn reports falling back to one thread with console.warn: show it on the page too.
const warn = console.warn.bind(console);
console.warn = (...args) => { warn(...args); post({ type: 'warning', message: args.join(' ') }); };

/** Softmax of one row of logits, in float64. */
function softmax(logits) {
  const m = Math.max(...logits);
  const e = Array.from(logits, (v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/** Evaluates on the first `count` held-out digits. */
async function heldOut(count) {
  const t = sets.test;
  const sub = { x: t.x.subarray(0, count * SIZE), y: t.y.subarray(0, count), shape: t.shape };
  return model.evaluate(sub, { batchSize: 500 });
}

/** The first layer's filters as one RGBA grid. */
function filtersImage() {
  const I = nn.inspect;
  return I.toRGBA(I.grid(I.filterImages(model), { cols: 8, pad: 2, scale: 16, background: 1 }));
}

/** A test digit, its prediction and the feature maps after each conv → BN → ReLU block. */
function inspectDigit(index) {
  const I = nn.inspect;
  const i = Math.max(0, Math.min(sets.test.y.length - 1, index | 0));
  const x = nn.tensor(sets.test.x.subarray(i * SIZE, (i + 1) * SIZE), [1, 1, 28, 28]);
  try {
    const acts = model.activations(x);
    try {
      const relus = model.layers.map((l, k) => (l.type === 'relu' ? k : -1)).filter((k) => k >= 0);
      const maps = relus.map((k) => ({
        layer: k,
        shape: acts[k].shape.slice(1),
        image: I.toRGBA(I.grid(I.featureMapImages(acts[k], { sample: 0 }), { cols: 8, pad: 1, scale: k === relus[0] ? 2 : 4, background: 1 })),
      }));
      const probs = softmax(acts[acts.length - 1].read());
      const digit = I.toRGBA(I.toGray(Array.from(sets.test.raw.subarray(i * SIZE, (i + 1) * SIZE), (b) => b / 255), 28, 28));
      return { index: i, label: sets.test.y[i], probs, digit, maps };
    } finally {
      for (const a of acts) a.dispose();
    }
  } finally {
    x.dispose();
  }
}

async function start(opts) {
  const t0 = performance.now();
  nn ??= await init({ backend: opts.backend ?? 'auto', threads: opts.threads ?? 1 });
  data ??= await loadDigits();
  sets = split(data, 2000);
  post({ type: 'ready', backend: nn.backend, threads: nn.threads, crossOriginIsolated: self.crossOriginIsolated === true,
         nTrain: sets.train.y.length, nTest: sets.test.y.length, seconds: (performance.now() - t0) / 1000 });
}

async function train(opts) {
  if (training) return;
  const nTrain = opts.train ?? 8000, epochs = opts.epochs ?? 2;
  if (!Number.isInteger(nTrain) || nTrain < 1) throw new Error(`training digits must be a positive integer, got ${nTrain}`);
  if (!Number.isInteger(epochs) || epochs < 1) throw new Error(`epochs must be a positive integer, got ${epochs}`);
  training = true;
  sets = split(data, 2000, nTrain);   // the last 2,000 held out; the first nTrain (at most 8,000) for training
  model?.dispose();
  model = buildModel(nn, opts.seed ?? 1);
  const S = nn.optim.schedules;
  const batchSize = opts.batch ?? 64;
  const optimizer = nn.optim.sgd({ lr: opts.lr ?? 0.03, momentum: 0.9, nesterov: true, schedule: S.warmup({ steps: 20, then: S.cosine() }) });
  const stepsPerEpoch = Math.ceil(sets.train.y.length / batchSize);
  // Held-out points on the curves: about 16 per run (every 5 to 25 steps), and one at the last step.
  const totalSteps = stepsPerEpoch * epochs;
  const evalEvery = opts.evalEvery ?? Math.min(25, Math.max(5, Math.round(totalSteps / 16)));
  let step = 0, prevSum = 0, prevSeen = 0, images = 0, evalMs = 0;
  const t0 = performance.now();
  try {
    await model.fit(sets.train, {
      optimizer, epochs, batchSize, seed: opts.seed ?? 1, verbose: 0,
      callbacks: {
        onEpochBegin: () => { prevSum = 0; prevSeen = 0; },
        onBatchEnd: async (batch, logs) => {
          // logs hold running means over the epoch: recover this batch's own loss.
          const seen = prevSeen + logs.size, sum = logs.loss * seen;
          const batchLoss = (sum - prevSum) / logs.size;
          prevSum = sum; prevSeen = seen;
          step++;
          images += logs.size;
          const epoch = Math.floor((step - 1) / stepsPerEpoch);
          // Training speed: images per second of training, the held-out evaluations below not counted.
          const msg = { type: 'batch', step, epoch, batch, stepsPerEpoch, epochs, loss: batchLoss, accuracy: logs.accuracy,
                        lr: logs.lr, imagesPerSec: images / ((performance.now() - t0 - evalMs) / 1000), seconds: (performance.now() - t0) / 1000 };
          if (step % evalEvery === 0 || step === 1 || step === totalSteps || stopRequested) {
            const te = performance.now();
            const r = await heldOut(opts.evalDigits ?? 1000);
            msg.testAccuracy = r.accuracy; msg.testLoss = r.loss;
            msg.filters = filtersImage();
            evalMs += performance.now() - te;
          }
          post(msg);
          return !stopRequested;
        },
      },
    });
    const final = await heldOut(sets.test.y.length);
    trained = true;
    post({ type: 'done', step, nTrain: sets.train.y.length, nTest: sets.test.y.length, testAccuracy: final.accuracy,
           testLoss: final.loss, seconds: (performance.now() - t0) / 1000, stopped: stopRequested, filters: filtersImage(),
           memory: nn.memory() });
  } finally {
    optimizer.dispose();
    training = false;
    stopRequested = false;
  }
}

self.onmessage = async (e) => {
  const m = e.data;
  try {
    if (m.type === 'start') await start(m.options ?? {});
    else if (m.type === 'train') await train(m.options ?? {});
    else if (m.type === 'stop') stopRequested = training;
    else if (m.type === 'predict') {
      // m.pixels: 784 values already normalised like the training digits.
      if (!model) return post({ type: 'probs', id: m.id, probs: null, reason: 'no model yet: train first' });
      const x = nn.tensor(m.pixels, [1, 1, 28, 28]);
      const logits = model.predict(x);
      const probs = softmax(logits.read());
      x.dispose(); logits.dispose();
      post({ type: 'probs', id: m.id, probs, trained });
    } else if (m.type === 'inspect') {
      if (!model) return post({ type: 'inspect', id: m.id, result: null });
      post({ type: 'inspect', id: m.id, result: inspectDigit(m.index) });
    } else throw new Error(`unknown message type '${m.type}'`);
  } catch (err) {
    post({ type: 'error', message: `${m.type}: ${err.message}`, stack: err.stack });
  }
};
