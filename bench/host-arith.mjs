// Host calibrations for the threads comparison (bench/paired.mjs), each on 1 worker thread or split in halves over 2,
// measured in the same rounds as the workloads:
// - host.arith: plain JS arithmetic that lives in registers (four independent multiply-add chains): what the host gave
//   two busy threads (a 2-vCPU VM whose second vCPU is partly taken by the host shows it here first);
// - host.stream: one read per 64-byte line over 64 MB per thread (twice the L3): what the memory system gave two
//   threads that miss the caches;
// - host.train: the bench's train step (batch 64), TRAIN_STEPS times, on separate 1-thread engines that share nothing:
//   all on 1 worker thread, or on 2 that each take the next step until none is left. What the host gave two threads
//   running the very work the 2-thread train step splits, balanced between them with no splitting, no shared data and
//   no waiting on each other: about the most a split train step could reach here. The host's two vCPUs are not always
//   equal for such work (bench/vcpu-speed.mjs): when one runs it 1.7× slower than the other (host.arith stays ~2×),
//   two threads give at most 1 + 1/1.7 = 1.6× the faster one, and the 1-thread side of a round is fast or slow as the
//   scheduler places it.
// The work runs only in workers (the calling thread sleeps in Atomics.wait), so both sides run the same JIT-compiled
// code.
import { Worker } from 'node:worker_threads';

export const HOST_ARITH = {
  id: 'host.arith', kind: 'hostArith', unit: 'ms',
  label: 'host calibration: register-only JS arithmetic, 1 worker thread or 2',
};
export const HOST_STREAM = {
  id: 'host.stream', kind: 'hostStream', unit: 'ms',
  label: 'host calibration: reading 64 MB per thread (one load per cache line), 1 worker thread or 2',
};
export const HOST_TRAIN = {
  id: 'host.train', kind: 'hostTrain', unit: 'ms', workload: 'train',
  label: 'host calibration: 12 independent 1-thread train steps, on 1 worker thread or shared out over 2',
};
export const HOST_CALIBRATIONS = [HOST_ARITH, HOST_STREAM, HOST_TRAIN];

/** Train steps of a host.train call (on 2 threads a 1.7× slower vCPU gets 4 or 5 of them, within a step of balanced). */
const TRAIN_STEPS = 12;
/** Multiply-add steps per call in all (≈ 7 ms on one thread of this VM, so a wake-up's 0.1–0.2 ms is noise). */
const STEPS = 4e6;
/** Int32 elements each worker streams over (64 MB), and the stride of one per 64-byte line. */
const STREAM_INTS = 16 << 20, LINE_INTS = 16;

// ctl: [request, work (steps, or 64 MB passes × 16 in all), done by worker 0, done by worker 1, next train step].
// A worker polls for 5 ms before it sleeps.
const WORKER = `const { workerData: { ctl: buffer, index, stream } } = require('node:worker_threads');
const ctl = new Int32Array(buffer);
const data = stream ? new Int32Array(${STREAM_INTS}).fill(1) : null;
function read(sixteenths) {
  let s = 0;
  const end = Math.min(data.length, Math.round(data.length * sixteenths / 16));
  for (let i = 0; i < end; i += ${LINE_INTS}) s += data[i];
  return s;
}
function arith(n) {
  let a = 1, b = 1, c = 1, d = 1;
  for (let i = 0; i < n; i++) { a = a * 1.0000001 + 1e-9; b = b * 0.9999999 + 1e-9; c = c * 1.0000001 - 1e-9; d = d * 0.9999999 - 1e-9; }
  return a + b + c + d;
}
let seen = 0, sink = 0;
for (;;) {
  let req = Atomics.load(ctl, 0);
  const until = performance.now() + 5;
  while (req === seen && performance.now() < until) req = Atomics.load(ctl, 0);
  if (req === seen) { Atomics.wait(ctl, 0, seen, 1000); continue; }
  if (req < 0) break;
  seen = req;
  sink += stream ? read(ctl[1]) : arith(ctl[1]);
  if (!Number.isFinite(sink)) ctl[1] = -1;
  Atomics.store(ctl, 2 + index, seen);
  Atomics.notify(ctl, 2 + index);
}`;

/**
 * A prepared calibration (run / check / dispose, as the adapters' prepare returns) on `threads` (1 or 2) threads:
 * the same work in all, halved per thread on 2 (host.stream: each thread reads half of its own 64 MB; host.train:
 * the threads share out the steps as they finish them), the simdnn workloads on the `backend` build.
 */
export async function prepareHostCalibration(wl, threads, backend = 'simd') {
  if (threads !== 1 && threads !== 2) throw new Error(`${wl.id}: 1 or 2 threads, got ${threads}`);
  const stream = wl.kind === HOST_STREAM.kind, train = wl.kind === HOST_TRAIN.kind;
  const ctl = new Int32Array(new SharedArrayBuffer(20));
  const workers = Array.from({ length: threads }, (_, index) => (train
    ? new Worker(new URL('./host-train-worker.mjs', import.meta.url), { workerData: { ctl: ctl.buffer, index, backend, id: wl.workload } })
    : new Worker(WORKER, { eval: true, workerData: { ctl: ctl.buffer, index, stream } })));
  for (const w of workers) w.unref();
  if (train) {
    await Promise.all(workers.map((w) => new Promise((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
      w.once('exit', (code) => reject(new Error(`${wl.id}: a worker exited (code ${code}) before it was ready`)));
    })));
  }
  let seq = 0;
  const run = () => {
    ctl[1] = stream ? 16 / threads : train ? TRAIN_STEPS : STEPS / threads;
    ctl[4] = 0;
    Atomics.store(ctl, 0, ++seq);
    Atomics.notify(ctl, 0);
    for (let i = 0; i < threads; i++) {
      for (let seen = Atomics.load(ctl, 2 + i); seen !== seq; seen = Atomics.load(ctl, 2 + i)) Atomics.wait(ctl, 2 + i, seen, 100);
    }
  };
  return {
    run,
    async check() { run(); if (ctl[1] < 0) throw new Error(`${wl.id}: ${train ? "a worker's call failed" : 'the result went non-finite'}`); },
    async dispose() { Atomics.store(ctl, 0, -1); Atomics.notify(ctl, 0); await Promise.all(workers.map((w) => w.terminate())); },
  };
}
