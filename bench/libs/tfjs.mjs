// Adapter: TensorFlow.js 4.22 (@tensorflow/tfjs; gradients need the full package). Variant 'wasm'
// (tfjs-backend-wasm: XNNPACK, 1 thread) or 'cpu' (tfjs-backend-cpu, plain JS). NHWC layout, tfjs's native
// one; inputs are transposed outside the timed region and outputs back to NCHW for the check.
//
// tfjs-wasm has no Conv2DBackpropFilter kernel, so it cannot train a CNN. For the dW rows and the train
// step we register a polyfill built from the backend's own kernels (transpose + forward Conv2D): marked
// "(polyfill)" in the report.
import * as tf from '@tensorflow/tfjs';
import { setThreadsCount, getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { CNN, cnnParamNames, nchwToNhwc, nhwcToNchw, oihwToHwio, hwioToOihw, foldBn } from '../workloads.mjs';

let backendName, dwPolyfilled = false;

export async function create(variant = 'wasm') {
  backendName = variant;
  if (variant === 'wasm') setThreadsCount(1);
  if (!(await tf.setBackend(variant))) throw new Error(`tfjs: backend ${variant} failed to initialise`);
  await tf.ready();
  let info = `backend ${variant}`;
  const notes = {};
  if (variant === 'wasm') {
    info += `, ${getThreadsCount()} thread, SIMD ${tf.env().getBool('WASM_HAS_SIMD_SUPPORT')}`;
    if (!tf.getKernel('Conv2DBackpropFilter', 'wasm')) {
      notes.dw = 'Conv2DBackpropFilter is not registered for backend wasm (throws); polyfilled with transpose + Conv2D';
      tf.registerKernel({ kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc: conv2dBackpropFilterPolyfill });
      dwPolyfilled = true;
    }
  }
  return {
    name: `tfjs-${variant}`,
    version: tf.version.tfjs,
    info,
    notes,
    // tfjs-cpu's Conv2DBackpropFilter runs at ~0.01 GFLOP/s: tens of seconds per call; ResNet-18 takes ≈ 5 s.
    slowInQuick: variant === 'cpu' ? ['S2.dW', 'S3.dW', 'bn.fwdbwd', 'gemm', 'train', 'trainBN', 'resnet18.infer'] : [],
    prepare,
  };
}

/**
 * dW[kh, kw, ci, co] = Σ_{n,h,w} x[n, s·h+kh-p, s·w+kw-p, ci]·dy[n, h, w, co] (stride s, dilation 1) as one forward
 * convolution: input xᵀ [Ci, H, W, N] (batch Ci, channels N), filter dyᵀ [Ho, Wo, N, Co] dilated by s, padding p
 * → [Ci, H + 2p − (Ho − 1)·s, …, Co], of which the first k×k positions are dW (more when s does not divide H + 2p − k).
 */
function conv2dBackpropFilterPolyfill({ inputs, backend, attrs }) {
  const { x, dy } = inputs;
  const { strides, pad, dataFormat, filterShape } = attrs;
  const s = Array.isArray(strides) ? strides : [strides, strides];
  if (s[0] !== s[1] || (dataFormat && dataFormat !== 'NHWC')) throw new Error('dW polyfill: equal strides, NHWC only');
  const [k, kw] = filterShape;
  if (k !== kw || typeof pad !== 'number' && pad !== 'same' && pad !== 'valid') throw new Error('dW polyfill: square filters, symmetric padding');
  const p = pad === 'same' ? (k - 1) / 2 : pad === 'valid' ? 0 : pad;
  const run = (name, ins, at) => tf.getKernel(name, 'wasm').kernelFunc({ inputs: ins, backend, attrs: at });
  const xT = run('Transpose', { x }, { perm: [3, 1, 2, 0] });
  const dyT = run('Transpose', { x: dy }, { perm: [1, 2, 0, 3] });
  let r = run('Conv2D', { x: xT, filter: dyT }, { strides: [1, 1], pad: p, dataFormat: 'NHWC', dilations: [s[0], s[0]], dimRoundingMode: undefined });
  if (r.shape[1] !== k || r.shape[2] !== k) {
    const full = r;
    r = run('Slice', { x: full }, { begin: [0, 0, 0, 0], size: [r.shape[0], k, k, r.shape[3]] });
    backend.disposeData(full.dataId);
  }
  const dw = run('Transpose', { x: r }, { perm: [1, 2, 0, 3] });
  for (const t of [xT, dyT, r]) backend.disposeData(t.dataId);
  return dw;
}

const nhwc = (a, N, C, H, W) => tf.tensor4d(nchwToNhwc(a, N, C, H, W), [N, H, W, C]);
const toNchw = (t) => { const [N, H, W, C] = t.shape; return nhwcToNchw(t.dataSync(), N, C, H, W); };
const sync = (run, check, held, note, caveat = false) => ({ async: false, run, check, dispose: () => tf.dispose(held), note, caveat });

function prepare(wl, d) {
  const s = wl.shape;
  const once = (f) => () => tf.tidy(() => { f(); });
  switch (wl.kind) {
    case 'conv': case 'depthwise': case 'convDx': case 'convDw': {
      const x = nhwc(d.x, s.N, s.C, s.H, s.W);
      const dy = nhwc(d.dy, s.N, s.K, s.Ho, s.Wo);
      const cin = s.C / s.groups;
      const filter = wl.kind === 'depthwise'
        ? tf.tensor4d(oihwToHwio(d.w, s.C, 1, s.k, s.k), [s.k, s.k, s.C, 1])
        : tf.tensor4d(oihwToHwio(d.w, s.K, cin, s.k, s.k), [s.k, s.k, cin, s.K]);
      const held = [x, dy, filter];
      if (wl.kind === 'conv') {
        const f = () => tf.conv2d(x, filter, s.stride, s.pad);
        return sync(once(f), () => tf.tidy(() => toNchw(f())), held);
      }
      if (wl.kind === 'depthwise') {
        const f = () => tf.depthwiseConv2d(x, filter, s.stride, s.pad);
        return sync(once(f), () => tf.tidy(() => toNchw(f())), held);
      }
      if (wl.kind === 'convDx') {
        const f = () => tf.conv2dTranspose(dy, filter, x.shape, s.stride, s.pad);
        return sync(once(f), () => tf.tidy(() => toNchw(f())), held, 'Conv2DBackpropInput (tf.conv2dTranspose)');
      }
      const f = () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy },
        { strides: [s.stride, s.stride], pad: s.pad, dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape: filter.shape });
      const check = () => tf.tidy(() => hwioToOihw(f().dataSync(), s.K, s.C, s.k, s.k));
      return sync(once(f), check, held, dwPolyfilled ? 'polyfill: transpose + forward Conv2D (no native kernel)' : undefined, dwPolyfilled);
    }
    case 'poolFwd': case 'poolBwd': {
      const x = nhwc(d.x, s.N, s.C, s.H, s.W);
      const y = tf.maxPool(x, s.k, s.k, 'valid');
      const dy = nhwc(d.dy, s.N, s.C, s.H / s.k, s.W / s.k);
      const f = wl.kind === 'poolFwd'
        ? () => tf.maxPool(x, s.k, s.k, 'valid')
        : () => tf.engine().runKernel('MaxPoolGrad', { dy, input: x, output: y }, { filterSize: [s.k, s.k], strides: [s.k, s.k], pad: 'valid' });
      const note = wl.kind === 'poolBwd' && backendName === 'wasm'
        ? "wasm MaxPoolGrad starts each window's max at the smallest positive float, so windows whose inputs are all negative " +
          '(1/16 of them with this data) get no gradient: a known tfjs-wasm bug' : undefined;
      return sync(once(f), () => tf.tidy(() => toNchw(f())), [x, y, dy], note);
    }
    case 'bnFwd': case 'bnFwdBwd': {
      const x = nhwc(d.x, s.N, s.C, s.H, s.W), dy = nhwc(d.dy, s.N, s.C, s.H, s.W);
      const gamma = tf.tensor1d(d.gamma), beta = tf.tensor1d(d.beta);
      const bn = (xx, g, b) => { const { mean, variance } = tf.moments(xx, [0, 1, 2]); return tf.batchNorm(xx, mean, variance, b, g, s.eps); };
      const grads = tf.grads(bn);
      const f = wl.kind === 'bnFwd' ? () => bn(x, gamma, beta) : () => grads([x, gamma, beta], dy)[0];
      return sync(once(f), () => tf.tidy(() => toNchw(f())), [x, dy, gamma, beta],
        'tf.moments + tf.batchNorm' + (wl.kind === 'bnFwdBwd' ? ', gradients by tf.grads' : ''));
    }
    case 'gemm': {
      // Weights stored [in, out] (the layout of tfjs's Dense kernel): tf.matMul(x, w, false, true) on the
      // [out, in] array is ~10× slower on the wasm backend (2.2 GFLOP/s here), so we give tfjs its fast path.
      const x = tf.tensor2d(d.x, [s.M, s.K]);
      const w = tf.tidy(() => tf.transpose(tf.tensor2d(d.w, [s.N, s.K])));
      const f = () => tf.matMul(x, w);
      return sync(once(f), () => tf.tidy(() => f().dataSync().slice()), [x, w],
        'tf.matMul(x, wT) with wT [in, out] transposed once outside the timing (tf.matMul(x, w, false, true) is ~10× slower on wasm)');
    }
    case 'train': {
      const check = () => {
        const net = makeCnn(d, s.bn, 1);
        const w0 = net.w1Nchw();
        const loss = net.step(0);
        const w1 = net.w1Nchw();
        net.dispose();
        return Float32Array.of(loss, ...w0.map((v, i) => v - w1[i]));
      };
      const net = makeCnn(d, s.bn, CNN.lr);
      let i = 0;
      return { async: false, run: () => net.step(i++ % d.xs.length, false), check, dispose: () => net.dispose(),
        note: (dwPolyfilled ? 'dW by the polyfill; ' : '') + 'tf ops + optimizer.minimize (SGD)', caveat: dwPolyfilled };
    }
    case 'resnetInfer': {
      const net = resnetInference(d);
      const x = nhwc(d.xs[0], s.N, s.C, s.H, s.H);
      const f = () => net.forward(x);
      return sync(once(f), () => tf.tidy(() => f().dataSync().slice()), [x, ...net.held],
        'graph in tf ops: batch norm folded into the convs, tf.fused.conv2d (bias + ReLU), maxPool, add, mean, fused matMul');
    }
    case 'resnetTrain': {
      if (backendName === 'cpu') return { na: 'not timed: the cpu backend\'s Conv2DBackpropFilter (≈ 0.01 GFLOP/s, see S2 dW) makes one step take minutes' };
      const check = () => {
        const net = resnetTraining(d, s, 1);
        const w0 = net.conv1Oihw();
        const loss = net.step(0);
        const w1 = net.conv1Oihw();
        net.dispose();
        return Float32Array.of(loss, ...w0.map((v, i) => v - w1[i]));
      };
      const net = resnetTraining(d, s, s.lr);
      let i = 0;
      return { async: false, run: () => net.step(i++ % d.xs.length, false), check, dispose: () => net.dispose(),
        note: (dwPolyfilled ? 'dW by the polyfill (strided convs: dilated by the stride); ' : '') + 'tf ops, tf.moments + tf.batchNorm, optimizer.minimize (SGD)',
        caveat: dwPolyfilled };
    }
    default:
      return { na: `no ${wl.kind}` };
  }
}

