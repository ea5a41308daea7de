// Causal dilated conv1d stacks (issue 9): the output at step t never depends on inputs after t.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { getEngine, checkNoLeak, rng } from './helpers.mjs';

test('a stack of causal dilated conv1d layers: output at t depends on inputs ≤ t only, length kept', async () => {
  const nn = await getEngine();
  const L = nn.layers;
  await checkNoLeak(nn, () => {
    const model = nn.sequential([
      L.conv1d(4, 3, { causal: true }), L.relu(),
      L.conv1d(4, 3, { causal: true, dilation: 2 }), L.tanh(),
      L.conv1d(3, 2, { causal: true, dilation: 4 }),
    ], { inputShape: [2, 24], seed: 3 });
    const rand = rng(5);
    const T = 24;
    const base = Float32Array.from({ length: 2 * T }, () => rand() * 2 - 1);
    const run = (data) => {
      const x = nn.tensor(data, [1, 2, T]);
      const y = model.predict(x);
      const out = y.read();
      x.dispose();
      y.dispose();
      return out;
    };
    const y0 = run(base);
    assert.is(y0.length, 3 * T, 'causal padding keeps the length');
    for (const t0 of [0, 7, 15, 23]) {
      const changed = base.slice();
      changed[t0] += 1;            // channel 0 at t0
      changed[T + t0] -= 1;        // channel 1 at t0
      const y1 = run(changed);
      for (let c = 0; c < 3; c++) {
        for (let t = 0; t < t0; t++) assert.is(y1[c * T + t], y0[c * T + t], `output c${c} t${t} moved after a change at t${t0}`);
      }
      let moved = 0;
      for (let c = 0; c < 3; c++) for (let t = t0; t < T; t++) if (y1[c * T + t] !== y0[c * T + t]) moved++;
      assert.ok(moved > 0, `a change at t${t0} reaches some output at t ≥ ${t0}`);
    }
    model.dispose();
  });
});

test('causal conv1d rejects explicit padding and non-boolean causal', async () => {
  const nn = await getEngine();
  assert.throws(() => nn.layers.conv1d(4, 3, { causal: true, padding: 1 }), /conv1d: causal: true sets the padding itself .* remove padding 1/);
  assert.throws(() => nn.layers.conv1d(4, 3, { causal: 'yes' }), /conv1d: causal must be a boolean, got 'yes'/);
});

test.run();
