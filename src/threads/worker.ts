// A worker thread of the pool (pool.ts): instantiates the shared-memory build on the engine's memory, then
// runs kernel calls posted to it, counting each finished job down in the shared sync buffer.
import { parentPort, workerData } from 'node:worker_threads';

interface WorkerData {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  syncBuffer: SharedArrayBuffer;
}

const { module, memory, syncBuffer } = workerData as WorkerData;
const sync = new Int32Array(syncBuffer, 0, 3);
const instance = new WebAssembly.Instance(module, {
  env: {
    memory,
    abort(_m: number, _f: number, line: number, col: number) {
      throw new Error(`wasm kernel aborted at ${line}:${col}`);
    },
  },
});
const kernels = instance.exports as Record<string, (...args: number[]) => unknown>;

parentPort!.on('message', (job: { fn: string; args: number[] }) => {
  try {
    kernels[job.fn](...job.args);
  } catch (e) {
    const text = `${job.fn}: ${e instanceof Error ? e.message : String(e)}`.slice(0, 512);
    const chars = new Uint16Array(syncBuffer, 16, 512);   // pool.ts: MESSAGE
    for (let i = 0; i < text.length; i++) chars[i] = text.charCodeAt(i);
    sync[2] = text.length;
    Atomics.store(sync, 1, 1);
  }
  if (Atomics.sub(sync, 0, 1) === 1) Atomics.notify(sync, 0);
});
parentPort!.postMessage('ready');
