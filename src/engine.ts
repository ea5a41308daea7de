// The engine: one wasm instance on one linear memory, the allocator over it, tensors and the ops.
import { Allocator } from './memory/allocator.js';
import { PackCache } from './memory/pack-cache.js';
import { Tensor, type DType } from './tensor.js';
import type { Kernels } from './runtime/kernels.js';
import type { Backend } from './runtime/load.js';
import { makeOps, type Ops } from './ops/index.js';
import { checkShape } from './ops/check.js';
import { layers, type Layers } from './layers/index.js';
import { makeOptim, type Optim } from './optim/index.js';
import { augment } from './train/augment.js';
import { Sequential, loadModel, loadModelFile, type SequentialOptions } from './model/sequential.js';
import type { Layer } from './layers/layer.js';
import { residual, branches, named } from './model/containers.js';
import { makeModels, type Models } from './model/models.js';
import { summaryOf, type SummaryOptions, type SummaryReport } from './model/summary.js';
import { makeInspect, makeAdversarial, type Inspect, type Adversarial } from './inspect/index.js';
import type { Job, WorkerPool } from './threads/pool.js';
import { withScratch, type QueuedJob } from './threads/queue.js';

export interface MemoryInfo {
  /** Live tensors. */
  tensors: number;
  /** Bytes of data held by live tensors. */
  bytes: number;
  /** Bytes of kernel scratch kept for reuse (im2col panels, packed GEMM blocks). */
  scratchBytes: number;
  /** Bytes of packed weight copies, kept until their tensor changes or is disposed. */
  packedBytes: number;
  /** Size of the wasm linear memory. */
  heapBytes: number;
}

type TidyResult = Tensor | readonly TidyResult[] | { readonly [k: string]: TidyResult } | number | string | boolean | null | undefined | void;

export class Engine {
  readonly ops: Ops;
  /** Layer factories (nn.layers.conv2d({...}), …) for nn.sequential. */
  readonly layers: Layers = layers;
  /** Optimizers, learning-rate schedules and gradient clipping. */
  readonly optim: Optim;
  /** Seeded data-augmentation transforms for fit({ augment }). */
  readonly augment = augment;
  /** nn.residual(body, shortcut?) → body(x) + shortcut(x) (identity shortcut when omitted); nn.branches([...], 'concat' | 'add'). */
  readonly residual = residual;
  readonly branches = branches;
  /** nn.named([...] | { name: layer, … }): layers in order with module names (torch's nn.Sequential / OrderedDict), nesting anywhere. */
  readonly named = named;
  /** The classic architectures with torchvision's state_dict names (lenet5, alexnet, vgg11, vgg16, resnet18, resnet8). */
  readonly models: Models;
  /** Seeing what a net learns: activations, input gradients, saliency, filter/feature-map images, plots, PNG files. */
  readonly inspect: Inspect;
  /** Adversarial examples (FGSM). */
  readonly adversarial: Adversarial;
  private readonly allocator: Allocator;
  /** @internal Packed weight copies (see PackCache). */
  readonly packs: PackCache;
  private readonly live = new Set<Tensor>();
  private liveBytes = 0;
  private readonly scopes: Set<Tensor>[] = [];
  /**
   * @internal Ops smaller than this many FLOPs run on the calling thread only (init's minParallelFlops): 2e6 is
   * about 100 µs on one thread, several times a split's cost while the workers are polling (pool.ts).
   */
  minParallelFlops = 2e6;
  /** Scratch blocks, one per thread (index 0: the calling thread). */
  private readonly scratchOffsets: number[] = [];
  private readonly scratchSizes: number[] = [];
  private disposedEngine = false;

  /** @internal Use init(). */
  constructor(
    readonly kernels: Kernels,
    readonly wasmMemory: WebAssembly.Memory,
    readonly backend: Backend,
    readonly threads: number,
    maxMemoryBytes: number,
    private readonly pool: WorkerPool | null = null,
  ) {
    this.allocator = new Allocator(wasmMemory, kernels.heap_base(), maxMemoryBytes);
    this.packs = new PackCache((bytes, what) => this.allocator.alloc(bytes, what), (offset) => this.allocator.free(offset));
    this.ops = makeOps(this);
    this.optim = makeOptim(this);
    this.inspect = makeInspect(this);
    this.adversarial = makeAdversarial();
    this.models = makeModels(this);
  }

