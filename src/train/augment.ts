// Data augmentation: seeded per-sample transforms over a host batch [N, C, H, W] (float32, row-major), applied
// by fit() to training batches only. Compose them with augment.compose(t1, t2, ...). Each transform draws from
// the generator fit passes in (seeded by fit's seed), so a seeded run is reproducible.
import type { Rng } from '../layers/rng.js';

export interface Transform {
  (batch: Float32Array, shape: readonly [number, number, number, number], rng: Rng): void;
  /** A short description (for logs). */
  readonly description: string;
}

function make(description: string, fn: (batch: Float32Array, shape: readonly [number, number, number, number], rng: Rng) => void): Transform {
  return Object.assign(fn, { description }) as Transform;
}

function nonNeg(where: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new Error(`${where}: ${name} must be a non-negative number, got ${String(v)}`);
  return v;
}

function prob(where: string, v: unknown): number {
  if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new Error(`${where}: p must be in [0, 1], got ${String(v)}`);
  return v;
}

/** Translates one plane by (dy, dx) pixels, filling uncovered pixels with `fill`. */
function shiftPlane(src: Float32Array, dst: Float32Array, H: number, W: number, dy: number, dx: number, fill: number): void {
  for (let y = 0; y < H; y++) {
    const sy = y - dy;
    for (let x = 0; x < W; x++) {
      const sx = x - dx;
      dst[y * W + x] = sy >= 0 && sy < H && sx >= 0 && sx < W ? src[sy * W + sx] : fill;
    }
  }
}

/** Random integer translations of up to ±max pixels (a number or [maxY, maxX]); the same shift for every channel of a sample. */
export function randomShift(opts: { max: number | [number, number]; fill?: number }): Transform {
  const where = 'augment.randomShift';
  const m = opts?.max;
  const [my, mx] = Array.isArray(m) ? m : [m, m];
  for (const v of [my, mx]) if (!Number.isInteger(v) || v < 0) throw new Error(`${where}: max must be a non-negative integer or a pair, got ${JSON.stringify(m)}`);
  const fill = opts.fill ?? 0;
  return make(`randomShift(±${my}, ±${mx})`, (batch, [N, C, H, W], rng) => {
    const plane = H * W, tmp = new Float32Array(plane);
    for (let n = 0; n < N; n++) {
      const dy = rng.int(2 * my + 1) - my, dx = rng.int(2 * mx + 1) - mx;
      if (dy === 0 && dx === 0) continue;
      for (let c = 0; c < C; c++) {
        const view = batch.subarray((n * C + c) * plane, (n * C + c + 1) * plane);
        shiftPlane(view, tmp, H, W, dy, dx, fill);
        view.set(tmp);
      }
    }
  });
}

/**
 * torchvision's RandomCrop(size = input size, padding): pad by `padding` (filled with `fill`) and crop a random
 * H×W window, i.e. a random shift of up to ±padding pixels.
 */
export function randomCrop(opts: { padding: number; fill?: number }): Transform {
  const p = opts?.padding;
  if (!Number.isInteger(p) || p < 0) throw new Error(`augment.randomCrop: padding must be a non-negative integer, got ${String(p)}`);
  const t = randomShift({ max: p, fill: opts.fill });
  return make(`randomCrop(padding ${p})`, t);
}

/** Mirrors samples horizontally (and/or vertically) with probability p each. */
export function randomFlip(opts: { horizontal?: boolean; vertical?: boolean; p?: number } = {}): Transform {
  const horizontal = opts.horizontal ?? true, vertical = opts.vertical ?? false;
  const p = prob('augment.randomFlip', opts.p ?? 0.5);
  return make(`randomFlip(${[horizontal && 'horizontal', vertical && 'vertical'].filter(Boolean).join(', ')}, p ${p})`, (batch, [N, C, H, W], rng) => {
    const plane = H * W;
    for (let n = 0; n < N; n++) {
      const fh = horizontal && rng.next() < p, fv = vertical && rng.next() < p;
      if (!fh && !fv) continue;
      for (let c = 0; c < C; c++) {
        const v = batch.subarray((n * C + c) * plane, (n * C + c + 1) * plane);
        if (fh) for (let y = 0; y < H; y++) { const r = y * W; for (let x = 0; x < W >> 1; x++) { const t = v[r + x]; v[r + x] = v[r + W - 1 - x]; v[r + W - 1 - x] = t; } }
        if (fv) for (let y = 0; y < H >> 1; y++) for (let x = 0; x < W; x++) { const a = y * W + x, b = (H - 1 - y) * W + x; const t = v[a]; v[a] = v[b]; v[b] = t; }
      }
    }
  });
}

/** Rotates each sample by a random angle in [−degrees, degrees] about its centre (bilinear, `fill` outside). */
export function randomRotation(opts: { degrees: number; fill?: number }): Transform {
  const deg = nonNeg('augment.randomRotation', 'degrees', opts?.degrees);
  const fill = opts.fill ?? 0;
  return make(`randomRotation(±${deg}°)`, (batch, [N, C, H, W], rng) => {
    const plane = H * W, tmp = new Float32Array(plane);
    const cy = (H - 1) / 2, cx = (W - 1) / 2;
    for (let n = 0; n < N; n++) {
      const a = (rng.uniform(-deg, deg) * Math.PI) / 180;
      if (a === 0) continue;
      const cos = Math.cos(a), sin = Math.sin(a);
      for (let c = 0; c < C; c++) {
        const v = batch.subarray((n * C + c) * plane, (n * C + c + 1) * plane);
        for (let y = 0; y < H; y++) {
          for (let x = 0; x < W; x++) {
            // Inverse map: the source point that lands on (y, x).
            const sx = cos * (x - cx) + sin * (y - cy) + cx;
            const sy = -sin * (x - cx) + cos * (y - cy) + cy;
            const x0 = Math.floor(sx), y0 = Math.floor(sy), fx = sx - x0, fy = sy - y0;
            const at = (yy: number, xx: number) => (yy >= 0 && yy < H && xx >= 0 && xx < W ? v[yy * W + xx] : fill);
            tmp[y * W + x] = (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x0 + 1)) + fy * ((1 - fx) * at(y0 + 1, x0) + fx * at(y0 + 1, x0 + 1));
          }
        }
        v.set(tmp);
      }
    }
  });
}

/** Adds Gaussian noise of standard deviation std. */
export function gaussianNoise(opts: { std: number }): Transform {
  const std = nonNeg('augment.gaussianNoise', 'std', opts?.std);
  return make(`gaussianNoise(${std})`, (batch, _shape, rng) => {
    for (let i = 0; i < batch.length; i++) batch[i] += rng.normal(0, std);
  });
}

/** Applies transforms in order. */
export function compose(...transforms: Transform[]): Transform {
  const list = transforms.flat() as Transform[];
  list.forEach((t, i) => { if (typeof t !== 'function') throw new Error(`augment.compose: argument ${i} must be a transform, got ${String(t)}`); });
  return make(list.map((t) => t.description ?? 'custom').join(' → '), (batch, shape, rng) => {
    for (const t of list) t(batch, shape, rng);
  });
}

export const augment = { compose, randomShift, randomCrop, randomFlip, randomRotation, gaussianNoise };
