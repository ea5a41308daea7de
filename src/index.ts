// simdnn: convolutional networks on WebAssembly SIMD. `const nn = await init()` picks the best build.
import { Engine } from './engine.js';
import { detectFeatures } from './runtime/features.js';
import { BACKENDS, compileBuild, instantiate, type Backend } from './runtime/load.js';

export { Engine } from './engine.js';
export { Tensor, type DType } from './tensor.js';
export type { Backend } from './runtime/load.js';
export type { MemoryInfo } from './engine.js';
export type { Ops } from './ops/index.js';
export { layers, Layer, Param, Rng } from './layers/index.js';
export type * from './layers/index.js';
export { Sequential } from './model/sequential.js';
export type { SequentialOptions, Architecture } from './model/sequential.js';
export type { SummaryOptions, SummaryRow } from './model/summary.js';
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
  /** Worker threads (the threads issue); 1 for now. */
  threads?: number;
  /** Upper bound of the linear memory in bytes (default 4 GiB, the wasm32 limit). */
  maxMemoryBytes?: number;
  /** Directory (URL) the .wasm files are fetched from, for CDNs; defaults to the package's build/. */
  wasmUrl?: string | URL;
}

const WASM32_MAX = 65536 * 65536;

/** Starts an engine: detects features, compiles and instantiates the chosen build on a fresh memory. */
export async function init(options: InitOptions = {}): Promise<Engine> {
  const requested = options.backend ?? 'auto';
  if (requested !== 'auto' && !BACKENDS.includes(requested)) {
    throw new Error(`init: backend must be one of 'auto', ${BACKENDS.map((b) => `'${b}'`).join(', ')}; got '${String(requested)}'`);
  }
  const threads = options.threads ?? 1;
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
  const module = await compileBuild(backend, false, options.wasmUrl);
  const maximum = Math.floor(maxMemoryBytes / 65536);
  const memory = new WebAssembly.Memory({ initial: Math.min(16, maximum), maximum });
  const { kernels } = await instantiate(module, memory);
  return new Engine(kernels, memory, backend, 1, maximum * 65536);
}
