// Loading: backend selection, feature detection, init's argument checks.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { init } from 'simdnn';
import { BACKEND, THREADS, getEngine } from './helpers.mjs';

test('the engine runs the build this process asked for', async () => {
  const nn = await getEngine();
  if (BACKEND !== 'auto') assert.is(nn.backend, BACKEND);
  assert.is(nn.threads, THREADS);
});

test("'auto' picks the best build the host validates", async () => {
  const nn = await init();
  const relaxed = process.execArgv.includes('--experimental-wasm-relaxed-simd');
  assert.is(nn.backend, relaxed ? 'relaxed-simd' : 'simd');   // Node 20 validates SIMD; relaxed only behind the flag
  nn.dispose();
});

test('relaxed SIMD is refused with a clear error where the host does not validate it', async () => {
  if (process.execArgv.includes('--experimental-wasm-relaxed-simd')) return;
  try {
    await init({ backend: 'relaxed-simd' });
    assert.unreachable('init should have thrown');
  } catch (e) {
    assert.match(e.message, /relaxed-simd' is not supported by this host.*--experimental-wasm-relaxed-simd/);
  }
});

test('init rejects unknown backends, bad thread counts and memory limits', async () => {
  for (const [opts, re] of [
    [{ backend: 'gpu' }, /init: backend must be one of .*got 'gpu'/],
    [{ threads: 0 }, /init: threads must be a positive integer, got 0/],
    [{ threads: 1.5 }, /init: threads must be a positive integer, got 1.5/],
    [{ maxMemoryBytes: 10 }, /init: maxMemoryBytes must be between/],
  ]) {
    try {
      await init(opts);
      assert.unreachable(`init(${JSON.stringify(opts)}) should have thrown`);
    } catch (e) {
      assert.match(e.message, re);
    }
  }
});

test('a disposed engine refuses new work', async () => {
  const nn = await init({ backend: BACKEND });
  const t = nn.tensor([1, 2], [2]);
  nn.dispose();
  assert.ok(t.disposed);
  assert.throws(() => nn.tensor([1], [1]), /engine was disposed/);
});

test('every build, plain and shared-memory, instantiates on its memory and computes', async () => {
  const { readFile } = await import('node:fs/promises');
  const relaxed = process.execArgv.includes('--experimental-wasm-relaxed-simd');
  for (const name of ['scalar', 'simd', 'relaxed-simd']) {
    if (name === 'relaxed-simd' && !relaxed) continue;
    for (const shared of [false, true]) {
      const bytes = await readFile(new URL(`../build/${name}${shared ? '-shared' : ''}.wasm`, import.meta.url));
      const memory = new WebAssembly.Memory(shared ? { initial: 2, maximum: 32768, shared: true } : { initial: 2 });
      if (shared) assert.instance(memory.buffer, SharedArrayBuffer);
      const { instance } = await WebAssembly.instantiate(bytes, { env: { memory } });
      const k = instance.exports;
      const base = k.heap_base();
      const x = new Float32Array(memory.buffer, base, 8);
      x.set([-2, -1, 0, 1, 2, 3, -4, 5]);
      k.relu_forward(base, base + 64, 8);
      assert.equal([...new Float32Array(memory.buffer, base + 64, 8)], [0, 0, 0, 1, 2, 3, 0, 5], `${name}${shared ? '-shared' : ''}`);
    }
  }
});

test.run();
