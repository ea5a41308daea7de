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
 * Issue 9's models (torchvision's ResNet with BasicBlocks; see resnetPlan): ResNet-18 at 224×224 for inference
 * (batch 1) and simdnn's resnet8 (16/32/64 channels, no max-pool) for a training step at batch 64 on 28×28×1.
 */
export const RESNET18 = { model: 'resnet18', N: 1, C: 3, H: 224, stem: { c: 64, k: 7, stride: 2, pad: 3, maxPool: true }, widths: [64, 128, 256, 512], blocks: [2, 2, 2, 2], classes: 1000 };
export const RESNET8 = { model: 'resnet8', N: 64, C: 1, H: 28, stem: { c: 16, k: 3, stride: 1, pad: 1, maxPool: false }, widths: [16, 32, 64], blocks: [1, 1, 1], classes: 10, lr: 0.01 };
/**
 * Issue 7's net (bench/libs/tfjs-layers.mjs): a tfjs-layers Sequential on 28×28×1 NHWC inputs — Conv2D 3×3 'same'
 * ReLU → BatchNormalization → MaxPooling2D 2 → the same with C2 filters → Dropout → Flatten → Dense softmax — trained
 * with SGD on categorical cross-entropy.
 */
export const TFJS_NET = { H: 28, C1: 16, C2: 32, classes: 10, dropout: 0.25, lr: 0.01 };

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
  { id: 'resnet18.infer', kind: 'resnetInfer', shape: RESNET18, label: 'ResNet-18 inference, 224², batch 1', unit: 'ms' },
  { id: 'resnet8.train', kind: 'resnetTrain', shape: RESNET8, label: 'train step, ResNet-8 (BN), 28², batch 64', unit: 'ms' },
  // Issue 7: TensorFlow.js backends (tfjs: true — run only by the tfjs-layers-* libraries, reported in their own table).
  { id: 'tfjs.fit', kind: 'tfjsFit', shape: { ...TFJS_NET, N: 32 }, label: 'tfjs-layers conv net: one fit step (trainOnBatch), batch 32', unit: 'ms', tfjs: true },
  { id: 'tfjs.predict1', kind: 'tfjsPredict', shape: { ...TFJS_NET, N: 1 }, label: 'tfjs-layers conv net: model.predict, batch 1', unit: 'ms', tfjs: true },
  { id: 'tfjs.predict64', kind: 'tfjsPredict', shape: { ...TFJS_NET, N: 64 }, label: 'tfjs-layers conv net: model.predict, batch 64', unit: 'ms', tfjs: true },
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
    case 'resnetInfer': case 'resnetTrain':
      return resnetData(s, wl.kind === 'resnetTrain' ? 2 : 1);
    case 'tfjsFit': case 'tfjsPredict': {
      // NHWC inputs in [0, 1) (two batches: the timed fit steps alternate), labels i % classes one-hot.
      const xs = Array.from({ length: wl.kind === 'tfjsFit' ? 2 : 1 }, () => Float32Array.from(fill(r, s.N * s.H * s.H), (v) => (v + 1) / 2));
      const onehot = new Float32Array(s.N * s.classes);
      for (let i = 0; i < s.N; i++) onehot[i * s.classes + (i % s.classes)] = 1;
      return { xs, onehot };
    }
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

// ------------------------------------------------------------------------------------------- ResNets

/**
 * A torchvision-style ResNet as a list of steps every adapter builds its graph from, with torchvision's
 * state_dict names (what nn.models.resnet18 / resnet8 use):
 *   { op: 'conv', name, cin, cout, k, stride, pad }  (no bias)   { op: 'bn', name, c }   { op: 'relu' }
 *   { op: 'maxpool' } (3×3, stride 2, pad 1)   { op: 'block', prefix, cin, cout, stride, down: boolean }
 *   { op: 'gap' } (global average pool + flatten)   { op: 'fc', name, cin, cout }
 * A block is relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut), shortcut = downsample.1(downsample.0(x)) (1×1
 * conv, stride) when the shape changes, else x; conv1 is 3×3 with the block's stride, conv2 3×3 stride 1.
 */
