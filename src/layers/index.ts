// nn.layers: factories for every layer. Each takes an options object (PyTorch's argument names in camelCase);
// the common ones also take their main argument positionally: conv2d(16, 3, { padding: 1 }), linear(10),
// maxPool2d(2), dropout(0.25). Input channels / features are inferred by nn.sequential.
import { Conv1d, Conv2d, type Conv1dLayerOptions, type Conv2dLayerOptions } from './conv.js';
import { AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool2d, GlobalAvgPool2d, MaxPool2d, type AdaptiveAvgPool2dLayerOptions,
         type AdaptiveMaxPool2dLayerOptions, type AvgPool2dLayerOptions, type MaxPool2dLayerOptions } from './pool.js';
import { LocallyConnected2d, type LocallyConnected2dLayerOptions } from './local.js';
import { BatchNorm1d, BatchNorm2d, GroupNorm, InstanceNorm2d, LayerNorm, type BatchNormLayerOptions, type GroupNormLayerOptions,
         type InstanceNormLayerOptions, type LayerNormLayerOptions } from './norm.js';
import { Dropout, Flatten, LeakyReLU, Linear, ReLU, Sigmoid, Tanh, type DropoutLayerOptions, type FlattenLayerOptions,
         type LinearLayerOptions } from './basic.js';
import { fmt, type Layer, type LayerConfig } from './layer.js';
import { Residual, Branches, Named } from '../model/containers.js';

export { Layer, Param, ShapeError } from './layer.js';
export type { LayerConfig, StateBuffer } from './layer.js';
export { Conv1d, Conv2d, LocallyConnected2d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, AdaptiveMaxPool2d, GlobalAvgPool2d, BatchNorm1d, BatchNorm2d, GroupNorm, InstanceNorm2d, LayerNorm,
         Dropout, Flatten, LeakyReLU, Linear, ReLU, Sigmoid, Tanh };
export type { Conv1dLayerOptions, Conv2dLayerOptions, LocallyConnected2dLayerOptions, AvgPool2dLayerOptions, AdaptiveAvgPool2dLayerOptions,
              AdaptiveMaxPool2dLayerOptions, MaxPool2dLayerOptions, BatchNormLayerOptions,
              GroupNormLayerOptions, InstanceNormLayerOptions, LayerNormLayerOptions, DropoutLayerOptions, FlattenLayerOptions,
              LinearLayerOptions };
export { Rng } from './rng.js';
export type { Initializer, InitSpec, InitFn } from './init.js';

type Omit2<T, K extends keyof T> = Omit<T, K>;

/** Merges a positional main argument with the options object (the object may not repeat it). */
function merge<T>(where: string, key: string, first: unknown, rest: object | undefined): T {
  if (first !== null && typeof first === 'object' && !Array.isArray(first)) {
    if (rest !== undefined) throw new Error(`${where}: pass either an options object or (${key}, options), not both objects`);
    return first as T;
  }
  if (rest !== undefined && (typeof rest !== 'object' || rest === null || Array.isArray(rest))) {
    throw new Error(`${where}: options must be an object, got ${fmt(rest)}`);
  }
  if (rest && key in rest) throw new Error(`${where}: ${key} given twice (positionally and in options)`);
  return { ...(rest ?? {}), [key]: first } as T;
}

