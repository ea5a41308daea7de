// A pool of worker threads that call kernels of the shared-memory wasm build on the engine's one shared
// WebAssembly.Memory — Node worker_threads or browser Web Workers (spawn.ts). The op API stays synchronous:
// the calling thread writes one job per worker into that worker's slot of a small SharedArrayBuffer, wakes it
// with Atomics.notify, runs its own share, then waits for the workers' "done" counters. No message passing
// per op: a worker loops on Atomics.wait over its slot (worker.ts), so a dispatch costs a futex wake, not an
// event-loop round trip.
//
// An op with enough work goes instead to the job queue (queue.ts) as chunks that the calling thread and the workers
// claim until none is left (runQueue): each worker's slot then only says "drain the queue, with this scratch block".
// One queue may carry the chunks of several independent ops (a convolution's dx, dW and db: ops/parallel.ts
// runTogether), each chunk naming its own scratch argument.
//
// Where the calling thread may not block (a page's main thread: Atomics.wait throws there) it spins on
// Atomics.load instead. A worker that dies marks its slot (or stops answering): the call fails with that
// error, the pool runs that worker's share on the calling thread from then on and starts a replacement in the
// background. Jobs, not threads, define the split, so results do not depend on how many workers are alive.

import { SLOT_BYTES, SLOT_INTS, REQ, DONE, FN, NARGS, FAILED, MSG_LEN, DEAD, ARGS_BYTE, MAX_ARGS, MSG_BYTE, MAX_MSG,
         STOP, QUEUE, QUEUE_BYTES } from './protocol.js';
import { claim, homeCount, postQueue, queueViews, withScratch, type QueueViews, type QueuedJob } from './queue.js';
import { spawnWorker, type WorkerHandle } from './spawn.js';

/** One kernel call: an export of the wasm module and its numeric arguments. */
export interface Job {
  fn: string;
  args: number[];
}

/** How long a job may take before the pool declares its worker lost. */
const TIMEOUT_MS = 120_000;
/**
 * How long (ms) the calling thread polls a worker's DONE before it blocks, when every thread has a core of its own
 * (else the short figure): waking a blocked thread costs 50–250 µs on a VM. Workers poll for their next job the
 * same way (WORKER_SPIN_MS, worker.ts).
 */
const SPIN_MS = { ownCores: 2, shared: 0.05 };
const WORKER_SPIN_MS = { ownCores: 5, shared: 0.2 };

interface Slot {
  ints: Int32Array;
  args: Float64Array;
  worker: WorkerHandle | null;   // null while a replacement starts
  seq: number;
}

/** A URL as given, or relative to the page (browsers) / the working directory (Node: plain paths too). */
function resolveUrl(u: string | URL): URL {
  if (u instanceof URL) return u;
  const page = (globalThis as { location?: { href: string } }).location?.href;
  if (page) return new URL(u, page);
  if (/^[a-z][a-z0-9+.-]*:/i.test(u)) return new URL(u);
  const cwd = typeof process !== 'undefined' ? process.cwd().replace(/\\/g, '/') : '/';
  return new URL(u.startsWith('/') ? `file://${u}` : `file://${cwd.startsWith('/') ? '' : '/'}${cwd}/${u}`);
}

export class WorkerPool {
  private disposed = false;
  private canBlock: boolean | null = null;
  private readonly ids: Map<string, number>;
  private readonly queue: QueueViews;

  private constructor(private readonly slots: Slot[], private readonly control: SharedArrayBuffer,
                      private readonly names: string[], private readonly module: WebAssembly.Module,
                      private readonly memory: WebAssembly.Memory, private readonly url: URL,
                      private readonly ownCores: boolean) {
    this.ids = new Map(names.map((n, i) => [n, i]));
    this.queue = queueViews(control, slots.length * SLOT_BYTES);
  }

