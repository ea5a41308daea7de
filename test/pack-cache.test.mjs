// Conv weights are packed once per weight value: reused while unchanged, re-packed after an in-place update,
// freed with their tensor.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { getEngine, checkNoLeak, assertClose } from './helpers.mjs';

test('packed weights follow the weight tensor: reuse, invalidation on update, release on dispose', async () => {
  const nn = await getEngine();
  const packedBefore = nn.memory().packedBytes;
  await checkNoLeak(nn, () => {
    // 4 input channels × 3×3 = 36 taps: a GEMM conv (≤ 27 taps run directly, with no packed weights).
    const x = nn.tensor(Array.from({ length: 2 * 4 * 6 * 6 }, (_, i) => Math.sin(i)), [2, 4, 6, 6]);
    const w = nn.tensor(Array.from({ length: 5 * 4 * 3 * 3 }, (_, i) => Math.cos(i)), [5, 4, 3, 3]);
    const y1 = nn.ops.conv2d(x, w, null, { padding: 1 });
    const packed = nn.memory().packedBytes;
    assert.ok(packed > packedBefore, 'the forward packed its weights');
    const y2 = nn.ops.conv2d(x, w, null, { padding: 1 });
    assert.is(nn.memory().packedBytes, packed, 'a second call reuses the packed copy');
    assertClose(y2.read(), y1.read(), 'y (cached pack)');

    // An optimizer step changes w in place: the next forward must see the new values.
    const grad = nn.tensor(new Float32Array(w.size).fill(1), w.shape);
    nn.ops.sgdStep(w, grad, null, { lr: 0.5 });
    const y3 = nn.ops.conv2d(x, w, null, { padding: 1 });
    const fresh = nn.tensor(w.read(), w.shape);       // same values, never packed
    const y4 = nn.ops.conv2d(x, fresh, null, { padding: 1 });
    assertClose(y3.read(), y4.read(), 'y after sgdStep');
    assert.ok(Math.abs(y3.read()[0] - y1.read()[0]) > 1e-3, 'the update changed the output');

    // write() is an update too, and the backward-data pack follows it as well.
    w.write(fresh.read().map((v) => -v));
    fresh.write(w.read());
    const dy = nn.tensor(new Float32Array(y1.size).fill(0.25), y1.shape);
    const g1 = nn.ops.conv2dBackward(dy, x, w, { padding: 1 }, { weight: false, bias: false });
    const g2 = nn.ops.conv2dBackward(dy, x, fresh, { padding: 1 }, { weight: false, bias: false });
    assertClose(g1.dx.read(), g2.dx.read(), 'dx after write');
    for (const t of [x, w, y1, y2, grad, y3, fresh, y4, dy, g1.dx, g2.dx]) t.dispose();
  });
  assert.is(nn.memory().packedBytes, packedBefore, 'disposing the weights freed their packed copies');
});

test.run();