// ResNets (bench/workloads.mjs resnetPlan), NHWC. conv(p) → { filter HWIO } from the OIHW weights by name.
const hwio = (d, name, p) => tf.tensor4d(oihwToHwio(d.params[name], p.cout, p.cin, p.k, p.k), [p.k, p.k, p.cin, p.cout]);
const blockConvs = (p) => ({
  conv1: { name: `${p.prefix}.conv1`, bn: `${p.prefix}.bn1`, cin: p.cin, cout: p.cout, k: 3, stride: p.stride, pad: 1 },
  conv2: { name: `${p.prefix}.conv2`, bn: `${p.prefix}.bn2`, cin: p.cout, cout: p.cout, k: 3, stride: 1, pad: 1 },
  down: p.down ? { name: `${p.prefix}.downsample.0`, bn: `${p.prefix}.downsample.1`, cin: p.cin, cout: p.cout, k: 1, stride: p.stride, pad: 0 } : null,
});

/** Inference graph: every conv with its batch norm folded in (what a converted model holds), bias and ReLU fused. */
function resnetInference(d) {
  const held = [];
  const keep = (t) => (held.push(t), t);
  const conv = (c) => {
    const { w, b } = foldBn(d.params[`${c.name}.weight`], d.params, c.bn);
    const filter = keep(tf.tensor4d(oihwToHwio(w, c.cout, c.cin, c.k, c.k), [c.k, c.k, c.cin, c.cout])), bias = keep(tf.tensor1d(b));
    return (x, relu) => tf.fused.conv2d({ x, filter, strides: c.stride, pad: c.pad, bias, activation: relu ? 'relu' : 'linear' });
  };
  const steps = [];
  const plan = d.plan;
  for (let i = 0; i < plan.length; i++) {
    const p = plan[i];
    if (p.op === 'conv') {                                      // the stem: conv, bn, relu
      const f = conv({ ...p, bn: plan[i + 1].name });
      steps.push((x) => f(x, true));
      i += 2;
    } else if (p.op === 'maxpool') steps.push((x) => tf.maxPool(x, 3, 2, 1));
    else if (p.op === 'block') {
      const c = blockConvs(p), c1 = conv(c.conv1), c2 = conv(c.conv2), down = c.down ? conv(c.down) : null;
      steps.push((x) => tf.relu(tf.add(c2(c1(x, true), false), down ? down(x, false) : x)));
    } else if (p.op === 'gap') steps.push((x) => tf.mean(x, [1, 2]));
    else if (p.op === 'fc') {
      const w = keep(tf.tidy(() => tf.transpose(tf.tensor2d(d.params['fc.weight'], [p.cout, p.cin])))), bias = keep(tf.tensor1d(d.params['fc.bias']));
      steps.push((x) => tf.fused.matMul({ a: x, b: w, bias }));
    }
  }
  return { held, forward: (x) => steps.reduce((h, f) => f(h), x) };
}