  /**
   * A model's summary from shapes alone, for a per-sample input shape: per layer the output shape, parameters,
   * multiply-adds, activation memory and receptive field, and totals. Works on unbuilt models (nn.models.*({ build:
   * false }), nn.sequential without inputShape) and allocates no weights. Prints unless { print: false }.
   */
  summary(model: Sequential | Layer[] | Record<string, Layer>, inputShape?: readonly number[], opts?: SummaryOptions): SummaryReport {
    return summaryOf(model, inputShape, opts);
  }

  /** A model from a list of layers; with inputShape (per sample) every shape is inferred and checked now. */
  sequential(layerList: Layer[] | Record<string, Layer>, opts?: SequentialOptions): Sequential {
    this.assertAlive();
    return new Sequential(this, layerList, opts);
  }

  /** A model from checkpoint bytes written by model.save() (safetensors with the architecture in its metadata). */
  load(bytes: Uint8Array | ArrayBuffer): Sequential {
    this.assertAlive();
    return loadModel(this, bytes);
  }

  /** Node: nn.load of a file. */
  loadFile(path: string): Promise<Sequential> {
    this.assertAlive();
    return loadModelFile(this, path);
  }

  /** A new tensor holding a copy of `data` (float32 by default). */
  tensor(data: ArrayLike<number>, shape: readonly number[], dtype: DType = 'float32'): Tensor {
    this.assertAlive();
    if (dtype !== 'float32' && dtype !== 'int32') throw new Error(`tensor: dtype must be 'float32' or 'int32', got '${dtype}'`);
    if (data == null || typeof (data as ArrayLike<number>).length !== 'number') {
      throw new Error(`tensor: data must be an array-like of numbers, got ${data === null ? 'null' : typeof data}`);
    }
    checkShape('tensor', 'shape', shape);
    const size = shape.reduce((a, b) => a * b, 1);
    if (data.length !== size) {
      throw new Error(`tensor: data has ${data.length} elements, expected ${size} for shape [${shape.join(', ')}]`);
    }
    const t = this.empty(shape, dtype, 'tensor');
    t.view().set(data);
    return t;
  }

  /** A new tensor of zeros. */
  zeros(shape: readonly number[], dtype: DType = 'float32'): Tensor {
    this.assertAlive();
    checkShape('zeros', 'shape', shape);
    const t = this.empty(shape, dtype, 'zeros');
    t.view().fill(0);
    return t;
  }

  /** Live tensors and bytes (tests check they return to a baseline), scratch and heap size. */
  memory(): MemoryInfo {
    return {
      tensors: this.live.size,
      bytes: this.liveBytes,
      scratchBytes: this.scratchSizes.reduce((a, b) => a + b, 0),
      packedBytes: this.packs.bytes,
      heapBytes: this.allocator.heapBytes,
    };
  }

  /**
   * Runs fn and disposes every tensor created inside it except those in its result (a tensor, or arrays /
   * plain objects of them), which move to the enclosing scope. fn must be synchronous.
   */
  tidy<T extends TidyResult>(fn: () => T): T {
    this.assertAlive();
    if (typeof fn !== 'function') throw new Error(`tidy: fn must be a function, got ${typeof fn}`);
    const scope = new Set<Tensor>();
    this.scopes.push(scope);
    let result: T;
    try {
      result = fn();
      if (result && typeof (result as { then?: unknown }).then === 'function') {
        throw new Error('tidy: fn must be synchronous (it returned a Promise)');
      }
    } catch (e) {
      this.scopes.pop();
      for (const t of scope) t.dispose();
      throw e;
    }
    this.scopes.pop();
    const kept = new Set<Tensor>();
    collectTensors(result, kept);
    for (const t of scope) if (!kept.has(t)) t.dispose();
    const parent = this.scopes[this.scopes.length - 1];
    if (parent) for (const t of kept) if (scope.has(t)) parent.add(t);
    return result;
  }

