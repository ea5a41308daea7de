// Fast float32 loops for the four arithmetic ops that dominate tfjs-layers' training graphs (batch-norm
// moments and their gradients, optimizer updates): one hand-written loop per op and broadcast pattern, so
// that each loop's arithmetic is inlined (a shared loop calling an op function runs several times slower).
// Patterns: both full size; one side periodic — its shape, leading 1s dropped, is the output shape's suffix
// (a scalar, a per-channel vector of NHWC data, a bias row) — so element i reads it at i mod m.
type F32 = Float32Array;

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

type Loop = (a: F32, b: F32, o: F32, n: number, m: number) => void;
interface OpLoops { same: Loop; rowB: Loop; rowA: Loop }

// rowB: b repeats with period m (o[r·m + k] = a[r·m + k] ∘ b[k]); rowA: a repeats.
const LOOPS: Record<string, OpLoops> = {
  Add: {
    same(a, b, o, n) { for (let i = 0; i < n; i++) o[i] = a[i] + b[i]; },
    rowB(a, b, o, n, m) { for (let r = 0; r < n; r += m) for (let k = 0; k < m; k++) o[r + k] = a[r + k] + b[k]; },
    rowA(a, b, o, n, m) { for (let r = 0; r < n; r += m) for (let k = 0; k < m; k++) o[r + k] = a[k] + b[r + k]; },
  },
  Sub: {
    same(a, b, o, n) { for (let i = 0; i < n; i++) o[i] = a[i] - b[i]; },
    rowB(a, b, o, n, m) { for (let r = 0; r < n; r += m) for (let k = 0; k < m; k++) o[r + k] = a[r + k] - b[k]; },
    rowA(a, b, o, n, m) { for (let r = 0; r < n; r += m) for (let k = 0; k < m; k++) o[r + k] = a[k] - b[r + k]; },
  },
  Multiply: {
    same(a, b, o, n) { for (let i = 0; i < n; i++) o[i] = a[i] * b[i]; },
    rowB(a, b, o, n, m) { for (let r = 0; r < n; r += m) for (let k = 0; k < m; k++) o[r + k] = a[r + k] * b[k]; },
    rowA(a, b, o, n, m) { for (let r = 0; r < n; r += m) for (let k = 0; k < m; k++) o[r + k] = a[k] * b[r + k]; },
  },
  RealDiv: {
    same(a, b, o, n) { for (let i = 0; i < n; i++) o[i] = a[i] / b[i]; },
    rowB(a, b, o, n, m) { for (let r = 0; r < n; r += m) for (let k = 0; k < m; k++) o[r + k] = a[r + k] / b[k]; },
    rowA(a, b, o, n, m) { for (let r = 0; r < n; r += m) for (let k = 0; k < m; k++) o[r + k] = a[k] / b[r + k]; },
  },
};

/**
 * o = a ∘ b for float32 a, b, o over the broadcast shape `out` when a pattern applies; false when it does not
 * (the caller takes the general loop).
 */
export function fastArith(op: string, a: F32, aShape: readonly number[], b: F32, bShape: readonly number[], o: F32,
                          out: readonly number[]): boolean {
  const loops = LOOPS[op];
  if (!loops) return false;
  const n = o.length;
  if (a.length === n && b.length === n) { loops.same(a, b, o, n, n); return true; }
  if (a.length === n) {
    const m = period(bShape, out);
    if (m > 0) { loops.rowB(a, b, o, n, m); return true; }
  } else if (b.length === n) {
    const m = period(aShape, out);
    if (m > 0) { loops.rowA(a, b, o, n, m); return true; }
  }
  return false;
}
