// Images of what a net computes, as plain host arrays that work in Node and in browsers:
//   GrayImage  { width, height, data: Float32Array }         values in [0, 1], row-major
//   RGBAImage  { width, height, data: Uint8ClampedArray }    4 bytes per pixel: `new ImageData(data, width, height)`
//                                                            in a browser, pngjs / encodePng in Node
// First-layer filters, feature maps and saliency maps become GrayImages; grid() tiles them; toRGBA() colours them.
import { Tensor } from '../tensor.js';
import type { Sequential } from '../model/sequential.js';
import type { Layer } from '../layers/layer.js';
import { shapeStr, fmt } from '../layers/layer.js';
import { walkLayers } from '../model/containers.js';

export interface GrayImage {
  width: number;
  height: number;
  /** width·height values in [0, 1], row-major. */
  data: Float32Array;
}

export interface RGBAImage {
  width: number;
  height: number;
  /** width·height·4 bytes (R, G, B, A), row-major: ImageData's layout. */
  data: Uint8ClampedArray;
}

/**
 * How values map to [0, 1]: 'minmax' (min → 0, max → 1), 'symmetric' (0 → 0.5, ±max|v| → 0 / 1: the sign stays
 * visible), 'max' (0 → 0, max|v| → 1, for magnitudes such as saliency). A constant input maps to 0.5 (0 for 'max').
 */
export type Normalize = 'minmax' | 'symmetric' | 'max';

/** Maps values to [0, 1] in place over [from, to) with the given rule, using the statistics of that range. */
function normalizeRange(a: Float32Array, from: number, to: number, how: Normalize, stats?: { min: number; max: number }): void {
  let mn = Infinity, mx = -Infinity;
  if (stats) { mn = stats.min; mx = stats.max; } else for (let i = from; i < to; i++) { if (a[i] < mn) mn = a[i]; if (a[i] > mx) mx = a[i]; }
  if (how === 'minmax') {
    const d = mx - mn;
    for (let i = from; i < to; i++) a[i] = d > 0 ? (a[i] - mn) / d : 0.5;
  } else {
    const m = Math.max(Math.abs(mn), Math.abs(mx));
    if (how === 'symmetric') for (let i = from; i < to; i++) a[i] = m > 0 ? 0.5 + 0.5 * a[i] / m : 0.5;
    else for (let i = from; i < to; i++) a[i] = m > 0 ? Math.abs(a[i]) / m : 0;
  }
}

function minMax(a: Float32Array): { min: number; max: number } {
  let min = Infinity, max = -Infinity;
  for (let i = 0; i < a.length; i++) { if (a[i] < min) min = a[i]; if (a[i] > max) max = a[i]; }
  return { min, max };
}

function checkNormalize(where: string, v: unknown, dflt: Normalize): Normalize {
  if (v === undefined) return dflt;
  if (v !== 'minmax' && v !== 'symmetric' && v !== 'max') throw new Error(`${where}: normalize must be 'minmax', 'symmetric' or 'max', got ${fmt(v)}`);
  return v;
}

function checkKeys(where: string, opts: unknown, known: string[]): Record<string, unknown> {
  if (opts === undefined || opts === null) return {};
  if (typeof opts !== 'object' || Array.isArray(opts)) throw new Error(`${where}: options must be an object, got ${fmt(opts)}`);
  for (const k of Object.keys(opts)) if (!known.includes(k)) throw new Error(`${where}: unknown option '${k}' (known: ${known.join(', ')})`);
  return opts as Record<string, unknown>;
}

/** Splits planes [P, H, W] (flat) into P normalised images. */
function planes(data: Float32Array, count: number, height: number, width: number, how: Normalize, each: boolean): GrayImage[] {
  const hw = height * width;
  const stats = each ? undefined : minMax(data);
  const out: GrayImage[] = [];
  for (let p = 0; p < count; p++) {
    const img = data.slice(p * hw, (p + 1) * hw);
    normalizeRange(img, 0, hw, how, stats);
    out.push({ width, height, data: img });
  }
  return out;
}

export interface FilterImageOptions {
  /** The conv layer: its index in model.layers or the layer itself (default: the first conv2d, containers included). */
  layer?: number | Layer;
  /** 'minmax' (default), 'symmetric' or 'max'. */
  normalize?: Normalize;
  /** One scale for all filters (default true, so filters compare) or one per filter. */
  shared?: boolean;
}

/**
 * A conv layer's filters as grayscale images, one per output channel: KW × KH for one input channel; with several
 * input channels the per-channel kernels sit side by side (width Cin·KW). Weights are read, not changed.
 */