export function resnetPlan(s) {
  const plan = [{ op: 'conv', name: 'conv1', cin: s.C, cout: s.stem.c, k: s.stem.k, stride: s.stem.stride, pad: s.stem.pad },
    { op: 'bn', name: 'bn1', c: s.stem.c }, { op: 'relu' }];
  if (s.stem.maxPool) plan.push({ op: 'maxpool' });
  let cin = s.stem.c;
  s.widths.forEach((c, stage) => {
    for (let b = 0; b < s.blocks[stage]; b++) {
      const stride = b === 0 && stage > 0 ? 2 : 1;
      plan.push({ op: 'block', prefix: `layer${stage + 1}.${b}`, cin, cout: c, stride, down: stride !== 1 || cin !== c });
      cin = c;
    }
  });
  plan.push({ op: 'gap' }, { op: 'fc', name: 'fc', cin, cout: s.classes });
  return plan;
}

/** The parameters and buffers of a plan as [name, shape] in state_dict order (conv weights OIHW, fc [out, in]). */
export function resnetTensors(plan) {
  const out = [];
  const conv = (name, cin, cout, k) => out.push([`${name}.weight`, [cout, cin, k, k]]);
  const bn = (name, c) => { for (const t of ['weight', 'bias', 'running_mean', 'running_var']) out.push([`${name}.${t}`, [c]]); };
  for (const p of plan) {
    if (p.op === 'conv') conv(p.name, p.cin, p.cout, p.k);
    else if (p.op === 'bn') bn(p.name, p.c);
    else if (p.op === 'block') {
      conv(`${p.prefix}.conv1`, p.cin, p.cout, 3); bn(`${p.prefix}.bn1`, p.cout);
      conv(`${p.prefix}.conv2`, p.cout, p.cout, 3); bn(`${p.prefix}.bn2`, p.cout);
      if (p.down) { conv(`${p.prefix}.downsample.0`, p.cin, p.cout, 1); bn(`${p.prefix}.downsample.1`, p.cout); }
    } else if (p.op === 'fc') { out.push(['fc.weight', [p.cout, p.cin]], ['fc.bias', [p.cout]]); }
  }
  return out;
}

/**
 * Deterministic weights for a ResNet workload (the same in every library): conv weights uniform with He variance
 * 2/fan-in, batch-norm γ ∈ [0.25, 0.75), β, running mean ∈ ±0.1, running variance ∈ [0.5, 1.5), fc uniform
 * ±1/√fan-in; and `batches` inputs uniform in [−1, 1) with labels i % classes.
 * Returns { plan, params: { name: Float32Array }, shapes: { name: shape }, xs, labels }.
 */
export function resnetData(s, batches) {
  const r = rng(hash(s.model));
  const plan = resnetPlan(s);
  const params = {}, shapes = {};
  for (const [name, shape] of resnetTensors(plan)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const kind = name.slice(name.lastIndexOf('.') + 1);
    let a;
    if (name.startsWith('fc.')) a = fill(r, n, 1 / Math.sqrt(plan[plan.length - 1].cin));
    else if (kind === 'weight' && shape.length === 4) a = fill(r, n, Math.sqrt(6 / (shape[1] * shape[2] * shape[3])));
    else if (kind === 'weight') a = Float32Array.from(fill(r, n), (v) => 0.5 + 0.25 * v);
    else if (kind === 'running_var') a = Float32Array.from(fill(r, n), (v) => 1 + 0.5 * v);
    else a = fill(r, n, 0.1);                                   // bias, running_mean
    params[name] = a;
    shapes[name] = shape;
  }
  const xs = Array.from({ length: batches }, () => fill(r, s.N * s.C * s.H * s.H));
  const labels = Int32Array.from({ length: s.N }, (_, i) => i % s.classes);
  return { plan, params, shapes, xs, labels };
}

/** Batch norm folded into the conv before it (eval mode, eps 1e-5): { w: OIHW scaled per output channel, b }. */
export function foldBn(w, params, bnName, eps = 1e-5) {
  const g = params[`${bnName}.weight`], beta = params[`${bnName}.bias`];
  const mean = params[`${bnName}.running_mean`], v = params[`${bnName}.running_var`];
  const C = g.length, per = w.length / C;
  const wf = new Float32Array(w.length), b = new Float32Array(C);
  for (let o = 0; o < C; o++) {
    const sc = g[o] / Math.sqrt(v[o] + eps);
    for (let i = 0; i < per; i++) wf[o * per + i] = w[o * per + i] * sc;
    b[o] = beta[o] - mean[o] * sc;
  }
  return { w: wf, b };
}

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
