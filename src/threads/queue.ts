// The shared job queue (protocol.ts, after the slots): the calling thread posts an op's chunks as entries, then it
// and every worker claim entries with Atomics.add until none is left. A thread that falls behind (a late wake, a
// descheduled vCPU) simply takes fewer chunks, instead of making everyone wait for its fixed share.
import { COUNT, ENTRY_BYTES, ENTRY_HEAD_BYTES, MAX_ARGS, NEXT, QUEUE_BYTES, QUEUE_ENTRIES, QUEUE_HEADER_BYTES } from './protocol.js';

/**
 * A chunk of work for the queue: a kernel call whose argument `scratchArg` (−1: none) becomes the scratch block of
 * the thread that runs it. One queue may hold chunks of several independent ops.
 */
export interface QueuedJob {
  fn: string;
  args: number[];
  scratchArg: number;
}

export interface QueueViews {
  header: Int32Array;
  /** The whole queue as Int32 / float64 (entry i's fn id, count, scratch argument from ints[intAt(i)], its arguments from argAt(i)). */
  ints: Int32Array;
  f64: Float64Array;
}

export function queueViews(control: SharedArrayBuffer, offset: number): QueueViews {
  return {
    header: new Int32Array(control, offset, QUEUE_HEADER_BYTES / 4),
    ints: new Int32Array(control, offset, QUEUE_BYTES / 4),
    f64: new Float64Array(control, offset, QUEUE_BYTES / 8),
  };
}

// Views are made once: a worker that allocates per job pauses for its own garbage collections.
const intAt = (i: number) => (QUEUE_HEADER_BYTES + i * ENTRY_BYTES) / 4;
const argAt = (i: number) => (QUEUE_HEADER_BYTES + i * ENTRY_BYTES + ENTRY_HEAD_BYTES) / 8;

/** Writes the entries (fn ids and arguments) and resets the claim counter; post the workers after this. */
export function postQueue(q: QueueViews, jobs: { fnId: number; args: number[]; scratchArg: number }[]): void {
  if (jobs.length > QUEUE_ENTRIES) throw new Error(`simdnn: ${jobs.length} chunks, more than the queue's ${QUEUE_ENTRIES}`);
  jobs.forEach(({ fnId, args, scratchArg }, i) => {
    if (args.length > MAX_ARGS) throw new Error(`simdnn: a job has ${args.length} arguments, more than the ${MAX_ARGS} an entry holds`);
    const at = intAt(i), a0 = argAt(i);
    q.ints[at] = fnId;
    q.ints[at + 1] = args.length;
    q.ints[at + 2] = scratchArg;
    for (let k = 0; k < args.length; k++) q.f64[a0 + k] = args[k];
  });
  q.header[COUNT] = jobs.length;
  Atomics.store(q.header, NEXT, 0);
}

/** The kernel call of a queued job, its scratch argument (if any) replaced by the running thread's `scratch` block. */
export function withScratch(job: QueuedJob, scratch: number): { fn: string; args: number[] } {
  const s = job.scratchArg;
  return s < 0 ? job : { fn: job.fn, args: job.args.map((a, k) => (k === s ? scratch : a)) };
}

/** The next unclaimed entry, or −1 when all are taken. */
export function claim(q: QueueViews): number {
  const i = Atomics.add(q.header, NEXT, 1);
  return i < q.header[COUNT] ? i : -1;
}

/** Worker side: runs entries until none is left, with `scratch` as each entry's scratch argument. */
export function drain(q: QueueViews, kernels: ((...a: number[]) => unknown)[], scratch: number, call: number[]): void {
  for (let i = claim(q); i >= 0; i = claim(q)) {
    const at = intAt(i), a0 = argAt(i);
    const fn = kernels[q.ints[at]];
    if (!fn) throw new Error(`no kernel #${q.ints[at]} in this build`);
    call.length = q.ints[at + 1];
    for (let k = 0; k < call.length; k++) call[k] = q.f64[a0 + k];
    const scratchArg = q.ints[at + 2];
    if (scratchArg >= 0) call[scratchArg] = scratch;
    fn(...call);
  }
}
