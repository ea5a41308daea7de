// The Winograd F(2×2, 3×3) forward (assembly/winograd.ts), which conv2d takes for 3×3 stride-1 undilated ungrouped
// zero-padded convolutions with ≥ 8 input and output channels: against the float64 reference on shapes that reach
// every path (odd output sizes, tile rows that are not a multiple of four tiles, outputs narrower than eight, batches of
// tiles spanning images, more input channels than one K slice), checking that the Winograd kernel ran; the other
// convolutions keep the direct GEMM.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as R from './reference.mjs';
import { getEngine, checkNoLeak, assertClose, disposeAll, rng, spyKernels } from './helpers.mjs';

function run(nn, rand, xs, ws, opts, bias) {
  const xd = Float64Array.from({ length: R.prod(xs) }, () => rand() * 2 - 1);
  const wd = Float64Array.from({ length: R.prod(ws) }, () => rand() * 2 - 1);
  const bd = Float64Array.from({ length: ws[0] }, () => rand() - 0.5);
  const want = R.conv2d(R.T(xd, xs), R.T(wd, ws), bias ? R.T(bd, [ws[0]]) : null, opts);
  const x = nn.tensor(xd, xs), w = nn.tensor(wd, ws), b = bias ? nn.tensor(bd, [ws[0]]) : null;
  const y = nn.ops.conv2d(x, w, b, opts);
  try {
    assert.equal(y.shape, want.shape, `x [${xs}] w [${ws}] ${JSON.stringify(opts)}: shape`);
    assertClose(y.read(), want.data, `x [${xs}] w [${ws}] ${JSON.stringify(opts)}${bias ? ' + bias' : ''}`);
  } finally {
    disposeAll([x, w, b, y]);
  }
}

test('Winograd F(2×2, 3×3) forward equals the float64 reference (1e-4 rule) on every path', async () => {
  const nn = await getEngine();
  const rand = rng(21);
  const cases = [
    { x: [2, 8, 9, 11], w: [9, 8, 3, 3], opts: { padding: 1 } },              // odd sizes, Cout not a multiple of MR
    { x: [1, 16, 4, 4], w: [8, 16, 3, 3], opts: { padding: 1 } },             // the smallest output taken
    { x: [3, 12, 10, 21], w: [16, 12, 3, 3], opts: {} },                      // unpadded: 8 × 19 outputs
    { x: [1, 8, 13, 37], w: [8, 8, 3, 3], opts: { padding: 'same' } },        // 19 tiles a row: vector groups + rest
    { x: [1, 8, 10, 30], w: [12, 8, 3, 3], opts: { padding: [0, 2, 1, 0] } }, // uneven padding
    { x: [2, 300, 6, 6], w: [10, 300, 3, 3], opts: { padding: 1 } },          // Cin > one 256-deep K slice
    { x: [40, 8, 6, 6], w: [8, 8, 3, 3], opts: { padding: 1 } },              // tile batches spanning images
    { x: [1, 32, 17, 64], w: [24, 32, 3, 3], opts: { padding: 1 } },          // several batches of one image
  ];
  await checkNoLeak(nn, () => {
    const s = spyKernels(nn);
    try {
      for (const [i, c] of cases.entries()) {
        s.seen.clear();
        run(nn, rand, c.x, c.w, c.opts, i % 2 === 0);
        assert.ok(s.seen.has('conv2d_winograd'), `x [${c.x}] w [${c.w}]: the Winograd kernel ran (ran ${[...s.seen]})`);
      }
    } finally {
      s.restore();
    }
  });
});

/** dx[n, c, ih, iw] = Σ dy[n, o, oh, ow]·w[o, c, kh, kw] over ih = oh − PT + kh, iw = ow − PL + kw, in float64. */
function referenceDx(dy, [N, Cout, OH, OW], w, [, Cin], [H, W], PT, PL) {
  const dx = new Float64Array(N * Cin * H * W);
  for (let n = 0; n < N; n++) for (let o = 0; o < Cout; o++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
    const g = dy[((n * Cout + o) * OH + oh) * OW + ow];
    for (let c = 0; c < Cin; c++) for (let kh = 0; kh < 3; kh++) for (let kw = 0; kw < 3; kw++) {
      const ih = oh - PT + kh, iw = ow - PL + kw;
      if (ih >= 0 && ih < H && iw >= 0 && iw < W) dx[((n * Cin + c) * H + ih) * W + iw] += g * w[((o * Cin + c) * 3 + kh) * 3 + kw];
    }
  }
  return dx;
}

/** dw[o, c, kh, kw] = Σ dy[n, o, oh, ow]·x[n, c, oh − PT + kh, ow − PL + kw] (zero outside x), in float64. */
function referenceDw(dy, [N, Cout, OH, OW], x, [, Cin, H, W], PT, PL) {
  const dw = new Float64Array(Cout * Cin * 9);
  for (let n = 0; n < N; n++) for (let o = 0; o < Cout; o++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
    const g = dy[((n * Cout + o) * OH + oh) * OW + ow];
    for (let c = 0; c < Cin; c++) for (let kh = 0; kh < 3; kh++) for (let kw = 0; kw < 3; kw++) {
      const ih = oh - PT + kh, iw = ow - PL + kw;
      if (ih >= 0 && ih < H && iw >= 0 && iw < W) dw[((o * Cin + c) * 3 + kh) * 3 + kw] += g * x[((n * Cin + c) * H + ih) * W + iw];
    }
  }
  return dw;
}

