// Adapter: simdnn (this repo's dist/ + build/*.wasm; run `npm run build` first). Variant = backend[:threads]:
// relaxed-simd (needs node --experimental-wasm-relaxed-simd), simd, scalar; threads default 1 (e.g. 'simd:2').
import { readFileSync } from 'node:fs';
import { init, Tensor } from 'simdnn';
import { CNN, cnnParamNames } from '../workloads.mjs';

let nn;

export async function create(variant = 'simd') {
  const [backend, threads = '1'] = variant.split(':');
  nn = await init({ backend, threads: Number(threads) });
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url)));
  return {
    name: `simdnn-${nn.backend}`,
    version: pkg.version,
    info: `build ${nn.backend}, ${nn.threads} thread${nn.threads > 1 ? 's' : ''}`,
    notes: { flattenCopyMs: flattenCopyMs() },
    // The scalar build takes seconds per ResNet call: left out of --quick (keeps it under 2 minutes).
    slowInQuick: nn.backend === 'scalar' ? ['resnet18.infer', 'resnet8.train'] : [],
    prepare,
  };
}

/**
 * A zero-copy view of t's memory with another shape (a stand-in for the missing reshape op): a Tensor handle
 * at the same offset that the engine does not track (so disposing it frees nothing). Used only to flatten
 * the pooled [N, 32, 7, 7] map into linear's [N, 1568] input and back; see RESULTS.md.
 */
const view = (t, shape) => new Tensor(nn, t.offset, shape, t.dtype);

/** What the alternative (a copy through JS: nn.tensor(p.read(), shape)) would cost per flatten, in ms. */
function flattenCopyMs() {
  const t = nn.zeros([CNN.N, 32, 7, 7]);
  const times = [];
  for (let i = 0; i < 60; i++) {
    const t0 = performance.now();
    nn.tensor(t.read(), [CNN.N, 1568]).dispose();
    times.push(performance.now() - t0);
  }
  t.dispose();
  return times.sort((a, b) => a - b)[30];
}

const T = (data, shape, dtype) => nn.tensor(data, shape, dtype);
const sync = (run, check, dispose, note, caveat = false) => ({ async: false, run, check, dispose, note, caveat });

