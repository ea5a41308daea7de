// Branching containers for nn.sequential: nn.residual(body, shortcut?) → body(x) + shortcut(x) (identity when the
// shortcut is omitted) and nn.branches([...], 'concat' | 'add') (Inception-style: every branch sees the same input;
// outputs joined along channels, or summed). Each body / shortcut / branch is a list of layers run in order.
//
// A container is a Layer: it nests inside nn.sequential (and inside other containers). Its params/buffers are its
// children's, renamed with PyTorch's module paths, so the model's state_dict names are those of the equivalent
// torch module with attributes `body`, `shortcut` (nn.Sequential) and `branches` (nn.ModuleList of nn.Sequential):
// `3.body.0.weight`, `3.shortcut.1.running_mean`, `4.branches.1.0.weight`.
//
// Backward: the gradient of a sum goes unchanged to both terms (ops.add's backward is the identity), a concat's is
// split along channels, and where the input fans out to several paths their input gradients add up.
import type { Engine } from '../engine.js';
import type { Tensor } from '../tensor.js';
import { Layer, ShapeError, shapeStr, fmt, reshapeCopy, type LayerConfig, type LayerGeometry } from '../layers/layer.js';
import { layerFromConfig } from '../layers/index.js';
import { BatchNormBase } from '../layers/norm.js';
import type { Rng } from '../layers/rng.js';

type LayerList = Layer | Layer[];

/** One path of layers (a body, a shortcut or a branch) with its PyTorch attribute path. */
interface Path {
  name: string;
  layers: Layer[];
  /** Per-sample input shape of each layer (set by inferShape). */
  shapes: number[][];
  /** Outputs of layers 0..L-2 kept by a training forward. */
  acts: Tensor[];
}

function asList(where: string, what: string, v: unknown): Layer[] {
  const list = v instanceof Layer ? [v] : v;
  if (!Array.isArray(list) || list.length === 0) throw new Error(`${where}: ${what} must be a layer or a non-empty array of layers, got ${fmt(v)}`);
  list.forEach((l, i) => {
    if (!(l instanceof Layer)) throw new Error(`${where}: ${what}[${i}] must be a layer (from nn.layers or nn.residual/nn.branches), got ${fmt(l)}`);
    if (l.index >= 0 || list.indexOf(l) !== i) throw new Error(`${where}: ${what}[${i}] (${l.type}) is already used; make a new layer object`);
  });
  return list as Layer[];
}

/** Base of the containers: child paths, mode and freezing passed down, composed shapes, geometry and macs. */
export abstract class Container extends Layer {
  protected paths: Path[] = [];

  constructor() {
    super();
    // `training` is a field of Layer; as an accessor here it reaches every child (BatchNorm, Dropout inside).
    let training = true;
    Object.defineProperty(this, 'training', {
      get: () => training,
      set: (v: boolean) => { training = v; for (const l of this.children()) l.training = v; },
      enumerable: true, configurable: true,
    });
  }

  protected setPaths(paths: { name: string; layers: Layer[] }[]): void {
    const seen = new Set<Layer>();
    for (const p of paths) for (const l of p.layers) {
      if (seen.has(l)) throw new Error(`${this.type}: layer ${l.type} appears twice; make a new layer object`);
      seen.add(l);
    }
    this.paths = paths.map((p) => ({ ...p, shapes: [], acts: [] }));
    for (const p of this.paths) p.layers.forEach((l, i) => { l.index = i; });
  }

  /** Every direct child layer. */
  children(): Layer[] {
    return this.paths.flatMap((p) => p.layers);
  }

  /** [path, layer] for every direct child: `body.0`, `shortcut.1`, `branches.2.0`, … */
  namedChildren(): [string, Layer][] {
    return this.paths.flatMap((p) => p.layers.map((l, i) => [`${p.name}.${i}`, l] as [string, Layer]));
  }

  override get trainable(): boolean {
    return super.trainable;
  }

  override set trainable(v: boolean) {
    super.trainable = v;
    for (const l of this.children()) l.trainable = v;
  }

  /** Runs the shape inference of one path; a child's complaint is rethrown naming the block, path and child. */
  protected inferPath(p: Path, inShape: readonly number[]): number[] {
    let shape = [...inShape];
    p.shapes = [];
    p.layers.forEach((l, i) => {
      p.shapes.push(shape);
      try {
        shape = l.inferShape(shape);
      } catch (e) {
        const from = i === 0 ? `the ${this.type} input` : `the output of ${p.name}.${i - 1} (${p.layers[i - 1].type})`;
        if (e instanceof ShapeError) {
          throw new Error(`${this.type} ${p.name}.${i} (${l.type}) expects input ${e.expected}, got ${shapeStr(shape)} from ${from}${e.detail ? `: ${e.detail}` : ''}`);
        }
        throw new Error(`${this.type} ${p.name}.${i} (${l.type}) with input ${shapeStr(shape)} from ${from}: ${(e as Error).message}`);
      }
    });
    return shape;
  }

