// Worker threads over the shared memory: results equal one thread's (convolution forward and backward-data
// exactly; backward-filter within float reassociation), errors come back to the caller, memory growth is seen
// by the workers, and a process that used threads exits by itself.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { init } from 'simdnn';
import { queueChunks, taperedRange } from '../dist/ops/parallel.js';
import { claim, postQueue, queueViews } from '../dist/threads/queue.js';
import { QUEUE_BYTES } from '../dist/threads/protocol.js';
import { BACKEND, assertClose, checkNoLeak, disposeAll, rng, spyKernels } from './helpers.mjs';

const backend = BACKEND === 'auto' ? 'simd' : BACKEND;

/** conv forward + backward on an engine; returns plain arrays. */
function convRun(nn, xs, ws, opts, seed) {
  const rand = rng(seed);
  const x = nn.tensor(Float32Array.from({ length: xs.reduce((a, b) => a * b) }, () => rand() * 2 - 1), xs);
  const w = nn.tensor(Float32Array.from({ length: ws.reduce((a, b) => a * b) }, () => rand() * 2 - 1), ws);
  const b = nn.tensor(Float32Array.from({ length: ws[0] }, () => rand() - 0.5), [ws[0]]);
  const y = nn.ops.conv2d(x, w, b, opts);
  const g = nn.ops.conv2dBackward(y, x, w, opts);
  const out = { y: y.read(), dx: g.dx.read(), dw: g.dw.read(), db: g.db.read() };
  disposeAll([x, w, b, y, g]);
  return out;
}

const cases = [
  [[5, 3, 9, 9], [4, 3, 3, 3], { padding: 1 }],                 // images split 3/2 (2 threads), 2/2/1 (3)
  [[1, 4, 12, 12], [7, 4, 3, 3], { padding: 1, stride: 2 }],     // one image: backward split by input channels (2 threads)
  [[3, 6, 8, 8], [6, 1, 3, 3], { padding: 1, groups: 6 }],       // depthwise, images split
  [[2, 4, 7, 7], [6, 2, 1, 1], { groups: 2 }],                   // grouped pointwise
  [[1, 5, 20, 19], [7, 5, 3, 3], { padding: 1 }],                // one image: forward split by output pixels
  [[1, 6, 10, 13], [9, 6, 1, 1], {}],                            // one image, pointwise: columns of x itself
  [[1, 3, 23, 23], [4, 3, 5, 5], { stride: 2, padding: 2, paddingMode: 'reflect' }],
  [[1, 7, 11, 10], [5, 7, 3, 3], { padding: 2, dilation: 2, paddingMode: 'circular' }],   // input channels 4/3, 3/2/2
  [[1, 9, 6, 6], [3, 9, 2, 2], {}],                              // input channels 5/4, 3/3/3
  [[1, 6, 7, 9], [16, 6, 1, 3], { padding: 1 }],                 // few taps per channel range: dWᵀ orientation
  [[3, 8, 9, 11], [9, 8, 3, 3], { padding: 1 }],                 // Winograd forward: tile rows split across images
  [[1, 16, 12, 12], [8, 16, 3, 3], { padding: 1 }],              // Winograd forward, one image
];

for (const threads of [2, 3]) {
  test(`conv2d forward/backward with ${threads} threads equals 1 thread`, async () => {
    const one = await init({ backend });
    const many = await init({ backend, threads, minParallelFlops: 0 });
    assert.is(many.threads, threads);
    const spy = spyKernels(many);
    await checkNoLeak(many, () => {
      for (const [xs, ws, opts] of cases) {
        const a = convRun(one, xs, ws, opts, 1), b = convRun(many, xs, ws, opts, 1);
        const name = `x [${xs}] w [${ws}] ${JSON.stringify(opts)}`;
        assert.equal([...b.y], [...a.y], `${name}: y identical`);
        assert.equal([...b.dx], [...a.dx], `${name}: dx identical`);
        assertClose(b.dw, a.dw, `${name}: dw`);
        assert.equal([...b.db], [...a.db], `${name}: db identical`);
      }
    });
    spy.restore();
    for (const fn of ['conv2d_forward_columns', 'conv2d_backward_data_channels', 'conv2d_backward_filter_channels', 'conv2d_winograd']) {
      assert.ok(spy.seen.has(fn), `one-image cases ran ${fn}`);
    }
    one.dispose();
    many.dispose();
  });
}

