// Adapter for issue 7's rows: a tfjs-layers Sequential conv net (Conv2D, BatchNormalization, MaxPooling2D,
// Dropout, Dense; bench/workloads.mjs TFJS_NET) on one TensorFlow.js backend per process. Variant 'simdnn'
// (this repo's simdnn/tfjs, SIMD build, 1 thread), 'wasm' (tfjs-backend-wasm: XNNPACK, 1 thread) or 'cpu'
// (tfjs-backend-cpu, plain JS). Rows: one training step (model.trainOnBatch: forward, gradients, SGD update,
// the loss read back) and model.predict latency (the probabilities read back with dataSync).
import * as tf from '@tensorflow/tfjs';

let backendName;

export async function create(variant = 'simdnn') {
  backendName = variant;
  let info = `tfjs-layers ${tf.version.tfjs}, backend ${variant}`;
  let version = tf.version.tfjs;
  if (variant === 'simdnn') {
    const { setSimdnnOptions } = await import('simdnn/tfjs');
    setSimdnnOptions({ backend: 'simd', threads: 1 });
    const { readFileSync } = await import('node:fs');
    version = `${JSON.parse(readFileSync(new URL('../../package.json', import.meta.url))).version} (tfjs ${tf.version.tfjs})`;
  } else if (variant === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    wasm.setThreadsCount(1);
  } else if (variant !== 'cpu') {
    throw new Error(`tfjs-layers adapter: variant must be simdnn, wasm or cpu, got '${variant}'`);
  }
  if (!(await tf.setBackend(variant))) throw new Error(`tfjs-layers: backend ${variant} failed to initialise`);
  await tf.ready();
  if (tf.getBackend() !== variant) throw new Error(`tfjs-layers: active backend is ${tf.getBackend()}, not ${variant}`);
  if (variant === 'simdnn') info += ` (simdnn build ${tf.backend().nn.backend}, ${tf.backend().nn.threads} thread)`;
  if (variant === 'wasm') info += `, 1 thread, SIMD ${tf.env().getBool('WASM_HAS_SIMD_SUPPORT')}`;
  return { name: `tfjs-layers-${variant}`, version, info, prepare };
}

/** The net of TFJS_NET with seeded initializers (the same weights in every process), SGD, cross-entropy. */
export function buildNet(s) {
  const init = (k) => tf.initializers.glorotUniform({ seed: 100 + k });
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [s.H, s.H, 1], filters: s.C1, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(1) }),
      tf.layers.batchNormalization(),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: s.C2, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(2) }),
      tf.layers.batchNormalization(),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      // A fixed seed: the same dropout mask on every backend (and every step), so the checks compare like with like.
      tf.layers.dropout({ rate: s.dropout, seed: 3 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: s.classes, activation: 'softmax', kernelInitializer: init(4) }),
    ],
  });
  model.compile({ optimizer: tf.train.sgd(s.lr), loss: 'categoricalCrossentropy' });
  return model;
}

function prepare(wl, d) {
  const s = wl.shape;
  switch (wl.kind) {
    case 'tfjsFit': {
      if (backendName === 'wasm' && !tf.getKernel('Conv2DBackpropFilter', 'wasm')) {
        return { na: "cannot train the net: tfjs-backend-wasm has no Conv2DBackpropFilter kernel (tfjs#8474)" };
      }
      const xs = d.xs.map((x) => tf.tensor4d(x, [s.N, s.H, s.H, 1]));
      const y = tf.tensor2d(d.onehot, [s.N, s.classes]);
      // check: the first step's loss and conv1's kernel gradient ((w0 − w1)/lr after one SGD step), on a fresh net.
      const check = async () => {
        const net = buildNet(s);
        const w0 = net.layers[0].getWeights()[0].dataSync().slice();
        const loss = await net.trainOnBatch(xs[0], y);
        const w1 = net.layers[0].getWeights()[0].dataSync();
        net.dispose();
        return Float32Array.of(loss, ...w0.map((v, i) => (v - w1[i]) / s.lr));
      };
      const net = buildNet(s);
      let i = 0;
      return {
        async: true, run: () => net.trainOnBatch(xs[i++ % xs.length], y), check,
        dispose: () => { tf.dispose([...xs, y]); net.dispose(); },
        note: 'model.trainOnBatch (forward, gradients, SGD update, loss read back), batch ' + s.N,
      };
    }
    case 'tfjsPredict': {
      const x = tf.tensor4d(d.xs[0], [s.N, s.H, s.H, 1]);
      const net = buildNet(s);
      const f = () => { const p = net.predict(x); const v = p.dataSync(); p.dispose(); return v; };
      return { async: false, run: f, check: () => f().slice(), dispose: () => { x.dispose(); net.dispose(); },
        note: 'model.predict + dataSync' };
    }
    default:
      return { na: `no ${wl.kind}` };
  }
}
