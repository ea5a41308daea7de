// Copies of a tfjs tensor in simdnn's layouts, cached on its dataId (see SimdnnBackend.derived). The key holds
// the dims the copy was made for: tensors that share a dataId (Reshape) may be read with other dims.
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { Tensor } from '../tensor.js';
import type { SimdnnBackend } from './backend.js';
import { batchedTranspose, filterToOihw, nhwcToNchw } from './layout.js';

/** x read as [N, H, W, C], in NCHW. */
export function nchwOf(b: SimdnnBackend, x: TensorInfo, [N, H, W, C]: readonly number[]): Tensor {
  return b.derived(x, `nchw ${N} ${H * W} ${C}`, () => nhwcToNchw(b.nn, b.view(x), [N, H, W, C]));
}

/** A dense filter [KH, KW, Cin, Cout] as OIHW (made once per filter value; simdnn packs it once too). */
export function oihwOf(b: SimdnnBackend, f: TensorInfo): Tensor {
  const [KH, KW, Cin, Cout] = f.shape;
  return b.derived(f, `oihw ${KH * KW} ${Cin} ${Cout}`, () => filterToOihw(b.nn, b.view(f), f.shape));
}

/** A depthwise filter [KH, KW, C, M] as [C·M, 1, KH, KW] (output channel c·M + m reads input channel c). */
export function depthwiseOihwOf(b: SimdnnBackend, f: TensorInfo): Tensor {
  const [KH, KW, C, M] = f.shape;
  return b.derived(f, `depthwise ${KH} ${KW} ${C * M}`,
    () => batchedTranspose(b.nn, b.view(f), 1, KH * KW, C * M, [C * M, 1, KH, KW], 'tfjs depthwise filter'));
}
