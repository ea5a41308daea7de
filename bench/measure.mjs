// Timing one prepared workload with benchmark.js; falls back to a few direct timings when one call is so
// slow (plain JS, ConvNetJS, tfjs-cpu) that benchmark.js's calibration cycles would take minutes.
import Benchmark from 'benchmark';

export const MODES = {
  quick: { maxTime: 0.25, minSamples: 2, slowMs: 300, slowRuns: 0 },
  full: { maxTime: 2, minSamples: 5, slowMs: 1000, slowRuns: 3 },
};

/** The median of a list of numbers (the mean of the middle two for an even count). */
export const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Summary statistics in milliseconds per call. */
function stats(samplesMs, method, rme) {
  const mean = samplesMs.reduce((s, v) => s + v, 0) / samplesMs.length;
  const sd = samplesMs.length > 1 ? Math.sqrt(samplesMs.reduce((s, v) => s + (v - mean) ** 2, 0) / (samplesMs.length - 1)) : 0;
  return {
    method, n: samplesMs.length, medianMs: median(samplesMs), meanMs: mean, sdMs: sd,
    minMs: Math.min(...samplesMs), maxMs: Math.max(...samplesMs), rme: rme ?? null,
  };
}

function runBenchmark(prepared, mode) {
  return new Promise((resolve, reject) => {
    const opts = { maxTime: mode.maxTime, minSamples: mode.minSamples, initCount: 1 };
    const bench = prepared.async
      ? new Benchmark({ ...opts, defer: true, fn: (d) => prepared.run().then(() => d.resolve(), (e) => { bench.error = e; d.resolve(); }) })
      : new Benchmark({ ...opts, fn: () => prepared.run() });
    bench.on('complete', () => {
      if (bench.error) return reject(bench.error instanceof Error ? bench.error : new Error(String(bench.error)));
      const s = bench.stats;
      resolve(stats(s.sample.map((v) => v * 1e3), 'benchmark.js', s.rme));
    });
    bench.run({ async: prepared.async });
  });
}

async function timeOnce(prepared) {
  const t0 = performance.now();
  await prepared.run();
  return performance.now() - t0;
}

/**
 * Times prepared.run(). `firstMs` is the duration of the check call (the first call). A first call can be
 * slow for reasons that do not repeat (V8 compiles wasm lazily and tiers up hot functions; tfjs-wasm's
 * first GEMM takes seconds), so when it exceeds mode.slowMs one more call decides: if that one is fast,
 * benchmark.js times the workload; if it is slow too, the workload is timed by direct calls: in quick mode
 * that call alone; in full mode that call and mode.slowRuns − 1 more, or, when a call takes more than
 * 4·slowMs (seconds: warm-up is negligible), that call and the check call. `steadyFirstCall` (plain-JS
 * libraries, whose first call is as fast as the next): in quick mode a slow check call is the sample.
 */
export async function measure(prepared, firstMs, mode, steadyFirstCall = false) {
  if (firstMs <= mode.slowMs) return runBenchmark(prepared, mode);
  if (steadyFirstCall && mode.slowRuns === 0) return stats([firstMs], 'the check call (quick mode)');
  const second = await timeOnce(prepared);
  if (second <= mode.slowMs) return runBenchmark(prepared, mode);
  if (mode.slowRuns === 0) return stats([second], 'one timed call after the check call');
  if (second > 4 * mode.slowMs) return stats([firstMs, second], 'the check call and one more call');
  const times = [second];
  while (times.length < mode.slowRuns) times.push(await timeOnce(prepared));
  return stats(times, `${times.length} direct calls after the check call`);
}

/** How many process runs a library's cells were chosen from (bench/run.mjs --rounds; results carry runMs). */
export const runCount = (l) => Math.max(1, ...Object.values(l.results).map((r) => r.runMs?.length ?? 1));