test('linear forward/backward with 2 and 3 threads equals 1 thread exactly (no cross-thread sums)', async () => {
  const one = await init({ backend });
  for (const threads of [2, 3]) {
    const many = await init({ backend, threads, minParallelFlops: 0 });
    // [7, 13] → 5: y = x·Wᵀ split by rows; [37, 40] → 10: yᵀ = W·xᵀ split by rows of y (8-column tiles).
    for (const [rows, inF, outF] of [[7, 13, 5], [37, 40, 10]]) {
      const run = (nn) => {
        const rand = rng(4);
        const x = nn.tensor(Float32Array.from({ length: rows * inF }, () => rand() - 0.5), [rows, inF]);
        const w = nn.tensor(Float32Array.from({ length: outF * inF }, () => rand() - 0.5), [outF, inF]);
        const b = nn.tensor(Float32Array.from({ length: outF }, () => rand()), [outF]);
        const y = nn.ops.linear(x, w, b);
        const g = nn.ops.linearBackward(y, x, w);
        const out = [y, g.dx, g.dw, g.db].map((t) => [...t.read()]);
        disposeAll([x, w, b, y, g]);
        return out;
      };
      await checkNoLeak(many, () => assert.equal(run(many), run(one), `${threads} threads, [${rows}, ${inF}] → ${outF}`));
    }
    many.dispose();
  }
  one.dispose();
});

/** Asserts that [start, count] runs are contiguous from 0, none empty, and cover n items. */
function assertCovers(runs, n, what) {
  let next = 0;
  for (const [start, count] of runs) {
    assert.is(start, next, `${what}: contiguous`);
    assert.ok(count >= 1, `${what}: a run of ${count}`);
    next += count;
  }
  assert.is(next, n, `${what}: all covered`);
}

test('queued chunks of whole batches shrink toward the end, cover every item once, and none is empty', () => {
  for (const [n, parts] of [[28, 8], [64, 8], [448, 8], [17, 8], [9, 4], [1000, 6]]) {
    const runs = taperedRange(n, parts);
    assert.is(runs.length, parts, `${n} items, ${parts} runs`);
    assertCovers(runs, n, `${n} items`);
    for (let k = 1; k < parts; k++) assert.ok(runs[k][1] <= runs[k - 1][1] + 1, `${n} items: run ${k} (${runs[k][1]}) not above run ${k - 1} (${runs[k - 1][1]})`);
    if (n >= 2 * parts) assert.ok(runs[0][1] > runs[parts - 1][1], `${n} items: the first run (${runs[0][1]}) above the last (${runs[parts - 1][1]})`);
  }
  // 1.5× the mean down to 0.5×: 448 items in 8 runs start at 81 (≈ 1.45 × 56) and end at 31 (≈ 0.55 × 56).
  assert.equal(taperedRange(448, 8).map(([, c]) => c), [81, 73, 67, 59, 53, 45, 39, 31]);
});

test('a thread claims its own queued chunks front to back, then takes the others\' from the back; each chunk once', () => {
  const q = queueViews(new SharedArrayBuffer(QUEUE_BYTES), 0);
  const job = (home) => ({ fnId: 0, args: [home], scratchArg: -1, home });
  // Jobs listed out of home order: the entries are grouped by home, in list order within a home.
  const order = postQueue(q, [job(0), job(1), job(0), job(1), job(0), job(1), job(1)], 2);
  assert.equal(order, [0, 2, 4, 1, 3, 5, 6]);
  const taken = [];
  const take = (home) => { const entry = claim(q, home); taken.push(entry < 0 ? -1 : order[entry]); };
  take(1); take(0); take(0); take(0);     // each its own first: job 1, then jobs 0, 2, 4
  take(0);                                // home 0 has none left: the back of home 1 (job 6)
  take(5);                                // a thread without a home only takes others' (the back: job 5)
  take(1); take(1); take(0);              // home 1's last (job 3), then nothing for anyone
  assert.equal(taken, [1, 0, 2, 4, 6, 5, 3, -1, -1]);
  // A queue posted with fewer homes than threads: every job goes to a home that exists.
  const one = postQueue(q, [job(0), job(3), job(1)], 1);
  assert.equal(one, [0, 1, 2]);
  assert.equal([claim(q, 1), claim(q, 0), claim(q, 0), claim(q, 0), claim(q, 1)], [2, 0, 1, -1, -1]);
});