  /**
   * Starts `size` workers, each instantiating `module` on `memory`; resolves when all are ready. ownCores: the
   * calling thread and the workers have a core each (threads then poll longer before they sleep).
   */
  static async create(size: number, module: WebAssembly.Module, memory: WebAssembly.Memory,
                      workerUrl?: string | URL, ownCores = false): Promise<WorkerPool> {
    const names = WebAssembly.Module.exports(module).filter((e) => e.kind === 'function').map((e) => e.name).sort();
    const control = new SharedArrayBuffer(size * SLOT_BYTES + QUEUE_BYTES);
    const slots: Slot[] = Array.from({ length: size }, (_, i) => ({
      ints: new Int32Array(control, i * SLOT_BYTES, SLOT_INTS),
      args: new Float64Array(control, i * SLOT_BYTES + ARGS_BYTE, MAX_ARGS),
      worker: null,
      seq: 0,
    }));
    const url = workerUrl === undefined ? new URL('./worker.js', import.meta.url) : resolveUrl(workerUrl);
    const pool = new WorkerPool(slots, control, names, module, memory, url, ownCores);
    try {
      await Promise.all(slots.map((_, i) => pool.start(i)));
    } catch (e) {
      pool.dispose();
      throw e;
    }
    return pool;
  }

  private async start(i: number): Promise<void> {
    const slot = this.slots[i];
    Atomics.store(slot.ints, DEAD, 0);
    Atomics.store(slot.ints, REQ, 0);
    Atomics.store(slot.ints, DONE, 0);
    slot.seq = 0;
    const worker: WorkerHandle = await spawnWorker(this.url, { module: this.module, memory: this.memory, control: this.control, slot: i, names: this.names,
                                                     spinMs: WORKER_SPIN_MS[this.ownCores ? 'ownCores' : 'shared'],
                                                     queueOffset: this.slots.length * SLOT_BYTES },
      () => this.exitedWhileIdle(i, worker));
    if (this.disposed) { worker.stop(); return; }
    slot.worker = worker;
  }

  /** A worker's thread ended between calls (nothing was running on it): start a replacement. */
  private exitedWhileIdle(i: number, worker: WorkerHandle): void {
    if (this.disposed || this.slots[i].worker !== worker) return;
    this.slots[i].worker = null;
    this.start(i).catch((e) => console.warn(`simdnn: could not restart worker thread ${i}: ${e instanceof Error ? e.message : e}`));
  }

  /** Worker threads in the pool (the calling thread comes on top of these), counting ones being replaced. */
  get size(): number {
    return this.slots.length;
  }

  /** Workers alive now. */
  get alive(): number {
    return this.slots.filter((s) => s.worker).length;
  }

  /**
   * Runs jobs[0] with `local` on the calling thread and jobs[1..] on workers (at most one per worker),
   * returning when all are done; a worker's error is rethrown here. Jobs of workers being replaced run
   * on the calling thread.
   */
  run(jobs: Job[], local: (job: Job) => void): void {
    if (this.disposed) throw new Error('simdnn: the worker pool was disposed');
    if (jobs.length - 1 > this.slots.length) throw new Error(`simdnn: ${jobs.length} jobs for ${this.slots.length + 1} threads`);
    const posted: number[] = [];
    const leftovers: Job[] = [];
    for (let j = 1; j < jobs.length; j++) {
      const slot = this.slots[j - 1];
      if (slot.worker) { this.post(slot, jobs[j]); posted.push(j - 1); } else leftovers.push(jobs[j]);
    }
    let firstError: unknown = null;
    for (const job of [jobs[0], ...leftovers]) {
      try { local(job); } catch (e) { firstError ??= e; }
    }
    for (const i of posted) {
      const err = this.wait(i, jobs[i + 1].fn);
      firstError ??= err;
    }
    if (firstError) throw firstError;
  }

  /**
   * Runs the jobs (chunks of one or more independent ops) on the calling thread and the live workers, each thread
   * claiming its own chunks (QueuedJob.home) in list order, then others' from the back, until none is left; returns
   * when all are done, rethrowing the first error. A chunk's scratch argument (scratchArg, −1: none) is replaced by the running thread's
   * scratch block: scratches[0] for the calling thread, scratches[1 + i] for worker i (0 when none is needed).
   */
  runQueue(jobs: QueuedJob[], scratches: number[], local: (job: Job) => void): void {
    if (this.disposed) throw new Error('simdnn: the worker pool was disposed');
    const order = postQueue(this.queue, jobs.map((j) => ({ fnId: this.ids.get(j.fn) ?? -1, args: j.args, scratchArg: j.scratchArg, home: j.home })),
                            homeCount(this.slots.length + 1));
    const posted: number[] = [];
    this.slots.forEach((slot, i) => {
      if (!slot.worker) return;
      this.post(slot, { fn: 'queue', args: [scratches[1 + i] ?? 0, 1 + i] }, QUEUE);
      posted.push(i);
    });
    let firstError: unknown = null;
    for (let e = claim(this.queue, 0); e >= 0; e = claim(this.queue, 0)) {
      try { local(withScratch(jobs[order[e]], scratches[0] ?? 0)); } catch (e) { firstError ??= e; }
    }
    for (const i of posted) {
      const err = this.wait(i, jobs[0].fn);
      firstError ??= err;
    }
    if (firstError) throw firstError;
  }