  override build(e: Engine, inShape: readonly number[], rng: Rng): void {
    super.build(e, inShape, rng);
    const built: Layer[] = [];
    try {
      for (const p of this.paths) {
        p.layers.forEach((l, i) => {
          l.build(e, p.shapes[i], rng.fork(`${p.name}/${i}`));
          built.push(l);
        });
      }
    } catch (err) {
      for (const l of built) l.dispose();
      throw err;
    }
    for (const [path, l] of this.namedChildren()) {
      for (const prm of l.params) { prm.name = `${path}.${prm.name}`; prm.trainable = prm.trainable && this.trainable; this.params.push(prm); }
      for (const b of l.buffers) { b.name = `${path}.${b.name}`; this.buffers.push(b); }
    }
    for (const l of this.children()) { l.training = this.training; if (!this.trainable) l.trainable = false; }
  }

  /** Runs a path on x; keeps the intermediate outputs in p.acts when keep. Returns a new tensor. */
  protected runPath(p: Path, x: Tensor, keep: boolean): Tensor {
    let cur = x;
    const acts: Tensor[] = [];
    try {
      p.layers.forEach((l, i) => {
        let y: Tensor;
        try {
          y = l.forward(cur, keep);
        } catch (err) {
          throw new Error(`${this.type} ${p.name}.${i} (${l.type}) on input ${shapeStr(cur.shape)}: ${(err as Error).message}`);
        }
        if (cur !== x && !keep) cur.dispose();
        if (keep && i < p.layers.length - 1) acts.push(y);
        cur = y;
      });
    } catch (err) {
      if (cur !== x) cur.dispose();
      for (const a of acts) a.dispose();
      for (const l of p.layers) l.clearCache();
      throw err;
    }
    p.acts = acts;
    return cur;
  }

  /** Backpropagates dy (owned by the caller) through a path; returns its input gradient (new) or null. */
  protected backPath(p: Path, dy: Tensor, needInput: boolean): Tensor | null {
    let cur: Tensor | null = dy;
    try {
      for (let i = p.layers.length - 1; i >= 0; i--) {
        const l = p.layers[i];
        let dx: Tensor | null;
        try {
          dx = l.backward(cur!, i > 0 || needInput);
        } catch (err) {
          throw new Error(`${this.type} ${p.name}.${i} (${l.type}): ${(err as Error).message}`);
        }
        if (cur !== dy) cur!.dispose();
        cur = dx;
        if (i > 0) p.acts[i - 1].dispose();
      }
    } catch (err) {
      if (cur && cur !== dy) cur.dispose();
      this.clearCache();
      throw err;
    }
    p.acts = [];
    if (!needInput) { if (cur && cur !== dy) cur.dispose(); return null; }
    return cur === dy ? reshapeCopy(this.e, dy, dy.shape) : cur;
  }

  /** Adds b into a (owned, same shape) in place and disposes b. */
  protected accumulateInto(a: Tensor, b: Tensor): void {
    this.e.kernels.axpy(a.offset, b.offset, a.size, 1);
    b.dispose();
  }

  override clearCache(): void {
    for (const p of this.paths) {
      for (const a of p.acts) a.dispose();
      p.acts = [];
      for (const l of p.layers) l.clearCache();
    }
  }

  override macs(): number {
    return this.children().reduce((a, l) => a + l.macs(), 0);
  }

  /** Receptive-field geometry of the block: each path composed, the widest path wins (identity: 1×1, stride 1). */
  override geometry(): LayerGeometry {
    let kernel: [number, number] = [1, 1], stride: [number, number] = [1, 1];
    for (const p of this.allPaths()) {
      let k: [number, number] = [1, 1], j: [number, number] = [1, 1];
      for (const l of p) {
        const g = l.geometry();
        if (g.global) return { global: true };
        if (g.kernel && g.stride) {
          k = [k[0] + (g.kernel[0] - 1) * j[0], k[1] + (g.kernel[1] - 1) * j[1]];
          j = [j[0] * g.stride[0], j[1] * g.stride[1]];
        }
      }
      kernel = [Math.max(kernel[0], k[0]), Math.max(kernel[1], k[1])];
      stride = [Math.max(stride[0], j[0]), Math.max(stride[1], j[1])];
    }
    return { kernel, stride };
  }

  /** The paths as lists of layers, with an empty list for an identity path. */
  protected allPaths(): Layer[][] {
    return this.paths.map((p) => p.layers);
  }

  override dispose(): void {
    this.clearCache();
    for (const l of this.children()) l.dispose();
    for (const p of this.params) p.zeroGrad();
  }