  /** Keeps a tensor created inside tidy() alive past the scope's end. */
  keep<T extends Tensor>(t: T): T {
    for (const scope of this.scopes) scope.delete(t);
    return t;
  }

  /** Frees every tensor and makes the engine unusable. */
  dispose(): void {
    for (const t of [...this.live]) t.dispose();
    this.pool?.dispose();
    this.disposedEngine = true;
  }

  // ---------------------------------------------------------------------------------------- internal

  /** @internal An uninitialised tensor. */
  empty(shape: readonly number[], dtype: DType, what: string): Tensor {
    this.assertAlive();
    const size = shape.reduce((a, b) => a * b, 1);
    const offset = this.allocator.alloc(size * 4, what);
    const t = new Tensor(this, offset, [...shape], dtype);
    this.live.add(t);
    this.liveBytes += t.nbytes;
    this.scopes[this.scopes.length - 1]?.add(t);
    return t;
  }

  /** @internal Called by Tensor.dispose(). */
  release(t: Tensor): void {
    if (!this.live.delete(t)) return;
    this.liveBytes -= t.nbytes;
    this.allocator.free(t.offset);
    this.packs.drop(t);
    for (const scope of this.scopes) scope.delete(t);
  }

  /**
   * @internal A scratch block of at least `bytes` for thread `thread` (0: the calling thread), reused across
   * calls; its contents are not kept.
   */
  scratch(bytes: number, what: string, thread = 0): number {
    if (bytes <= (this.scratchSizes[thread] ?? 0)) return this.scratchOffsets[thread];
    if (this.scratchSizes[thread] > 0) this.allocator.free(this.scratchOffsets[thread]);
    this.scratchSizes[thread] = 0;
    this.scratchOffsets[thread] = this.allocator.alloc(bytes, `${what} (scratch)`);
    this.scratchSizes[thread] = bytes;
    return this.scratchOffsets[thread];
  }

  /**
   * @internal Runs kernel calls, one per thread (at most `threads` of them): jobs[0] on the calling thread,
   * the rest on the worker pool, returning when all are done. Without a pool they run one after another.
   */
  parallel(jobs: Job[]): void {
    if (!this.pool || jobs.length <= 1) {
      for (const job of jobs) this.runKernel(job);
      return;
    }
    this.pool.run(jobs, this.runKernel);
  }

  /** One kernel call on the calling thread. */
  private readonly runKernel = (job: Job): void => {
    (this.kernels as unknown as Record<string, (...a: number[]) => unknown>)[job.fn](...job.args);
  };

  /**
   * @internal Runs chunks of one or more independent ops (kernel calls with disjoint outputs, in any order) on all
   * threads, each thread taking the next chunk in list order as it becomes free (pool.ts runQueue), so a thread that
   * falls behind takes fewer. A chunk's scratch argument (QueuedJob.scratchArg) becomes the running thread's scratch
   * block of scratchBytes (0: none needed).
   */
  parallelChunks(jobs: QueuedJob[], scratchBytes: number, what: string): void {
    const scratches = scratchBytes > 0 ? Array.from({ length: this.threads }, (_, t) => this.scratch(scratchBytes, what, t)) : [];
    if (!this.pool || jobs.length <= 1) {
      for (const job of jobs) this.runKernel(withScratch(job, scratches[0] ?? 0));
      return;
    }
    this.pool.runQueue(jobs, scratches, this.runKernel);
  }

  /** @internal A float32 view; valid until the next allocation. */
  f32(offset: number, length: number): Float32Array {
    return new Float32Array(this.wasmMemory.buffer, offset, length);
  }

  /** @internal An int32 view; valid until the next allocation. */
  i32(offset: number, length: number): Int32Array {
    return new Int32Array(this.wasmMemory.buffer, offset, length);
  }

  private assertAlive(): void {
    if (this.disposedEngine) throw new Error('simdnn: this engine was disposed');
  }
}

function collectTensors(value: unknown, out: Set<Tensor>): void {
  if (value instanceof Tensor) out.add(value);
  else if (Array.isArray(value)) for (const v of value) collectTensors(v, out);
  else if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collectTensors(v, out);
  }
}
