// The main job until the training loop lands: one conv → batch norm → ReLU → max-pool → linear →
// softmax cross-entropy block, forward and backward on a batch of 64 28×28 images, on the best build this
// host runs; prints shapes, the loss, a gradient check against a finite difference, and per-op timings.
import { init } from 'simdnn';

const nn = await init({ backend: process.env.SIMDNN_BACKEND || 'auto' });
console.log(`simdnn: backend ${nn.backend}, threads ${nn.threads}`);

let seed = 1;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
const randn = (n, scale) => Float32Array.from({ length: n }, () => rand() * scale);

const N = 64, C = 16, H = 28, K = 10;
const x = nn.tensor(randn(N * H * H, 1), [N, 1, H, H]);
const w = nn.tensor(randn(C * 9, 1 / 3), [C, 1, 3, 3]);
const b = nn.tensor(randn(C, 0.1), [C]);
const gamma = nn.tensor(new Float32Array(C).fill(1), [C]);
const beta = nn.zeros([C]);
const runMean = nn.zeros([C]);
const runVar = nn.tensor(new Float32Array(C).fill(1), [C]);
const fc = nn.tensor(randn(K * C * 14 * 14, 0.02), [K, C * 14 * 14]);
const labels = nn.tensor(Int32Array.from({ length: N }, (_, i) => i % K), [N], 'int32');
const convOpts = { padding: 1 };

/** One forward + backward pass; returns the loss and the gradients, timing each op into `times`. */
function step(times) {
  const timed = (name, fn) => {
    const t0 = performance.now();
    const r = fn();
    (times[name] ??= []).push(performance.now() - t0);
    return r;
  };
  return nn.tidy(() => {
    const z = timed('conv2d', () => nn.ops.conv2d(x, w, b, convOpts));
    const bn = timed('batchNorm2d', () => nn.ops.batchNorm2d(z, gamma, beta, runMean, runVar, { training: true }));
    const a = timed('relu', () => nn.ops.relu(bn.y));
    const p = timed('maxPool2d', () => nn.ops.maxPool2d(a, { kernel: 2 }));
    const flat = nn.tensor(p.y.read(), [N, C * 14 * 14]);
    const logits = timed('linear', () => nn.ops.linear(flat, fc, null));
    const ce = timed('softmaxCrossEntropy', () => nn.ops.softmaxCrossEntropy(logits, labels));
    const dl = timed('linearBackward', () => nn.ops.linearBackward(ce.dlogits, flat, fc, { bias: false }));
    const dp = nn.tensor(dl.dx.read(), p.y.shape);
    const da = timed('maxPool2dBackward', () => nn.ops.maxPool2dBackward(dp, p.indices, a.shape));
    const dbn = timed('reluBackward', () => nn.ops.reluBackward(da, bn.y));
    const dz = timed('batchNorm2dBackward', () => nn.ops.batchNorm2dBackward(dbn, z, gamma, bn.mean, bn.invStd));
    const g = timed('conv2dBackward', () => nn.ops.conv2dBackward(dz.dx, x, w, convOpts, { input: false }));
    return { loss: ce.loss, dw: g.dw };
  });
}

const warm = step({});
console.log(`loss ${warm.loss.toFixed(4)} (ln 10 = ${Math.log(10).toFixed(4)} for an untrained net)`);

// Finite-difference check of one weight: dL/dw[0] ≈ (L(w + h) − L(w − h)) / 2h.
const h = 1e-3;
const w0 = w.read();
const lossAt = (v) => { const ww = w0.slice(); ww[0] = v; w.write(ww); const r = step({}); r.dw.dispose(); return r.loss; };
const numeric = (lossAt(w0[0] + h) - lossAt(w0[0] - h)) / (2 * h);
w.write(w0);
console.log(`dL/dw[0]: backward ${warm.dw.read()[0].toExponential(4)}, finite difference ${numeric.toExponential(4)}`);
warm.dw.dispose();

const times = {};
for (let i = 0; i < 10; i++) step(times).dw.dispose();
const median = (a) => [...a].sort((p, q) => p - q)[a.length >> 1];
const flops = { conv2d: 2 * N * C * H * H * 9, conv2dBackward: 2 * N * C * H * H * 9 };
console.log('\nmedian of 10 steps, batch 64:');
for (const [name, t] of Object.entries(times)) {
  const gf = flops[name] ? `  ${(flops[name] / median(t) / 1e6).toFixed(2)} GFLOP/s` : '';
  console.log(`  ${name.padEnd(22)} ${median(t).toFixed(3).padStart(8)} ms${gf}`);
}
const total = Object.values(times).reduce((s, t) => s + median(t), 0);
console.log(`  ${'total'.padEnd(22)} ${total.toFixed(3).padStart(8)} ms`);
for (const t of [x, w, b, gamma, beta, runMean, runVar, fc, labels]) t.dispose();
console.log(`live tensors after dispose: ${nn.memory().tensors}`);
