// "wasm vs JS", live: the same convolution, pooling and batch-norm workloads on simdnn and on the plain-JS kernels
// of the benchmark (bench/libs/plainjs-kernels.mjs: what a careful JS programmer writes, no SIMD), in a Web Worker.
// Each row checks that both give the same numbers (DESIGN.md's rule), then times them: the median of repeated calls
// over at least `seconds`. GFLOP/s count what each workload does (see FLOPS below).
import { init } from '../../dist/index.js';
import * as js from '../../bench/libs/plainjs-kernels.mjs';

/** A seeded uniform [-1, 1) Float32Array (Mulberry32). */
function random(n, seed) {
  let s = seed >>> 0;
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    a[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return a;
}

/** |got − want| ≤ 1e-4·(|want| + max|want|) everywhere; returns the worst ratio diff/tol (≤ 1 passes). */
function worstRatio(got, want) {
  let maxAbs = 0, worst = 0;
  for (let i = 0; i < want.length; i++) maxAbs = Math.max(maxAbs, Math.abs(want[i]));
  for (let i = 0; i < want.length; i++) {
    const r = Math.abs(got[i] - want[i]) / (1e-4 * (Math.abs(want[i]) + maxAbs));
    if (!(r <= worst)) worst = Number.isNaN(r) ? Infinity : Math.max(worst, r);
  }
  return worst;
}

const convShape = (N, C, H, K, k, pad) => ({ N, C, H, W: H, K, k, stride: 1, pad, Ho: H + 2 * pad - k + 1, Wo: H + 2 * pad - k + 1 });

/** The workloads: make(nn) returns { simd(), js(), check() } closures over their own data. */
const WORKLOADS = [
  {
    id: 'conv', name: 'conv forward', label: 'conv 3×3 forward, N16 C16 14² → 32', shape: convShape(16, 16, 14, 32, 3, 1),
    flops: (s) => 2 * s.N * s.K * s.Ho * s.Wo * s.C * s.k * s.k, flopsNote: '2·multiply-adds',
    make(nn, s) {
      const xh = random(s.N * s.C * s.H * s.W, 1), wh = random(s.K * s.C * s.k * s.k, 2).map((v) => v / 12), bh = random(s.K, 3);
      const x = nn.tensor(xh, [s.N, s.C, s.H, s.W]), w = nn.tensor(wh, [s.K, s.C, s.k, s.k]), b = nn.tensor(bh, [s.K]);
      const y = new Float32Array(s.N * s.K * s.Ho * s.Wo), scratch = js.convScratch(s);
      return {
        simd: () => nn.ops.conv2d(x, w, b, { padding: s.pad }).dispose(),
        js: () => js.conv2d(xh, wh, bh, s, y, scratch),
        check() { js.conv2d(xh, wh, bh, s, y, scratch); const t = nn.ops.conv2d(x, w, b, { padding: s.pad }); const r = worstRatio(t.read(), y); t.dispose(); return r; },
        dispose: () => { x.dispose(); w.dispose(); b.dispose(); },
      };
    },
  },
  {
    id: 'convDw', name: 'conv dW', label: 'conv 3×3 backward dW + db, same shape', shape: convShape(16, 16, 14, 32, 3, 1),
    flops: (s) => 2 * s.N * s.K * s.Ho * s.Wo * s.C * s.k * s.k, flopsNote: '2·multiply-adds',
    make(nn, s) {
      const xh = random(s.N * s.C * s.H * s.W, 4), wh = random(s.K * s.C * s.k * s.k, 5), dyh = random(s.N * s.K * s.Ho * s.Wo, 6);
      const x = nn.tensor(xh, [s.N, s.C, s.H, s.W]), w = nn.tensor(wh, [s.K, s.C, s.k, s.k]), dy = nn.tensor(dyh, [s.N, s.K, s.Ho, s.Wo]);
      const dw = new Float32Array(wh.length), db = new Float32Array(s.K), scratch = js.convScratch(s);
      const run = () => nn.ops.conv2dBackward(dy, x, w, { padding: s.pad }, { bias: true, input: false });
      return {
        simd: () => { const g = run(); g.dw.dispose(); g.db.dispose(); },
        js: () => js.conv2dBackwardFilter(dyh, xh, s, dw, db, scratch),
        check() {
          js.conv2dBackwardFilter(dyh, xh, s, dw, db, scratch);
          const g = run();
          const r = Math.max(worstRatio(g.dw.read(), dw), worstRatio(g.db.read(), db));
          g.dw.dispose(); g.db.dispose();
          return r;
        },
        dispose: () => { x.dispose(); w.dispose(); dy.dispose(); },
      };
    },
  },
  {
    id: 'pool', name: 'max-pool', label: 'max-pool 2×2 forward + indices, N16 C32 28²', shape: { N: 16, C: 32, H: 28, W: 28, k: 2 },
    flops: (s) => s.N * s.C * s.H * s.W, flopsNote: 'one comparison per input element',
    make(nn, s) {
      const n = s.N * s.C * s.H * s.W, xh = random(n, 7);
      const x = nn.tensor(xh, [s.N, s.C, s.H, s.W]);
      const y = new Float32Array(n / 4), idx = new Int32Array(n / 4);
      const run = () => nn.ops.maxPool2d(x, { kernel: 2 });
      return {
        simd: () => { const r = run(); r.y.dispose(); r.indices.dispose(); },
        js: () => js.maxPool2d(xh, s.N, s.C, s.H, s.W, s.k, y, idx),
        check() {
          js.maxPool2d(xh, s.N, s.C, s.H, s.W, s.k, y, idx);
          const r = run();
          const got = r.indices.read();
          const worst = Math.max(worstRatio(r.y.read(), y), got.every((v, i) => v === idx[i]) ? 0 : Infinity);
          r.y.dispose(); r.indices.dispose();
          return worst;
        },
        dispose: () => x.dispose(),
      };
    },
  },
  {
    id: 'bnFwd', name: 'batch norm forward', label: 'batch norm, training forward, N16 C32 28²', shape: { N: 16, C: 32, HW: 28 * 28 },
    flops: (s) => 6 * s.N * s.C * s.HW, flopsNote: '6 per element: sum; centred square and sum; scale and shift',
    make(nn, s) {
      const n = s.N * s.C * s.HW, xh = random(n, 8), gh = random(s.C, 9), bh = random(s.C, 10);
      const x = nn.tensor(xh, [s.N, s.C, 28, 28]), g = nn.tensor(gh, [s.C]), b = nn.tensor(bh, [s.C]);
      const rm = nn.zeros([s.C]), rv = nn.tensor(new Float32Array(s.C).fill(1), [s.C]);
      const y = new Float32Array(n);
      const run = () => nn.ops.batchNorm2d(x, g, b, rm, rv, { training: true });
      const free = (r) => { r.y.dispose(); r.mean.dispose(); r.invStd.dispose(); };
      return {
        simd: () => free(run()),
        js: () => js.batchNormTrain(xh, gh, bh, s.N, s.C, s.HW, 1e-5, y),
        check() { js.batchNormTrain(xh, gh, bh, s.N, s.C, s.HW, 1e-5, y); const r = run(); const w = worstRatio(r.y.read(), y); free(r); return w; },
        dispose: () => { for (const t of [x, g, b, rm, rv]) t.dispose(); },
      };
    },
  },
  {
    id: 'bnBwd', name: 'batch norm backward', label: 'batch norm backward (dx, dγ, dβ), same shape', shape: { N: 16, C: 32, HW: 28 * 28 },
    flops: (s) => 9 * s.N * s.C * s.HW, flopsNote: '9 per element: two sums (4), dx (5)',
    make(nn, s) {
      const n = s.N * s.C * s.HW, xh = random(n, 11), gh = random(s.C, 12), dyh = random(n, 13);
      const x = nn.tensor(xh, [s.N, s.C, 28, 28]), g = nn.tensor(gh, [s.C]), dy = nn.tensor(dyh, [s.N, s.C, 28, 28]);
      const f = nn.ops.batchNorm2d(x, g, null, null, null, { training: true });
      const { mean, invStd } = js.batchNormTrain(xh, gh, new Float32Array(s.C), s.N, s.C, s.HW, 1e-5, new Float32Array(n));
      const dx = new Float32Array(n), dg = new Float32Array(s.C), db = new Float32Array(s.C);
      const run = () => nn.ops.batchNorm2dBackward(dy, x, g, f.mean, f.invStd);
      const free = (r) => { r.dx.dispose(); r.dgamma.dispose(); r.dbeta.dispose(); };
      return {
        simd: () => free(run()),
        js: () => js.batchNormBackward(dyh, xh, gh, mean, invStd, s.N, s.C, s.HW, dx, dg, db),
        check() {
          js.batchNormBackward(dyh, xh, gh, mean, invStd, s.N, s.C, s.HW, dx, dg, db);
          const r = run();
          const w = Math.max(worstRatio(r.dx.read(), dx), worstRatio(r.dgamma.read(), dg), worstRatio(r.dbeta.read(), db));
          free(r);
          return w;
        },
        dispose: () => { for (const t of [x, g, dy, f.y, f.mean, f.invStd]) t.dispose(); },
      };
    },
  },
];

/** Median milliseconds per call of fn, over at least `seconds` (and 5 calls), after 2 warm-up calls. */
function time(fn, seconds) {
  fn(); fn();
  const samples = [];
  const end = performance.now() + seconds * 1000;
  while (samples.length < 5 || performance.now() < end) {
    const t0 = performance.now();
    fn();
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  return samples[samples.length >> 1];
}

let nn = null;
self.onmessage = async (e) => {
  const { backend = 'auto', seconds = 0.5, only = null } = e.data ?? {};
  try {
    nn ??= await init({ backend, threads: 1 });
    const base = nn.memory();
    for (const wl of WORKLOADS) {
      if (only && !only.includes(wl.id)) continue;
      const run = wl.make(nn, wl.shape);
      try {
        const worst = run.check();
        const simdMs = time(run.simd, seconds), jsMs = time(run.js, seconds);
        const flops = wl.flops(wl.shape);
        self.postMessage({ type: 'row', id: wl.id, name: wl.name, label: wl.label, flopsNote: wl.flopsNote, backend: nn.backend,
                           simdMs, jsMs, simdGflops: flops / simdMs / 1e6, jsGflops: flops / jsMs / 1e6, speedup: jsMs / simdMs,
                           match: worst <= 1, worst });
      } finally {
        run.dispose();
      }
      await new Promise((r) => setTimeout(r, 0));
    }
    const after = nn.memory();
    self.postMessage({ type: 'done', backend: nn.backend, leaked: { tensors: after.tensors - base.tensors, bytes: after.bytes - base.bytes } });
  } catch (err) {
    self.postMessage({ type: 'error', message: err.message, stack: err.stack });
  }
};
