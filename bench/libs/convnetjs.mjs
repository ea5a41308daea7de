// Adapter: ConvNetJS 0.3 (plain JS, float64 Vols in [y][x][channel] layout, one image per call). Batched
// workloads loop over the images. No depthwise conv, no batch norm; its conv backward computes dX and dW
// in one pass (so the separate dX / dW rows are n/a). Train step: its Net + Trainer (SGD, batch 64).
import { createRequire } from 'node:module';
import convnetjs from 'convnetjs';
import { CNN } from '../workloads.mjs';

const { Vol, ConvLayer, PoolLayer, FullyConnLayer, Net, Trainer } = convnetjs;

export async function create() {
  return {
    name: 'convnetjs',
    version: createRequire(import.meta.url)('convnetjs/package.json').version,
    info: 'plain JS, float64, one image at a time',
    steadyFirstCall: true,
    slowInQuick: ['gemm'],
    prepare,
  };
}

/** NCHW image n → Vol(W, H, C). */
function toVol(a, n, C, H, W) {
  const v = new Vol(W, H, C, 0.0);
  for (let c = 0; c < C; c++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    v.w[(y * W + x) * C + c] = a[((n * C + c) * H + y) * W + x];
  }
  return v;
}
/** Writes Vol (HWC) arrays into NCHW image n of out. */
function fromVol(arr, out, n, C, H, W) {
  for (let c = 0; c < C; c++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    out[((n * C + c) * H + y) * W + x] = arr[(y * W + x) * C + c];
  }
}
/** OIHW weights into a ConvNetJS conv (or fc-over-a-map) layer: filters[o] is a Vol(k, k, C). */
function setConvWeights(layer, w, bias, K, C, k) {
  for (let o = 0; o < K; o++) {
    const f = layer.filters[o].w;
    for (let c = 0; c < C; c++) for (let y = 0; y < k; y++) for (let x = 0; x < k; x++) {
      f[(y * k + x) * C + c] = w[((o * C + c) * k + y) * k + x];
    }
    layer.biases.w[o] = bias ? bias[o] : 0;
  }
}

const sync = (run, check, note, caveat = false) => ({ async: false, run, check, dispose() {}, note, caveat });

