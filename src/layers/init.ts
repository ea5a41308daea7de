// Weight initialisers (torch.nn.init): PyTorch's layer default, Kaiming/He and Xavier/Glorot (uniform and
// normal), constants, and plain uniform/normal. Fans follow torch.nn.init._calculate_fan_in_and_fan_out:
// fanIn = shape[1]·receptive field, fanOut = shape[0]·receptive field.
import type { Rng } from './rng.js';

export type Nonlinearity = 'linear' | 'conv' | 'sigmoid' | 'tanh' | 'relu' | 'leaky_relu' | 'leakyRelu' | 'selu';

export type InitName =
  | 'default' | 'kaimingUniform' | 'kaimingNormal' | 'heUniform' | 'heNormal'
  | 'xavierUniform' | 'xavierNormal' | 'glorotUniform' | 'glorotNormal'
  | 'zeros' | 'ones' | 'uniform' | 'normal';

export interface InitSpec {
  type: InitName | 'constant';
  /** kaiming: the negative slope of the rectifier after this layer (default 0). */
  a?: number;
  /** kaiming: 'fanIn' (default) or 'fanOut'. */
  mode?: 'fanIn' | 'fanOut';
  /** kaiming: the nonlinearity after this layer (default 'relu' for kaimingUniform/Normal; PyTorch says leaky_relu with a = 0, the same gain). */
  nonlinearity?: Nonlinearity;
  /** xavier: gain (default 1). */
  gain?: number;
  /** uniform: bounds (default [-0.05, 0.05]); normal: mean/std (default 0/0.05); constant: value. */
  low?: number; high?: number; mean?: number; std?: number; value?: number;
}

/** A custom initialiser: returns shape.reduce(*) values. */
export type InitFn = (shape: readonly number[], fans: { fanIn: number; fanOut: number }, rng: Rng) => ArrayLike<number>;

export type Initializer = InitName | InitSpec | InitFn;

export function fans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length < 2) return { fanIn: shape[0] ?? 1, fanOut: shape[0] ?? 1 };
  const receptive = shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: shape[1] * receptive, fanOut: shape[0] * receptive };
}

/** torch.nn.init.calculate_gain. */
export function gain(nonlinearity: Nonlinearity, a = 0): number {
  switch (nonlinearity) {
    case 'linear': case 'conv': case 'sigmoid': return 1;
    case 'tanh': return 5 / 3;
    case 'relu': return Math.SQRT2;
    case 'leaky_relu': case 'leakyRelu': return Math.sqrt(2 / (1 + a * a));
    case 'selu': return 3 / 4;
    default: throw new Error(`init: nonlinearity must be one of linear, conv, sigmoid, tanh, relu, leakyRelu, selu; got '${String(nonlinearity)}'`);
  }
}

const NAMES: readonly string[] = ['default', 'kaimingUniform', 'kaimingNormal', 'heUniform', 'heNormal', 'xavierUniform',
  'xavierNormal', 'glorotUniform', 'glorotNormal', 'zeros', 'ones', 'uniform', 'normal', 'constant'];

/** Checks an initialiser argument (so a typo fails when the layer is made, not when it is built). */
export function checkInit(where: string, init: unknown): void {
  if (typeof init === 'function') return;
  const type = typeof init === 'string' ? init : (init as InitSpec | null)?.type;
  if (typeof type !== 'string' || !NAMES.includes(type)) {
    throw new Error(`${where} must be a function, one of ${NAMES.map((n) => `'${n}'`).join(', ')}, or { type, ... }; got ${
      typeof init === 'object' ? JSON.stringify(init) : String(init)}`);
  }
}

/**
 * Values for a tensor of `shape`. For a bias, pass the weight's shape as `weightShape`: fans (and so PyTorch's
 * default bias bound 1/√fanIn) come from the weight.
 */
export function initValues(init: Initializer, shape: readonly number[], rng: Rng,
                           opts: { weightShape?: readonly number[] } = {}): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  const f = fans(opts.weightShape ?? shape);
  if (typeof init === 'function') {
    const v = init(shape, f, rng);
    if (!v || v.length !== n) throw new Error(`init: a custom initialiser must return ${n} values for shape [${shape}], got ${v?.length}`);
    out.set(v);
    return out;
  }
  const spec: InitSpec = typeof init === 'string' ? { type: init } : init;
  const uniform = (bound: number) => { for (let i = 0; i < n; i++) out[i] = rng.uniform(-bound, bound); };
  const normal = (mean: number, std: number) => { for (let i = 0; i < n; i++) out[i] = rng.normal(mean, std); };
  switch (spec.type) {
    case 'default': {
      // PyTorch's Conv/Linear reset_parameters: kaiming_uniform_(w, a=√5) → bound 1/√fanIn; bias U(±1/√fanIn).
      const bound = f.fanIn > 0 ? 1 / Math.sqrt(f.fanIn) : 0;
      uniform(bound);
      break;
    }
    case 'kaimingUniform': case 'heUniform': case 'kaimingNormal': case 'heNormal': {
      const a = spec.a ?? 0;
      const fan = spec.mode === 'fanOut' ? f.fanOut : f.fanIn;
      const std = gain(spec.nonlinearity ?? 'leaky_relu', a) / Math.sqrt(fan);
      if (spec.type.endsWith('Uniform')) uniform(Math.sqrt(3) * std); else normal(0, std);
      break;
    }
    case 'xavierUniform': case 'glorotUniform': case 'xavierNormal': case 'glorotNormal': {
      const std = (spec.gain ?? 1) * Math.sqrt(2 / (f.fanIn + f.fanOut));
      if (spec.type.endsWith('Uniform')) uniform(Math.sqrt(3) * std); else normal(0, std);
      break;
    }
    case 'zeros': break;
    case 'ones': out.fill(1); break;
    case 'constant': out.fill(spec.value ?? 0); break;
    case 'uniform': { const lo = spec.low ?? -0.05, hi = spec.high ?? 0.05; for (let i = 0; i < n; i++) out[i] = rng.uniform(lo, hi); break; }
    case 'normal': normal(spec.mean ?? 0, spec.std ?? 0.05); break;
    default: checkInit('init', spec.type);
  }
  return out;
}
