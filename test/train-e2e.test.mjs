// End-to-end check against PyTorch (test/fixtures/gen_train.py → test/fixtures/train/): a small CNN with batch
// norm built with nn.sequential from the same initial state_dict gives PyTorch's logits, loss, every parameter
// gradient and the running statistics; 3 steps of SGD with momentum, Adam and AdamW give PyTorch's parameters and
// buffers; the eval-mode logits after the SGD run match, and the safetensors file PyTorch wrote loads into the same
// architecture and predicts what PyTorch predicted. Comparison rule of DESIGN.md throughout.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { getEngine, assertClose, checkNoLeak } from './helpers.mjs';

const DIR = new URL('./fixtures/train/', import.meta.url);
const FX = JSON.parse(readFileSync(new URL('e2e.json', DIR), 'utf8'));

/** A fixture array ({shape, dtype, data: base64 little-endian}) as a typed array. */
function decode(a) {
  const bytes = Buffer.from(a.data, 'base64');
  const n = a.shape.reduce((p, d) => p * d, 1);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = a.dtype === 'int32' ? new Int32Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = a.dtype === 'int32' ? view.getInt32(4 * i, true) : view.getFloat32(4 * i, true);
  return out;
}

function buildModel(nn) {
  const layers = FX.layers.map(({ type, ...opts }) => (Object.keys(opts).length ? nn.layers[type](opts) : nn.layers[type]()));
  return nn.sequential(layers, { inputShape: FX.inputShape, seed: 1 });
}

/** The initial state as loadWeights takes it (num_batches_tracked is not a tensor). */
function initialWeights() {
  return Object.fromEntries(Object.entries(FX.initial).filter(([, v]) => typeof v === 'object').map(([k, v]) => [k, decode(v)]));
}

function batch(nn, i) {
  const b = FX.batches[i];
  return { x: nn.tensor(decode(b.x), b.x.shape), y: nn.tensor(decode(b.labels), b.labels.shape, 'int32') };
}

test('architecture: the same state_dict names and shapes as PyTorch', async () => {
  const nn = await getEngine();
  await checkNoLeak(nn, () => {
    const model = buildModel(nn);
    const names = [...model.stateDict().keys()];
    const want = Object.keys(FX.initial).filter((k) => !k.endsWith('num_batches_tracked'));
    assert.equal(names.sort(), want.sort());
    for (const [k, t] of model.stateDict()) assert.equal([...t.shape], FX.initial[k].shape, k);
    model.dispose();
  });
});

test('one training step: logits, loss, every parameter gradient, running statistics', async () => {
  const nn = await getEngine();
  await checkNoLeak(nn, () => {
    const model = buildModel(nn).loadWeights(initialWeights());
    const { x, y } = batch(nn, 0);
    const logits = model.forward(x);
    assertClose(logits.read(), decode(FX.step0.logits), 'logits');
    const ce = nn.ops.softmaxCrossEntropy(logits, y);
    assertClose([ce.loss], [FX.step0.loss], 'loss');
    model.backward(ce.dlogits);
    const params = new Map(model.namedParameters());
    assert.is(params.size, Object.keys(FX.step0.grads).length);
    for (const [name, g] of Object.entries(FX.step0.grads)) {
      const p = params.get(name);
      assert.ok(p && p.grad, `${name} has a gradient`);
      assertClose(p.grad.read(), decode(g), `grad ${name}`);
    }
    const state = model.stateDict();
    for (const [name, r] of Object.entries(FX.step0.running)) assertClose(state.get(name).read(), decode(r), name);
    for (const t of [logits, ce.dlogits, ce.probs, x, y]) t.dispose();
    model.dispose();
  });
});

for (const run of FX.runs) {
  test(`3 ${run.optimizer} steps: parameters and buffers after each match PyTorch`, async () => {
    const nn = await getEngine();
    await checkNoLeak(nn, () => {
      const model = buildModel(nn).loadWeights(initialWeights());
      const opt = nn.optim[run.optimizer](model, run.opts);
      for (let i = 0; i < 3; i++) {
        const { x, y } = batch(nn, i);
        const r = model.trainStep(x, y, opt);
        assertClose([r.loss], [run.losses[i]], `loss of step ${i + 1}`);
        x.dispose(); y.dispose();
      }
      const state = model.stateDict();
      for (const [name, want] of Object.entries(run.after)) {
        if (name.endsWith('num_batches_tracked')) {
          const bn = model.layers[Number(name.split('.')[0])];
          assert.is(bn.numBatchesTracked, want, name);
          continue;
        }
        assertClose(state.get(name).read(), decode(want), `${run.optimizer}: ${name}`);
      }
      if (run.optimizer === 'sgd') {
        // Eval mode: batch norm uses the running statistics.
        const { x, y } = batch(nn, 0);
        const out = model.eval().predict(x);
        assertClose(out.read(), decode(FX.eval.logits), 'eval logits');
        out.dispose(); x.dispose(); y.dispose();
      }
      model.zeroGrad();
      opt.dispose();
      model.dispose();
    });
  });
}

test('a safetensors file written by PyTorch loads into the same architecture and predicts what PyTorch did', async () => {
  const nn = await getEngine();
  const bytes = new Uint8Array(readFileSync(new URL('pytorch.safetensors', DIR)));
  await checkNoLeak(nn, () => {
    const model = buildModel(nn).loadWeights(bytes);
    const sgd = FX.runs.find((r) => r.optimizer === 'sgd');
    const state = model.stateDict();
    for (const [name, want] of Object.entries(sgd.after)) {
      if (typeof want === 'number') assert.is(model.layers[Number(name.split('.')[0])].numBatchesTracked, want, name);
      else assertClose(state.get(name).read(), decode(want), name);
    }
    const { x, y } = batch(nn, 0);
    const out = model.eval().predict(x);
    assertClose(out.read(), decode(FX.eval.logits), 'eval logits');
    // nn.load needs our architecture metadata: a bare state_dict says what to do instead.
    assert.throws(() => nn.load(bytes), /no simdnn architecture.*loadWeights/);
    out.dispose(); x.dispose(); y.dispose();
    model.dispose();
  });
});

test.run();
