// The workloads of issue 3's table: shapes, FLOP counts (2·MACs), units, and the deterministic input data
// every library receives (same seed → same numbers in every child process, so outputs can be compared).
// All data is NCHW / OIHW float32 here; adapters convert to their own layout outside the timed region.

const conv = (N, C, H, K, k, stride, pad, groups = 1) => {
  const Ho = Math.floor((H + 2 * pad - k) / stride) + 1;
  return { N, C, H, W: H, K, k, stride, pad, groups, Ho, Wo: Ho };
};
const convFlops = (s) => 2 * s.N * s.K * s.Ho * s.Wo * (s.C / s.groups) * s.k * s.k;

const S = {
  S1: conv(64, 1, 28, 32, 3, 1, 1),
  S2: conv(64, 32, 14, 64, 3, 1, 1),
  S3: conv(1, 64, 56, 64, 3, 1, 1),
  S4: conv(1, 64, 56, 128, 1, 1, 0),
  S5: conv(1, 128, 56, 128, 3, 1, 1, 128),
  S6: conv(1, 3, 224, 64, 7, 2, 3),
};
const POOL = { N: 32, C: 64, H: 32, W: 32, k: 2 };
const BN = { N: 32, C: 64, H: 32, W: 32, eps: 1e-5 };
const GEMM = { M: 1024, N: 1024, K: 1024 };
/** The benchmark CNN of issue 3 (28×28×1 inputs, 10 classes). */
export const CNN = { N: 64, H: 28, C1: 16, C2: 32, classes: 10, lr: 0.01 };

/**
 * kind: what the adapters implement; unit 'gflops' (higher is better, from flops) or 'ms' (lower is better).
 * `group` puts rows of the report together; `label` is the row title.
 */
export const WORKLOADS = [
  { id: 'S1', kind: 'conv', shape: S.S1, label: 'S1 conv N64 C1 28² →32 k3 p1' },
  { id: 'S2', kind: 'conv', shape: S.S2, label: 'S2 conv N64 C32 14² →64 k3 p1' },
  { id: 'S3', kind: 'conv', shape: S.S3, label: 'S3 conv N1 C64 56² →64 k3 p1' },
  { id: 'S4', kind: 'conv', shape: S.S4, label: 'S4 conv N1 C64 56² →128 k1' },
  { id: 'S5', kind: 'depthwise', shape: S.S5, label: 'S5 depthwise N1 C128 56² k3 p1' },
  { id: 'S6', kind: 'conv', shape: S.S6, label: 'S6 conv N1 C3 224² →64 k7 s2 p3' },
  { id: 'S2.dX', kind: 'convDx', shape: S.S2, label: 'S2 backward dX' },
  { id: 'S3.dX', kind: 'convDx', shape: S.S3, label: 'S3 backward dX' },
  { id: 'S2.dW', kind: 'convDw', shape: S.S2, label: 'S2 backward dW' },
  { id: 'S3.dW', kind: 'convDw', shape: S.S3, label: 'S3 backward dW' },
  { id: 'pool.fwd', kind: 'poolFwd', shape: POOL, label: 'max-pool 2×2 N32 C64 32² fwd', unit: 'ms' },
  { id: 'pool.fwdIdx', kind: 'poolFwdIdx', shape: POOL, label: 'max-pool 2×2 N32 C64 32² fwd + argmax indices (training)', unit: 'ms' },
  { id: 'pool.bwd', kind: 'poolBwd', shape: POOL, label: 'max-pool 2×2 N32 C64 32² bwd', unit: 'ms' },
  { id: 'bn.fwd', kind: 'bnFwd', shape: BN, label: 'batch norm train N32 C64 32² fwd', unit: 'ms' },
  { id: 'bn.fwdbwd', kind: 'bnFwdBwd', shape: BN, label: 'batch norm train N32 C64 32² fwd+bwd', unit: 'ms' },
  { id: 'gemm', kind: 'gemm', shape: GEMM, label: 'matmul 1024³ (y = x·wᵀ)', flops: 2 * GEMM.M * GEMM.N * GEMM.K },
  { id: 'train', kind: 'train', shape: { ...CNN, bn: false }, label: 'train step, CNN, batch 64', unit: 'ms' },
  { id: 'trainBN', kind: 'train', shape: { ...CNN, bn: true }, label: 'train step, CNN + BatchNorm, batch 64', unit: 'ms' },
];
for (const w of WORKLOADS) {
  w.unit ??= 'gflops';
  if (w.unit === 'gflops') w.flops ??= convFlops(w.shape);
}

// ------------------------------------------------------------------------------------------- data

/** mulberry32: a tiny deterministic PRNG; uniform in [-1, 1). */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  };
}
const hash = (s) => [...s].reduce((h, c) => (Math.imul(h, 31) + c.charCodeAt(0)) >>> 0, 7);
const fill = (r, n, scale = 1) => { const a = new Float32Array(n); for (let i = 0; i < n; i++) a[i] = r() * scale; return a; };

