// FGSM against PyTorch on a small ResNet trained on MNIST digits (issue #9): the weights PyTorch trained
// (test/fixtures/gen_fgsm.py → test/fixtures/fgsm/resnet8.safetensors, torchvision's names) load by name into
// nn.models.resnet8; in eval mode (batch-norm running statistics) the clean logits of 500 held-out digits match
// PyTorch's float64 forward pass by the 1e-4 rule, and the accuracy under FGSM at eps ∈ {0, 0.05, 0.1, 0.2} (pixel
// units, clamped to [0, 1]) is within 1 percentage point of PyTorch's own float32 run.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { getEngine, assertClose, checkNoLeak } from './helpers.mjs';

const dir = new URL('./fixtures/fgsm/', import.meta.url);
const FX = JSON.parse(readFileSync(new URL('fgsm.json', dir), 'utf8'));
const BATCH = 100;

function decode(a) {
  const b = Buffer.from(a.data, 'base64'), n = a.shape.reduce((p, d) => p * d, 1);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out = a.dtype === 'int32' ? new Int32Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = a.dtype === 'int32' ? v.getInt32(4 * i, true) : v.getFloat32(4 * i, true);
  return out;
}

/** The test digits, normalised as examples/mnist-data.mjs does: float32((thousandths / 1000 − mean) / std). */
function digits() {
  const b = gunzipSync(readFileSync(new URL('digits.u16.gz', dir)));
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const x = new Float32Array(b.byteLength / 2);
  for (let i = 0; i < x.length; i++) x[i] = (v.getUint16(2 * i, true) / 1000 - FX.mean) / FX.std;
  return x;
}

function argmaxRows(v, K) {
  const out = new Int32Array(v.length / K);
  for (let i = 0; i < out.length; i++) {
    let b = 0;
    for (let c = 1; c < K; c++) if (v[i * K + c] > v[i * K + b]) b = c;
    out[i] = b;
  }
  return out;
}

test('fixture: 500 digits, labels, PyTorch\'s accuracies at eps 0, 0.05, 0.1, 0.2', () => {
  assert.is(FX.n, 500);
  assert.is(digits().length, FX.n * 784);
  assert.is(FX.labels.length, FX.n);
  assert.equal(FX.fgsm.map((r) => r.eps), [0, 0.05, 0.1, 0.2]);
});

test('resnet8 with PyTorch\'s weights: clean logits (1e-4 rule) and FGSM accuracy within 1 point of PyTorch at every eps', async () => {
  const nn = await getEngine();
  const x = digits(), labels = Int32Array.from(FX.labels), N = FX.n, S = 784;
  const range = [(0 - FX.mean) / FX.std, (1 - FX.mean) / FX.std];
  await checkNoLeak(nn, () => {
    const model = nn.models.resnet8({ seed: 1 });
    try {
      model.loadWeights(readFileSync(new URL('resnet8.safetensors', dir)));   // strict: every name, num_batches_tracked accepted
      model.eval();
      const logits = new Float32Array(N * 10);
      const preds = FX.fgsm.map(() => new Int32Array(N));
      for (let s = 0; s < N; s += BATCH) {
        const xb = nn.tensor(x.subarray(s * S, (s + BATCH) * S), [BATCH, 1, 28, 28]);
        const yb = labels.subarray(s, s + BATCH);
        try {
          const y = model.forward(xb);
          logits.set(y.read(), s * 10);
          y.dispose();
          FX.fgsm.forEach((run, e) => {
            const adv = nn.adversarial.fgsm(model, xb, yb, run.eps / FX.std, { range });
            const p = model.predict(adv);
            preds[e].set(argmaxRows(p.read(), 10), s);
            p.dispose();
            adv.dispose();
          });
        } finally {
          xb.dispose();
        }
      }
      assertClose(logits, decode(FX.logits), 'clean logits');
      const clean = argmaxRows(logits, 10);
      FX.fgsm.forEach((run, e) => {
        let correct = 0, agree = 0;
        const want = decode(run.pred);
        for (let i = 0; i < N; i++) { if (preds[e][i] === labels[i]) correct++; if (preds[e][i] === want[i]) agree++; }
        const acc = correct / N;
        console.log(`  eps ${run.eps}: accuracy ${(100 * acc).toFixed(1)}% vs PyTorch ${(100 * run.accuracy).toFixed(1)}% (float64 ${(100 * run.accuracy64).toFixed(1)}%); same prediction on ${agree}/${N} digits`);
        assert.ok(Math.abs(acc - run.accuracy) <= 0.01, `eps ${run.eps}: accuracy ${acc} vs PyTorch's ${run.accuracy} (more than 1 percentage point apart)`);
        if (run.eps === 0) assert.equal(Array.from(preds[e]), Array.from(clean), 'eps 0 leaves the inputs unchanged');
      });
    } finally {
      model.dispose();
    }
  });
});

test.run();
