// Tensor: a handle to a block of the engine's linear memory with a shape and a dtype. The data lives in
// wasm memory; views are re-derived from memory.buffer on every access because growth detaches them.
import type { Engine } from './engine.js';

export type DType = 'float32' | 'int32';

export class Tensor {
  readonly size: number;
  /** Bumped by every in-place update (optimizer steps, write()): caches keyed on a tensor check it. */
  version = 0;
  private alive = true;

  /** @internal Use nn.tensor(...) or an op to make tensors. */
  constructor(readonly engine: Engine, readonly offset: number, readonly shape: readonly number[], readonly dtype: DType) {
    this.size = shape.reduce((a, b) => a * b, 1);
  }

  get disposed(): boolean {
    return !this.alive;
  }

  get rank(): number {
    return this.shape.length;
  }

  /** Bytes of data (size · 4). */
  get nbytes(): number {
    return this.size * 4;
  }

  /** A copy of the data. */
  read(): Float32Array | Int32Array {
    this.assertAlive('read');
    return this.view().slice();
  }

  /** Overwrites the data in place with `values` (same number of elements). */
  write(values: ArrayLike<number>): this {
    this.assertAlive('write');
    if (values.length !== this.size) {
      throw new Error(`write: values has ${values.length} elements, expected ${this.size} (shape [${this.shape}])`);
    }
    this.view().set(values);
    this.version++;
    return this;
  }

  /** @internal A live view of the data, valid until the next allocation (which may grow memory). */
  view(): Float32Array | Int32Array {
    return this.dtype === 'int32' ? this.engine.i32(this.offset, this.size) : this.engine.f32(this.offset, this.size);
  }

  /** Frees the memory; later uses throw. Disposing twice is a no-op. */
  dispose(): void {
    if (!this.alive) return;
    this.alive = false;
    this.engine.release(this);
  }

  toString(): string {
    return `Tensor(${this.dtype}, [${this.shape.join(', ')}]${this.alive ? '' : ', disposed'})`;
  }

  private assertAlive(what: string): void {
    if (!this.alive) throw new Error(`${what}: tensor [${this.shape}] was disposed`);
  }
}
