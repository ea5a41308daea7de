// Index ranges of sliding windows. Output column o reads input column o·S + off (off = k·D − pad for one
// kernel tap); these give the outputs whose reads stay inside [0, L), so inner loops can skip bounds checks.

/** First o with o·S + off ≥ 0 (clamped to O). */
// @ts-ignore: decorator
@inline export function validLo(off: i32, S: i32, O: i32): i32 {
  return off < 0 ? min(O, (-off + S - 1) / S) : 0;
}

/** One past the last o with o·S + off ≤ L − 1 (clamped to [lo, O]). */
// @ts-ignore: decorator
@inline export function validHi(off: i32, S: i32, L: i32, O: i32, lo: i32): i32 {
  const room = L - 1 - off;
  return room < 0 ? lo : max(lo, min(O, room / S + 1));
}
