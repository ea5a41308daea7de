// The layout of one worker's slot in the pool's control SharedArrayBuffer (pool.ts writes jobs, worker.ts
// runs them). Int32 fields first, then the job's arguments as float64, then an error text in UTF-16.

export const SLOT_BYTES = 2048;
export const SLOT_INTS = 16;
/** Int32 index: sequence number of the posted job (STOP tells the worker to exit). */
export const REQ = 0;
/** Int32 index: sequence number of the last finished job. */
export const DONE = 1;
/** Int32 index: the kernel, as an index into the sorted list of the module's function exports (−1: unknown). */
export const FN = 2;
/** Int32 index: how many arguments follow. */
export const NARGS = 3;
/** Int32 index: 1 when the last job threw. */
export const FAILED = 4;
/** Int32 index: length of the error text. */
export const MSG_LEN = 5;
/** Int32 index: 1 once the worker has exited. */
export const DEAD = 6;
/** REQ value that stops a worker. */
export const STOP = -1;
/**
 * FN value of a queue job: take entries of the shared job queue (after the slots) until none is left, putting
 * this worker's scratch block (the job's first argument) into each entry's scratch argument; the second argument is
 * the worker's home (queue.ts claim).
 */
export const QUEUE = -2;
export const ARGS_BYTE = 64;
export const MAX_ARGS = 40;
export const MSG_BYTE = ARGS_BYTE + 8 * MAX_ARGS;
export const MAX_MSG = (SLOT_BYTES - MSG_BYTE) / 2;

/** What a worker receives to start. */
export interface WorkerInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  control: SharedArrayBuffer;
  slot: number;
  /** The module's function exports, sorted: FN indexes this list. */
  names: string[];
  /** How long (ms) to poll for the next job before sleeping in Atomics.wait. */
  spinMs: number;
  /** Byte offset of the job queue in `control`. */
  queueOffset: number;
}

// The job queue, after the slots: a header of Int32 fields, then QUEUE_ENTRIES entries of one job each (Int32 fn,
// argument count and scratch argument, then float64 arguments). Entries are grouped by home thread (queue.ts): home h
// owns entries [front, back) of its cursor, packed as back << 16 | front in one Int32, alone on its cache line.
/** Int32 index in the queue header: how many entries are posted. */
export const COUNT = 0;
/** Int32 index in the queue header: how many homes the posted entries are grouped into. */
export const HOMES = 1;
/** Homes with a cursor; threads beyond these only take other threads' entries. */
export const MAX_HOMES = 16;
/** Int32 index in the queue header of home h's cursor (16 Int32 = 64 bytes apart: one cache line each). */
export const cursorAt = (h: number) => 16 * (h + 1);
export const QUEUE_HEADER_BYTES = 64 * (MAX_HOMES + 1);
/** Bytes before an entry's float64 arguments: Int32 fn id, argument count, scratch argument (−1: none), padding. */
export const ENTRY_HEAD_BYTES = 16;
export const ENTRY_BYTES = ENTRY_HEAD_BYTES + 8 * MAX_ARGS;
export const QUEUE_ENTRIES = 64;
export const QUEUE_BYTES = QUEUE_HEADER_BYTES + QUEUE_ENTRIES * ENTRY_BYTES;
