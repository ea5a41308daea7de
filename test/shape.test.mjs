// ops.reshape: a copy with a new shape (−1 inferred, as torch.reshape), and its errors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { getEngine, checkNoLeak, disposeAll } from './helpers.mjs';

test('reshape keeps the row-major order, infers −1, copies (the input stays usable) and keeps the dtype', async () => {
  const nn = await getEngine();
  await checkNoLeak(nn, () => {
    const x = nn.tensor(Float32Array.from({ length: 24 }, (_, i) => i - 5.5), [2, 3, 4]);
    const a = nn.ops.reshape(x, [6, 4]);
    const b = nn.ops.reshape(x, [2, -1]);
    const c = nn.ops.reshape(x, [-1]);
    const labels = nn.tensor([3, 1, 4, 1], [2, 2], 'int32');
    const l = nn.ops.reshape(labels, [4]);
    try {
      assert.equal(a.shape, [6, 4]);
      assert.equal(b.shape, [2, 12]);
      assert.equal(c.shape, [24]);
      assert.equal([...a.read()], [...x.read()]);
      assert.equal([...b.read()], [...x.read()]);
      assert.is(l.dtype, 'int32');
      assert.equal([...l.read()], [3, 1, 4, 1]);
      a.write(new Float32Array(24));                    // a copy: writing it leaves x alone
      assert.is(x.read()[23], 17.5);
    } finally {
      disposeAll([x, a, b, c, labels, l]);
    }
  });
});

test('reshape errors name the op, the argument and both shapes', async () => {
  const nn = await getEngine();
  const x = nn.tensor(new Float32Array(12), [3, 4]);
  try {
    assert.throws(() => nn.ops.reshape(x, [5, 2]), /reshape: shape \[5, 2\] has 10 elements, x \[3, 4\] has 12/);
    assert.throws(() => nn.ops.reshape(x, [5, -1]), /reshape: cannot infer the −1 dimension of \[5, -1\] for x of shape \[3, 4\]/);
    assert.throws(() => nn.ops.reshape(x, [-1, -1]), /reshape: shape must be at most one −1/);
    assert.throws(() => nn.ops.reshape(x, [2.5, 2]), /reshape: shape must be non-negative integers/);
    assert.throws(() => nn.ops.reshape(x, 12), /reshape: shape must be an array of integers, got 12/);
    const d = nn.tensor(new Float32Array(4), [4]);
    d.dispose();
    assert.throws(() => nn.ops.reshape(d, [2, 2]), /reshape: x .*dispos/);
  } finally {
    x.dispose();
  }
});

test.run();
