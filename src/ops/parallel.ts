// Sharing an op's work out over the engine's threads (see src/threads/pool.ts and Engine.parallel).
import type { Engine } from '../engine.js';
import type { Job } from '../threads/pool.js';
import { QUEUE_ENTRIES } from '../threads/protocol.js';
import { homeCount, type QueuedJob } from '../threads/queue.js';

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
 * The chunks [start, count] an op of `flops` over n items is queued as (Engine.parallelChunks): up to `perThread`
 * per thread and a multiple of the thread count, whole runs of `grain` items (a kernel's batch) where there are enough
 * of them, each with about CHUNK_FLOPS of work or more; null when that leaves fewer than two per thread (claiming them
 * would balance worse than fixed shares) or the op is not split at all. The chunks depend only on the thread count,
 * never on which thread runs which.
 */
export function queueChunks(e: Engine, n: number, flops: number, grain = 1, perThread = CHUNKS_PER_THREAD): [number, number][] | null {
  if (splitParts(e, n, flops).length === 1) return null;
  const units = Math.ceil(n / grain);
  const most = Math.min(QUEUE_ENTRIES, perThread * e.threads, Math.floor(flops / CHUNK_FLOPS), units);
  if (most < 2 * e.threads) return null;
  // A whole number of chunks per thread: 7 even chunks over two threads leave one thread a fourth chunk while the other
  // waits (a Winograd conv at batch 32 has 7 batches of tile rows: 1.2–1.5× at 2 threads). Rounded up where there are
  // items for it (chunks then fall a little under a grain or CHUNK_FLOPS), else down.
  const up = Math.ceil(most / e.threads) * e.threads;
  const chunks = up <= Math.min(n, QUEUE_ENTRIES) ? up : Math.floor(most / e.threads) * e.threads;
  // Whole grains, in tapered runs, when each chunk gets two or more; else even runs of items (whole grains would leave
  // a ragged last chunk, such as 9 + 9 + 9 + 1 tile rows, and the thread that claims two big ones finishes last; tapered
  // runs of items would cut the kernel's batches smaller: S3's 5, 5, 4, 4, 3, 3, 2, 2 tile rows ran 0.8× as fast).
  if (units < 2 * chunks) return splitRange(n, chunks);
  // Tapered within each home thread's run of items (queuedJobs), where its claims start; the ends, small, get taken last.
  const homes = homeCount(e.threads);
  const runs = chunks % homes !== 0 ? taperedRange(units, chunks)
    : splitRange(units, homes).flatMap(([h0, count]) => taperedRange(count, chunks / homes).map(([u0, c]): [number, number] => [h0 + u0, c]));
  return runs.map(([u0, count]) => [u0 * grain, Math.min(n, (u0 + count) * grain) - u0 * grain]);
}

/**
 * [start, count] runs splitting n items into `parts` runs that shrink from 1.5× to 0.5× the mean size (even runs
 * when there are fewer than two items per run). Threads claim queued chunks in order, so the last ones, which decide
 * how long the others wait at the end, are the small ones. Run k ends at n·F((k + 1)/parts), F(t) = 1.5t − t²/2
 * (the integral of the linear size profile 1.5 − t, F(1) = 1).
 */
export function taperedRange(n: number, parts: number): [number, number][] {
  if (n < 2 * parts) return splitRange(n, parts);
  const out: [number, number][] = [];
  for (let k = 0, start = 0; k < parts; k++) {
    const t = (k + 1) / parts, end = k === parts - 1 ? n : Math.max(start + 1, Math.round(n * (1.5 * t - 0.5 * t * t)));
    out.push([start, end - start]);
    start = end;
  }
  return out;
}

/**
 * Runs `job(start, count, scratch)` over [0, n): as queued chunks (queueChunks) that the threads claim as they
 * become free, or one fixed share per thread when there is too little work for two chunks each, or once over
 * everything when the op is not worth splitting (flops < e.minParallelFlops). Chunks must write disjoint outputs.
 * Each running thread passes its own scratch block (0 when scratchBytes is 0).
 */
export function runSplit(e: Engine, n: number, flops: number, what: string, scratchBytes: number,
                         job: (start: number, count: number, scratch: number) => Job, grain = 1): void {
  const plan = planSplit(e, n, flops, scratchBytes, job, grain);
  runParts(e, plan.parts, what, scratchBytes, plan.make);
}

/** runSplit's share-out as a Plan, to run with other ops' (runTogether); perThread as for queueChunks. */
export function planSplit(e: Engine, n: number, flops: number, scratchBytes: number,
                          job: (start: number, count: number, scratch: number) => Job, grain = 1, perThread?: number): Plan {
  return {
    parts: shareOut(e, n, flops, grain, perThread), scratchBytes, flops, items: n,
    make: (start, count, _part, scratch) => job(start, count, scratch),
  };
}

/** The parts an op of `flops` over n items runs as: queued chunks (queueChunks) where it has work for them, else splitParts. */
export function shareOut(e: Engine, n: number, flops: number, grain = 1, perThread?: number): Parts {
  const chunks = queueChunks(e, n, flops, grain, perThread);
  return { parts: chunks ?? splitParts(e, n, flops), queued: chunks !== null };
}

/** How an op's work is shared out: chunks that the threads claim as they become free (queued), or one share per thread. */
export interface Parts {
  parts: [number, number][];
  queued: boolean;
}

/** Makes the kernel call of part `part` = [start, start + count) of an op, given the running thread's scratch block. */
export type MakeJob = (start: number, count: number, part: number, scratch: number) => Job;

/**
 * Runs make(start, count, part, scratch) for each part (or once, [0, 0], for null): queued parts get the scratch
 * block of the thread that claims them, fixed shares that of their thread (0 when scratchBytes is 0).
 * scratchBytes must cover every part.
 */
export function runParts(e: Engine, s: Parts | null, what: string, scratchBytes: number, make: MakeJob): void {
  const parts = s?.parts ?? [[0, 0]];
  if (s?.queued) {
    e.parallelChunks(queuedJobs(e, parts, scratchBytes, make, what), scratchBytes, what);
  } else {
    e.parallel(parts.map(([start, count], p) => make(start, count, p, scratchBytes > 0 ? e.scratch(scratchBytes, what, p) : 0)));
  }
}

/**
 * One op's share-out, not yet run (runTogether): its parts (null: one call over everything), how each part
 * becomes a kernel call, the scratch one part needs, and the op's work (flops over `items` items: a part's cost is
 * its share of them).
 */
export interface Plan {
  parts: Parts | null;
  scratchBytes: number;
  make: MakeJob;
  flops: number;
  items: number;
}

/**
 * Runs the parts of independent ops (none reads what another writes) in one queue, biggest chunks first, so that the
 * threads wait once, at the end, for the last small chunk, instead of once per op for its last chunk. Each op's
 * parts stay as planned (only the order and which thread runs them change), so results are the same as running the
 * plans one by one. Falls back to that when there are no worker threads, nothing is split, or the queue is too short.
 */
export function runTogether(e: Engine, what: string, plans: Plan[]): void {
  const entries = plans.reduce((n, p) => n + (p.parts?.parts.length ?? 1), 0);
  if (e.threads < 2 || !plans.some((p) => p.parts) || plans.length === 1 || entries > QUEUE_ENTRIES) {
    for (const p of plans) runParts(e, p.parts, what, p.scratchBytes, p.make);
    return;
  }
  const chunks: { job: QueuedJob; cost: number }[] = [];
  for (const p of plans) {
    const parts = p.parts?.parts ?? [[0, 0]];
    queuedJobs(e, parts, p.scratchBytes, p.make, what).forEach((job, k) => {
      chunks.push({ job, cost: p.parts ? p.flops * parts[k][1] / Math.max(1, p.items) : p.flops });
    });
  }
  chunks.sort((a, b) => b.cost - a.cost);   // stable: equal costs keep their op's order
  e.parallelChunks(chunks.map((c) => c.job), Math.max(...plans.map((p) => p.scratchBytes)), what);
}

/** The parts as queue chunks, each taking the scratch block of the thread that runs it (if scratchBytes > 0). */
function queuedJobs(e: Engine, parts: [number, number][], scratchBytes: number, make: MakeJob, what: string): QueuedJob[] {
  const homes = homeCount(e.threads);
  return parts.map(([start, count], p) => {
    // NaN marks the scratch argument (each thread puts in its own): no real kernel argument is NaN.
    const job = make(start, count, p, scratchBytes > 0 ? NaN : 0);
    const scratchArg = scratchBytes > 0 ? job.args.findIndex((a) => Number.isNaN(a)) : -1;
    if (scratchBytes > 0 && scratchArg < 0) throw new Error(`${what}: internal error: a split job does not take its scratch block`);
    // Part p of an op's parts, in item order, is homed on thread ⌊p·homes/parts⌋: the same runs of items on the same
    // thread op after op (queue.ts).
    return { fn: job.fn, args: job.args, scratchArg, home: Math.floor(p * homes / parts.length) };
  });
}