function prepare(wl, d) {
  const s = wl.shape, ops = nn.ops;
  const owned = [];
  const own = (t) => (owned.push(t), t);
  const disposeAll = () => owned.forEach((t) => t.dispose());
  const convOpts = { stride: s.stride, padding: s.pad, groups: s.groups };
  // Every run allocates its outputs and frees them again (as a training loop would).
  const once = (fn) => () => nn.tidy(() => { fn(); });
  const read = (fn) => () => nn.tidy(() => fn().read());
  switch (wl.kind) {
    case 'conv': case 'depthwise': {
      const x = own(T(d.x, [s.N, s.C, s.H, s.W])), w = own(T(d.w, [s.K, s.C / s.groups, s.k, s.k]));
      const f = () => ops.conv2d(x, w, null, convOpts);
      return sync(once(f), read(f), disposeAll);
    }
    case 'convDx': case 'convDw': {
      const x = own(T(d.x, [s.N, s.C, s.H, s.W])), w = own(T(d.w, [s.K, s.C, s.k, s.k]));
      const dy = own(T(d.dy, [s.N, s.K, s.Ho, s.Wo]));
      const dx = wl.kind === 'convDx';
      const f = () => ops.conv2dBackward(dy, x, w, convOpts, { bias: false, input: dx, weight: !dx })[dx ? 'dx' : 'dw'];
      return sync(once(f), read(f), disposeAll);
    }
    case 'poolFwd': case 'poolFwdIdx': {
      // poolFwd: the values only (inference, as tfjs's MaxPool); poolFwdIdx: values and argmax indices (training).
      const x = own(T(d.x, [s.N, s.C, s.H, s.W]));
      const f = wl.kind === 'poolFwd' ? () => ops.maxPool2dValues(x, { kernel: s.k })
        : () => { const r = ops.maxPool2d(x, { kernel: s.k }); r.indices.dispose(); return r.y; };
      return sync(once(f), read(f), disposeAll);
    }
    case 'poolBwd': {
      const x = own(T(d.x, [s.N, s.C, s.H, s.W]));
      const { y, indices } = ops.maxPool2d(x, { kernel: s.k });
      own(y); own(indices);
      const dy = own(T(d.dy, y.shape));
      const f = () => ops.maxPool2dBackward(dy, indices, x.shape);
      return sync(once(f), read(f), disposeAll);
    }
    case 'bnFwd': case 'bnFwdBwd': {
      const x = own(T(d.x, [s.N, s.C, s.H, s.W])), g = own(T(d.gamma, [s.C])), b = own(T(d.beta, [s.C]));
      const rm = own(nn.zeros([s.C])), rv = own(T(new Float32Array(s.C).fill(1), [s.C]));
      const dy = own(T(d.dy, x.shape));
      const opts = { training: true, eps: s.eps };
      const f = wl.kind === 'bnFwd'
        ? () => ops.batchNorm2d(x, g, b, rm, rv, opts).y
        : () => {
          const r = ops.batchNorm2d(x, g, b, rm, rv, opts);
          return ops.batchNorm2dBackward(dy, x, g, r.mean, r.invStd).dx;
        };
      return sync(once(f), read(f), disposeAll);
    }
    case 'gemm': {
      const x = own(T(d.x, [s.M, s.K])), w = own(T(d.w, [s.N, s.K]));
      const f = () => ops.linear(x, w, null);
      return sync(once(f), read(f), disposeAll, 'ops.linear(x, w, null): y = x·wᵀ');
    }
    case 'train': {
      const check = () => {
        const net = makeCnn(d, s.bn);
        const w0 = net.P.w1.read();
        const loss = net.step(0, 1);                    // lr 1: the weight change is the gradient
        const w1 = net.P.w1.read();
        net.dispose();
        return Float32Array.of(loss, ...w0.map((v, i) => v - w1[i]));
      };
      const net = makeCnn(d, s.bn);
      let i = 0;
      return sync(() => net.step(i++ % d.xs.length, CNN.lr), check, () => net.dispose(),
        'composed from nn.ops; zero-copy flatten view (see the simdnn note)', true);
    }
    case 'resnetInfer': {
      // torchvision's names: the weights load by name; batch norm folded into the convs (as the other libraries' graphs).
      const model = nn.models[s.model]({ seed: 1 });
      let fused;
      try { fused = model.loadWeights(d.params).eval().fuseForInference(); } finally { model.dispose(); }
      const x = own(T(d.xs[0], [s.N, s.C, s.H, s.H]));
      const f = () => fused.forward(x);
      return sync(once(f), read(f), () => { disposeAll(); fused.dispose(); },
        `nn.models.${s.model}, weights loaded by name, model.fuseForInference() (batch norm folded), eval forward`);
    }
    case 'resnetTrain': {
      const xs = d.xs.map((x) => own(T(x, [s.N, s.C, s.H, s.H]))), labels = own(T(d.labels, [s.N], 'int32'));
      const make = (lr) => {
        const model = nn.models[s.model]({ seed: 1 }).loadWeights(d.params).train();
        return { model, opt: nn.optim.sgd(model, { lr }), dispose() { this.opt.dispose(); this.model.dispose(); } };
      };
      const check = () => {
        const net = make(1);                            // lr 1: the weight change is the gradient
        const w = net.model.stateDict().get('conv1.weight');
        const w0 = w.read();
        const { loss } = net.model.trainStep(xs[0], labels, net.opt);
        const w1 = w.read();
        net.dispose();
        return Float32Array.of(loss, ...w0.map((v, i) => v - w1[i]));
      };
      const net = make(s.lr);
      let i = 0;
      return sync(() => { net.model.trainStep(xs[i++ % xs.length], labels, net.opt); }, check, () => { net.dispose(); disposeAll(); },
        `nn.models.${s.model}, model.trainStep (forward, softmax cross-entropy, backward, SGD), batch-norm batch statistics`);
    }
    default:
      return { na: `no ${wl.kind}` };
  }
}

