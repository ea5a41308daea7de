// Two simdnn configurations in one process, timed alternately: `node [flags] bench/paired.mjs <a> <b> [--quick]
// [--only id,id]` with a, b simdnn variants (bench/libs/simdnn.mjs: 'relaxed-simd', 'simd', 'simd:2', …). Or two
// workloads on one configuration: `bench/paired.mjs <a> --versus id:id,id:id` (e.g. S2:S2.dW: a backward pass over
// its own forward), the ratio then of GFLOP/s.
// Separate processes run minutes apart on this host, whose speed drifts by ±30 % over such spans; a ratio of two
// configurations (the relaxed build over the SIMD build, 2 threads over 1) is then as much the drift as the code.
// Here each round times a with benchmark.js, then b, on the same data; a workload's ratio is the median over the
// rounds of b's speed over a's, and its times the medians of the rounds' medians. Prints `@@BENCH {json}` lines.
import { WORKLOADS, makeData } from './workloads.mjs';
import { MODES, measure, median } from './measure.mjs';
import { HOST_CALIBRATIONS, prepareHostCalibration } from './host-arith.mjs';
import { stealMeter } from './load.mjs';

const args = process.argv.slice(2);
const value = (name) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
const [variantA, variantB] = args.filter((a, i) => !a.startsWith('--') && !['--only', '--versus'].includes(args[i - 1]));
const quick = args.includes('--quick');
const only = value('--only')?.split(',');
const versus = value('--versus')?.split(',').map((p) => p.split(':'));
// Single rounds spread widely on this host (2-thread ratios 1.15–2.15× within one run): the median needs many. With 11
// rounds, two runs of the same code minutes apart gave the train step 1.73× and 1.58×.
const ROUNDS = quick ? 2 : 21;
// Each round's measurement: shorter than a full-mode cell (2 s), as there are 2·ROUNDS of them per workload.
const MODE = { ...(quick ? MODES.quick : MODES.full), maxTime: quick ? 0.15 : 0.5, minSamples: 3 };

const emit = (obj) => process.stdout.write(`@@BENCH ${JSON.stringify(obj)}\n`);

// The adapter keeps its engine in module state: one module instance per configuration.
const adapterA = await (await import('./libs/simdnn.mjs?a')).create(variantA);
const adapterB = versus ? adapterA : await (await import('./libs/simdnn.mjs?b')).create(variantB);
emit({ type: 'pair', a: adapterA.info, b: adapterB.info });

const ALL = [...HOST_CALIBRATIONS, ...WORKLOADS];
const byId = (id) => ALL.find((w) => w.id === id);
/** Threads of a variant name such as 'simd:2' (1 without a count). */
const threadsOf = (variant) => Number(variant.split(':')[1] ?? 1);
const backendOf = (variant) => variant.split(':')[0];
// [workload timed first, workload timed second]: the same one on both configurations, or the --versus pairs.
const runs = versus ? versus.map(([a, b]) => [byId(a), byId(b)])
  : ALL.filter((wl) => only?.includes(wl.id)).map((wl) => [wl, wl]);

for (const [wlA, wlB] of runs) {
  const base = { type: 'paired', id: wlB.id, ...(versus ? { versus: wlA.id } : {}) };
  const prepared = [];
  try {
    for (const [adapter, wl, variant] of [[adapterA, wlA, variantA], [adapterB, wlB, variantB ?? variantA]]) {
      const p = HOST_CALIBRATIONS.includes(wl) ? await prepareHostCalibration(wl, threadsOf(variant), backendOf(variant)) : await adapter.prepare(wl, makeData(wl));
      if (!p || p.na) throw new Error(p?.na ?? 'not supported');
      prepared.push(p);
      const t0 = performance.now();
      await p.check();
      p.firstMs = performance.now() - t0;
    }
    const ms = [[], []], steal = [[], []];
    for (let r = 0; r < ROUNDS; r++) {
      for (const [k, p] of prepared.entries()) {
        // The other configuration's worker threads poll for work for a few ms after its last job: let them sleep.
        await new Promise((resolve) => setTimeout(resolve, 20));
        const stolen = stealMeter();
        ms[k].push((await measure(p, p.firstMs, MODE)).medianMs);
        steal[k].push(stolen());
      }
    }
    // b over a as a speed, round by round: a's time over b's (× b's FLOPs over a's for two workloads).
    const work = versus ? (wlB.flops ?? 1) / (wlA.flops ?? 1) : 1;
    const ratio = median(ms[0].map((a, r) => (work * a) / ms[1][r]));
    emit({ ...base, aMs: median(ms[0]), bMs: median(ms[1]), ratio, roundsA: ms[0], roundsB: ms[1],
           ...(steal.flat().every((v) => v != null) ? { stealA: steal[0], stealB: steal[1] } : {}) });
  } catch (e) {
    emit({ ...base, error: String(e?.message ?? e).split('\n')[0].slice(0, 300) });
  } finally {
    for (const p of prepared) { try { await p.dispose?.(); } catch { /* ignore */ } }
  }
}
emit({ type: 'done' });
process.exit(0);
