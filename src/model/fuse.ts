// fuseForInference: a new eval-mode model in which every BatchNorm that follows a conv or linear layer is folded
// into it (torch.nn.utils.fuse_conv_bn_eval): with s = γ / √(running_var + eps), W'[o] = s[o]·W[o] and
// b'[o] = (b[o] − running_mean[o])·s[o] + β[o]. Fusing is done in float64 and saves one pass per BN at inference.
// Inside residual/branches containers every body, shortcut and branch is fused the same way.
import { Sequential } from './sequential.js';
import { Conv1d, Conv2d } from '../layers/conv.js';
import { Linear } from '../layers/basic.js';
import { BatchNormBase } from '../layers/norm.js';
import { layerFromConfig } from '../layers/index.js';
import type { Layer, LayerConfig } from '../layers/layer.js';
import { Container } from './containers.js';

/** Pairs each conv/linear with the BatchNorm right after it, in one list of layers. */
type Plan = { layer: Layer; bn: BatchNormBase | null; children: Plan[][] | null };

function planList(src: readonly Layer[]): Plan[] {
  const plan: Plan[] = [];
  for (let i = 0; i < src.length; i++) {
    const l = src[i], next = src[i + 1];
    const fusable = (l instanceof Conv2d || l instanceof Conv1d || (l instanceof Linear && l.outputShape.length === 1)) &&
      next instanceof BatchNormBase && next.runningMean !== null;
    // Containers (residual, branches) are fused inside: each body / shortcut / branch is its own list.
    plan.push({ layer: l, bn: fusable ? next as BatchNormBase : null, children: l instanceof Container ? l.childLists().map(planList) : null });
    if (fusable) i++;
  }
  return plan;
}

function configOf({ layer, bn, children }: Plan): LayerConfig {
  const c = children ? (layer as Container).withChildConfigs(children.map((list) => list.map(configOf))) : layer.config();
  const fused = bn ? { ...c, bias: true } : c;
  return layer.name !== null ? { ...fused, name: layer.name } : fused;   // module names stay (torchvision paths)
}

function copyInto({ layer, bn, children }: Plan, dst: Layer): void {
  if (children) {
    const lists = (dst as Container).childLists();
    children.forEach((list, k) => list.forEach((p, j) => copyInto(p, lists[k][j])));
    return;
  }
  if (!bn) {
    layer.params.forEach((p, k) => dst.params[k].value.write(p.value.read()));
    layer.buffers.forEach((b, k) => dst.buffers[k].value.write(b.value.read()));
    if (layer instanceof BatchNormBase && dst instanceof BatchNormBase) dst.numBatchesTracked = layer.numBatchesTracked;
    return;
  }
  const conv = layer as Conv2d | Conv1d | Linear;
  const w = conv.weightTensor.read(), b = conv.biasTensor?.read();
  const C = conv.weightTensor.shape[0], per = w.length / C;
  const rm = bn.runningMean!.value.read(), rv = bn.runningVar!.value.read();
  const gamma = bn.gammaP?.value.read(), beta = bn.betaP?.value.read();
  const w2 = new Float32Array(w.length), b2 = new Float32Array(C);
  for (let o = 0; o < C; o++) {
    const s = (gamma ? gamma[o] : 1) / Math.sqrt(rv[o] + bn.eps);
    for (let k = 0; k < per; k++) w2[o * per + k] = w[o * per + k] * s;
    b2[o] = ((b ? b[o] : 0) - rm[o]) * s + (beta ? beta[o] : 0);
  }
  dst.params[0].value.write(w2);
  dst.params[1].value.write(b2);
}

export function fuseForInference(model: Sequential): Sequential {
  const plan = planList(model.layers);
  const layers = plan.map((p, i) => layerFromConfig(configOf(p), `fuseForInference: layer ${i}`));
  const fused = new Sequential(model.engine, layers, { seed: model.seed, inputShape: model.inputShape! });
  try {
    plan.forEach((p, i) => copyInto(p, fused.layers[i]));
  } catch (e) {
    fused.dispose();
    throw e;
  }
  return fused.eval();
}
