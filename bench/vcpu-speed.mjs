// `taskset -c <cpu> node bench/vcpu-speed.mjs`: the 1-thread train step (SIMD build) timed on whichever vCPU the
// process is pinned to; bench/run.mjs runs it on each vCPU in turn. This host's two vCPUs are at times far from equal
// for such cache-heavy work (one ran the step in 19 ms while the other took 11.4 ms, swapping over minutes, while
// register-only arithmetic ran at the same speed on both): two threads can then give at most 1 + fast/slow times
// the speed of one thread on the faster vCPU, whatever the split. Prints `@@BENCH {"type":"vcpu","ms":…}`.
import { WORKLOADS, makeData } from './workloads.mjs';
import { median } from './measure.mjs';

const adapter = await (await import('./libs/simdnn.mjs')).create('simd');
const wl = WORKLOADS.find((w) => w.id === 'train');
const prepared = await adapter.prepare(wl, makeData(wl));
await prepared.check();
for (let i = 0; i < 30; i++) prepared.run();
const times = [];
for (let i = 0; i < 60; i++) {
  const t0 = performance.now();
  prepared.run();
  times.push(performance.now() - t0);
}
process.stdout.write(`@@BENCH ${JSON.stringify({ type: 'vcpu', ms: median(times) })}\n`);
process.exit(0);