/**
 * The inputs of one workload, NCHW/OIHW float32. Conv: x, w (scaled 1/√fan-in), dy (for dX/dW).
 * Pool: x, dy. BN: x, gamma, beta, dy. GEMM: x [M,K], w [N,K]. Train: see cnnData.
 */
export function makeData(wl) {
  const r = rng(hash(wl.id));
  const s = wl.shape;
  switch (wl.kind) {
    case 'conv': case 'depthwise': case 'convDx': case 'convDw': {
      const cin = s.C / s.groups;
      return {
        x: fill(r, s.N * s.C * s.H * s.W),
        w: fill(r, s.K * cin * s.k * s.k, 1 / Math.sqrt(cin * s.k * s.k)),
        dy: fill(r, s.N * s.K * s.Ho * s.Wo),
      };
    }
    case 'poolFwd': case 'poolFwdIdx': case 'poolBwd':
      return { x: fill(r, s.N * s.C * s.H * s.W), dy: fill(r, s.N * s.C * (s.H / s.k) * (s.W / s.k)) };
    case 'bnFwd': case 'bnFwdBwd': {
      const x = fill(r, s.N * s.C * s.H * s.W);
      for (let i = 0; i < x.length; i++) x[i] = x[i] * 2 + 0.5;           // nonzero mean, non-unit variance
      return { x, gamma: Float32Array.from(fill(r, s.C), (v) => 1 + 0.5 * v), beta: fill(r, s.C, 0.5), dy: fill(r, x.length) };
    }
    case 'gemm':
      return { x: fill(r, s.M * s.K), w: fill(r, s.N * s.K, 1 / 32) };
    case 'train':
      return cnnData(s.bn);
    default:
      throw new Error(`makeData: unknown kind ${wl.kind}`);
  }
}

/**
 * The benchmark CNN's initial parameters (PyTorch-like uniform ±1/√fan-in), BN affine parameters, and
 * `batches` batches of 64 inputs in [-1, 1) with labels i % 10 (the timed loop cycles through them).
 */
export function cnnData(bn, batches = 4) {
  const r = rng(bn ? 2024 : 2023);
  const { N, H, C1, C2, classes } = CNN;
  const flat = C2 * (H / 4) * (H / 4);
  const p = {
    w1: fill(r, C1 * 1 * 9, 1 / 3), b1: fill(r, C1, 1 / 3),
    w2: fill(r, C2 * C1 * 9, 1 / 12), b2: fill(r, C2, 1 / 12),
    fc: fill(r, classes * flat, 1 / Math.sqrt(flat)), fcb: fill(r, classes, 1 / Math.sqrt(flat)),
  };
  if (bn) {
    p.g1 = Float32Array.from(fill(r, C1), (v) => 1 + 0.2 * v); p.be1 = fill(r, C1, 0.2);
    p.g2 = Float32Array.from(fill(r, C2), (v) => 1 + 0.2 * v); p.be2 = fill(r, C2, 0.2);
  }
  const xs = Array.from({ length: batches }, () => fill(r, N * H * H));
  const labels = Int32Array.from({ length: N }, (_, i) => i % classes);
  return { params: p, xs, labels, flat };
}

/** The names of the trainable parameters, in a fixed order. */
export const cnnParamNames = (bn) => bn ? ['w1', 'b1', 'g1', 'be1', 'w2', 'b2', 'g2', 'be2', 'fc', 'fcb'] : ['w1', 'b1', 'w2', 'b2', 'fc', 'fcb'];

// ------------------------------------------------------------------------------------------- layouts

/** NCHW → NHWC (also OIHW → OHWI when called with O as N). */
export function nchwToNhwc(a, N, C, H, W) {
  const out = new Float32Array(a.length);
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) {
    out[((n * H + h) * W + w) * C + c] = a[((n * C + c) * H + h) * W + w];
  }
  return out;
}
export function nhwcToNchw(a, N, C, H, W) {
  const out = new Float32Array(a.length);
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) {
    out[((n * C + c) * H + h) * W + w] = a[((n * H + h) * W + w) * C + c];
  }
  return out;
}
/** OIHW → HWIO (tfjs filter layout). */
export function oihwToHwio(a, O, I, KH, KW) {
  const out = new Float32Array(a.length);
  for (let o = 0; o < O; o++) for (let i = 0; i < I; i++) for (let h = 0; h < KH; h++) for (let w = 0; w < KW; w++) {
    out[((h * KW + w) * I + i) * O + o] = a[((o * I + i) * KH + h) * KW + w];
  }
  return out;
}
export function hwioToOihw(a, O, I, KH, KW) {
  const out = new Float32Array(a.length);
  for (let o = 0; o < O; o++) for (let i = 0; i < I; i++) for (let h = 0; h < KH; h++) for (let w = 0; w < KW; w++) {
    out[((o * I + i) * KH + h) * KW + w] = a[((h * KW + w) * I + i) * O + o];
  }
  return out;
}
