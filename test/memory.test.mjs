// The allocator, tensors, tidy, growth and out-of-memory behaviour.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { init } from 'simdnn';
import { BACKEND, getEngine, checkNoLeak } from './helpers.mjs';

test('tensor round trip, shape, size, dtype and a copy on read', async () => {
  const nn = await getEngine();
  await checkNoLeak(nn, () => {
    const t = nn.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    assert.equal(t.shape, [2, 3]);
    assert.is(t.size, 6);
    assert.is(t.dtype, 'float32');
    const r = t.read();
    assert.instance(r, Float32Array);
    assert.equal([...r], [1, 2, 3, 4, 5, 6]);
    r[0] = 99;
    assert.is(t.read()[0], 1, 'read() returns a copy');
    const i = nn.tensor([7, -8], [2], 'int32');
    assert.instance(i.read(), Int32Array);
    assert.equal([...i.read()], [7, -8]);
    t.dispose();
    i.dispose();
  });
});

test('nn.memory counts live tensors and bytes; dispose is idempotent', async () => {
  const nn = await getEngine();
  const base = nn.memory();
  const a = nn.tensor(new Float32Array(10), [10]);
  const b = nn.zeros([3, 4]);
  assert.is(nn.memory().tensors, base.tensors + 2);
  assert.is(nn.memory().bytes, base.bytes + 40 + 48);
  a.dispose();
  a.dispose();
  b.dispose();
  assert.equal([nn.memory().tensors, nn.memory().bytes], [base.tensors, base.bytes]);
});

test('freed blocks are reused and every block is 16-byte aligned', async () => {
  const nn = await getEngine();
  const a = nn.zeros([100]);
  const off = a.offset;
  a.dispose();
  const b = nn.zeros([100]);
  assert.is(b.offset, off, 'same size class reuses the freed block');
  const sizes = [1, 3, 5, 17, 333, 1025, 4099];
  const ts = sizes.map((n) => nn.zeros([n]));
  for (const t of ts) assert.is(t.offset % 16, 0, `offset ${t.offset} of a ${t.size}-element tensor`);
  for (const t of [b, ...ts]) t.dispose();
});

test('tensors created before memory.grow keep their data; reads re-derive views', async () => {
  const nn = await init({ backend: BACKEND });
  const a = nn.tensor([1, 2, 3], [3]);
  const heap = nn.memory().heapBytes;
  const big = nn.zeros([4 * 1024 * 1024]);   // 16 MiB forces growth
  assert.ok(nn.memory().heapBytes > heap, 'memory grew');
  assert.equal([...a.read()], [1, 2, 3]);
  const y = nn.ops.relu(a);
  assert.equal([...y.read()], [1, 2, 3]);
  nn.dispose();
  assert.ok(big.disposed && y.disposed);
});

test('out of memory is an Error naming the request, not a wasm trap', async () => {
  const nn = await init({ backend: BACKEND, maxMemoryBytes: 32 * 1024 * 1024 });
  const keep = nn.zeros([1024]);
  try {
    nn.zeros([64 * 1024 * 1024]);
    assert.unreachable('should have thrown');
  } catch (e) {
    assert.instance(e, Error);
    assert.match(e.message, /zeros: out of memory: cannot allocate 268435456 bytes/);
  }
  assert.equal(nn.memory().tensors, 1, 'the failed allocation left nothing behind');
  assert.equal([...keep.read().slice(0, 2)], [0, 0], 'the engine is still usable');
  nn.dispose();
});

test('tidy frees what it does not return, keeps what it returns, nests', async () => {
  const nn = await getEngine();
  await checkNoLeak(nn, () => {
    const outer = nn.tidy(() => {
      const x = nn.tensor([-1, 2], [2]);
      const inner = nn.tidy(() => {
        const y = nn.ops.relu(x);
        nn.ops.sigmoid(y);          // dropped
        return { y, list: [nn.ops.tanh(y)] };
      });
      assert.ok(!x.disposed, 'the inner scope did not free an outer tensor');
      assert.equal([...inner.y.read()], [0, 2]);
      return inner.list[0];
    });
    assert.is(nn.memory().tensors >= 1, true);
    assert.ok(!outer.disposed);
    outer.dispose();
  });
});

test('tidy disposes its tensors when fn throws, and rejects async functions', async () => {
  const nn = await getEngine();
  await checkNoLeak(nn, () => {
    assert.throws(() => nn.tidy(() => { nn.zeros([4]); throw new Error('boom'); }), /boom/);
    assert.throws(() => nn.tidy(async () => 1), /tidy: fn must be synchronous/);
  });
});

test('keep() lets a tensor outlive its tidy scope', async () => {
  const nn = await getEngine();
  await checkNoLeak(nn, () => {
    let kept;
    nn.tidy(() => { kept = nn.keep(nn.zeros([2])); });
    assert.ok(!kept.disposed);
    kept.dispose();
  });
});

test('tensor() rejects bad shapes, lengths and dtypes', async () => {
  const nn = await getEngine();
  await checkNoLeak(nn, () => {
    assert.throws(() => nn.tensor([1, 2], [3]), /tensor: data has 2 elements, expected 3 for shape \[3\]/);
    assert.throws(() => nn.tensor([1], [0]), /tensor: shape must be an array of positive integers, got \[0\]/);
    assert.throws(() => nn.tensor([1], [1.5]), /tensor: shape must be an array of positive integers/);
    assert.throws(() => nn.tensor([1], [-1]), /tensor: shape must be an array of positive integers/);
    assert.throws(() => nn.tensor([1], [1], 'float64'), /tensor: dtype must be 'float32' or 'int32', got 'float64'/);
    assert.throws(() => nn.tensor(null, [1]), /tensor: data must be an array-like/);
  });
});

test('write() updates in place and bumps the version; disposed tensors refuse read/write', async () => {
  const nn = await getEngine();
  const t = nn.zeros([2]);
  const v = t.version;
  t.write([3, 4]);
  assert.equal([...t.read()], [3, 4]);
  assert.is(t.version, v + 1);
  assert.throws(() => t.write([1]), /write: values has 1 elements, expected 2/);
  t.dispose();
  assert.throws(() => t.read(), /read: tensor \[2\] was disposed/);
});

test.run();