/**
 * conv2dBackward on each case (random x, w, dy) against the float64 reference of the gradient asked for ('dx' or 'dw'),
 * checking that it went through the Winograd kernel named.
 */
async function checkBackward(nn, rand, cases, grad, kernel) {
  await checkNoLeak(nn, () => {
    const s = spyKernels(nn);
    try {
      for (const c of cases) {
        const [PT, PB, PL, PR] = c.pad;
        const OH = c.x[2] + PT + PB - 2, OW = c.x[3] + PL + PR - 2;
        const dyShape = [c.x[0], c.w[0], OH, OW];
        const xd = Float64Array.from({ length: R.prod(c.x) }, () => rand() * 2 - 1);
        const wd = Float64Array.from({ length: R.prod(c.w) }, () => rand() * 2 - 1);
        const dyd = Float64Array.from({ length: R.prod(dyShape) }, () => rand() * 2 - 1);
        const x = nn.tensor(xd, c.x), w = nn.tensor(wd, c.w), dy = nn.tensor(dyd, dyShape);
        s.seen.clear();
        const flags = grad === 'dx' ? { weight: false, bias: false } : { input: false, bias: false };
        const g = nn.ops.conv2dBackward(dy, x, w, { padding: c.pad }, flags);
        try {
          const want = grad === 'dx' ? referenceDx(R.f32(dyd), dyShape, R.f32(wd), c.w, c.x.slice(2), PT, PL)
            : referenceDw(R.f32(dyd), dyShape, R.f32(xd), c.x, PT, PL);
          assertClose(g[grad].read(), want, `${grad} x [${c.x}] w [${c.w}] padding [${c.pad}]`);
          assert.ok(s.seen.has(kernel), `x [${c.x}] w [${c.w}]: ${grad} through ${kernel}`);
        } finally {
          disposeAll([x, w, dy, g[grad]]);
        }
      }
    } finally {
      s.restore();
    }
  });
}

test('backward data through Winograd (the 180°-turned, transposed filters) equals the float64 reference', async () => {
  const nn = await getEngine();
  const rand = rng(23);
  const cases = [
    { x: [2, 8, 9, 11], w: [9, 8, 3, 3], pad: [1, 1, 1, 1] },
    { x: [3, 12, 10, 21], w: [16, 12, 3, 3], pad: [0, 0, 0, 0] },
    { x: [1, 8, 10, 30], w: [12, 8, 3, 3], pad: [0, 2, 1, 0] },
    { x: [1, 10, 7, 5], w: [300, 10, 3, 3], pad: [2, 2, 2, 2] },            // Cout > one K slice; padding 2
  ];
  await checkBackward(nn, rand, cases, 'dx', 'conv2d_winograd');
});

test('backward filter through Winograd F(3×3, 2×2) equals the float64 reference', async () => {
  const nn = await getEngine();
  const rand = rng(24);
  const cases = [
    { x: [2, 8, 9, 11], w: [9, 8, 3, 3], pad: [1, 1, 1, 1] },               // odd sizes: partial 2×2 dy tiles
    { x: [3, 12, 10, 21], w: [16, 12, 3, 3], pad: [0, 0, 0, 0] },
    { x: [1, 8, 10, 30], w: [12, 8, 3, 3], pad: [0, 2, 1, 0] },
    { x: [40, 8, 6, 6], w: [8, 8, 3, 3], pad: [1, 1, 1, 1] },               // many tile batches, images spanned
    { x: [1, 300, 6, 5], w: [10, 300, 3, 3], pad: [3, 1, 0, 2] },           // Cin > one K slice; padding 3
    { x: [1, 9, 13, 7], w: [11, 9, 3, 3], pad: [1, 1, 1, 1] },              // 99 (o, c) pairs: the finish's odd tail
  ];
  await checkBackward(nn, rand, cases, 'dw', 'conv2d_winograd_filter');
});

test('convolutions Winograd does not take keep the direct GEMM', async () => {
  const nn = await getEngine();
  const rand = rng(22);
  const cases = [
    { x: [1, 4, 9, 9], w: [8, 4, 3, 3], opts: { padding: 1 } },                              // Cin < 8
    { x: [1, 8, 9, 9], w: [8, 8, 3, 3], opts: { padding: 1, stride: 2 } },                   // strided
    { x: [1, 8, 9, 9], w: [8, 8, 3, 3], opts: { padding: 2, dilation: 2 } },                 // dilated
    { x: [1, 8, 9, 9], w: [8, 8, 3, 3], opts: { padding: 1, paddingMode: 'reflect' } },      // not zero padding
    { x: [1, 16, 9, 9], w: [16, 8, 3, 3], opts: { padding: 1, groups: 2 } },                 // grouped
    { x: [1, 8, 4, 3], w: [8, 8, 3, 3], opts: {} },                                          // output under 4 wide
  ];
  await checkNoLeak(nn, () => {
    const s = spyKernels(nn);
    try {
      for (const c of cases) {
        s.seen.clear();
        run(nn, rand, c.x, c.w, c.opts, true);
        assert.not.ok(s.seen.has('conv2d_winograd'), `x [${c.x}] ${JSON.stringify(c.opts)}: direct GEMM`);
      }
    } finally {
      s.restore();
    }
  });
});

test.run();