  /** @internal The child lists in config order (body, shortcut / each branch), for fuseForInference. */
  abstract childLists(): Layer[][];
  /** @internal This container's config with other child configs in childLists() order. */
  abstract withChildConfigs(lists: LayerConfig[][]): LayerConfig;
}

// ------------------------------------------------------------------------------------------------ residual

export class Residual extends Container {
  readonly type = 'residual';
  private readonly hasShortcut: boolean;

  constructor(body: LayerList, shortcut?: LayerList | null) {
    super();
    const b = asList('residual', 'body', body);
    const paths = [{ name: 'body', layers: b }];
    this.hasShortcut = shortcut !== undefined && shortcut !== null;
    if (this.hasShortcut) paths.push({ name: 'shortcut', layers: asList('residual', 'shortcut', shortcut) });
    this.setPaths(paths);
  }

  inferShape(inShape: readonly number[]): number[] {
    const out = this.inferPath(this.paths[0], inShape);
    const sc = this.hasShortcut ? this.inferPath(this.paths[1], inShape) : [...inShape];
    if (out.length !== sc.length || out.some((d, i) => d !== sc[i])) {
      throw new Error(`residual: the body's output ${shapeStr(out)} and the ${this.hasShortcut ? 'shortcut\'s output' : 'identity shortcut (the input)'} ${
        shapeStr(sc)} differ; they are added, so they must have the same shape${this.hasShortcut ? '' : ' (give a projection shortcut, e.g. a 1×1 conv with the body\'s stride and a batch norm)'}`);
    }
    return out;
  }

  forward(x: Tensor, keep: boolean): Tensor {
    this.clearCache();
    const b = this.runPath(this.paths[0], x, keep);
    let s: Tensor;
    try {
      s = this.hasShortcut ? this.runPath(this.paths[1], x, keep) : x;
    } catch (err) {
      b.dispose();
      this.clearCache();
      throw err;
    }
    try {
      return this.e.ops.add(b, s);
    } finally {
      b.dispose();
      if (s !== x) s.dispose();
    }
  }

  backward(dy: Tensor, needInput: boolean): Tensor | null {
    const dxb = this.backPath(this.paths[0], dy, needInput);
    let dxs: Tensor | null;
    try {
      dxs = this.hasShortcut ? this.backPath(this.paths[1], dy, needInput) : null;
    } catch (err) {
      dxb?.dispose();
      throw err;
    }
    if (!needInput) return null;
    if (dxs) this.accumulateInto(dxb!, dxs);
    else this.e.kernels.axpy(dxb!.offset, dy.offset, dy.size, 1);   // identity shortcut: dy itself
    return dxb;
  }

  protected override allPaths(): Layer[][] {
    return this.hasShortcut ? super.allPaths() : [...super.allPaths(), []];
  }

  childLists(): Layer[][] {
    return this.paths.map((p) => p.layers);
  }

  withChildConfigs(lists: LayerConfig[][]): LayerConfig {
    return { type: this.type, body: lists[0], shortcut: this.hasShortcut ? lists[1] : null };
  }

  config(): LayerConfig {
    return this.withChildConfigs(this.childLists().map((l) => l.map((c) => c.config())));
  }

  static fromConfig(c: Record<string, unknown>, where = 'residual'): Residual {
    const list = (v: unknown, what: string) => {
      if (!Array.isArray(v)) throw new Error(`${where}: ${what} must be an array of layer configs, got ${fmt(v)}`);
      return v.map((lc, i) => layerFromConfig(lc as LayerConfig, `${where}: ${what}.${i}`));
    };
    for (const k of Object.keys(c)) if (k !== 'body' && k !== 'shortcut') throw new Error(`${where}: unknown key '${k}' (known: body, shortcut)`);
    return new Residual(list(c.body, 'body'), c.shortcut == null ? null : list(c.shortcut, 'shortcut'));
  }
}

// ------------------------------------------------------------------------------------------------ branches

export type BranchMode = 'concat' | 'add';

export class Branches extends Container {
  readonly type = 'branches';
  readonly mode: BranchMode;
  private outChannels: number[] = [];

  constructor(branches: LayerList[], mode: BranchMode = 'concat') {
    super();
    if (!Array.isArray(branches) || branches.length === 0) {
      throw new Error(`branches: branches must be a non-empty array (each a layer or an array of layers), got ${fmt(branches)}`);
    }
    if (mode !== 'concat' && mode !== 'add') throw new Error(`branches: mode must be 'concat' or 'add', got ${fmt(mode)}`);
    this.mode = mode;
    this.setPaths(branches.map((b, i) => ({ name: `branches.${i}`, layers: asList('branches', `branches[${i}]`, b) })));
  }

