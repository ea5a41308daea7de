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
import { Layer, ShapeError, shapeStr, fmt, reshapeCopy, joinPath, pathOf, namedConfig, type LayerConfig, type LayerGeometry } from '../layers/layer.js';
import { layerFromConfig } from '../layers/index.js';
import { BatchNormBase } from '../layers/norm.js';
import type { Rng } from '../layers/rng.js';

/**
 * A layer, an array of layers (module names '0', '1', …: torch's nn.Sequential), or an object of layers by module name
 * (torch's nn.Sequential(OrderedDict(...)): `{ conv1: …, bn1: … }`; JavaScript orders integer-like keys first, so
 * do not mix them with other names). A name '' adds no path component (its children join the parent's namespace).
 */
export type LayerList = Layer | Layer[] | Record<string, Layer>;

const isLayerRecord = (v: unknown): v is Record<string, Layer> =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Layer);

/** The layers of a list in order, naming them after an object's keys. */
export function listOfLayers(where: string, what: string, v: unknown): Layer[] {
  if (!isLayerRecord(v)) return asList(where, what, v);
  const entries = Object.entries(v);
  const list = asList(where, what, entries.map(([, l]) => l));
  entries.forEach(([k], i) => { list[i].name = k; });
  return list;
}

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
  const list = v instanceof Layer ? [v] : isLayerRecord(v) ? listOfLayers(where, what, v) : v;
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
    return this.paths.flatMap((p) => p.layers.map((l) => [joinPath(p.name, pathOf(l)), l] as [string, Layer]));
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
        const out = l.inferShape(shape);
        l.inputShape = [...shape];   // for macs() and paramShapes() before build (nn.summary of an unbuilt model)
        l.outputShape = [...out];
        shape = out;
      } catch (e) {
        const from = i === 0 ? `the ${this.type} input` : `the output of ${joinPath(p.name, pathOf(p.layers[i - 1]))} (${p.layers[i - 1].type})`;
        if (e instanceof ShapeError) {
          throw new Error(`${this.type} ${joinPath(p.name, pathOf(l))} (${l.type}) expects input ${e.expected}, got ${shapeStr(shape)} from ${from}${e.detail ? `: ${e.detail}` : ''}`);
        }
        throw new Error(`${this.type} ${joinPath(p.name, pathOf(l))} (${l.type}) with input ${shapeStr(shape)} from ${from}: ${(e as Error).message}`);
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
      for (const prm of l.params) { prm.name = joinPath(path, prm.name); prm.trainable = prm.trainable && this.trainable; this.params.push(prm); }
      for (const b of l.buffers) { b.name = joinPath(path, b.name); this.buffers.push(b); }
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
          throw new Error(`${this.type} ${joinPath(p.name, pathOf(l))} (${l.type}) on input ${shapeStr(cur.shape)}: ${(err as Error).message}`);
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
          throw new Error(`${this.type} ${joinPath(p.name, pathOf(l))} (${l.type}): ${(err as Error).message}`);
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

  override paramShapes(): { name: string; shape: number[] }[] {
    return this.namedChildren().flatMap(([path, l]) => l.paramShapes().map((p) => ({ name: joinPath(path, p.name), shape: p.shape })));
  }

  override bufferShapes(): { name: string; shape: number[] }[] {
    return this.namedChildren().flatMap(([path, l]) => l.bufferShapes().map((p) => ({ name: joinPath(path, p.name), shape: p.shape })));
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

export interface ResidualOptions {
  /** The body's attribute name in state_dict paths (default 'body'; '' puts the body's layers in the block's namespace). */
  bodyName?: string;
  /** The shortcut's attribute name (default 'shortcut'; torchvision's BasicBlock: 'downsample'). */
  shortcutName?: string;
}

export class Residual extends Container {
  readonly type = 'residual';
  private readonly hasShortcut: boolean;
  private readonly names: { bodyName: string; shortcutName: string };

  constructor(body: LayerList, shortcut?: LayerList | null, opts: ResidualOptions = {}) {
    super();
    const o = opts ?? {};
    for (const k of Object.keys(o)) if (k !== 'bodyName' && k !== 'shortcutName') throw new Error(`residual: unknown option '${k}' (known: bodyName, shortcutName)`);
    const str = (v: unknown, d: string, what: string) => {
      if (v === undefined) return d;
      if (typeof v !== 'string') throw new Error(`residual: ${what} must be a string, got ${fmt(v)}`);
      return v;
    };
    this.names = { bodyName: str(o.bodyName, 'body', 'bodyName'), shortcutName: str(o.shortcutName, 'shortcut', 'shortcutName') };
    const b = asList('residual', 'body', body);
    const paths = [{ name: this.names.bodyName, layers: b }];
    this.hasShortcut = shortcut !== undefined && shortcut !== null;
    if (this.hasShortcut) paths.push({ name: this.names.shortcutName, layers: asList('residual', 'shortcut', shortcut) });
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
    const names = this.names.bodyName !== 'body' || this.names.shortcutName !== 'shortcut' ? { ...this.names } : {};
    return { type: this.type, body: lists[0], shortcut: this.hasShortcut ? lists[1] : null, ...names };
  }

  config(): LayerConfig {
    return this.withChildConfigs(this.childLists().map((l) => l.map(namedConfig)));
  }

  static fromConfig(c: Record<string, unknown>, where = 'residual'): Residual {
    const list = (v: unknown, what: string) => {
      if (!Array.isArray(v)) throw new Error(`${where}: ${what} must be an array of layer configs, got ${fmt(v)}`);
      return v.map((lc, i) => layerFromConfig(lc as LayerConfig, `${where}: ${what}.${i}`));
    };
    const { body, shortcut, ...names } = c;
    return new Residual(list(body, 'body'), shortcut == null ? null : list(shortcut, 'shortcut'), names as ResidualOptions);
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
    return this.withChildConfigs(this.childLists().map((l) => l.map(namedConfig)));
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

// ------------------------------------------------------------------------------------------------ named

/**
 * nn.named(layers): layers run in order as one layer with module names — torch's nn.Sequential (an array: '0', '1', …)
 * or nn.Sequential(OrderedDict) (an object: `{ conv1, bn1, relu }`). It nests in nn.sequential and in the other
 * containers, so a model's state_dict names can be any PyTorch module's (torchvision's `features.0.weight`,
 * `layer1.0.conv1.weight`).
 */
export class Named extends Container {
  readonly type = 'named';

  constructor(layers: LayerList) {
    super();
    this.setPaths([{ name: '', layers: asList('named', 'layers', layers) }]);
  }

  inferShape(inShape: readonly number[]): number[] {
    return this.inferPath(this.paths[0], inShape);
  }

  forward(x: Tensor, keep: boolean): Tensor {
    this.clearCache();
    return this.runPath(this.paths[0], x, keep);
  }

  backward(dy: Tensor, needInput: boolean): Tensor | null {
    return this.backPath(this.paths[0], dy, needInput);
  }

  childLists(): Layer[][] {
    return [this.paths[0].layers];
  }

  withChildConfigs(lists: LayerConfig[][]): LayerConfig {
    return { type: this.type, layers: lists[0] };
  }

  config(): LayerConfig {
    return this.withChildConfigs([this.paths[0].layers.map(namedConfig)]);
  }

  static fromConfig(c: Record<string, unknown>, where = 'named'): Named {
    for (const k of Object.keys(c)) if (k !== 'layers') throw new Error(`${where}: unknown key '${k}' (known: layers)`);
    if (!Array.isArray(c.layers)) throw new Error(`${where}: layers must be an array of layer configs, got ${fmt(c.layers)}`);
    return new Named(c.layers.map((lc, i) => layerFromConfig(lc as LayerConfig, `${where}: layers.${i}`)));
  }
}

// ------------------------------------------------------------------------------------------------ walking

/** Every layer under a list, depth first, with its state_dict path (`3`, `3.body.0`, `4.branches.1.0`, …). */
export function walkLayers(layers: readonly Layer[]): [string, Layer][] {
  const out: [string, Layer][] = [];
  const visit = (path: string, l: Layer) => {
    out.push([path, l]);
    if (l instanceof Container) for (const [p, c] of l.namedChildren()) visit(joinPath(path, p), c);
  };
  for (const l of layers) visit(pathOf(l), l);
  return out;
}

/** [state_dict path, layer] of every BatchNorm with running statistics under a layer (itself included). */
export function batchNormsOf(l: Layer): [string, BatchNormBase][] {
  return walkLayers([l]).filter(([, b]) => b instanceof BatchNormBase && b.runningMean !== null) as [string, BatchNormBase][];
}

/** The factories bound to nn: nn.residual(body, shortcut?) and nn.branches(list, mode). */
export const residual = (body: LayerList, shortcut?: LayerList | null, opts?: ResidualOptions): Residual => new Residual(body, shortcut, opts);
export const named = (layers: LayerList): Named => new Named(layers);
export const branches = (list: LayerList[], mode: BranchMode = 'concat'): Branches => new Branches(list, mode);