/** Training graph: tf.variables for every parameter, batch norm on batch statistics, SGD through optimizer.minimize. */
function resnetTraining(d, s, lr) {
  const v = {}, varList = [];
  const variable = (name, t) => { v[name] = tf.variable(t); varList.push(v[name]); return v[name]; };
  const bnVars = (name) => { variable(`${name}.weight`, tf.tensor1d(d.params[`${name}.weight`])); variable(`${name}.bias`, tf.tensor1d(d.params[`${name}.bias`])); };
  const norm = (z, name) => { const { mean, variance } = tf.moments(z, [0, 1, 2]); return tf.batchNorm(z, mean, variance, v[`${name}.bias`], v[`${name}.weight`], 1e-5); };
  const convBn = (c) => {
    variable(`${c.name}.weight`, hwio(d, `${c.name}.weight`, c));
    bnVars(c.bn);
    return (x) => norm(tf.conv2d(x, v[`${c.name}.weight`], c.stride, c.pad), c.bn);
  };
  const steps = [];
  const plan = d.plan;
  let classes = 0;
  for (let i = 0; i < plan.length; i++) {
    const p = plan[i];
    if (p.op === 'conv') {
      const f = convBn({ ...p, bn: plan[i + 1].name });
      steps.push((x) => tf.relu(f(x)));
      i += 2;
    } else if (p.op === 'maxpool') steps.push((x) => tf.maxPool(x, 3, 2, 1));
    else if (p.op === 'block') {
      const c = blockConvs(p), c1 = convBn(c.conv1), c2 = convBn(c.conv2), down = c.down ? convBn(c.down) : null;
      steps.push((x) => tf.relu(tf.add(c2(tf.relu(c1(x))), down ? down(x) : x)));
    } else if (p.op === 'gap') steps.push((x) => tf.mean(x, [1, 2]));
    else if (p.op === 'fc') {
      classes = p.cout;
      variable('fc.weight', tf.tidy(() => tf.transpose(tf.tensor2d(d.params['fc.weight'], [p.cout, p.cin]))));
      variable('fc.bias', tf.tensor1d(d.params['fc.bias']));
      steps.push((x) => tf.add(tf.matMul(x, v['fc.weight']), v['fc.bias']));
    }
  }
  const c1 = plan[0];
  const xs = d.xs.map((x) => nhwc(x, s.N, s.C, s.H, s.H));
  const onehot = tf.tidy(() => tf.oneHot(tf.tensor1d(d.labels, 'int32'), classes).toFloat());
  const opt = tf.train.sgd(lr);
  const loss = (x) => tf.losses.softmaxCrossEntropy(onehot, steps.reduce((h, f) => f(h), x));
  return {
    step(b, wantLoss = true) {
      const cost = opt.minimize(() => loss(xs[b]), wantLoss, varList);
      if (!wantLoss) return;
      const l = cost.dataSync()[0];
      cost.dispose();
      return l;
    },
    conv1Oihw: () => hwioToOihw(v['conv1.weight'].dataSync(), c1.cout, c1.cin, c1.k, c1.k),
    dispose() { tf.dispose([...varList, ...xs, onehot]); opt.dispose(); },
  };
}

