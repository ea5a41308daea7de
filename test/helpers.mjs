// Shared test helpers: one engine per process (its build chosen by SIMDNN_BACKEND), the comparison rule of
// DESIGN.md, a seeded RNG and a live-memory check.
import { init } from 'simdnn';
import * as assert from 'uvu/assert';

export const BACKEND = process.env.SIMDNN_BACKEND || 'auto';
/** Threads of the shared engine (SIMDNN_THREADS); with more than 1 every op goes through the workers. */
export const THREADS = Number(process.env.SIMDNN_THREADS || 1);

let enginePromise = null;
/** The engine every test file in this process shares. */
export function getEngine() {
  enginePromise ??= init({ backend: BACKEND, threads: THREADS, minParallelFlops: 0 });
  return enginePromise;
}

/**
 * DESIGN.md's comparison rule: |got − want| ≤ rtol·(|want| + max|want|) element-wise; non-finite values must
 * match exactly (NaN with NaN, +Inf with +Inf).
 */
export function assertClose(got, want, name = 'array', rtol = 1e-4) {
  assert.is(got.length, want.length, `${name}: length ${got.length} vs expected ${want.length}`);
  let maxAbs = 0;
  for (let i = 0; i < want.length; i++) if (Number.isFinite(want[i])) maxAbs = Math.max(maxAbs, Math.abs(want[i]));
  for (let i = 0; i < want.length; i++) {
    const g = got[i], w = want[i];
    if (!Number.isFinite(w) || !Number.isFinite(g)) {
      if (!(Object.is(g, w) || (Number.isNaN(g) && Number.isNaN(w)))) {
        assert.unreachable(`${name}[${i}]: got ${g}, expected ${w} (non-finite values must match exactly)`);
      }
      continue;
    }
    const tol = rtol * (Math.abs(w) + maxAbs);
    if (!(Math.abs(g - w) <= tol)) {
      assert.unreachable(`${name}[${i}]: got ${g}, expected ${w}, |diff| ${Math.abs(g - w)} > tol ${tol} (rtol ${rtol}, max|want| ${maxAbs})`);
    }
  }
}

/** Mulberry32: a small seeded PRNG, uniform in [0, 1). */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n uniform values in [lo, hi) from the generator. */
export function uniform(rand, n, lo = -1, hi = 1) {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * rand();
  return a;
}

/** Runs fn (sync or async) and asserts that the engine's live tensors and bytes are back to where they were. */
export async function checkNoLeak(nn, fn) {
  const before = nn.memory();
  await fn();
  const after = nn.memory();
  assert.is(after.tensors, before.tensors, `live tensors: ${after.tensors} after vs ${before.tensors} before`);
  assert.is(after.bytes, before.bytes, `live bytes: ${after.bytes} after vs ${before.bytes} before`);
}

/**
 * Records the names of the kernels the engine runs through nn.parallel or nn.parallelChunks (every op that can
 * split over threads does, on one thread too) until restore(): `seen` is a Set.
 */
export function spyKernels(nn) {
  const seen = new Set(), parallel = nn.parallel, parallelChunks = nn.parallelChunks;
  nn.parallel = (jobs) => { for (const j of jobs) seen.add(j.fn); return parallel.call(nn, jobs); };
  nn.parallelChunks = (jobs, ...rest) => { for (const j of jobs) seen.add(j.fn); return parallelChunks.call(nn, jobs, ...rest); };
  return { seen, restore: () => { nn.parallel = parallel; nn.parallelChunks = parallelChunks; } };
}

/**
 * Records the wasm kernels called straight from JS (nn.kernels.name(…), as the tfjs backend's kernels do) until
 * restore(): `seen` is a Set of kernel names.
 */
export function spyWasm(nn) {
  const seen = new Set(), kernels = nn.kernels;
  nn.kernels = new Proxy(kernels, { get(target, name) { seen.add(name); return target[name]; } });
  return { seen, restore: () => { nn.kernels = kernels; } };
}

/** Disposes every tensor found in a value (a tensor, an array or a plain object of them). */
export function disposeAll(value) {
  if (value == null) return;
  if (typeof value.dispose === 'function') { value.dispose(); return; }
  if (Array.isArray(value)) { value.forEach(disposeAll); return; }
  if (typeof value === 'object') for (const v of Object.values(value)) disposeAll(v);
}
