// Correctness spot checks: a child reports a fixed sample of one output (NCHW order) per workload; the
// orchestrator compares it with the reference library's sample (plain JS; simdnn's SIMD build if plain JS
// has none) under |got − want| ≤ tol·(|want| + max|want|), tol = 1e-3.
import { rng } from './workloads.mjs';

export const TOLERANCE = 1e-3;
const SAMPLES = 512;

/** The indices sampled from an output of `length` elements: all of them if small, else a fixed random set. */
export function sampleIndices(length) {
  if (length <= SAMPLES) return Array.from({ length }, (_, i) => i);
  const r = rng(length);
  const idx = new Set([0, length - 1]);
  while (idx.size < SAMPLES) idx.add(Math.floor(((r() + 1) / 2) * length));
  return [...idx].sort((a, b) => a - b);
}

/** What a child sends for an output: its length, the sampled values and the largest magnitude overall. */
export function summarize(out) {
  let absMax = 0, finite = true;
  for (let i = 0; i < out.length; i++) {
    const v = out[i];
    if (!Number.isFinite(v)) finite = false;
    else if (Math.abs(v) > absMax) absMax = Math.abs(v);
  }
  return { length: out.length, absMax, finite, values: sampleIndices(out.length).map((i) => out[i]) };
}

/** Compares two summaries; returns { ok, maxRelErr, why? }. */
export function compare(got, want) {
  if (!got || !want) return { ok: null };
  if (got.length !== want.length) return { ok: false, maxRelErr: Infinity, why: `length ${got.length} ≠ ${want.length}` };
  if (!got.finite) return { ok: false, maxRelErr: Infinity, why: 'non-finite values' };
  const scale = want.absMax;
  let worst = 0;
  for (let i = 0; i < want.values.length; i++) {
    const w = want.values[i], g = got.values[i];
    const err = Math.abs(g - w) / (Math.abs(w) + scale || 1);
    if (!(err <= worst)) worst = Number.isNaN(err) ? Infinity : Math.max(worst, err);
  }
  return { ok: worst <= TOLERANCE, maxRelErr: worst };
}
