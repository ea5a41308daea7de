// simdnn: convolutional networks on WebAssembly SIMD. `const nn = await init()` picks the best build.
import { Engine } from './engine.js';
import { detectFeatures } from './runtime/features.js';
import { BACKENDS, compileBuild, instantiate, type Backend } from './runtime/load.js';
import { WorkerPool } from './threads/pool.js';

export { Engine } from './engine.js';
export { Tensor, type DType } from './tensor.js';
export type { Backend } from './runtime/load.js';
export type { MemoryInfo } from './engine.js';
export type { Ops } from './ops/index.js';
export { layers, Layer, Param, Rng } from './layers/index.js';
export type * from './layers/index.js';
export { Sequential } from './model/sequential.js';
export type { SequentialOptions, Architecture } from './model/sequential.js';
export type { SummaryOptions, SummaryRow, SummaryReport } from './model/summary.js';
export type { Models, ModelOptions } from './model/models.js';
export type { ResidualOptions, LayerList } from './model/containers.js';
export { Optimizer, SGD, Adam } from './optim/index.js';
export type { OptimizerOptions, SgdOptimizerOptions, AdamOptimizerOptions, Schedule, ScheduleContext } from './optim/index.js';
export { schedules } from './optim/schedules.js';
export { augment } from './train/augment.js';
export type { Transform } from './train/augment.js';
export type { FitOptions, History, Callbacks, DataInput, ArrayData, Batch, EvalResult, PredictOptions, EvaluateOptions } from './train/fit.js';
export type { BatchLogs, EpochLogs, Verbose } from './train/progress.js';
export type { Inspect, Adversarial, InspectOptions, Labels, FgsmOptions, LossGradient, GrayImage, RGBAImage, Normalize,
              FilterImageOptions, MapImageOptions, GridOptions, Colormap, Series, LinePlotOptions, RGB } from './inspect/index.js';

export interface InitOptions {
  /** Which build to run: 'auto' (default) picks the best the host validates. */
  backend?: 'auto' | Backend;
  /**
   * Threads for the heavy kernels: threads − 1 workers (Node worker_threads, or Web Workers in a
   * cross-origin-isolated page) share the engine's memory (the shared-memory build); convolutions, GEMM,
   * pooling, batch norm and large optimizer steps split their work over them. Default: the machine's cores
   * (os.availableParallelism() / navigator.hardwareConcurrency) up to 8, or 1 where SharedArrayBuffer is
   * unavailable (without a warning; asking for more there warns once).
   */
  threads?: number;
  /**
   * With threads: work below this many FLOPs stays on the calling thread (default 2e6; a job's round trip
   * to a worker costs µs while it polls for work, tens of µs once it sleeps). Tests set 0 to send every op
   * through the workers.
   */
  minParallelFlops?: number;
  /** Upper bound of the linear memory in bytes (default 4 GiB, the wasm32 limit). */
  maxMemoryBytes?: number;
  /** Directory (URL) the .wasm files are fetched from, for CDNs; defaults to the package's build/. */
  wasmUrl?: string | URL;
  /**
   * URL of the package's `dist/threads/worker.js` for thread workers, for bundlers that do not keep it next to
   * the bundle (it imports `./protocol.js` beside it); defaults to the file beside the pool's module.
   */
  workerUrl?: string | URL;
}

const WASM32_MAX = 65536 * 65536;

const warned = new Set<string>();
function warnOnce(message: string): void {
  if (warned.has(message)) return;
  warned.add(message);
  console.warn(message);
}
const SHARED_MAX = 32768 * 65536;

// Node-only modules by variable specifiers: browser bundlers leave such imports alone (they run only under Node).
const NODE_V8 = 'node:v8', NODE_OS = 'node:os';

/**
 * Node: compiles with V8's optimizing compiler from the start. Worker instances of a module otherwise stay on
 * the baseline (Liftoff) code for a long time — measured: 2 threads slower than 1 until this was added.
 */