  inferShape(inShape: readonly number[]): number[] {
    const outs = this.paths.map((p) => this.inferPath(p, inShape));
    const first = outs[0];
    outs.forEach((o, i) => {
      if (this.mode === 'add') {
        if (o.length !== first.length || o.some((d, k) => d !== first[k])) {
          throw new Error(`branches: branch ${i} output ${shapeStr(o)} and branch 0 output ${shapeStr(first)} differ; mode 'add' needs equal shapes`);
        }
      } else if (o.length !== first.length || o.some((d, k) => k > 0 && d !== first[k])) {
        throw new Error(`branches: branch ${i} output ${shapeStr(o)} does not match branch 0 output ${shapeStr(first)} in ${
          o.length === first.length ? 'spatial size' : 'rank'}; mode 'concat' joins channels, every other dimension must match`);
      }
    });
    this.outChannels = outs.map((o) => o[0]);
    return this.mode === 'add' ? [...first] : [outs.reduce((a, o) => a + o[0], 0), ...first.slice(1)];
  }

  forward(x: Tensor, keep: boolean): Tensor {
    this.clearCache();
    const ys: Tensor[] = [];
    try {
      for (const p of this.paths) ys.push(this.runPath(p, x, keep));
      if (this.mode === 'concat') return this.e.ops.concat(ys, 1);
      const out = ys.length > 1 ? this.e.ops.add(ys[0], ys[1]) : reshapeCopy(this.e, ys[0], ys[0].shape);
      for (let i = 2; i < ys.length; i++) this.e.kernels.axpy(out.offset, ys[i].offset, out.size, 1);
      return out;
    } catch (err) {
      this.clearCache();
      throw err;
    } finally {
      for (const y of ys) if (y !== x) y.dispose();
    }
  }

  backward(dy: Tensor, needInput: boolean): Tensor | null {
    const dys = this.mode === 'concat' ? this.e.ops.split(dy, this.outChannels, 1) : null;
    let dx: Tensor | null = null;
    try {
      this.paths.forEach((p, i) => {
        const g = this.backPath(p, dys ? dys[i] : dy, needInput);
        if (!g) return;
        if (dx) this.accumulateInto(dx, g); else dx = g;
      });
    } catch (err) {
      (dx as Tensor | null)?.dispose();
      throw err;
    } finally {
      if (dys) for (const t of dys) t.dispose();
    }
    return needInput ? dx : null;
  }

  childLists(): Layer[][] {
    return this.paths.map((p) => p.layers);
  }

  withChildConfigs(lists: LayerConfig[][]): LayerConfig {
    return { type: this.type, mode: this.mode, branches: lists };
  }

  config(): LayerConfig {
    return this.withChildConfigs(this.childLists().map((l) => l.map((c) => c.config())));
  }

  static fromConfig(c: Record<string, unknown>, where = 'branches'): Branches {
    for (const k of Object.keys(c)) if (k !== 'branches' && k !== 'mode') throw new Error(`${where}: unknown key '${k}' (known: branches, mode)`);
    if (!Array.isArray(c.branches)) throw new Error(`${where}: branches must be an array of arrays of layer configs, got ${fmt(c.branches)}`);
    const lists = c.branches.map((b, i) => {
      if (!Array.isArray(b)) throw new Error(`${where}: branches[${i}] must be an array of layer configs, got ${fmt(b)}`);
      return b.map((lc, j) => layerFromConfig(lc as LayerConfig, `${where}: branches.${i}.${j}`));
    });
    return new Branches(lists, (c.mode ?? 'concat') as BranchMode);
  }
}

// ------------------------------------------------------------------------------------------------ walking

/** Every layer under a list, depth first, with its state_dict path (`3`, `3.body.0`, `4.branches.1.0`, …). */
export function walkLayers(layers: readonly Layer[]): [string, Layer][] {
  const out: [string, Layer][] = [];
  const visit = (path: string, l: Layer) => {
    out.push([path, l]);
    if (l instanceof Container) for (const [p, c] of l.namedChildren()) visit(`${path}.${p}`, c);
  };
  for (const l of layers) visit(String(l.index), l);
  return out;
}

/** [state_dict path, layer] of every BatchNorm with running statistics under a layer (itself included). */
export function batchNormsOf(l: Layer): [string, BatchNormBase][] {
  return walkLayers([l]).filter(([, b]) => b instanceof BatchNormBase && b.runningMean !== null) as [string, BatchNormBase][];
}

/** The factories bound to nn: nn.residual(body, shortcut?) and nn.branches(list, mode). */
export const residual = (body: LayerList, shortcut?: LayerList | null): Residual => new Residual(body, shortcut);
export const branches = (list: LayerList[], mode: BranchMode = 'concat'): Branches => new Branches(list, mode);
