// Sharing an op's work out over the engine's threads (see src/threads/pool.ts and Engine.parallel).
import type { Engine } from '../engine.js';
import type { Job } from '../threads/pool.js';

/**
 * FLOP-equivalents per element for memory-bound ops (activations, pooling, batch norm) when deciding whether
 * to use threads: they do a few FLOPs per element but cost about as much time as ~10 GEMM FLOPs.
 */
export const MEMORY_BOUND_WEIGHT = 10;

/** [start, count] pairs splitting n items into at most `parts` nearly equal runs. */
export function splitRange(n: number, parts: number): [number, number][] {
  const p = Math.max(1, Math.min(parts, n));
  const out: [number, number][] = [];
  for (let i = 0, start = 0; i < p; i++) {
    const count = Math.floor(n / p) + (i < n % p ? 1 : 0);
    out.push([start, count]);
    start += count;
  }
  return out;
}

/** How runSplit divides n items of an op of `flops` work: one run per thread, or one run when not worth it. */
export function splitParts(e: Engine, n: number, flops: number): [number, number][] {
  return e.threads > 1 && flops >= e.minParallelFlops ? splitRange(n, e.threads) : [[0, n]];
}

/**
 * Runs `job(start, count, scratch)` over [0, n) split across the threads when the op is worth it
 * (flops ≥ e.minParallelFlops), else once over everything; each thread gets its own scratch block
 * (0 when scratchBytes is 0).
 */
export function runSplit(e: Engine, n: number, flops: number, what: string, scratchBytes: number,
                         job: (start: number, count: number, scratch: number) => Job): void {
  const parts = splitParts(e, n, flops);
  e.parallel(parts.map(([start, count], t) => job(start, count, scratchBytes > 0 ? e.scratch(scratchBytes, what, t) : 0)));
}
