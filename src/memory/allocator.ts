// The allocator over the engine's linear memory. Blocks are 16-byte aligned (v128 loads) and rounded up to a
// size class: multiples of 16 up to 1 KiB, then eight classes per power of two (≤ 12.5 % waste). Freed
// blocks go to their class's free list and are handed out again first; new blocks come from a bump pointer,
// growing the memory when it runs out. There is no coalescing: training loops allocate the same sizes
// every step, which free lists serve exactly.

const PAGE = 65536;
const ALIGN = 16;
/** Bytes kept readable past the last block: SIMD kernels may load a vector or two beyond a row's end. */
const TAIL_SLACK = 64;

/** The size class a request of `bytes` is served from. */
export function sizeClass(bytes: number): number {
  const b = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
  if (b <= 1024) return b;
  const step = 2 ** (Math.floor(Math.log2(b - 1)) - 3);   // eighth of the power of two below
  return Math.ceil(b / step) * step;
}

export class Allocator {
  private top: number;
  private readonly freeLists = new Map<number, number[]>();
  private readonly blockSize = new Map<number, number>();
  /** Bytes in live blocks (after rounding to the size class). */
  liveBytes = 0;

  constructor(private readonly memory: WebAssembly.Memory, base: number, private readonly maxBytes: number) {
    this.top = Math.ceil(base / ALIGN) * ALIGN;
  }

  /** Total bytes of linear memory (grows). */
  get heapBytes(): number {
    return this.memory.buffer.byteLength;
  }

  get liveBlocks(): number {
    return this.blockSize.size;
  }

  /** Reserves `bytes` (> 0) and returns the block's byte offset; `what` names the request in errors. */
  alloc(bytes: number, what: string): number {
    if (!Number.isFinite(bytes) || bytes < 0) throw new Error(`${what}: invalid allocation size ${bytes}`);
    const size = sizeClass(bytes);
    const list = this.freeLists.get(size);
    let offset = list?.pop();
    if (offset === undefined) {
      offset = this.top;
      this.ensure(offset + size + TAIL_SLACK, bytes, what);
      this.top = offset + size;
    }
    this.blockSize.set(offset, size);
    this.liveBytes += size;
    return offset;
  }

  free(offset: number): void {
    const size = this.blockSize.get(offset);
    if (size === undefined) throw new Error(`simdnn: free of offset ${offset}, which is not a live block`);
    this.blockSize.delete(offset);
    this.liveBytes -= size;
    let list = this.freeLists.get(size);
    if (!list) this.freeLists.set(size, (list = []));
    list.push(offset);
  }

  /** Grows the memory so that [0, end) exists: doubling when it can, else exactly, else an Error. */
  private ensure(end: number, request: number, what: string): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    const needPages = Math.ceil((end - have) / PAGE);
    const maxPages = Math.floor(this.maxBytes / PAGE);
    const havePages = have / PAGE;
    const tryPages = [Math.min(Math.max(needPages, havePages), maxPages - havePages), needPages];
    for (const pages of tryPages) {
      if (pages < needPages) continue;
      try {
        this.memory.grow(pages);
        return;
      } catch {
        // refused: try the smaller request, then report
      }
    }
    throw new Error(
      `${what}: out of memory: cannot allocate ${request} bytes (heap ${have} bytes, ` +
        `${this.liveBytes} live, limit ${this.maxBytes} bytes)`,
    );
  }
}