async function compileOptimized(compile: () => Promise<WebAssembly.Module>): Promise<WebAssembly.Module> {
  const v8 = await import(/* @vite-ignore */ NODE_V8) as typeof import('node:v8');
  v8.setFlagsFromString('--no-liftoff');
  try {
    return await compile();
  } finally {
    v8.setFlagsFromString('--liftoff');
  }
}

/** The cores this process may use (os.availableParallelism() / navigator.hardwareConcurrency; 1 when unknown). */
async function machineCores(): Promise<number> {
  if (typeof process !== 'undefined' && typeof process.versions?.node === 'string') {
    const os = await import(/* @vite-ignore */ NODE_OS) as typeof import('node:os');
    return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  }
  return (typeof navigator !== 'undefined' && navigator.hardwareConcurrency) || 1;
}

/** The machine's cores, capped at 8 (Amdahl: beyond that the serial parts of a step dominate); 1 without shared memory. */
async function defaultThreads(): Promise<number> {
  if (typeof SharedArrayBuffer === 'undefined') return 1;
  if ((globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === false) return 1;
  return Math.max(1, Math.min(8, await machineCores()));
}

/** Starts an engine: detects features, compiles and instantiates the chosen build on a fresh memory. */
export async function init(options: InitOptions = {}): Promise<Engine> {
  const requested = options.backend ?? 'auto';
  if (requested !== 'auto' && !BACKENDS.includes(requested)) {
    throw new Error(`init: backend must be one of 'auto', ${BACKENDS.map((b) => `'${b}'`).join(', ')}; got '${String(requested)}'`);
  }
  const threads = options.threads ?? await defaultThreads();
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`init: threads must be a positive integer, got ${threads}`);
  const maxMemoryBytes = options.maxMemoryBytes ?? WASM32_MAX;
  if (!(maxMemoryBytes >= 65536 && maxMemoryBytes <= WASM32_MAX)) {
    throw new Error(`init: maxMemoryBytes must be between 65536 and ${WASM32_MAX}, got ${maxMemoryBytes}`);
  }
  const features = detectFeatures();
  const supported = (b: Backend) => b === 'scalar' || (b === 'simd' ? features.simd : features.relaxedSimd && features.simd);
  let backend: Backend;
  if (requested === 'auto') {
    backend = BACKENDS.find(supported) ?? 'scalar';
  } else {
    if (!supported(requested)) {
      const hint = requested === 'relaxed-simd' ? ' (Node 20 needs --experimental-wasm-relaxed-simd)' : '';
      throw new Error(`init: backend '${requested}' is not supported by this host${hint}`);
    }
    backend = requested;
  }
  const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';
  let workers = threads - 1;
  if (workers > 0 && !features.sharedMemory) {
    warnOnce('simdnn: SharedArrayBuffer is unavailable, running on 1 thread (a page needs the headers ' +
      'Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp for threads)');
    workers = 0;
  }
  const shared = workers > 0;
  const module = shared && isNode ? await compileOptimized(() => compileBuild(backend, true, options.wasmUrl))
               : shared ? await compileBuild(backend, true, options.wasmUrl)
                        : await compileBuild(backend, false, options.wasmUrl);
  // The shared builds declare at most 32768 pages (2 GiB) of shared memory.
  const maximum = Math.floor(Math.min(maxMemoryBytes, shared ? SHARED_MAX : WASM32_MAX) / 65536);
  const memory = new WebAssembly.Memory({ initial: Math.min(16, maximum), maximum, shared });
  const { kernels } = await instantiate(module, memory);
  // Threads poll for work for a while before they sleep, but only when each has a core of its own: with more
  // threads than cores, polling takes the time a descheduled thread needs to finish its share.
  const ownCores = workers + 1 <= await machineCores();
  const pool = shared ? await WorkerPool.create(workers, module, memory, options.workerUrl, ownCores) : null;
  const engine = new Engine(kernels, memory, backend, workers + 1, maximum * 65536, pool);
  if (options.minParallelFlops !== undefined) {
    if (!(options.minParallelFlops >= 0)) throw new Error(`init: minParallelFlops must be a number ≥ 0, got ${options.minParallelFlops}`);
    engine.minParallelFlops = options.minParallelFlops;
  }
  return engine;
}
