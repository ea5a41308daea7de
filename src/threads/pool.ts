// A pool of worker threads that call kernels of the shared-memory wasm build on the engine's one shared
// WebAssembly.Memory (Node worker_threads). The op API stays synchronous: the calling thread posts one job
// per worker, runs its own share, then blocks on an Atomics counter in a small SharedArrayBuffer until every
// worker has finished. Workers report kernel errors through that buffer (the caller is blocked and cannot
// receive messages). Workers are unref'd: a process that used threads exits by itself.

/** One kernel call: an export of the wasm module and its numeric arguments. */
export interface Job {
  fn: string;
  args: number[];
}

// Layout of the sync buffer (shared with worker.ts): Int32 slots, then the error text.
const PENDING = 0;      // Int32 slot: jobs not finished yet
const FAILED = 1;       // Int32 slot: 1 when a worker caught an error
const LENGTH = 2;       // Int32 slot: length of the error text
const MESSAGE = 16;     // byte offset of the UTF-16 error text (at most 512 characters)
const SYNC_BYTES = MESSAGE + 2 * 512;
const TIMEOUT_MS = 120_000;

interface NodeWorker {
  postMessage(message: unknown): void;
  terminate(): Promise<number>;
  unref(): void;
  on(event: string, listener: (...args: unknown[]) => void): void;
}

export class WorkerPool {
  private readonly sync: Int32Array;
  private disposed = false;

  private constructor(private readonly workers: NodeWorker[], private readonly syncBuffer: SharedArrayBuffer) {
    this.sync = new Int32Array(syncBuffer, 0, 2);
  }

  /** Starts `size` workers, each instantiating `module` on `memory`; resolves when all are ready. */
  static async create(size: number, module: WebAssembly.Module, memory: WebAssembly.Memory): Promise<WorkerPool> {
    const { Worker } = await import('node:worker_threads');
    const syncBuffer = new SharedArrayBuffer(SYNC_BYTES);
    const workers: NodeWorker[] = [];
    await Promise.all(Array.from({ length: size }, (_, i) => new Promise<void>((resolve, reject) => {
      // V8 flags are process-wide (Node refuses them per worker) and --input-type would make Node refuse
      // worker.js: workers start with no flags of their own.
      const execArgv: string[] = [];
      const w = new Worker(new URL('./worker.js', import.meta.url), { workerData: { module, memory, syncBuffer, index: i }, execArgv }) as unknown as NodeWorker;
      w.on('message', (m) => (m === 'ready' ? resolve() : undefined));
      w.on('error', (e) => reject(e));
      workers.push(w);
    })));
    for (const w of workers) w.unref();
    return new WorkerPool(workers, syncBuffer);
  }

  /** Worker threads in the pool (the calling thread comes on top of these). */
  get size(): number {
    return this.workers.length;
  }

  /**
   * Runs jobs[0] with `local` on the calling thread and jobs[1..] on workers (at most one per worker),
   * returning when all are done; a worker's error is rethrown here.
   */
  run(jobs: Job[], local: (job: Job) => void): void {
    if (this.disposed) throw new Error('simdnn: the worker pool was disposed');
    if (jobs.length - 1 > this.workers.length) throw new Error(`simdnn: ${jobs.length} jobs for ${this.workers.length + 1} threads`);
    const remote = jobs.length - 1;
    Atomics.store(this.sync, FAILED, 0);
    Atomics.store(this.sync, PENDING, remote);
    for (let i = 0; i < remote; i++) this.workers[i].postMessage(jobs[i + 1]);
    let localError: unknown = null;
    try {
      local(jobs[0]);
    } catch (e) {
      localError = e;
    }
    const started = Date.now();
    for (let left = Atomics.load(this.sync, PENDING); left > 0; left = Atomics.load(this.sync, PENDING)) {
      if (Atomics.wait(this.sync, PENDING, left, 1000) === 'timed-out' && Date.now() - started > TIMEOUT_MS) {
        throw new Error(`simdnn: a worker thread did not finish ${jobs[1].fn} within ${TIMEOUT_MS / 1000} s`);
      }
    }
    if (localError) throw localError;
    if (Atomics.load(this.sync, FAILED)) {
      const len = new Int32Array(this.syncBuffer, 0, 3)[LENGTH];
      const text = String.fromCharCode(...new Uint16Array(this.syncBuffer, MESSAGE, Math.min(len, 512)));
      throw new Error(`simdnn: worker thread failed: ${text}`);
    }
  }

  /** Terminates the workers. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const w of this.workers) void w.terminate();
  }
}
