// Feature detection by validating tiny probe modules (the bytes of wasm-feature-detect's probes, which are
// facts about the binary format: a function returning a v128 built with the instruction under test).

/** (func (result v128) i32.const 0  i8x16.splat  i8x16.popcnt) */
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11,
]);

/** (func (result v128) i32.const 1 i8x16.splat  i32.const 2 i8x16.splat  i8x16.relaxed_swizzle) */
const RELAXED_SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 15, 1, 13, 0, 65, 1, 253, 15, 65, 2, 253, 15,
  253, 128, 2, 11,
]);

export interface HostFeatures {
  simd: boolean;
  relaxedSimd: boolean;
  /** Shared memory with SharedArrayBuffer (threads need it; browsers need cross-origin isolation). */
  sharedMemory: boolean;
}

function validates(bytes: BufferSource): boolean {
  try {
    return WebAssembly.validate(bytes);
  } catch {
    return false;
  }
}

export function detectFeatures(): HostFeatures {
  let sharedMemory = false;
  try {
    const m = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    sharedMemory = typeof SharedArrayBuffer !== 'undefined' && m.buffer instanceof SharedArrayBuffer;
  } catch {
    sharedMemory = false;
  }
  return { simd: validates(SIMD_PROBE), relaxedSimd: validates(RELAXED_SIMD_PROBE), sharedMemory };
}
