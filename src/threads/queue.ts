// The shared job queue (protocol.ts, after the slots): the calling thread posts an op's chunks as entries, then it
// and every worker claim entries until none is left. A thread that falls behind (a late wake, a descheduled vCPU)
// simply takes fewer chunks, instead of making everyone wait for its fixed share.
//
// Each chunk has a home thread, and the chunks of an op are homed in runs along its items (ops/parallel.ts), the same
// way op after op and step after step: a thread claims its own chunks first, front to back, and only then takes
// others' from the back. So a thread keeps writing and reading the same parts of the batch's tensors, which stay in
// its own caches: on this host the two vCPUs are at times far apart (a cache line takes ~1 µs to go from one to the
// other and back, against ~0.23 µs at other times), and then a thread that writes lines the other thread wrote last
// runs memory-bound kernels at half speed. Measured against claiming in list order (one process, alternating blocks of
// 20 train steps at 2 threads): the relu after the first conv 0.16 → 0.08 ms, the train step 1.03–1.04× as fast.
import { COUNT, ENTRY_BYTES, ENTRY_HEAD_BYTES, HOMES, MAX_ARGS, MAX_HOMES, QUEUE_BYTES, QUEUE_ENTRIES, QUEUE_HEADER_BYTES,
         cursorAt } from './protocol.js';

/**
 * A chunk of work for the queue: a kernel call whose argument `scratchArg` (−1: none) becomes the scratch block of
 * the thread that runs it, and the thread that should run it when free (`home`: 0 the calling thread, 1 + i worker i).
 * One queue may hold chunks of several independent ops.
 */
export interface QueuedJob {
  fn: string;
  args: number[];
  scratchArg: number;
  home: number;
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

/** Homes of a queue for `threads` threads (threads past MAX_HOMES have none: they only take others' chunks). */
export const homeCount = (threads: number) => Math.max(1, Math.min(threads, MAX_HOMES));

/**
 * Writes the entries (fn ids and arguments) grouped by home, in list order within a home, and sets each home's
 * cursor; post the workers after this. Returns the jobs' indices in entry order (entry e runs jobs[order[e]]).
 */
export function postQueue(q: QueueViews, jobs: { fnId: number; args: number[]; scratchArg: number; home: number }[],
                          homes: number): number[] {
  if (jobs.length > QUEUE_ENTRIES) throw new Error(`simdnn: ${jobs.length} chunks, more than the queue's ${QUEUE_ENTRIES}`);
  if (!(homes >= 1 && homes <= MAX_HOMES)) throw new Error(`simdnn: a queue of ${homes} homes (1 to ${MAX_HOMES})`);
  const order: number[] = [];
  for (let h = 0; h < homes; h++) {
    const front = order.length;
    jobs.forEach((job, j) => { if (Math.min(Math.max(0, job.home), homes - 1) === h) order.push(j); });
    q.header[cursorAt(h)] = (order.length << 16) | front;
  }
  order.forEach((j, i) => {
    const { fnId, args, scratchArg } = jobs[j];
    if (args.length > MAX_ARGS) throw new Error(`simdnn: a job has ${args.length} arguments, more than the ${MAX_ARGS} an entry holds`);
    const at = intAt(i), a0 = argAt(i);
    q.ints[at] = fnId;
    q.ints[at + 1] = args.length;
    q.ints[at + 2] = scratchArg;
    for (let k = 0; k < args.length; k++) q.f64[a0 + k] = args[k];
  });
  q.header[COUNT] = jobs.length;
  // The last write, with a barrier: a worker that reads this many homes sees the cursors and entries above.
  Atomics.store(q.header, HOMES, homes);
  return order;
}

/** The kernel call of a queued job, its scratch argument (if any) replaced by the running thread's `scratch` block. */
export function withScratch(job: { fn: string; args: number[]; scratchArg: number }, scratch: number): { fn: string; args: number[] } {
  const s = job.scratchArg;
  return s < 0 ? job : { fn: job.fn, args: job.args.map((a, k) => (k === s ? scratch : a)) };
}

/**
 * The next entry for the thread whose home is `home` (≥ the queue's homes: none): the front of its own entries, else
 * the back of the home with the most left; −1 when all are taken. Cursors change by compare-and-swap.
 */
export function claim(q: QueueViews, home: number): number {
  const homes = Atomics.load(q.header, HOMES);
  if (home < homes) {
    const at = cursorAt(home);
    for (let v = Atomics.load(q.header, at); (v & 0xffff) < v >>> 16;) {
      const seen = Atomics.compareExchange(q.header, at, v, v + 1);
      if (seen === v) return v & 0xffff;
      v = seen;
    }
  }
  for (;;) {
    let victim = -1, most = 0;
    for (let h = 0; h < homes; h++) {
      const v = Atomics.load(q.header, cursorAt(h)), left = (v >>> 16) - (v & 0xffff);
      if (left > most) { most = left; victim = h; }
    }
    if (victim < 0) return -1;
    const at = cursorAt(victim), v = Atomics.load(q.header, at);
    if ((v & 0xffff) >= v >>> 16) continue;
    if (Atomics.compareExchange(q.header, at, v, v - 0x10000) === v) return (v >>> 16) - 1;
  }
}

/** Worker side: runs entries until none is left, with `scratch` as each entry's scratch argument. */
export function drain(q: QueueViews, kernels: ((...a: number[]) => unknown)[], scratch: number, home: number, call: number[]): void {
  for (let i = claim(q, home); i >= 0; i = claim(q, home)) {
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
