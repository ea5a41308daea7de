// A pool worker (Node worker_threads or a browser module Worker): instantiates the shared-memory build on
// the engine's memory, answers 'ready', then runs jobs from its slot of the control buffer (protocol.ts)
// until told to stop — spinning briefly, then sleeping in Atomics.wait, between jobs.
import { ARGS_BYTE, DEAD, DONE, FAILED, FN, MAX_ARGS, MAX_MSG, MSG_BYTE, MSG_LEN, NARGS, REQ, SLOT_BYTES, SLOT_INTS, STOP,
         QUEUE, type WorkerInit } from './protocol.js';
import { drain, queueViews } from './queue.js';

/**
 * REQ once it differs from `seen`, or `seen` after spinMs of polling (WorkerInit.spinMs, pool.ts). The ops of a
 * training step come back to back, with up to a few ms of serial work (small ops, JS) between the split ones, and
 * waking a sleeping thread costs 50–250 µs on a VM — time the calling thread then spends waiting for this share.
 */
function poll(ints: Int32Array, seen: number, spinMs: number): number {
  const until = performance.now() + spinMs;
  for (;;) {
    for (let i = 0; i < 1024; i++) {
      const req = Atomics.load(ints, REQ);
      if (req !== seen) return req;
    }
    if (performance.now() > until) return seen;
  }
}

type Port = { postMessage(m: unknown): void; once?(ev: 'message', f: (m: unknown) => void): void; close?(): void };
const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';
const NODE_WORKER_THREADS = 'node:worker_threads';   // a variable: browser bundlers must not resolve it
const port: Port = isNode ? (await import(/* @vite-ignore */ NODE_WORKER_THREADS) as typeof import('node:worker_threads')).parentPort as unknown as Port
  : (globalThis as unknown as Port);

function onStart(init: WorkerInit): void {
  const { module, memory, control, slot, names, spinMs, queueOffset } = init;
  const queue = queueViews(control, queueOffset);
  const ints = new Int32Array(control, slot * SLOT_BYTES, SLOT_INTS);
  const args = new Float64Array(control, slot * SLOT_BYTES + ARGS_BYTE, MAX_ARGS);
  const chars = new Uint16Array(control, slot * SLOT_BYTES + MSG_BYTE, MAX_MSG);
  const instance = new WebAssembly.Instance(module, {
    env: {
      memory,
      abort(_m: number, _f: number, line: number, col: number) {
        throw new Error(`wasm kernel aborted at ${line}:${col}`);
      },
    },
  });
  const exports = instance.exports as Record<string, (...a: number[]) => unknown>;
  const kernels = names.map((n) => exports[n]);
  if (isNode) process.on('exit', () => { Atomics.store(ints, DEAD, 1); Atomics.notify(ints, DONE); });
  port.postMessage('ready');

  let seen = 0;
  const call: number[] = [];
  for (;;) {
    const req = poll(ints, seen, spinMs);
    if (req === seen) {
      Atomics.wait(ints, REQ, seen);
      continue;
    }
    if (req === STOP) break;
    seen = req;
    try {
      if (ints[FN] === QUEUE) {
        drain(queue, kernels, args[0], args[1], call);
      } else {
        const fn = kernels[ints[FN]];
        if (!fn) throw new Error(`no kernel #${ints[FN]} in this build`);
        call.length = ints[NARGS];
        for (let k = 0; k < call.length; k++) call[k] = args[k];
        fn(...call);
      }
    } catch (e) {
      const text = (e instanceof Error ? e.message : String(e)).slice(0, MAX_MSG);
      for (let i = 0; i < text.length; i++) chars[i] = text.charCodeAt(i);
      ints[MSG_LEN] = text.length;
      ints[FAILED] = 1;
    }
    Atomics.store(ints, DONE, seen);
    Atomics.notify(ints, DONE);
  }
  Atomics.store(ints, DEAD, 1);
  if (isNode) port.close?.(); else (globalThis as unknown as { close(): void }).close();
}

if (isNode) port.once!('message', (m) => onStart(m as WorkerInit));
else (globalThis as unknown as { onmessage: ((e: MessageEvent) => void) | null }).onmessage = (e) => {
  (globalThis as unknown as { onmessage: null }).onmessage = null;
  onStart(e.data as WorkerInit);
};
