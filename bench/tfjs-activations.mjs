// Issue 7's activation and broadcast kernels on the tfjs backend, timed in one process on two builds of simdnn:
// `node bench/tfjs-activations.mjs [baselineDir]` — the current dist/ as 'new', and, when given, an older copy
// (a directory holding that build's dist/ and build/, e.g. build/baseline) as 'old'; the cpu backend for scale.
// Each workload: the median of 15 timed runs after 3 warm-ups (data read back, so the work is done).
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { pathToFileURL } from 'node:url';
import path from 'node:path';

const backend = process.env.SIMDNN_BACKEND || 'simd';

/** Registers the simdnn backend of one build (its dist directory) under `name`. */
async function register(name, dist) {
  const mod = await import(pathToFileURL(path.join(dist, 'tfjs', 'index.js')).href);
  const { init } = await import(pathToFileURL(path.join(dist, 'index.js')).href);
  const nn = await init({ backend });
  tf.registerBackend(name, () => new mod.SimdnnBackend(nn), 0);
  for (const k of mod.kernelConfigs) tf.registerKernel({ ...k, backendName: name });
}

const rand = (n) => Float32Array.from({ length: n }, () => Math.random() * 8 - 4);
const WORKLOADS = [
  { name: 'softmax [64,1000]', shapes: [[64, 1000]], op: ([x]) => tf.softmax(x) },
  { name: 'elu 1M', shapes: [[1 << 20]], op: ([x]) => tf.elu(x) },
  { name: 'selu 1M', shapes: [[1 << 20]], op: ([x]) => tf.selu(x) },
  { name: 'softplus 1M', shapes: [[1 << 20]], op: ([x]) => tf.softplus(x) },
  { name: 'prelu [64,14,14,32]·[32]', shapes: [[64, 14, 14, 32], [32]], op: ([x, a]) => tf.prelu(x, a) },
  { name: 'add [64,14,14,32]+[1,14,1,32]', shapes: [[64, 14, 14, 32], [1, 14, 1, 32]], op: ([a, b]) => tf.add(a, b) },
  { name: 'mul [64,32,14,14]·[1,32,1,1]', shapes: [[64, 32, 14, 14], [1, 32, 1, 1]], op: ([a, b]) => tf.mul(a, b) },
  { name: 'sub [512,1]−[512,256]', shapes: [[512, 1], [512, 256]], op: ([a, b]) => tf.sub(a, b) },
];

function time(name, w) {
  tf.setBackend(name);
  const inputs = w.shapes.map((s) => tf.tensor(rand(s.reduce((p, q) => p * q, 1)), s));
  const run = () => { const y = w.op(inputs); y.dataSync(); y.dispose(); };
  for (let i = 0; i < 3; i++) run();
  const times = [];
  for (let i = 0; i < 15; i++) { const t0 = performance.now(); run(); times.push(performance.now() - t0); }
  tf.dispose(inputs);
  return times.sort((p, q) => p - q)[7];
}

const root = path.join(path.dirname(new URL(import.meta.url).pathname), '..');
const names = ['cpu'];
if (process.argv[2]) { await register('simdnn-old', path.resolve(process.argv[2], 'dist')); names.push('simdnn-old'); }
await register('simdnn-new', path.join(root, 'dist'));
names.push('simdnn-new');
for (const n of names) await tf.setBackend(n);

console.log(`simdnn build: ${backend}; median ms of 15 runs`);
console.log(['workload', ...names, ...(names.includes('simdnn-old') ? ['old/new'] : [])].join(' | '));
for (const w of WORKLOADS) {
  const ms = names.map((n) => time(n, w));
  const ratio = names.includes('simdnn-old') ? [`${(ms[1] / ms[2]).toFixed(1)}×`] : [];
  console.log([w.name, ...ms.map((m) => m.toFixed(3)), ...ratio].join(' | '));
}
