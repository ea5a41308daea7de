// Softmax cross-entropy with mean reduction (torch.nn.functional.cross_entropy on [N, K] logits).
import type { Engine } from '../engine.js';
import type { Tensor } from '../tensor.js';
import { checkTensor, shapeStr } from './check.js';

export function softmaxCrossEntropy(e: Engine, logits: Tensor, labels: Tensor): { loss: number; dlogits: Tensor; probs: Tensor } {
  const op = 'softmaxCrossEntropy';
  checkTensor(e, op, 'logits', logits, { rank: 2 });
  const [N, K] = logits.shape;
  checkTensor(e, op, 'labels', labels, { dtype: 'int32', rank: 1 });
  if (labels.shape[0] !== N) throw new Error(`${op}: labels must have shape [${N}] (one per logits row), got ${shapeStr(labels.shape)}`);
  const l = labels.view();
  for (let i = 0; i < N; i++) {
    if (!(l[i] >= 0 && l[i] < K)) throw new Error(`${op}: labels[${i}] must be in [0, ${K}), got ${l[i]}`);
  }
  const probs = e.empty([N, K], 'float32', op);
  const dlogits = e.empty([N, K], 'float32', op);
  const total = e.kernels.softmax_xent(logits.offset, labels.offset, probs.offset, dlogits.offset, N, K);
  return { loss: total / N, dlogits, probs };
}
