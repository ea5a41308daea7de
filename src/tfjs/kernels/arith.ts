// How a float32 binary op with NumPy broadcasting runs on simdnn's SIMD broadcast kernels (assembly/broadcast.ts).
// The output is contiguous; each operand reads it with stride 0 along the axes where it repeats. Axes of size 1 in
// the output are dropped and neighbouring axes where both operands behave alike are merged (collapsed), e.g.
//   [N, C, H, W] ∘ [1, C, 1, 1]  →  [N | C | H·W]  with b repeating along N and H·W,
//   [N, H, W, C] ∘ [1, H, 1, C]  →  [N | H | W | C] with b repeating along N and W.
// The innermost run of the collapsed shape is one broadcast_f32 block: both full (mode 0), one operand a scalar
// (mode 1/2, m = 1), or — when the last axis is full and the one before repeats one operand — that operand
// periodic with the last axis as period (mode 1/2, m = last size). The outer axes left, if any, are stepped by
// broadcast_strided_f32.

/** One float32 broadcast as wasm blocks: broadcast_f32(mode, n, m) per block, `outer` the axes that step them. */
export interface BroadcastPlan {
  /** 0: both operands full in the block; 1: b repeats with period m; 2: a does. */
  mode: number;
  /** Elements per block. */
  n: number;
  /** Period of the repeating operand (1: a scalar); n in mode 0. */
  m: number;
  /** Outer axes (outermost first): sizes and the operands' strides in elements (0 where one repeats). */
  outer: { size: number; sa: number; sb: number }[];
}

/** Which operand repeats along an axis: 0 neither, 1 a, 2 b. */
type Kind = 0 | 1 | 2;

/** The plan of a ∘ b for operand shapes aShape, bShape broadcast to `out` (non-empty). */
export function broadcastPlan(aShape: readonly number[], bShape: readonly number[], out: readonly number[]): BroadcastPlan {
  const r = out.length, sizes: number[] = [], kinds: Kind[] = [];
  for (let i = 0; i < r; i++) {
    if (out[i] === 1) continue;
    const da = aShape[i - (r - aShape.length)] ?? 1, db = bShape[i - (r - bShape.length)] ?? 1;
    const k: Kind = da === 1 ? 1 : db === 1 ? 2 : 0;
    if (kinds.length > 0 && kinds[kinds.length - 1] === k) sizes[sizes.length - 1] *= out[i];
    else { sizes.push(out[i]); kinds.push(k); }
  }
  if (sizes.length === 0) return { mode: 0, n: 1, m: 1, outer: [] };   // one element each
  // Strides of the collapsed axes, innermost first: 0 where the operand repeats.
  const sa: number[] = [], sb: number[] = [];
  for (let i = sizes.length - 1, pa = 1, pb = 1; i >= 0; i--) {
    sa[i] = kinds[i] === 1 ? 0 : pa;
    sb[i] = kinds[i] === 2 ? 0 : pb;
    if (kinds[i] !== 1) pa *= sizes[i];
    if (kinds[i] !== 2) pb *= sizes[i];
  }
  let last = sizes.length - 1, mode: number, n: number, m: number;
  if (kinds[last] !== 0) {
    [mode, n, m] = [kinds[last] === 2 ? 1 : 2, sizes[last], 1];
  } else if (last > 0) {
    // kinds[last − 1] ≠ 0 (neighbours differ): that operand is periodic over the last two axes.
    [mode, n, m] = [kinds[last - 1] === 2 ? 1 : 2, sizes[last - 1] * sizes[last], sizes[last]];
    last--;
  } else {
    [mode, n, m] = [0, sizes[last], sizes[last]];
  }
  const outer = sizes.slice(0, last).map((size, i) => ({ size, sa: sa[i], sb: sb[i] }));
  return { mode, n, m, outer };
}