export const layers = {
  conv2d(outChannels: number | Conv2dLayerOptions, kernel?: number | [number, number] | Omit2<Conv2dLayerOptions, 'outChannels'>,
         opts?: Omit2<Conv2dLayerOptions, 'outChannels' | 'kernel'>): Conv2d {
    if (typeof outChannels === 'object') return new Conv2d(merge('conv2d', 'outChannels', outChannels, kernel as object | undefined));
    if (kernel !== null && typeof kernel === 'object' && !Array.isArray(kernel)) return new Conv2d({ ...kernel, outChannels } as Conv2dLayerOptions);
    return new Conv2d({ ...merge<object>('conv2d', 'kernel', kernel, opts), outChannels } as Conv2dLayerOptions);
  },
  conv1d(outChannels: number | Conv1dLayerOptions, kernel?: number | Omit2<Conv1dLayerOptions, 'outChannels'>,
         opts?: Omit2<Conv1dLayerOptions, 'outChannels' | 'kernel'>): Conv1d {
    if (typeof outChannels === 'object') return new Conv1d(merge('conv1d', 'outChannels', outChannels, kernel as object | undefined));
    if (kernel !== null && typeof kernel === 'object') return new Conv1d({ ...kernel, outChannels } as Conv1dLayerOptions);
    return new Conv1d({ ...merge<object>('conv1d', 'kernel', kernel, opts), outChannels } as Conv1dLayerOptions);
  },
  linear(outFeatures: number | LinearLayerOptions, opts?: Omit2<LinearLayerOptions, 'outFeatures'>): Linear {
    return new Linear(merge('linear', 'outFeatures', outFeatures, opts));
  },
  maxPool2d(kernel: number | [number, number] | MaxPool2dLayerOptions, opts?: Omit2<MaxPool2dLayerOptions, 'kernel'>): MaxPool2d {
    return new MaxPool2d(merge('maxPool2d', 'kernel', kernel, opts));
  },
  avgPool2d(kernel: number | [number, number] | AvgPool2dLayerOptions, opts?: Omit2<AvgPool2dLayerOptions, 'kernel'>): AvgPool2d {
    return new AvgPool2d(merge('avgPool2d', 'kernel', kernel, opts));
  },
  globalAvgPool2d: (): GlobalAvgPool2d => new GlobalAvgPool2d(),
  adaptiveAvgPool2d(outputSize: AdaptiveAvgPool2dLayerOptions['outputSize'] | AdaptiveAvgPool2dLayerOptions): AdaptiveAvgPool2d {
    return new AdaptiveAvgPool2d(outputSize !== null && typeof outputSize === 'object' && !Array.isArray(outputSize) ? outputSize : { outputSize });
  },
  adaptiveMaxPool2d(outputSize: AdaptiveMaxPool2dLayerOptions['outputSize'] | AdaptiveMaxPool2dLayerOptions): AdaptiveMaxPool2d {
    return new AdaptiveMaxPool2d(outputSize !== null && typeof outputSize === 'object' && !Array.isArray(outputSize) ? outputSize : { outputSize });
  },
  /** Unshared weights per output position: locallyConnected2d(outChannels, kernel, { stride, padding, bias }). */
  locallyConnected2d(outChannels: number | LocallyConnected2dLayerOptions,
                     kernel?: number | [number, number] | Omit2<LocallyConnected2dLayerOptions, 'outChannels'>,
                     opts?: Omit2<LocallyConnected2dLayerOptions, 'outChannels' | 'kernel'>): LocallyConnected2d {
    const where = 'locallyConnected2d';
    if (typeof outChannels === 'object') return new LocallyConnected2d(merge(where, 'outChannels', outChannels, kernel as object | undefined));
    if (kernel !== null && typeof kernel === 'object' && !Array.isArray(kernel)) return new LocallyConnected2d({ ...kernel, outChannels } as LocallyConnected2dLayerOptions);
    return new LocallyConnected2d({ ...merge<object>(where, 'kernel', kernel, opts), outChannels } as LocallyConnected2dLayerOptions);
  },
  batchNorm2d: (opts?: BatchNormLayerOptions): BatchNorm2d => new BatchNorm2d(opts),
  batchNorm1d: (opts?: BatchNormLayerOptions): BatchNorm1d => new BatchNorm1d(opts),
  layerNorm(normalizedShape?: number | number[] | LayerNormLayerOptions, opts?: Omit2<LayerNormLayerOptions, 'normalizedShape'>): LayerNorm {
    if (normalizedShape === undefined) return new LayerNorm(opts);
    return new LayerNorm(merge('layerNorm', 'normalizedShape', normalizedShape, opts));
  },
  groupNorm(groups: number | GroupNormLayerOptions, opts?: Omit2<GroupNormLayerOptions, 'groups'>): GroupNorm {
    return new GroupNorm(merge('groupNorm', 'groups', groups, opts));
  },
  instanceNorm2d: (opts?: InstanceNormLayerOptions): InstanceNorm2d => new InstanceNorm2d(opts),
  relu: (): ReLU => new ReLU(),
  leakyRelu(negativeSlope?: number | { negativeSlope?: number }): LeakyReLU {
    return new LeakyReLU(typeof negativeSlope === 'number' ? { negativeSlope } : negativeSlope);
  },
  sigmoid: (): Sigmoid => new Sigmoid(),
  tanh: (): Tanh => new Tanh(),
  dropout(p?: number | DropoutLayerOptions): Dropout {
    return new Dropout(typeof p === 'number' ? { p } : p);
  },
  flatten: (opts?: FlattenLayerOptions): Flatten => new Flatten(opts),
};

