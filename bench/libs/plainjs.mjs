// Adapter: plain JavaScript loops (bench/libs/plainjs-kernels.mjs), the "wasm vs JS" column and the
// correctness reference. Buffers are allocated once in prepare, as a careful JS programmer would.
import * as K from './plainjs-kernels.mjs';
import { CNN, cnnParamNames } from '../workloads.mjs';

export async function create() {
  return {
    name: 'plain-js',
    version: process.version,
    info: 'JS loops over Float32Array: im2col + naive i-k-j matmul, direct depthwise/pool/BN',
    steadyFirstCall: true,
    slowInQuick: ['gemm'],
    prepare,
  };
}

const sync = (run, check, note) => ({ async: false, run, check, dispose() {}, note });

function prepare(wl, d) {
  const s = wl.shape;
  switch (wl.kind) {
    case 'conv': {
      const y = new Float32Array(s.N * s.K * s.Ho * s.Wo), scratch = K.convScratch(s);
      const run = () => K.conv2d(d.x, d.w, null, s, y, scratch);
      return sync(run, run);
    }
    case 'depthwise': {
      const y = new Float32Array(s.N * s.K * s.Ho * s.Wo);
      const run = () => K.depthwiseConv2d(d.x, d.w, s, y);
      return sync(run, run);
    }
    case 'convDx': {
      const dx = new Float32Array(s.N * s.C * s.H * s.W), scratch = K.convScratch(s);
      const run = () => K.conv2dBackwardData(d.dy, d.w, s, dx, scratch);
      return sync(run, run);
    }
    case 'convDw': {
      const dw = new Float32Array(d.w.length), scratch = K.convScratch(s);
      const run = () => K.conv2dBackwardFilter(d.dy, d.x, s, dw, null, scratch);
      return sync(run, run);
    }
    case 'poolFwd': case 'poolFwdIdx': case 'poolBwd': {
      const { N, C, H, W, k } = s;
      const y = new Float32Array(d.dy.length), idx = new Int32Array(d.dy.length), dx = new Float32Array(d.x.length);
      const fwd = () => { K.maxPool2d(d.x, N, C, H, W, k, y, idx); return y; };
      if (wl.kind !== 'poolBwd') return sync(fwd, fwd);   // the plain-JS kernel always writes the indices too
      fwd();
      const bwd = () => K.maxPool2dBackward(d.dy, idx, N, C, H, W, k, dx);
      return sync(bwd, bwd);
    }
    case 'bnFwd': case 'bnFwdBwd': {
      const { N, C, H, W, eps } = s;
      const y = new Float32Array(d.x.length), dx = new Float32Array(d.x.length);
      const dg = new Float32Array(C), db = new Float32Array(C);
      const fwd = () => { K.batchNormTrain(d.x, d.gamma, d.beta, N, C, H * W, eps, y); return y; };
      if (wl.kind === 'bnFwd') return sync(fwd, fwd);
      const both = () => {
        const { mean, invStd } = K.batchNormTrain(d.x, d.gamma, d.beta, N, C, H * W, eps, y);
        K.batchNormBackward(d.dy, d.x, d.gamma, mean, invStd, N, C, H * W, dx, dg, db);
        return dx;
      };
      return sync(both, both);
    }
    case 'gemm': {
      const y = new Float32Array(s.M * s.N);
      const run = () => { K.matmulTransB(d.x, d.w, y, s.M, s.N, s.K); return y; };
      return sync(run, run);
    }
    case 'train': {
      const bn = s.bn;
      const check = () => {
        const net = makeCnn(d, bn);
        const { loss, grads } = net.forwardBackward(d.xs[0]);
        return Float32Array.of(loss, ...grads.w1);
      };
      const net = makeCnn(d, bn);
      let i = 0;
      const run = () => net.step(d.xs[i++ % d.xs.length], CNN.lr);
      return sync(run, check);
    }
    default:
      return { na: `no ${wl.kind}` };
  }
}