/** The benchmark CNN as nn.ops calls: forward, backward and one SGD step per parameter. */
function makeCnn(d, bn) {
  const { N, H, C1, C2, classes } = CNN;
  const shapes = {
    w1: [C1, 1, 3, 3], b1: [C1], g1: [C1], be1: [C1], w2: [C2, C1, 3, 3], b2: [C2], g2: [C2], be2: [C2],
    fc: [classes, d.flat], fcb: [classes],
  };
  const names = cnnParamNames(bn);
  const P = Object.fromEntries(names.map((k) => [k, T(d.params[k], shapes[k])]));
  const xs = d.xs.map((x) => T(x, [N, 1, H, H]));
  const labels = T(d.labels, [N], 'int32');
  const running = bn ? [nn.zeros([C1]), T(new Float32Array(C1).fill(1), [C1]), nn.zeros([C2]), T(new Float32Array(C2).fill(1), [C2])] : [];
  const states = {};
  const o = nn.ops, conv = { padding: 1 }, pool = { kernel: 2 }, train = { training: true };

  function step(b, lr) {
    return nn.tidy(() => {
      const x = xs[b];
      const z1 = o.conv2d(x, P.w1, P.b1, conv);
      const n1 = bn ? o.batchNorm2d(z1, P.g1, P.be1, running[0], running[1], train) : null;
      const h1 = bn ? n1.y : z1;
      const a1 = o.relu(h1);
      const p1 = o.maxPool2d(a1, pool);
      const z2 = o.conv2d(p1.y, P.w2, P.b2, conv);
      const n2 = bn ? o.batchNorm2d(z2, P.g2, P.be2, running[2], running[3], train) : null;
      const h2 = bn ? n2.y : z2;
      const a2 = o.relu(h2);
      const p2 = o.maxPool2d(a2, pool);
      const flat = view(p2.y, [N, d.flat]);
      const logits = o.linear(flat, P.fc, P.fcb);
      const ce = o.softmaxCrossEntropy(logits, labels);
      const gl = o.linearBackward(ce.dlogits, flat, P.fc, { bias: true });
      const da2 = o.maxPool2dBackward(view(gl.dx, p2.y.shape), p2.indices, a2.shape);
      const dh2 = o.reluBackward(da2, h2);
      const dn2 = bn ? o.batchNorm2dBackward(dh2, z2, P.g2, n2.mean, n2.invStd) : null;
      const g2 = o.conv2dBackward(bn ? dn2.dx : dh2, p1.y, P.w2, conv, { bias: true });
      const da1 = o.maxPool2dBackward(g2.dx, p1.indices, a1.shape);
      const dh1 = o.reluBackward(da1, h1);
      const dn1 = bn ? o.batchNorm2dBackward(dh1, z1, P.g1, n1.mean, n1.invStd) : null;
      const g1 = o.conv2dBackward(bn ? dn1.dx : dh1, x, P.w1, conv, { bias: true, input: false });
      const grads = { w1: g1.dw, b1: g1.db, w2: g2.dw, b2: g2.db, fc: gl.dw, fcb: gl.db };
      if (bn) Object.assign(grads, { g1: dn1.dgamma, be1: dn1.dbeta, g2: dn2.dgamma, be2: dn2.dbeta });
      for (const k of names) states[k] = o.sgdStep(P[k], grads[k], states[k] ?? null, { lr });
      return ce.loss;
    });
  }

  return {
    P,
    step,
    dispose() {
      for (const t of [...Object.values(P), ...xs, labels, ...running]) t.dispose();
      for (const st of Object.values(states)) st.dispose();
    },
  };
}
