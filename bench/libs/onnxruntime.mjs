// Adapter: onnxruntime-web (wasm execution provider, 1 thread, SIMD build) on tiny ONNX graphs encoded in
// code (bench/libs/onnx-encode.mjs). Weights are graph initializers (as in a real model); only the
// activations are fed per run. Inference-only: no MaxPool/BatchNorm gradients and no training, so those
// rows are n/a. Conv backward is expressed with forward ops: dX = ConvTranspose(dy, W) (exact), dW = a
// Conv of transposed tensors — marked as such in the report.
import * as ort from 'onnxruntime-web';
import { encodeModel } from './onnx-encode.mjs';

export async function create() {
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  ort.env.logLevel = 'error';
  return {
    name: 'onnxruntime-web',
    version: ort.env.versions.web,
    info: 'wasm EP, 1 thread, SIMD build, graphOptimizationLevel all',
    prepare,
  };
}

const attrs = (s) => ({ kernel_shape: [s.k, s.k], pads: [s.pad, s.pad, s.pad, s.pad], strides: [s.stride, s.stride] });
const feed = (data, dims) => new ort.Tensor('float32', data, dims);

async function session(spec) {
  return ort.InferenceSession.create(encodeModel(spec), { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
}

/** An async prepared workload running `sess` on `feeds`, output `out`. */
function prepared(sess, feeds, out, note, caveat = false) {
  const run = async () => { await sess.run(feeds); };
  const check = async () => Float32Array.from((await sess.run(feeds))[out].data);
  return { async: true, run, check, dispose: () => sess.release(), note, caveat };
}

async function prepare(wl, d) {
  const s = wl.shape;
  switch (wl.kind) {
    case 'conv': case 'depthwise': {
      const x = [s.N, s.C, s.H, s.W], y = [s.N, s.K, s.Ho, s.Wo];
      const sess = await session({
        inputs: [['x', x]], outputs: [['y', y]], initializers: [['w', [s.K, s.C / s.groups, s.k, s.k], d.w]],
        nodes: [{ op: 'Conv', inputs: ['x', 'w'], outputs: ['y'], attrs: { ...attrs(s), group: s.groups } }],
      });
      return prepared(sess, { x: feed(d.x, x) }, 'y');
    }
    case 'convDx': {
      const dy = [s.N, s.K, s.Ho, s.Wo], dx = [s.N, s.C, s.H, s.W];
      if (s.stride !== 1) return { na: 'stride ≠ 1' };
      const sess = await session({
        inputs: [['dy', dy]], outputs: [['dx', dx]], initializers: [['w', [s.K, s.C, s.k, s.k], d.w]],
        nodes: [{ op: 'ConvTranspose', inputs: ['dy', 'w'], outputs: ['dx'], attrs: attrs(s) }],
      });
      return prepared(sess, { dy: feed(d.dy, dy) }, 'dx', 'ConvTranspose(dy, W) (ORT has no training kernels in the web build)', true);
    }
    case 'convDw': {
      // dW[co, ci, kh, kw] = Σ_{n,h,w} dy[n, co, h, w]·x[n, ci, h+kh−p, w+kw−p]: a Conv with batch Ci and
      // channels N over xᵀ, filter dyᵀ [Co, N, Ho, Wo], padding p → [Ci, Co, k, k], transposed back.
      if (s.stride !== 1) return { na: 'stride ≠ 1' };
      const x = [s.N, s.C, s.H, s.W], dy = [s.N, s.K, s.Ho, s.Wo];
      const t = { perm: [1, 0, 2, 3] };
      const sess = await session({
        inputs: [['x', x], ['dy', dy]], outputs: [['dw', [s.K, s.C, s.k, s.k]]],
        nodes: [
          { op: 'Transpose', inputs: ['x'], outputs: ['xT'], attrs: t },
          { op: 'Transpose', inputs: ['dy'], outputs: ['dyT'], attrs: t },
          { op: 'Conv', inputs: ['xT', 'dyT'], outputs: ['r'], attrs: { kernel_shape: [s.Ho, s.Wo], pads: [s.pad, s.pad, s.pad, s.pad] } },
          { op: 'Transpose', inputs: ['r'], outputs: ['dw'], attrs: t },
        ],
      });
      return prepared(sess, { x: feed(d.x, x), dy: feed(d.dy, dy) }, 'dw', 'Transpose + Conv + Transpose (no training kernels)', true);
    }
    case 'poolFwd': {
      const x = [s.N, s.C, s.H, s.W];
      const sess = await session({
        inputs: [['x', x]], outputs: [['y', [s.N, s.C, s.H / s.k, s.W / s.k]]],
        nodes: [{ op: 'MaxPool', inputs: ['x'], outputs: ['y'], attrs: { kernel_shape: [s.k, s.k], strides: [s.k, s.k] } }],
      });
      return prepared(sess, { x: feed(d.x, x) }, 'y');
    }
    case 'bnFwd': {
      // Training-mode batch norm (batch statistics) composed from ONNX ops: the web build has no
      // BatchNormalization training_mode.
      const x = [s.N, s.C, s.H, s.W], c = [1, s.C, 1, 1], red = { axes: [0, 2, 3], keepdims: 1 };
      const sess = await session({
        inputs: [['x', x]], outputs: [['y', x]],
        initializers: [['gamma', c, d.gamma], ['beta', c, d.beta], ['eps', [1], [s.eps]]],
        nodes: [
          { op: 'ReduceMean', inputs: ['x'], outputs: ['mean'], attrs: red },
          { op: 'Sub', inputs: ['x', 'mean'], outputs: ['d'] },
          { op: 'Mul', inputs: ['d', 'd'], outputs: ['sq'] },
          { op: 'ReduceMean', inputs: ['sq'], outputs: ['var'], attrs: red },
          { op: 'Add', inputs: ['var', 'eps'], outputs: ['ve'] },
          { op: 'Sqrt', inputs: ['ve'], outputs: ['sd'] },
          { op: 'Div', inputs: ['gamma', 'sd'], outputs: ['scale'] },
          { op: 'Mul', inputs: ['d', 'scale'], outputs: ['y0'] },
          { op: 'Add', inputs: ['y0', 'beta'], outputs: ['y'] },
        ],
      });
      return prepared(sess, { x: feed(d.x, x) }, 'y', 'composed: ReduceMean, Sub, Mul, Sqrt, Div, Add', true);
    }
    case 'gemm': {
      const sess = await session({
        inputs: [['x', [s.M, s.K]]], outputs: [['y', [s.M, s.N]]], initializers: [['w', [s.N, s.K], d.w]],
        nodes: [{ op: 'Gemm', inputs: ['x', 'w'], outputs: ['y'], attrs: { transB: 1 } }],
      });
      return prepared(sess, { x: feed(d.x, [s.M, s.K]) }, 'y', 'Gemm(x, w, transB = 1), w an initializer');
    }
    case 'resnetInfer': {
      const x = [s.N, s.C, s.H, s.H];
      const sess = await session({ inputs: [['x', x]], outputs: [['y', [s.N, s.classes]]], ...resnetGraph(d) });
      return prepared(sess, { x: feed(d.xs[0], x) }, 'y',
        'exported-model graph: Conv, BatchNormalization, Relu, MaxPool, Add, GlobalAveragePool, Flatten, Gemm (ORT fuses Conv+BN+Relu itself)');
    }
    case 'poolBwd': case 'bnFwdBwd': case 'train': case 'resnetTrain':
      return { na: 'inference only (no gradients in onnxruntime-web)' };
    default:
      return { na: `no ${wl.kind}` };
  }
}

/**
 * A ResNet (bench/workloads.mjs resnetPlan) as the ONNX graph torch.onnx.export writes for torchvision's model in
 * eval mode: initializers named as the state_dict, input 'x', output 'y'.
 */
function resnetGraph(d) {
  const nodes = [], initializers = [];
  for (const [name, shape] of Object.entries(d.shapes)) initializers.push([name, shape, d.params[name]]);
  let n = 0;
  const tmp = () => `t${n++}`;
  const node = (op, inputs, attrs) => { const out = tmp(); nodes.push({ op, inputs, outputs: [out], attrs }); return out; };
  const conv = (x, name, k, stride, pad) => node('Conv', [x, `${name}.weight`], { kernel_shape: [k, k], strides: [stride, stride], pads: [pad, pad, pad, pad] });
  const bn = (x, name) => node('BatchNormalization', [x, ...['weight', 'bias', 'running_mean', 'running_var'].map((t) => `${name}.${t}`)], { epsilon: 1e-5 });
  let h = 'x';
  const plan = d.plan;
  for (let i = 0; i < plan.length; i++) {
    const p = plan[i];
    if (p.op === 'conv') h = conv(h, p.name, p.k, p.stride, p.pad);
    else if (p.op === 'bn') h = bn(h, p.name);
    else if (p.op === 'relu') h = node('Relu', [h]);
    else if (p.op === 'maxpool') h = node('MaxPool', [h], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] });
    else if (p.op === 'block') {
      const a = node('Relu', [bn(conv(h, `${p.prefix}.conv1`, 3, p.stride, 1), `${p.prefix}.bn1`)]);
      const b = bn(conv(a, `${p.prefix}.conv2`, 3, 1, 1), `${p.prefix}.bn2`);
      const sc = p.down ? bn(conv(h, `${p.prefix}.downsample.0`, 1, p.stride, 0), `${p.prefix}.downsample.1`) : h;
      h = node('Relu', [node('Add', [b, sc])]);
    } else if (p.op === 'gap') h = node('Flatten', [node('GlobalAveragePool', [h])], { axis: 1 });
    else if (p.op === 'fc') nodes.push({ op: 'Gemm', inputs: [h, 'fc.weight', 'fc.bias'], outputs: ['y'], attrs: { transB: 1 } });
  }
  return { nodes, initializers };
}
