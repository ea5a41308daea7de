// Shared kernel plumbing: the tfjs kernel-function signature, a registration helper, and dtype helpers.
import type { KernelConfig, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { SimdnnBackend } from '../backend.js';

export const BACKEND_NAME = 'simdnn';

export interface KernelArgs {
  /** The named inputs (optional ones, such as a fused op's bias, may be undefined). */
  inputs: { [name: string]: TensorInfo };
  backend: SimdnnBackend;
  attrs: NamedAttrMap;
}

export type KernelFn = (args: KernelArgs) => TensorInfo | TensorInfo[];

/** A kernel config for this backend. */
export function kernel(kernelName: string, fn: KernelFn): KernelConfig {
  return { kernelName, backendName: BACKEND_NAME, kernelFunc: fn as unknown as KernelConfig['kernelFunc'] };
}

/** The attributes, typed as the kernel expects them. */
export function attrsOf<T>(args: KernelArgs): T {
  return (args.attrs ?? {}) as unknown as T;
}
