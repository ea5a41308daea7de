// A TensorFlow.js KernelBackend whose tensors live in a simdnn engine's linear memory. Every numeric tfjs
// tensor (float32, int32; bool stored as int32 0/1) is one simdnn Tensor of shape [size]; kernels view it
// with whatever shape they need. Strings stay in JS (no kernel here computes on them); complex64 is refused.
// Derived copies (a conv filter in simdnn's OIHW layout, an activation in NCHW) are cached
// per dataId and freed with it: tfjs never changes the data behind a dataId, so the cache cannot go stale.
import { KernelBackend, engine, util, type BackendTimingInfo, type DataId, type DataType,
         type TensorInfo, type BackendValues } from '@tensorflow/tfjs-core';
import type { Engine } from '../engine.js';
import { Tensor } from '../tensor.js';

interface Data {
  dtype: DataType;
  refCount: number;
  /** The values (numeric dtypes; null for an empty tensor). */
  t: Tensor | null;
  /** Encoded strings (dtype 'string'). */
  strings?: Uint8Array[];
  /** Copies in other layouts, keyed by what they are ('oihw', 'nchw', …). */
  derived?: Map<string, Tensor>;
}

const EPSILON_FLOAT32 = 1e-7;

export class SimdnnBackend extends KernelBackend {
  private readonly data = new WeakMap<DataId, Data>();
  private count = 0;
  private static nextId = 0;

  constructor(readonly nn: Engine) {
    super();
  }

  // ------------------------------------------------------------------------------------- tensor storage

  override write(values: BackendValues | null, shape: number[], dtype: DataType): DataId {
    const dataId = { id: SimdnnBackend.nextId++ };
    this.move(dataId, values, shape, dtype, 1);
    return dataId;
  }

  override move(dataId: DataId, values: BackendValues | null, shape: number[], dtype: DataType, refCount: number): void {
    if (dtype === 'complex64') throw new Error('simdnn backend: complex64 tensors are not supported');
    const size = util.sizeFromShape(shape);
    const d: Data = { dtype, refCount, t: null };
    if (dtype === 'string') {
      d.strings = (values ?? []) as Uint8Array[];
    } else {
      if (values != null && values.length !== size) {
        throw new Error(`simdnn backend: write of ${values.length} values for shape [${shape}] (${size} elements)`);
      }
      d.t = size > 0 ? this.nn.empty([size], dtype === 'float32' ? 'float32' : 'int32', `tfjs ${dtype}`) : null;
      if (d.t && values != null) d.t.view().set(values as ArrayLike<number>);
    }
    if (!this.data.has(dataId)) this.count++;
    this.data.set(dataId, d);
  }

  /** @internal A new tfjs tensor (refCount 1) owning the simdnn tensor `t` (which must hold size elements). */
  makeOutput(t: Tensor | null, shape: number[], dtype: DataType): TensorInfo {
    const dataId = { id: SimdnnBackend.nextId++ };
    if (t && t.size !== util.sizeFromShape(shape)) {
      throw new Error(`simdnn backend: output of ${t.size} elements for shape [${shape}]`);
    }
    this.data.set(dataId, { dtype, refCount: 1, t });
    this.count++;
    return { dataId, shape, dtype };
  }

  /** @internal A new string tensor (encoded strings). */
  makeStrings(values: Uint8Array[], shape: number[]): TensorInfo {
    const dataId = { id: SimdnnBackend.nextId++ };
    this.data.set(dataId, { dtype: 'string', refCount: 1, t: null, strings: values });
    this.count++;
    return { dataId, shape, dtype: 'string' };
  }

  /** @internal A new uninitialised output tensor. */
  makeEmpty(shape: number[], dtype: DataType): { info: TensorInfo; t: Tensor | null } {
    const size = util.sizeFromShape(shape);
    const t = size > 0 ? this.nn.empty([size], dtype === 'float32' ? 'float32' : 'int32', `tfjs ${dtype}`) : null;
    return { info: this.makeOutput(t, shape, dtype), t };
  }