test('an op is queued as a whole number of chunks per thread, covering every item once', () => {
  // Winograd forward of 16 → 32 channels, 14² at batch 32: 224 tile rows in batches of 36, 57.8 MFLOP. Seven chunks (one
  // per batch) left one of two threads a fourth while the other waited; now eight of 28 rows.
  assert.equal(queueChunks({ threads: 2, minParallelFlops: 2e6 }, 224, 57.8e6, 36), Array.from({ length: 8 }, (_, k) => [28 * k, 28]));
  const rand = rng(5);
  for (let trial = 0; trial < 400; trial++) {
    const threads = 2 + (trial % 3), n = 1 + Math.floor(rand() * 600), grain = 1 + Math.floor(rand() * 40);
    const flops = Math.floor(rand() * 80e6), perThread = 1 + Math.floor(rand() * 4);
    const chunks = queueChunks({ threads, minParallelFlops: 2e6 }, n, flops, grain, perThread);
    const what = `n ${n}, grain ${grain}, ${flops} flops, ${threads} threads, ${perThread} per thread`;
    if (!chunks) continue;
    assert.is(chunks.length % threads, 0, `${what}: ${chunks.length} chunks`);
    assert.ok(chunks.length >= 2 * threads && chunks.length <= perThread * threads, `${what}: ${chunks.length} chunks`);
    assertCovers(chunks, n, what);
  }
});

test('ops with enough work run as queued chunks that free threads claim; results equal 1 thread exactly', async () => {
  const one = await init({ backend });
  for (const threads of [2, 3]) {
    const many = await init({ backend, threads });
    const queued = {};   // kernel → the most chunks it was queued as (dW: 2 per thread, the others up to 4)
    const mixes = new Set();   // the kernels of each queue posted (one conv backward posts dx, dW and db together)
    const parallelChunks = many.parallelChunks;
    many.parallelChunks = (jobs, ...rest) => {
      const count = {};
      for (const j of jobs) count[j.fn] = (count[j.fn] ?? 0) + 1;
      for (const [fn, n] of Object.entries(count)) queued[fn] = Math.max(queued[fn] ?? 0, n);
      mixes.add(Object.keys(count).sort().join('+'));
      return parallelChunks.call(many, jobs, ...rest);
    };
    const run = (nn) => {
      const rand = rng(6);
      const t = (shape) => nn.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b) }, () => rand() - 0.5), shape);
      // Winograd forward, backward-data and backward-filter (tile rows with a scratch block per thread), relu (quads).
      const x = t([16, 16, 18, 18]), w = t([16, 16, 3, 3]), big = t([1 << 21]);
      const y = nn.ops.conv2d(x, w, null, { padding: 1 });
      const { dx, dw } = nn.ops.conv2dBackward(y, x, w, { padding: 1 }, { bias: false });
      const r = nn.ops.relu(big);
      // im2col convolutions: 5×5 by images (forward, dx, dW), one image by output columns (stride 2).
      const x5 = t([24, 4, 20, 20]), w5 = t([8, 4, 5, 5]);
      const y5 = nn.ops.conv2d(x5, w5, null, { padding: 2 });
      const g5 = nn.ops.conv2dBackward(y5, x5, w5, { padding: 2 }, { bias: false });
      const x1 = t([1, 32, 48, 48]), w1 = t([64, 32, 3, 3]);
      const y1 = nn.ops.conv2d(x1, w1, null, { padding: 1, stride: 2 });
      // The bias gradient by runs of channels (1×1 conv, only db asked for).
      const xb = t([8, 8, 64, 64]), wb = t([64, 8, 1, 1]), dyb = t([8, 64, 64, 64]);
      const gb = nn.ops.conv2dBackward(dyb, xb, wb, {}, { input: false, weight: false, bias: true });
      // Max-pool backward by runs of planes, each chunk counting bad indices in its own word.
      const xp = t([8, 16, 128, 128]), pooled = nn.ops.maxPool2d(xp, { kernel: 2 });
      const dxp = nn.ops.maxPool2dBackward(pooled.y, pooled.indices, xp.shape);
      const bad = nn.tensor(pooled.indices.read().map((v, i) => (i === 70000 ? -1 : v)), pooled.indices.shape, 'int32');
      assert.throws(() => nn.ops.maxPool2dBackward(pooled.y, bad, xp.shape), /indices must lie in \[0, H·W = 16384\), got 1 outside/);
      const out = [y, dx, r, y5, g5.dx, y1, gb.db, dxp, dw, g5.dw].map((v) => [...v.read()]);
      disposeAll([x, w, big, y, dx, dw, r, x5, w5, y5, g5, x1, w1, y1, xb, wb, dyb, gb, xp, pooled, dxp, bad]);
      return out;
    };
    await checkNoLeak(many, () => {
      const a = run(many), b = run(many), want = run(one);
      // Disjoint chunks are bit-exact. dW: per-chunk sums added in chunk order — reassociated against 1 thread,
      // but the same from run to run.
      assert.equal(a.slice(0, 8), want.slice(0, 8), `${threads} threads`);
      for (const i of [8, 9]) {
        assertClose(a[i], want[i], `${threads} threads: dw #${i - 7}`);
        assert.equal(b[i], a[i], `${threads} threads: dw #${i - 7} the same run to run`);
      }
    });
    many.parallelChunks = parallelChunks;
    for (const fn of ['conv2d_winograd', 'conv2d_winograd_filter', 'relu_forward', 'conv2d_forward', 'conv2d_backward_data',
                      'conv2d_backward_filter', 'conv2d_forward_columns', 'channel_sum', 'maxpool2d_backward']) {
      assert.ok(queued[fn] >= 2 * threads, `${threads} threads: ${fn} queued as ${queued[fn] ?? 0} chunks (expected ≥ ${2 * threads})`);
    }
    for (const mix of ['conv2d_winograd+conv2d_winograd_filter', 'conv2d_backward_data+conv2d_backward_filter']) {
      assert.ok(mixes.has(mix), `${threads} threads: a queue of ${mix} (queues posted: ${[...mixes].join(', ')})`);
    }
    many.dispose();
  }
  one.dispose();
});