export type Layers = typeof layers;

const FROM_CONFIG: Record<string, (c: Record<string, unknown>) => Layer> = {
  conv2d: (c) => new Conv2d(c as unknown as Conv2dLayerOptions),
  conv1d: (c) => new Conv1d(c as unknown as Conv1dLayerOptions),
  linear: (c) => new Linear(c as unknown as LinearLayerOptions),
  maxPool2d: (c) => new MaxPool2d(c as unknown as MaxPool2dLayerOptions),
  avgPool2d: (c) => new AvgPool2d(c as unknown as AvgPool2dLayerOptions),
  globalAvgPool2d: (c) => new GlobalAvgPool2d(c as Record<string, never>),
  batchNorm2d: (c) => new BatchNorm2d(c),
  batchNorm1d: (c) => new BatchNorm1d(c),
  layerNorm: (c) => new LayerNorm(c),
  groupNorm: (c) => new GroupNorm(c as unknown as GroupNormLayerOptions),
  instanceNorm2d: (c) => new InstanceNorm2d(c),
  relu: (c) => new ReLU(c as Record<string, never>),
  leakyRelu: (c) => new LeakyReLU(c),
  sigmoid: (c) => new Sigmoid(c as Record<string, never>),
  tanh: (c) => new Tanh(c as Record<string, never>),
  dropout: (c) => new Dropout(c),
  flatten: (c) => new Flatten(c),
  adaptiveAvgPool2d: (c) => new AdaptiveAvgPool2d(c as unknown as AdaptiveAvgPool2dLayerOptions),
  adaptiveMaxPool2d: (c) => new AdaptiveMaxPool2d(c as unknown as AdaptiveMaxPool2dLayerOptions),
  locallyConnected2d: (c) => new LocallyConnected2d(c as unknown as LocallyConnected2dLayerOptions),
  residual: (c) => Residual.fromConfig(c),
  named: (c) => Named.fromConfig(c),
  branches: (c) => Branches.fromConfig(c),
};

/** Rebuilds a layer from its config() (nn.load). */
export function layerFromConfig(config: LayerConfig, where: string): Layer {
  if (!config || typeof config !== 'object' || typeof config.type !== 'string') {
    throw new Error(`${where}: a layer config must be an object with a string 'type', got ${fmt(config)}`);
  }
  const make = FROM_CONFIG[config.type];
  if (!make) throw new Error(`${where}: unknown layer type '${config.type}' (known: ${Object.keys(FROM_CONFIG).join(', ')})`);
  const { type: _t, name, ...rest } = config;
  if (name !== undefined && name !== null && typeof name !== 'string') throw new Error(`${where}: a layer's name must be a string, got ${fmt(name)}`);
  // JSON keeps undefined out; drop nulls the config may carry for "inferred".
  for (const k of Object.keys(rest)) if (rest[k] === null || rest[k] === undefined) delete rest[k];
  try {
    const layer = make(rest);
    if (typeof name === 'string') layer.name = name;
    return layer;
  } catch (e) {
    throw new Error(`${where}: ${(e as Error).message}`);
  }
}
