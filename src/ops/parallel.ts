// Sharing an op's work out over the engine's threads (see src/threads/pool.ts and Engine.parallel).
import type { Engine } from '../engine.js';
import type { Job } from '../threads/pool.js';
import { QUEUE_ENTRIES } from '../threads/protocol.js';

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
 * Chunks per thread when an op is split (enough for a thread that falls behind to hand work to the others), as
 * long as each chunk keeps at least CHUNK_FLOPS of work (≈ 50–100 µs: a chunk costs a few µs to claim and call).
 */
const CHUNKS_PER_THREAD = 4;
const CHUNK_FLOPS = 2e6;

/**
 * Runs `job(start, count, scratch)` over [0, n): when the op is worth splitting (flops ≥ e.minParallelFlops), as
 * up to CHUNKS_PER_THREAD chunks per thread (whole runs of `grain` items) that the threads claim as they become
 * free (Engine.parallelChunks), or one fixed share per thread when there is too little work for two chunks each;
 * else once over everything. Chunks must write disjoint outputs. Each running thread passes its own scratch block
 * (0 when scratchBytes is 0).
 */
export function runSplit(e: Engine, n: number, flops: number, what: string, scratchBytes: number,
                         job: (start: number, count: number, scratch: number) => Job, grain = 1): void {
  if (splitParts(e, n, flops).length === 1) {
    e.parallel([job(0, n, scratchBytes > 0 ? e.scratch(scratchBytes, what, 0) : 0)]);
    return;
  }
  // Chunks are whole runs of `grain` items (a kernel's batch), each with CHUNK_FLOPS of work or more.
  const units = Math.ceil(n / grain);
  const chunks = Math.min(QUEUE_ENTRIES, CHUNKS_PER_THREAD * e.threads, Math.floor(flops / CHUNK_FLOPS), units);
  if (chunks < 2 * e.threads) {
    // Too little work for two or more chunks per thread (claiming fewer would balance worse than fixed shares):
    // one fixed share each, without the queue's bookkeeping.
    e.parallel(splitRange(n, e.threads).map(([start, count], t) => job(start, count, scratchBytes > 0 ? e.scratch(scratchBytes, what, t) : 0)));
    return;
  }
  // NaN marks the scratch argument (each thread puts in its own): no real kernel argument is NaN.
  const jobs = splitRange(units, chunks).map(([u0, count]) => {
    const start = u0 * grain;
    return job(start, Math.min(n, (u0 + count) * grain) - start, scratchBytes > 0 ? NaN : 0);
  });
  const scratchArg = scratchBytes > 0 ? jobs[0].args.findIndex((a) => Number.isNaN(a)) : -1;
  if (scratchBytes > 0 && scratchArg < 0) throw new Error(`${what}: internal error: a split job does not take its scratch block`);
  e.parallelChunks(jobs, scratchArg, scratchBytes, what);
}