/** The benchmark CNN in tf ops (NHWC), trained by tf.train.sgd(lr).minimize. */
function makeCnn(d, bn, lr) {
  const { N, H, C1, C2, classes } = CNN;
  const p = d.params;
  const fcNhwc = new Float32Array(d.flat * classes);            // [1568 in NHWC flatten order, 10]
  const hw = (H / 4) * (H / 4);
  for (let j = 0; j < classes; j++) for (let c = 0; c < C2; c++) for (let i = 0; i < hw; i++) {
    fcNhwc[(i * C2 + c) * classes + j] = p.fc[j * d.flat + c * hw + i];
  }
  const v = {
    w1: tf.variable(tf.tensor4d(oihwToHwio(p.w1, C1, 1, 3, 3), [3, 3, 1, C1])), b1: tf.variable(tf.tensor1d(p.b1)),
    w2: tf.variable(tf.tensor4d(oihwToHwio(p.w2, C2, C1, 3, 3), [3, 3, C1, C2])), b2: tf.variable(tf.tensor1d(p.b2)),
    fc: tf.variable(tf.tensor2d(fcNhwc, [d.flat, classes])), fcb: tf.variable(tf.tensor1d(p.fcb)),
  };
  if (bn) for (const k of ['g1', 'be1', 'g2', 'be2']) v[k] = tf.variable(tf.tensor1d(p[k]));
  const xs = d.xs.map((x) => tf.tensor4d(x, [N, H, H, 1]));           // C = 1: NCHW and NHWC coincide
  const onehot = tf.oneHot(tf.tensor1d(d.labels, 'int32'), classes).toFloat();
  const norm = (z, g, b) => { const { mean, variance } = tf.moments(z, [0, 1, 2]); return tf.batchNorm(z, mean, variance, b, g, 1e-5); };
  const opt = tf.train.sgd(lr);
  const varList = cnnParamNames(bn).map((k) => v[k]);

  const loss = (x) => {
    let z = tf.add(tf.conv2d(x, v.w1, 1, 1), v.b1);
    if (bn) z = norm(z, v.g1, v.be1);
    let a = tf.maxPool(tf.relu(z), 2, 2, 'valid');
    z = tf.add(tf.conv2d(a, v.w2, 1, 1), v.b2);
    if (bn) z = norm(z, v.g2, v.be2);
    a = tf.maxPool(tf.relu(z), 2, 2, 'valid');
    const logits = tf.add(tf.matMul(tf.reshape(a, [N, d.flat]), v.fc), v.fcb);
    return tf.losses.softmaxCrossEntropy(onehot, logits);
  };
  return {
    step(b, wantLoss = true) {
      const cost = opt.minimize(() => loss(xs[b]), wantLoss, varList);
      if (!wantLoss) return;
      const l = cost.dataSync()[0];
      cost.dispose();
      return l;
    },
    w1Nchw: () => hwioToOihw(v.w1.dataSync(), C1, 1, 3, 3),
    dispose() { tf.dispose([...Object.values(v), ...xs, onehot]); opt.dispose(); },
  };
}