test('a worker error comes back as an Error of the call, and the engine stays usable', async () => {
  const nn = await init({ backend, threads: 2, minParallelFlops: 0 });
  assert.throws(() => nn.parallel([{ fn: 'heap_base', args: [] }, { fn: 'no_such_kernel', args: [] }]),
    /worker thread failed: (no_such_kernel|kernel #-1)/);
  const r = convRun(nn, [4, 2, 6, 6], [3, 2, 3, 3], { padding: 1 }, 2);
  assert.is(r.y.length, 4 * 3 * 36);
  nn.dispose();
});

test('a worker that dies fails the call it was in; its share then runs on the caller until a replacement is ready', async () => {
  const nn = await init({ backend, threads: 3, minParallelFlops: 0 });
  const one = await init({ backend });
  const want = convRun(one, [6, 3, 9, 9], [5, 3, 3, 3], { padding: 1 }, 5);
  nn.pool.kill(1);
  assert.throws(() => convRun(nn, [6, 3, 9, 9], [5, 3, 3, 3], { padding: 1 }, 5), /worker thread 1 was lost during conv2d/);
  // The failed call's tensors were allocated before the throw; the engine itself must still work.
  const during = convRun(nn, [6, 3, 9, 9], [5, 3, 3, 3], { padding: 1 }, 5);
  assert.equal([...during.y], [...want.y], 'while the worker is being replaced');
  await nn.pool.ready();
  assert.is(nn.pool.alive, 2);
  await checkNoLeak(nn, () => {
    const after = convRun(nn, [6, 3, 9, 9], [5, 3, 3, 3], { padding: 1 }, 5);
    assert.equal([...after.y], [...want.y], 'after the replacement started');
    assertClose(after.dw, want.dw, 'dw after the replacement started');
  });
  nn.dispose();
  one.dispose();
});

test('a worker that dies during a queued op fails that call; the chunks then run on the threads left', async () => {
  const nn = await init({ backend, threads: 3 });
  const data = Float32Array.from({ length: 1 << 21 }, (_, i) => (i % 7) - 3);
  const want = data.map((v) => Math.max(v, 0));
  const x = nn.tensor(data, [data.length]);
  nn.pool.kill(0);
  assert.throws(() => nn.ops.relu(x), /worker thread 0 was lost during relu_forward/);
  const during = nn.ops.relu(x);
  assert.equal(during.read(), want, 'while the worker is being replaced');
  await nn.pool.ready();
  const after = nn.ops.relu(x);
  assert.equal(after.read(), want, 'after the replacement started');
  disposeAll([x, during, after]);
  nn.dispose();
});

test('memory grown after the workers started is visible to them', async () => {
  const nn = await init({ backend, threads: 2, minParallelFlops: 0 });
  const heap = nn.memory().heapBytes;
  const big = nn.zeros([16 * 1024 * 1024]);                       // 64 MiB: forces growth
  assert.ok(nn.memory().heapBytes > heap);
  const a = convRun(nn, [6, 3, 10, 10], [5, 3, 3, 3], { padding: 1 }, 3);   // tensors land above the old end
  const one = await init({ backend });
  const b = convRun(one, [6, 3, 10, 10], [5, 3, 3, 3], { padding: 1 }, 3);
  assert.equal([...a.y], [...b.y]);
  big.dispose();
  nn.dispose();
  one.dispose();
});

test('training on 2 threads through a memory growth in mid-fit matches the 1-thread run', async () => {
  const rand = rng(11);
  const n = 96, x = Float32Array.from({ length: n * 64 }, () => rand());
  const y = Int32Array.from({ length: n }, (_, i) => (x[i * 64 + 9] + x[i * 64 + 27] > 1 ? 1 : 0) + (i % 2) * 2);
  const train = async (nn, grow) => {
    const L = nn.layers;
    const model = nn.sequential([L.conv2d(6, 3, { padding: 1 }), L.batchNorm2d(), L.relu(), L.maxPool2d(2), L.flatten(), L.linear(4)],
                                { inputShape: [1, 8, 8], seed: 3 });
    const opt = nn.optim.sgd({ lr: 0.05, momentum: 0.9 });
    let big = null, heapBefore = 0, heapAfter = 0;
    await model.fit({ x, y, shape: [n, 1, 8, 8] }, {
      optimizer: opt, epochs: 2, batchSize: 16, shuffle: false, verbose: 0,
      callbacks: { onBatchEnd: (b) => {
        if (grow && b === 2 && !big) {
          heapBefore = nn.memory().heapBytes;
          big = nn.zeros([24 * 1024 * 1024]);            // 96 MiB: the shared memory grows under the workers
          heapAfter = nn.memory().heapBytes;
        }
      } },
    });
    const weights = [...model.stateDict().values()].map((t) => t.read());
    big?.dispose();
    opt.dispose();
    model.dispose();
    return { weights, grew: heapAfter > heapBefore };
  };
  const one = await init({ backend, threads: 1 });
  const two = await init({ backend, threads: 2, minParallelFlops: 0 });
  const a = await train(one, false);
  let b;
  await checkNoLeak(two, async () => { b = await train(two, true); });
  assert.ok(b.grew, 'the memory grew during fit');
  // conv dW is split by images on 2 threads (partial sums added in order): equal up to float reassociation.
  a.weights.forEach((w, i) => assertClose(b.weights[i], w, `parameter ${i}`));
  one.dispose();
  two.dispose();
});

test('init({ workerUrl }) starts the workers from that file; a wrong one is an error naming it and the option', async () => {
  const url = new URL('../dist/threads/worker.js', import.meta.url);
  const nn = await init({ backend, threads: 2, minParallelFlops: 0, workerUrl: url });
  const r = convRun(nn, [4, 2, 6, 6], [3, 2, 3, 3], { padding: 1 }, 2);
  assert.is(r.y.length, 4 * 3 * 36);
  nn.dispose();
  const wrong = new URL('../dist/threads/no-such-worker.js', import.meta.url);
  try {
    await init({ backend, threads: 2, workerUrl: wrong });
    assert.unreachable('init should have failed');
  } catch (e) {
    assert.match(e.message, /simdnn: the thread worker file:.*no-such-worker\.js failed to start: .*init\(\{ workerUrl \}\)/);
  }
});

test('the default thread count is the machine\'s cores (capped at 8)', async () => {
  const { availableParallelism } = await import('node:os');
  const nn = await init({ backend });
  assert.is(nn.threads, Math.min(8, availableParallelism()));
  nn.dispose();
});

test('a Node process that used threads exits by itself', () => {
  const url = new URL('../dist/index.js', import.meta.url).href;
  const script = `import { init } from ${JSON.stringify(url)};
    const nn = await init({ backend: ${JSON.stringify(backend)}, threads: 2, minParallelFlops: 0 });
    const x = nn.tensor(new Float32Array(2 * 3 * 8 * 8).fill(1), [2, 3, 8, 8]);
    const w = nn.tensor(new Float32Array(4 * 3 * 9).fill(1), [4, 3, 3, 3]);
    console.log(String(nn.ops.conv2d(x, w, null, { padding: 1 }).read()[9]));`;
  const flags = backend === 'relaxed-simd' ? ['--experimental-wasm-relaxed-simd'] : [];
  const started = Date.now();
  const r = spawnSync(process.execPath, [...flags, '--input-type=module'], {
    input: script, encoding: 'utf8', timeout: 20000, cwd: fileURLToPath(new URL('..', import.meta.url)),
  });
  assert.is(r.status, 0, `exit status ${r.status}, signal ${r.signal}, stderr: ${r.stderr}`);
  assert.is(r.stdout.trim(), '27', 'the conv ran (an interior output: 3 channels × 9 taps of ones)');
  assert.ok(Date.now() - started < 10000, `took ${Date.now() - started} ms to exit`);
});

test.run();