export function filterImages(model: Sequential, opts?: FilterImageOptions): GrayImage[] {
  const where = 'filterImages';
  const o = checkKeys(where, opts, ['layer', 'normalize', 'shared']) as FilterImageOptions;
  if (!model.built) throw new Error(`${where}: the model is not built yet: pass inputShape to nn.sequential or run it once`);
  let layer: Layer | undefined;
  if (o.layer === undefined) {
    layer = walkLayers(model.layers).map(([, l]) => l).find((l) => l.type === 'conv2d');   // also inside containers
    if (!layer) throw new Error(`${where}: the model has no conv2d layer`);
  } else if (typeof o.layer === 'number') {
    layer = model.layers[o.layer];
    if (!layer) throw new Error(`${where}: layer ${o.layer} is out of range [0, ${model.layers.length})`);
  } else {
    layer = o.layer;
  }
  // (a container renames its children's parameters to their paths: 'body.0.weight')
  const w = layer?.params?.find((p) => (p.name === 'weight' || p.name.endsWith('.weight')) && p.value.rank === 4);
  if (!w || w.value.rank !== 4) throw new Error(`${where}: ${layer?.label ?? fmt(o.layer)} has no 4-D conv weight`);
  const how = checkNormalize(where, o.normalize, 'minmax');
  const [Co, Ci, KH, KW] = w.value.shape;
  const v = w.value.read() as Float32Array;
  // Rearrange [Co, Ci, KH, KW] → per filter a KH × (Ci·KW) image.
  const W = Ci * KW, plane = KH * W;
  const flat = new Float32Array(Co * plane);
  for (let o2 = 0; o2 < Co; o2++) {
    for (let c = 0; c < Ci; c++) {
      for (let y = 0; y < KH; y++) {
        for (let x = 0; x < KW; x++) flat[o2 * plane + y * W + c * KW + x] = v[((o2 * Ci + c) * KH + y) * KW + x];
      }
    }
  }
  return planes(flat, Co, KH, W, how, o.shared === false);
}

export interface MapImageOptions {
  /** Which sample of the batch (default 0). */
  sample?: number;
  /** 'minmax' (default), 'symmetric' or 'max'. */
  normalize?: Normalize;
  /** One scale for all channels (default false: each map uses its own range, to show its pattern). */
  shared?: boolean;
}

/** Feature maps: one grayscale image per channel of one sample of an activation [N, C, H, W] (e.g. from activations()). */
export function featureMapImages(act: Tensor, opts?: MapImageOptions): GrayImage[] {
  const where = 'featureMapImages';
  const o = checkKeys(where, opts, ['sample', 'normalize', 'shared']) as MapImageOptions;
  if (!(act instanceof Tensor) || act.rank !== 4 || act.dtype !== 'float32') {
    throw new Error(`${where}: the activation must be a float32 Tensor [N, C, H, W], got ${act instanceof Tensor ? `${act.dtype} ${shapeStr(act.shape)}` : fmt(act)}`);
  }
  const [N, C, H, W] = act.shape;
  const s = o.sample ?? 0;
  if (!Number.isInteger(s) || s < 0 || s >= N) throw new Error(`${where}: sample must be an integer in [0, ${N}), got ${fmt(s)}`);
  const data = (act.read() as Float32Array).slice(s * C * H * W, (s + 1) * C * H * W);
  return planes(data, C, H, W, checkNormalize(where, o.normalize, 'minmax'), !o.shared);
}

/**
 * Saliency images: one per sample of an input gradient [N, C, H, W] (max over channels of |grad|, scaled so each
 * image's largest value is 1), or of a saliency tensor [N, H, W] from nn.inspect.saliency.
 */
export function saliencyImages(grad: Tensor): GrayImage[] {
  const where = 'saliencyImages';
  if (!(grad instanceof Tensor) || (grad.rank !== 4 && grad.rank !== 3) || grad.dtype !== 'float32') {
    throw new Error(`${where}: grad must be a float32 Tensor [N, C, H, W] or [N, H, W], got ${grad instanceof Tensor ? `${grad.dtype} ${shapeStr(grad.shape)}` : fmt(grad)}`);
  }
  const [N, C, H, W] = grad.rank === 4 ? grad.shape : [grad.shape[0], 1, grad.shape[1], grad.shape[2]];
  const g = grad.read() as Float32Array, hw = H * W;
  const out = new Float32Array(N * hw);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      for (let p = 0; p < hw; p++) out[n * hw + p] = Math.max(out[n * hw + p], Math.abs(g[(n * C + c) * hw + p]));
    }
  }
  return planes(out, N, H, W, 'max', true);
}

/** One image [C = 1, H, W] or [H, W] from host values, normalised (default 'minmax'). */
export function toGray(values: ArrayLike<number>, width: number, height: number, normalize: Normalize = 'minmax'): GrayImage {
  const where = 'toGray';
  if (!Number.isInteger(width) || width <= 0 || !Number.isInteger(height) || height <= 0) throw new Error(`${where}: width and height must be positive integers, got ${fmt(width)} × ${fmt(height)}`);
  if (!values || values.length !== width * height) throw new Error(`${where}: values must have width·height = ${width * height} entries, got ${values?.length}`);
  const data = Float32Array.from(values);
  normalizeRange(data, 0, data.length, checkNormalize(where, normalize, 'minmax'));
  return { width, height, data };
}

