// Starting one pool worker on either platform: Node's worker_threads or a browser module Web Worker. Both get
// the same start message (protocol.ts WorkerInit) and answer 'ready' once the wasm instance exists.
import { DEAD, DONE, SLOT_BYTES, SLOT_INTS, type WorkerInit } from './protocol.js';

export interface WorkerHandle {
  /** Terminates the thread (idempotent). */
  stop(): void;
}

const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';
// A variable, not a literal: bundlers for the browser would otherwise try to resolve the Node module.
const NODE_WORKER_THREADS = 'node:worker_threads';

/**
 * Starts a worker for `init.slot`; resolves once it is ready to take jobs. `onExit` is called (from the event
 * loop) if the thread ends without stop() having been called.
 */
export async function spawnWorker(url: URL, init: WorkerInit, onExit: () => void): Promise<WorkerHandle> {
  const ints = new Int32Array(init.control, init.slot * SLOT_BYTES, SLOT_INTS);
  // An exit seen by the main thread's event loop (between calls) marks the slot too.
  const markDead = () => { Atomics.store(ints, DEAD, 1); Atomics.notify(ints, DONE); };
  if (isNode) {
    const { Worker } = await import(/* @vite-ignore */ NODE_WORKER_THREADS) as typeof import('node:worker_threads');
    // V8 flags are process-wide (Node refuses them per worker): workers start with no flags of their own.
    const w = new Worker(url, { execArgv: [] });
    await new Promise<void>((resolve, reject) => {
      w.once('message', (m) => (m === 'ready' ? resolve() : reject(new Error(`simdnn: worker said ${String(m)}`))));
      const fail = (why: string) => reject(new Error(`simdnn: the thread worker ${url.href} failed to start: ${why}; ` +
        'init({ workerUrl }) points at dist/threads/worker.js'));
      w.once('error', (e) => fail(e instanceof Error ? e.message : String(e)));
      w.once('exit', (code) => fail(`it exited with code ${code}`));
      w.postMessage(init);
    });
    w.removeAllListeners();
    let stopped = false;
    // After stop() the slot may already belong to a replacement: only an unexpected exit marks it.
    const exited = () => { if (!stopped) { stopped = true; markDead(); onExit(); } };
    w.on('exit', exited);
    w.on('error', exited);
    w.unref();
    return { stop() { if (!stopped) { stopped = true; void w.terminate(); markDead(); } } };
  }
  const w = new Worker(url, { type: 'module', name: `simdnn-${init.slot}` });
  await new Promise<void>((resolve, reject) => {
    w.onmessage = (e) => (e.data === 'ready' ? resolve() : reject(new Error(`simdnn: worker said ${String(e.data)}`)));
    // A missing script fires a bare error event (no message): name the URL, and the option that sets it.
    w.onerror = (e) => reject(new Error(`simdnn: the thread worker ${url.href} failed to start` +
      `${e.message ? `: ${e.message}` : ' (not found or not a module?)'}; init({ workerUrl }) points at dist/threads/worker.js`));
    w.postMessage(init);
  });
  w.onmessage = null;
  let stopped = false;
  w.onerror = () => { markDead(); if (!stopped) { stopped = true; w.terminate(); onExit(); } };
  return { stop() { if (!stopped) { stopped = true; w.terminate(); markDead(); } } };
}
