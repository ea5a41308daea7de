// Packed copies of weight tensors (GEMM panel layout), kept until the tensor's data changes: an entry is
// reused while tensor.version matches and re-packed in place when it does not. Entries die with their tensor.
import type { Tensor } from '../tensor.js';

interface Entry {
  version: number;
  offset: number;
  bytes: number;
}

export class PackCache {
  private readonly entries = new Map<Tensor, Map<string, Entry>>();
  /** Bytes held by packed copies. */
  bytes = 0;

  constructor(private readonly alloc: (bytes: number, what: string) => number, private readonly free: (offset: number) => void) {}

  /**
   * The byte offset of t packed under `key` (which must determine the packed size): packs it with
   * pack(dst) the first time and whenever t.version moved since.
   */
  get(t: Tensor, key: string, bytes: number, what: string, pack: (dst: number) => void): number {
    let byKey = this.entries.get(t);
    if (!byKey) this.entries.set(t, (byKey = new Map()));
    let entry = byKey.get(key);
    if (!entry) {
      entry = { version: -1, offset: this.alloc(bytes, `${what} (packed weights)`), bytes };
      byKey.set(key, entry);
      this.bytes += bytes;
    }
    if (entry.version !== t.version) {
      pack(entry.offset);
      entry.version = t.version;
    }
    return entry.offset;
  }

  /** Frees every packed copy of t. */
  drop(t: Tensor): void {
    const byKey = this.entries.get(t);
    if (!byKey) return;
    for (const entry of byKey.values()) {
      this.free(entry.offset);
      this.bytes -= entry.bytes;
    }
    this.entries.delete(t);
  }
}