  private post(slot: Slot, job: Job, fnId = this.ids.get(job.fn) ?? -1): void {
    const n = job.args.length;
    if (n > MAX_ARGS) throw new Error(`simdnn: ${job.fn} has ${n} arguments, more than the ${MAX_ARGS} a job slot holds`);
    for (let k = 0; k < n; k++) slot.args[k] = job.args[k];
    slot.ints[FN] = fnId;
    slot.ints[NARGS] = n;
    slot.ints[FAILED] = 0;
    slot.seq++;
    Atomics.store(slot.ints, REQ, slot.seq);
    Atomics.notify(slot.ints, REQ);
  }

  /** Waits for worker i's current job; returns its error (or a lost-worker error), null when it succeeded. */
  private wait(i: number, fn: string): Error | null {
    const slot = this.slots[i];
    const started = Date.now();
    const spinUntil = performance.now() + SPIN_MS[this.ownCores ? 'ownCores' : 'shared'];
    let spins = 0;
    for (;;) {
      const done = Atomics.load(slot.ints, DONE);
      if (done === slot.seq) break;
      if (Atomics.load(slot.ints, DEAD)) return this.lost(i, fn, 'its thread exited');
      if ((++spins & 1023) !== 0 || performance.now() < spinUntil) continue;
      if (this.block(slot.ints, done) && Date.now() - started > TIMEOUT_MS) {
        return this.lost(i, fn, `no answer within ${TIMEOUT_MS / 1000} s`);
      }
    }
    if (!slot.ints[FAILED]) return null;
    const len = Math.min(slot.ints[MSG_LEN], MAX_MSG);
    const text = String.fromCharCode(...new Uint16Array(this.control, i * SLOT_BYTES + MSG_BYTE, len));
    return new Error(`simdnn: worker thread failed: ${fn}: ${text}`);
  }

  /** Blocks up to a second while DONE still equals `seen` (spins where blocking is not allowed); true when timed out. */
  private block(ints: Int32Array, seen: number): boolean {
    if (this.canBlock !== false) {
      try {
        const r = Atomics.wait(ints, DONE, seen, 1000);
        this.canBlock = true;
        return r === 'timed-out';
      } catch {
        this.canBlock = false;   // a browser's main thread
      }
    }
    const until = Date.now() + 1000;
    while (Atomics.load(ints, DONE) === seen && Date.now() < until) { /* spin */ }
    return Atomics.load(ints, DONE) === seen;
  }

  /** Drops worker i (its share runs on the calling thread until a replacement is ready) and returns the error. */
  private lost(i: number, fn: string, why: string): Error {
    const slot = this.slots[i];
    slot.worker?.stop();
    slot.worker = null;
    if (!this.disposed) {
      this.start(i).catch((e) => console.warn(`simdnn: could not restart worker thread ${i}: ${e instanceof Error ? e.message : e}`));
    }
    return new Error(`simdnn: worker thread ${i} was lost during ${fn} (${why}); its work runs on the calling thread until a new worker is ready`);
  }

  /** Resolves when every slot has a live worker (after a replacement was started). */
  async ready(timeoutMs = 10_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (this.alive < this.slots.length) {
      if (Date.now() > until) throw new Error(`simdnn: ${this.slots.length - this.alive} worker thread(s) not ready after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** @internal Test hook: stops worker i as if it had died. */
  kill(i: number): void {
    this.slots[i].worker?.stop();
  }

  /** Stops the workers. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const slot of this.slots) {
      Atomics.store(slot.ints, REQ, STOP);
      Atomics.notify(slot.ints, REQ);
      slot.worker?.stop();
      slot.worker = null;
    }
  }
}