/** The benchmark CNN in plain JS; parameters copied from d.params. */
export function makeCnn(d, bn) {
  const { N, H, C1, C2, classes } = CNN;
  const eps = 1e-5;
  const P = Object.fromEntries(cnnParamNames(bn).map((k) => [k, d.params[k].slice()]));
  const s1 = { N, C: 1, H, W: H, K: C1, k: 3, stride: 1, pad: 1, Ho: H, Wo: H };
  const h2 = H / 2, h4 = H / 4;
  const s2 = { N, C: C1, H: h2, W: h2, K: C2, k: 3, stride: 1, pad: 1, Ho: h2, Wo: h2 };
  const sc1 = K.convScratch(s1), sc2 = K.convScratch(s2);
  const f = (n) => new Float32Array(n);
  const A = {
    z1: f(N * C1 * H * H), h1: f(N * C1 * H * H), a1: f(N * C1 * H * H), p1: f(N * C1 * h2 * h2), i1: new Int32Array(N * C1 * h2 * h2),
    z2: f(N * C2 * h2 * h2), h2: f(N * C2 * h2 * h2), a2: f(N * C2 * h2 * h2), p2: f(N * C2 * h4 * h4), i2: new Int32Array(N * C2 * h4 * h4),
    logits: f(N * classes), dlogits: f(N * classes), dp2: f(N * d.flat), da2: f(N * C2 * h2 * h2), dh2: f(N * C2 * h2 * h2),
    dz2: f(N * C2 * h2 * h2), dp1: f(N * C1 * h2 * h2), da1: f(N * C1 * H * H), dh1: f(N * C1 * H * H), dz1: f(N * C1 * H * H),
  };
  const G = Object.fromEntries(Object.entries(P).map(([k, v]) => [k, f(v.length)]));
  const fcT = f(d.flat * classes);

  function forwardBackward(x) {
    K.conv2d(x, P.w1, P.b1, s1, A.z1, sc1);
    const st1 = bn ? K.batchNormTrain(A.z1, P.g1, P.be1, N, C1, H * H, eps, A.h1) : null;
    const h1 = bn ? A.h1 : A.z1;
    K.relu(h1, A.a1);
    K.maxPool2d(A.a1, N, C1, H, H, 2, A.p1, A.i1);
    K.conv2d(A.p1, P.w2, P.b2, s2, A.z2, sc2);
    const st2 = bn ? K.batchNormTrain(A.z2, P.g2, P.be2, N, C2, h2 * h2, eps, A.h2) : null;
    const hh2 = bn ? A.h2 : A.z2;
    K.relu(hh2, A.a2);
    K.maxPool2d(A.a2, N, C2, h2, h2, 2, A.p2, A.i2);
    K.matmulTransB(A.p2, P.fc, A.logits, N, classes, d.flat);
    for (let n = 0; n < N; n++) for (let j = 0; j < classes; j++) A.logits[n * classes + j] += P.fcb[j];
    const loss = K.softmaxCrossEntropy(A.logits, d.labels, N, classes, A.dlogits);
    // linear backward: dfc = dlogitsᵀ·p2, dfcb = Σ dlogits, dp2 = dlogits·fc
    G.fc.fill(0); G.fcb.fill(0);
    for (let n = 0; n < N; n++) for (let j = 0; j < classes; j++) {
      const g = A.dlogits[n * classes + j];
      G.fcb[j] += g;
      const fo = j * d.flat, po = n * d.flat;
      for (let i = 0; i < d.flat; i++) G.fc[fo + i] += g * A.p2[po + i];
    }
    for (let j = 0; j < classes; j++) for (let i = 0; i < d.flat; i++) fcT[j * d.flat + i] = P.fc[j * d.flat + i];
    K.matmul(A.dlogits, fcT, A.dp2, N, d.flat, classes);
    K.maxPool2dBackward(A.dp2, A.i2, N, C2, h2, h2, 2, A.da2);
    K.reluBackward(A.da2, hh2, A.dh2);
    if (bn) K.batchNormBackward(A.dh2, A.z2, P.g2, st2.mean, st2.invStd, N, C2, h2 * h2, A.dz2, G.g2, G.be2);
    const dz2 = bn ? A.dz2 : A.dh2;
    K.conv2dBackwardFilter(dz2, A.p1, s2, G.w2, G.b2, sc2);
    K.conv2dBackwardData(dz2, P.w2, s2, A.dp1, sc2);
    K.maxPool2dBackward(A.dp1, A.i1, N, C1, H, H, 2, A.da1);
    K.reluBackward(A.da1, h1, A.dh1);
    if (bn) K.batchNormBackward(A.dh1, A.z1, P.g1, st1.mean, st1.invStd, N, C1, H * H, A.dz1, G.g1, G.be1);
    const dz1 = bn ? A.dz1 : A.dh1;
    K.conv2dBackwardFilter(dz1, x, s1, G.w1, G.b1, sc1);
    return { loss, grads: G };
  }

  return {
    forwardBackward,
    step(x, lr) {
      const r = forwardBackward(x);
      for (const k of Object.keys(P)) K.sgd(P[k], G[k], lr);
      return r.loss;
    },
  };
}
