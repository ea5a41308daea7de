// The tfjs test files' backend setup: the shared test engine (test/helpers.mjs) as a tfjs backend under a test name.
import * as tf from '@tensorflow/tfjs-core';
import { SimdnnBackend } from 'simdnn/tfjs';
import { getEngine } from '../helpers.mjs';

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
