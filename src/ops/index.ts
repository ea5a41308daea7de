// The functional API: every op bound to one engine (nn.ops). Ops validate their arguments, allocate their
// outputs and call the wasm kernels; outputs are new tensors owned by the caller.
import type { Engine } from '../engine.js';
import * as conv from './conv.js';
import * as pool from './pool.js';
import * as norm from './norm.js';
import * as act from './activation.js';
import * as linear from './linear.js';
import * as loss from './loss.js';
import * as optim from './optim.js';
import * as elementwise from './elementwise.js';
import * as concat from './concat.js';
import * as shape from './shape.js';
import * as adaptivePool from './adaptive-pool.js';
// Only the ops: local.ts also exports localGeometry (for the layer), which takes no engine.
import { locallyConnected2d, locallyConnected2dBackward } from './local.js';

export type { Conv2dOptions, Conv1dOptions, ConvBackwardFlags, ConvGrads, PaddingMode } from './conv.js';
export type { MaxPool2dOptions, AvgPool2dOptions, PoolPadding } from './pool.js';
export type { AdaptiveOutputSize } from './adaptive-pool.js';
export type { LocallyConnected2dOptions, LocalBackwardFlags } from './local.js';
export type { BatchNormOptions, NormResult, NormGrads, NormStats, NormBackwardFlags } from './norm.js';
export type { SgdOptions, AdamOptions, SgdState, AdamState } from './optim.js';

const modules = { ...conv, ...pool, ...norm, ...act, ...linear, ...loss, ...optim, ...elementwise, ...concat, ...adaptivePool, ...shape,
                  locallyConnected2d, locallyConnected2dBackward };
type Modules = typeof modules;
type Bound<F> = F extends (e: Engine, ...args: infer A) => infer R ? (...args: A) => R : never;
export type Ops = { [K in keyof Modules]: Bound<Modules[K]> };

export function makeOps(e: Engine): Ops {
  const ops = {} as Record<string, unknown>;
  for (const [name, fn] of Object.entries(modules)) {
    if (typeof fn === 'function') ops[name] = (...args: unknown[]) => (fn as (e: Engine, ...a: unknown[]) => unknown)(e, ...args);
  }
  return Object.freeze(ops) as Ops;
}
