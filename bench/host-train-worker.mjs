// A worker of the host.train calibration (bench/host-arith.mjs): its own simdnn engine on 1 thread, a bench workload
// prepared on it, and on each request calls of it, claimed one at a time from a counter shared with the other worker.
// ctl as in host-arith.mjs: [request, calls in all, done by worker 0, done by worker 1, next call]; a request of −1
// stops. A worker polls for 5 ms before it sleeps.
import { workerData, parentPort } from 'node:worker_threads';
import { WORKLOADS, makeData } from './workloads.mjs';

const { ctl: buffer, index, backend, id } = workerData;
const ctl = new Int32Array(buffer);
const adapter = await (await import('./libs/simdnn.mjs')).create(`${backend}:1`);
const wl = WORKLOADS.find((w) => w.id === id);
const prepared = await adapter.prepare(wl, makeData(wl));
await prepared.check();
parentPort.postMessage('ready');
let seen = 0;
for (;;) {
  let req = Atomics.load(ctl, 0);
  const until = performance.now() + 5;
  while (req === seen && performance.now() < until) req = Atomics.load(ctl, 0);
  if (req === seen) { Atomics.wait(ctl, 0, seen, 1000); continue; }
  if (req < 0) break;
  seen = req;
  // A failed call marks the request (calls −1: the calibration's check throws) instead of leaving the caller waiting.
  try { while (Atomics.add(ctl, 4, 1) < ctl[1]) await prepared.run(); } catch { ctl[1] = -1; }
  Atomics.store(ctl, 2 + index, seen);
  Atomics.notify(ctl, 2 + index);
}
await prepared.dispose?.();