  override refCount(dataId: DataId): number {
    return this.data.get(dataId)?.refCount ?? 0;
  }

  override incRef(dataId: DataId): void {
    this.get(dataId).refCount++;
  }

  override numDataIds(): number {
    return this.count;
  }

  override disposeData(dataId: DataId, force = false): boolean {
    const d = this.data.get(dataId);
    if (!d) return true;
    d.refCount--;
    if (!force && d.refCount > 0) return false;
    d.t?.dispose();
    if (d.derived) for (const t of d.derived.values()) t.dispose();
    this.data.delete(dataId);
    this.count--;
    return true;
  }

  override async read(dataId: DataId): Promise<BackendValues> {
    return this.readSync(dataId);
  }

  override readSync(dataId: DataId): BackendValues {
    const d = this.get(dataId);
    if (d.dtype === 'string') return d.strings!;
    if (!d.t) return d.dtype === 'float32' ? new Float32Array(0) : d.dtype === 'bool' ? new Uint8Array(0) : new Int32Array(0);
    const v = d.t.view();
    return d.dtype === 'bool' ? Uint8Array.from(v) : v.slice();
  }

  override memory(): { unreliable: boolean; reasons?: string[] } & Record<string, unknown> {
    const m = this.nn.memory();
    return { unreliable: false, simdnnTensors: m.tensors, simdnnBytes: m.bytes, packedBytes: m.packedBytes,
             scratchBytes: m.scratchBytes, heapBytes: m.heapBytes };
  }

  override timerAvailable(): boolean {
    return true;
  }

  override async time(f: () => void): Promise<BackendTimingInfo> {
    const start = performance.now();
    f();
    return { kernelMs: performance.now() - start };
  }

  override floatPrecision(): 32 {
    return 32;
  }

  override epsilon(): number {
    return EPSILON_FLOAT32;
  }

  override dispose(): void {
    this.nn.dispose();
  }

  // ------------------------------------------------------------------------------------- for kernels

  private get(dataId: DataId): Data {
    const d = this.data.get(dataId);
    if (!d) {
      // A tensor of another backend: tfjs moves it here (read there, write here) and we look again.
      engine().moveData(this, dataId);
      const moved = this.data.get(dataId);
      if (!moved) throw new Error('simdnn backend: unknown tensor (disposed, or it belongs to another backend)');
      return moved;
    }
    return d;
  }

  /** @internal The simdnn tensor of a tfjs tensor, flat ([size]); null when it is empty. */
  tensor(info: TensorInfo): Tensor | null {
    const d = this.get(info.dataId);
    if (d.dtype === 'string') throw new Error('simdnn backend: string tensors have no numeric data');
    return d.t;
  }

  /** @internal A view of a tfjs tensor's data with a simdnn shape (no copy; never dispose it). */
  view(info: TensorInfo, shape: readonly number[] = info.shape): Tensor {
    const t = this.tensor(info);
    if (!t) throw new Error(`simdnn backend: empty tensor [${info.shape}] where data is needed`);
    return new Tensor(this.nn, t.offset, [...shape], t.dtype);
  }

  /** @internal The values as a live typed view (valid until the next allocation). */
  values(info: TensorInfo): Float32Array | Int32Array {
    const t = this.tensor(info);
    if (!t) return info.dtype === 'float32' ? new Float32Array(0) : new Int32Array(0);
    return t.view();
  }

  /** @internal A cached copy of a tensor's data in another layout, made by make() the first time. */
  derived(info: TensorInfo, key: string, make: () => Tensor): Tensor {
    const d = this.get(info.dataId);
    d.derived ??= new Map();
    let t = d.derived.get(key);
    if (!t) {
      t = make();
      d.derived.set(key, t);
    }
    return t;
  }
}
