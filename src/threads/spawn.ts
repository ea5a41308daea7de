// Starting one pool worker on either platform: Node's worker_threads or a browser module Web Worker. Both get
// the same start message (protocol.ts WorkerInit) and answer 'ready' once the wasm instance exists.
import { DEAD, DONE, SLOT_BYTES, SLOT_INTS, type WorkerInit } from './protocol.js';

export interface WorkerHandle {
  /** Terminates the thread (idempotent). */
  stop(): void;
}

const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';

/**
 * Starts a worker for `init.slot`; resolves once it is ready to take jobs. `onExit` is called (from the event
 * loop) if the thread ends without stop() having been called.
 */
export async function spawnWorker(init: WorkerInit, onExit: () => void): Promise<WorkerHandle> {
  const url = new URL('./worker.js', import.meta.url);
  const ints = new Int32Array(init.control, init.slot * SLOT_BYTES, SLOT_INTS);
  // An exit seen by the main thread's event loop (between calls) marks the slot too.
  const markDead = () => { Atomics.store(ints, DEAD, 1); Atomics.notify(ints, DONE); };
  if (isNode) {
    const { Worker } = await import('node:worker_threads');
    // V8 flags are process-wide (Node refuses them per worker): workers start with no flags of their own.
    const w = new Worker(url, { execArgv: [] });
    await new Promise<void>((resolve, reject) => {
      w.once('message', (m) => (m === 'ready' ? resolve() : reject(new Error(`simdnn: worker said ${String(m)}`))));
      w.once('error', reject);
      w.once('exit', (code) => reject(new Error(`simdnn: worker exited with code ${code} while starting`)));
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
    w.onerror = (e) => reject(new Error(`simdnn: worker failed to start: ${e.message}`));
    w.postMessage(init);
  });
  w.onmessage = null;
  let stopped = false;
  w.onerror = () => { markDead(); if (!stopped) { stopped = true; w.terminate(); onExit(); } };
  return { stop() { if (!stopped) { stopped = true; w.terminate(); markDead(); } } };
}