function prepare(wl, d) {
  const s = wl.shape;
  switch (wl.kind) {
    case 'conv': {
      const layer = new ConvLayer({ in_sx: s.W, in_sy: s.H, in_depth: s.C, sx: s.k, filters: s.K, stride: s.stride, pad: s.pad });
      setConvWeights(layer, d.w, null, s.K, s.C, s.k);
      const vols = Array.from({ length: s.N }, (_, n) => toVol(d.x, n, s.C, s.H, s.W));
      const run = () => { for (const v of vols) layer.forward(v); };
      const check = () => {
        const out = new Float32Array(s.N * s.K * s.Ho * s.Wo);
        vols.forEach((v, n) => fromVol(layer.forward(v).w, out, n, s.K, s.Ho, s.Wo));
        return out;
      };
      return sync(run, check);
    }
    case 'poolFwd': case 'poolBwd': {
      const Ho = s.H / s.k, Wo = s.W / s.k;
      const mk = () => new PoolLayer({ in_sx: s.W, in_sy: s.H, in_depth: s.C, sx: s.k, stride: s.k });
      const vols = Array.from({ length: s.N }, (_, n) => toVol(d.x, n, s.C, s.H, s.W));
      if (wl.kind === 'poolFwd') {
        const layer = mk();
        const check = () => {
          const out = new Float32Array(s.N * s.C * Ho * Wo);
          vols.forEach((v, n) => fromVol(layer.forward(v).w, out, n, s.C, Ho, Wo));
          return out;
        };
        return sync(() => { for (const v of vols) layer.forward(v); }, check);
      }
      // A layer keeps the switches of its last forward: one layer per image, forwarded here, untimed.
      const layers = vols.map((v, n) => {
        const l = mk();
        l.forward(v);
        l.out_act.dw = toVol(d.dy, n, s.C, Ho, Wo).w;
        return l;
      });
      const run = () => { for (const l of layers) l.backward(); };
      const check = () => {
        run();
        const out = new Float32Array(d.x.length);
        layers.forEach((l, n) => fromVol(l.in_act.dw, out, n, s.C, s.H, s.W));
        return out;
      };
      return sync(run, check);
    }
    case 'gemm': {
      const layer = new FullyConnLayer({ num_neurons: s.N, in_sx: 1, in_sy: 1, in_depth: s.K });
      for (let j = 0; j < s.N; j++) { layer.filters[j].w.set(d.w.subarray(j * s.K, (j + 1) * s.K)); layer.biases.w[j] = 0; }
      const rows = Array.from({ length: s.M }, (_, i) => { const v = new Vol(1, 1, s.K, 0.0); v.w.set(d.x.subarray(i * s.K, (i + 1) * s.K)); return v; });
      const check = () => {
        const out = new Float32Array(s.M * s.N);
        rows.forEach((v, i) => out.set(layer.forward(v).w, i * s.N));
        return out;
      };
      return sync(() => { for (const v of rows) layer.forward(v); }, check, 'FullyConnLayer 1024→1024 applied to 1024 rows (no matmul op)', true);
    }
    case 'train': {
      if (s.bn) return { na: 'no batch norm layer' };
      const vols = d.xs.map((x) => Array.from({ length: CNN.N }, (_, n) => toVol(x, n, 1, CNN.H, CNN.H)));
      const labels = Array.from(d.labels);
      const check = () => {
        const m = makeCnn(d, 1);
        const w0 = Float32Array.from(m.w1());
        const loss = m.step(vols[0], labels);
        const w1 = m.w1();
        return Float32Array.of(loss, ...w0.map((v, i) => v - w1[i]));
      };
      const m = makeCnn(d, CNN.lr);
      let i = 0;
      return sync(() => m.step(vols[i++ % vols.length], labels), check, 'Net + Trainer (sgd, batch_size 64, momentum 0)');
    }
    case 'depthwise': return { na: 'no grouped / depthwise convolution' };
    case 'convDx': case 'convDw': return { na: 'conv backward computes dX and dW together (not separable)' };
    case 'bnFwd': case 'bnFwdBwd': return { na: 'no batch norm' };
    default: return { na: `no ${wl.kind}` };
  }
}

/** The benchmark CNN as a ConvNetJS Net with our initial parameters; step() trains one batch of 64. */
function makeCnn(d, lr) {
  const { H, C1, C2, classes } = CNN;
  const net = new Net();
  net.makeLayers([
    { type: 'input', out_sx: H, out_sy: H, out_depth: 1 },
    { type: 'conv', sx: 3, filters: C1, stride: 1, pad: 1, activation: 'relu' },
    { type: 'pool', sx: 2, stride: 2 },
    { type: 'conv', sx: 3, filters: C2, stride: 1, pad: 1, activation: 'relu' },
    { type: 'pool', sx: 2, stride: 2 },
    { type: 'softmax', num_classes: classes },
  ]);
  const [conv1, conv2, fc] = [net.layers[1], net.layers[4], net.layers[7]];
  if (conv1.layer_type !== 'conv' || conv2.layer_type !== 'conv' || fc.layer_type !== 'fc') throw new Error('convnetjs: unexpected layer order');
  const p = d.params;
  setConvWeights(conv1, p.w1, p.b1, C1, 1, 3);
  setConvWeights(conv2, p.w2, p.b2, C2, C1, 3);
  setConvWeights(fc, p.fc, p.fcb, classes, C2, H / 4);           // fc over the [7, 7, 32] map: the same index shuffle
  const trainer = new Trainer(net, { method: 'sgd', learning_rate: lr, batch_size: CNN.N, momentum: 0, l2_decay: 0 });
  return {
    step(vols, labels) {
      let loss = 0;
      for (let n = 0; n < vols.length; n++) loss += trainer.train(vols[n], labels[n]).cost_loss;
      return loss / vols.length;
    },
    w1: () => {
      const out = new Float32Array(C1 * 9);
      for (let o = 0; o < C1; o++) for (let i = 0; i < 9; i++) out[o * 9 + i] = conv1.filters[o].w[i];
      return out;
    },
  };
}