export interface GridOptions {
  /** Images per row (default ⌈√count⌉). */
  cols?: number;
  /** Pixels between images and around the grid (default 1). */
  pad?: number;
  /** Each image pixel becomes scale × scale pixels (nearest neighbour; default 1). */
  scale?: number;
  /** Value of the padding, in [0, 1] (default 1: white). */
  background?: number;
}

/** Tiles grayscale images (of one size) into one: a filter bank, a row of feature maps. */
export function grid(images: GrayImage[], opts?: GridOptions): GrayImage {
  const where = 'grid';
  const o = checkKeys(where, opts, ['cols', 'pad', 'scale', 'background']) as GridOptions;
  if (!Array.isArray(images) || images.length === 0) throw new Error(`${where}: images must be a non-empty array of images, got ${fmt(images)}`);
  const { width: w, height: h } = images[0];
  images.forEach((im, i) => {
    if (!im || im.width !== w || im.height !== h || !(im.data instanceof Float32Array) || im.data.length !== w * h) {
      throw new Error(`${where}: images[${i}] must be a ${w}×${h} grayscale image like images[0], got ${im ? `${im.width}×${im.height}` : fmt(im)}`);
    }
  });
  const int = (name: string, v: unknown, dflt: number, min: number) => {
    if (v === undefined) return dflt;
    if (!Number.isInteger(v) || (v as number) < min) throw new Error(`${where}: ${name} must be an integer ≥ ${min}, got ${fmt(v)}`);
    return v as number;
  };
  const cols = int('cols', o.cols, Math.ceil(Math.sqrt(images.length)), 1);
  const pad = int('pad', o.pad, 1, 0), scale = int('scale', o.scale, 1, 1);
  const bg = o.background ?? 1;
  if (typeof bg !== 'number' || !(bg >= 0 && bg <= 1)) throw new Error(`${where}: background must be in [0, 1], got ${fmt(bg)}`);
  const rows = Math.ceil(images.length / cols);
  const cw = w * scale, ch = h * scale;
  const W = cols * cw + (cols + 1) * pad, H = rows * ch + (rows + 1) * pad;
  const data = new Float32Array(W * H).fill(bg);
  images.forEach((im, k) => {
    const ox = pad + (k % cols) * (cw + pad), oy = pad + Math.floor(k / cols) * (ch + pad);
    for (let y = 0; y < ch; y++) {
      for (let x = 0; x < cw; x++) data[(oy + y) * W + ox + x] = im.data[Math.floor(y / scale) * w + Math.floor(x / scale)];
    }
  });
  return { width: W, height: H, data };
}

/** Colour maps for toRGBA: gray, or 'hot' (black → red → yellow → white; for saliency). */
export type Colormap = 'gray' | 'hot';

/** A grayscale image as RGBA bytes (ImageData's layout), through a colour map (default 'gray'). */
export function toRGBA(img: GrayImage, colormap: Colormap = 'gray'): RGBAImage {
  const where = 'toRGBA';
  if (!img || !(img.data instanceof Float32Array) || img.data.length !== img.width * img.height) throw new Error(`${where}: img must be a grayscale image { width, height, data: Float32Array }, got ${fmt(img)}`);
  if (colormap !== 'gray' && colormap !== 'hot') throw new Error(`${where}: colormap must be 'gray' or 'hot', got ${fmt(colormap)}`);
  const n = img.width * img.height, out = new Uint8ClampedArray(n * 4);
  for (let i = 0; i < n; i++) {
    const v = Math.min(1, Math.max(0, img.data[i] || 0));
    if (colormap === 'gray') {
      out[4 * i] = out[4 * i + 1] = out[4 * i + 2] = Math.round(v * 255);
    } else {
      out[4 * i] = Math.round(255 * Math.min(1, 3 * v));
      out[4 * i + 1] = Math.round(255 * Math.min(1, Math.max(0, 3 * v - 1)));
      out[4 * i + 2] = Math.round(255 * Math.min(1, Math.max(0, 3 * v - 2)));
    }
    out[4 * i + 3] = 255;
  }
  return { width: img.width, height: img.height, data: out };
}

/** Places RGBA images side by side (same height; pad pixels of white between them). */
export function hstack(images: RGBAImage[], pad = 4): RGBAImage {
  const where = 'hstack';
  if (!Array.isArray(images) || images.length === 0) throw new Error(`${where}: images must be a non-empty array of RGBA images`);
  const H = Math.max(...images.map((im) => im.height));
  const W = images.reduce((a, im) => a + im.width, 0) + pad * (images.length - 1);
  const data = new Uint8ClampedArray(W * H * 4).fill(255);
  let ox = 0;
  for (const im of images) {
    for (let y = 0; y < im.height; y++) data.set(im.data.subarray(y * im.width * 4, (y + 1) * im.width * 4), (y * W + ox) * 4);
    ox += im.width + pad;
  }
  return { width: W, height: H, data };
}
