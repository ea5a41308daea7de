// The tfjs test files' backend setup: the shared test engine (test/helpers.mjs) as a tfjs backend under a test name.
import * as assert from 'uvu/assert';
import * as tf from '@tensorflow/tfjs-core';
import { SimdnnBackend } from 'simdnn/tfjs';
import { getEngine, spyWasm } from '../helpers.mjs';

const backends = new Map();

/**
 * Selects the shared engine as tfjs backend `name` (registered once per name, with the kernels that simdnn/tfjs
 * registers for 'simdnn' copied to it; never disposed: the engine is shared) and returns { nn, b }.
 */
export async function useTfjsBackend(name) {
  const nn = await getEngine();
  if (!backends.has(name)) {
    const backend = new SimdnnBackend(nn);
    backends.set(name, backend);
    tf.registerBackend(name, () => backend, 0);
    for (const k of tf.getKernelsForBackend('simdnn')) tf.registerKernel({ ...k, backendName: name });
  }
  await tf.setBackend(name);
  return { nn, b: backends.get(name) };
}

/**
 * Runs f() on the simdnn backend and returns its values, asserting that the wasm kernels `kernels` were called
 * ('p|q': p or q) and that no JS loop read a tensor's values (backend.values) meanwhile.
 */
export function onWasm(nn, b, kernels, f) {
  const spy = spyWasm(nn), values = b.values;
  let jsReads = 0;
  b.values = function (...args) { jsReads++; return values.apply(this, args); };
  let out;
  try {
    out = tf.tidy(() => f().dataSync().slice());
  } finally {
    spy.restore();
    delete b.values;                                  // back to the prototype's method
  }
  for (const k of kernels) {
    assert.ok(k.split('|').some((name) => spy.seen.has(name)), `wasm kernel ${k} did not run (seen: ${[...spy.seen].join(', ')})`);
  }
  // readSync (dataSync) reads the output through the tensor's own view, not backend.values: any read is a JS loop.
  assert.is(jsReads, 0, `${jsReads} JS reads of tensor values: a JS loop ran`);
  return out;
}

/** |got − want| ≤ rtol·|want| element-wise (rtol 0: exactly equal); non-finite values must match exactly. */
export function assertRel(got, want, rtol, what) {
  assert.is(got.length, want.length, `${what}: length`);
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const g = got[i], w = want[i];
    if (!Number.isFinite(w) || !Number.isFinite(g)) {
      if (!(Object.is(g, w) || (Number.isNaN(g) && Number.isNaN(w)))) assert.unreachable(`${what}[${i}]: got ${g}, expected ${w}`);
      continue;
    }
    const err = Math.abs(g - w);
    if (!(err <= rtol * Math.abs(w))) {
      assert.unreachable(`${what}[${i}]: got ${g}, expected ${w}, relative error ${(err / Math.abs(w)).toExponential(2)} > ${rtol}`);
    }
    if (w !== 0) worst = Math.max(worst, err / Math.abs(w));
  }
  return worst;
}
