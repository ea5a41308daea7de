// Adding a broadcast bias in place to a fused op's fresh output (when it is not the per-channel vector the
// GEMM epilogue takes).
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { SimdnnBackend } from '../backend.js';
import { broadcastLoop } from './elementwise.js';

export function addBias(b: SimdnnBackend, out: TensorInfo, bias: TensorInfo, op: string): void {
  const y = b.values(out);
  const biasSize = bias.shape.reduce((p, q) => p * q, 1);
  if (bias.shape.length > out.shape.length || bias.shape.some((d, i) => d !== 1 && d !== out.shape[out.shape.length - bias.shape.length + i])) {
    throw new Error(`${op} (simdnn): bias of shape [${bias.shape}] does not broadcast to the output [${out.shape}]`);
  }
  if (biasSize === 0) return;
  const copy = y.slice();
  broadcastLoop(copy, out.shape, b.values(bias), bias.shape, y, out.shape, (v, c) => v + c);
}
