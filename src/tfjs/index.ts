// simdnn/tfjs: a TensorFlow.js backend named 'simdnn' on simdnn's WebAssembly SIMD kernels.
//   import * as tf from '@tensorflow/tfjs';
//   import { setSimdnnOptions } from 'simdnn/tfjs';     // registers the backend on import
//   setSimdnnOptions({ threads: 2 });                   // optional, before the backend is first used
//   await tf.setBackend('simdnn');
import { registerBackend, registerKernel, getKernel, type KernelConfig } from '@tensorflow/tfjs-core';
import { init, type InitOptions } from '../index.js';
import { SimdnnBackend } from './backend.js';
import { BACKEND_NAME } from './kernels/kernel.js';
import { convKernels } from './kernels/conv.js';
import { poolKernels } from './kernels/pool.js';
import { matmulKernels } from './kernels/matmul.js';
import { activationKernels } from './kernels/activation.js';
import { elementwiseKernels } from './kernels/elementwise.js';
import { reduceKernels } from './kernels/reduce.js';
import { shapeKernels } from './kernels/shape.js';
import { sliceKernels } from './kernels/slice.js';
import { gatherKernels } from './kernels/gather.js';
import { transposeKernels } from './kernels/transpose.js';
import { normKernels } from './kernels/norm.js';
import { spaceBatchKernels } from './kernels/space-batch.js';

export { SimdnnBackend } from './backend.js';
export { BACKEND_NAME } from './kernels/kernel.js';

/** Every kernel this backend implements. */
export const kernelConfigs: readonly KernelConfig[] = [
  ...convKernels, ...poolKernels, ...matmulKernels, ...activationKernels, ...elementwiseKernels,
  ...reduceKernels, ...shapeKernels, ...sliceKernels, ...gatherKernels, ...transposeKernels, ...normKernels, ...spaceBatchKernels,
];

let options: InitOptions = {};

/** Engine options (build, threads, …) for the backend's engine; takes effect when tfjs first initialises it. */
export function setSimdnnOptions(o: InitOptions): void {
  options = { ...o };
}

for (const config of kernelConfigs) {
  if (!getKernel(config.kernelName, BACKEND_NAME)) registerKernel(config);
}
// Priority 2 (cpu has 1): importing simdnn/tfjs does not displace webgl/wasm in a browser; select it with
// tf.setBackend('simdnn').
registerBackend(BACKEND_NAME, async () => new SimdnnBackend(await init(options)), 2);
