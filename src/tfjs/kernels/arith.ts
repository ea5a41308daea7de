// Broadcast patterns of the binary kernels that run on simdnn's SIMD broadcast kernel (assembly/broadcast.ts):
// both operands full size, or one side periodic — its shape, leading 1s dropped, is the output shape's suffix (a
// scalar, a per-channel vector of NHWC data, a bias row) — so element i reads it at i mod m.

/** The period m of `shape` broadcast into `out` (m = size(shape)), or −1 when it is not a suffix pattern. */
export function period(shape: readonly number[], out: readonly number[]): number {
  let start = 0;
  while (start < shape.length && shape[start] === 1) start++;
  const core = shape.slice(start);
  if (core.length > out.length) return -1;
  const tail = out.slice(out.length - core.length);
  if (!core.every((d, i) => d === tail[i])) return -1;
  return core.reduce((p, q) => p * q, 1);
}
