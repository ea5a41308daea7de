// Line plots drawn straight into RGBA pixels (no fonts, no canvas): axes with tick marks, light grid lines, one
// polyline per series in a solid colour, and a legend box with one colour swatch per series (top right, in series
// order). Enough for training curves (train vs validation loss / accuracy: the overfitting picture) in Node and in
// browsers; the caller says in a caption or file name what the colours are.
import { fmt } from '../layers/layer.js';
import type { RGBAImage } from './images.js';

export type RGB = [number, number, number];

export interface Series {
  values: ArrayLike<number>;
  /** Default: a palette (blue, orange, green, red, purple). */
  color?: RGB;
  /** Label (kept for the caller's caption; nothing is drawn as text). */
  label?: string;
}

export interface LinePlotOptions {
  width?: number;
  height?: number;
  /** y axis range (default: the data's min and max, padded by 5 %). */
  yRange?: [number, number];
  /** Number of horizontal grid lines (default 4). */
  yTicks?: number;
}

export const PALETTE: RGB[] = [[31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40], [148, 103, 189]];

/** A line plot of the series (x = index 0, 1, …) as an RGBA image. */
export function linePlot(series: Series[], opts: LinePlotOptions = {}): RGBAImage {
  const where = 'linePlot';
  if (!Array.isArray(series) || series.length === 0) throw new Error(`${where}: series must be a non-empty array of { values, color? }, got ${fmt(series)}`);
  series.forEach((s, i) => {
    if (!s || !s.values || typeof s.values.length !== 'number') throw new Error(`${where}: series[${i}] must be { values: number[], color? }, got ${fmt(s)}`);
  });
  const W = opts.width ?? 480, H = opts.height ?? 320;
  if (!Number.isInteger(W) || W < 64 || !Number.isInteger(H) || H < 64) throw new Error(`${where}: width and height must be integers ≥ 64, got ${fmt(W)} × ${fmt(H)}`);
  const data = new Uint8ClampedArray(W * H * 4).fill(255);
  const put = (x: number, y: number, c: RGB) => {
    x = Math.round(x); y = Math.round(y);
    if (x < 0 || y < 0 || x >= W || y >= H) return;
    const i = (y * W + x) * 4;
    data[i] = c[0]; data[i + 1] = c[1]; data[i + 2] = c[2]; data[i + 3] = 255;
  };
  const rect = (x0: number, y0: number, x1: number, y1: number, c: RGB) => { for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) put(x, y, c); };
  const line = (x0: number, y0: number, x1: number, y1: number, c: RGB, thick = 1) => {
    const n = Math.max(1, Math.ceil(Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0)) * 2));
    const r = Math.floor(thick / 2);
    for (let k = 0; k <= n; k++) {
      const x = x0 + (x1 - x0) * k / n, y = y0 + (y1 - y0) * k / n;
      for (let dy = -r; dy <= r; dy++) for (let dx = -r; dx <= r; dx++) put(x + dx, y + dy, c);
    }
  };
  const finite = series.flatMap((s) => Array.from(s.values).filter(Number.isFinite));
  let [lo, hi] = opts.yRange ?? [Math.min(...finite), Math.max(...finite)];
  if (!finite.length) { lo = 0; hi = 1; }
  if (!(hi > lo)) { const m = Number.isFinite(lo) ? lo : 0; lo = m - 0.5; hi = m + 0.5; }
  if (!opts.yRange) { const p = 0.05 * (hi - lo); lo -= p; hi += p; }
  const L = 40, R = W - 16, T = 16, B = H - 32;   // plot area
  const n = Math.max(...series.map((s) => s.values.length));
  const px = (i: number) => L + (n > 1 ? (R - L) * i / (n - 1) : (R - L) / 2);
  const py = (v: number) => B - (B - T) * (v - lo) / (hi - lo);
  const gridC: RGB = [225, 225, 225], axisC: RGB = [0, 0, 0];
  const ticks = opts.yTicks ?? 4;
  for (let k = 0; k <= ticks; k++) {
    const y = T + (B - T) * k / ticks;
    line(L, y, R, y, gridC);
    line(L - 5, y, L, y, axisC);
  }
  for (let i = 0; i < n; i++) { line(px(i), B, px(i), B + 5, axisC); if (i > 0) line(px(i), T, px(i), B, gridC); }
  line(L, T, L, B, axisC, 2);
  line(L, B, R, B, axisC, 2);
  series.forEach((s, k) => {
    const c = s.color ?? PALETTE[k % PALETTE.length];
    const v = Array.from(s.values);
    for (let i = 0; i < v.length; i++) {
      if (!Number.isFinite(v[i])) continue;
      if (i + 1 < v.length && Number.isFinite(v[i + 1])) line(px(i), py(v[i]), px(i + 1), py(v[i + 1]), c, 3);
      rect(Math.round(px(i)) - 3, Math.round(py(v[i])) - 3, Math.round(px(i)) + 3, Math.round(py(v[i])) + 3, c);
    }
  });
  // Legend: a framed box, one swatch per series, top right.
  const sw = 18, gap = 6, bw = sw + 2 * gap, bh = series.length * (sw + gap) + gap;
  const bx = R - bw - 4, by = T + 4;
  rect(bx, by, bx + bw, by + bh, [255, 255, 255]);
  line(bx, by, bx + bw, by, axisC); line(bx, by + bh, bx + bw, by + bh, axisC);
  line(bx, by, bx, by + bh, axisC); line(bx + bw, by, bx + bw, by + bh, axisC);
  series.forEach((s, k) => {
    const y0 = by + gap + k * (sw + gap);
    rect(bx + gap, y0, bx + gap + sw - 1, y0 + sw - 1, s.color ?? PALETTE[k % PALETTE.length]);
  });
  return { width: W, height: H, data };
}
