// The specialised SIMD paths (2×2/2 max-pool, interior vector loops of pooling, the padded-plane and
// register-resident 3×3 depthwise kernels, implicit-im2col panels that cross output rows) on shapes wide
// enough to reach them, with ties, NaN and −inf, against the float64 reference.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as R from './reference.mjs';
import { getEngine, checkNoLeak, assertClose, disposeAll, rng } from './helpers.mjs';

/** Integer-valued data (many exact ties) with some NaN and −inf sprinkled in when `special`. */
function data(rand, n, special) {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    a[i] = Math.floor(rand() * 7) - 3;
    if (special && rand() < 0.02) a[i] = NaN;
    else if (special && rand() < 0.03) a[i] = -Infinity;
  }
  return a;
}

const poolCases = [
  { shape: [2, 3, 9, 37], opts: { kernel: 2 } },
  { shape: [2, 3, 6, 24], opts: { kernel: 2 } },   // whole planes: the flat 2×2 loops
  { shape: [1, 2, 8, 40], opts: { kernel: 2, padding: 1 } },
  { shape: [1, 2, 11, 35], opts: { kernel: 2, ceilMode: true } },
  { shape: [1, 2, 10, 41], opts: { kernel: 3, stride: 2, padding: 1 } },
  { shape: [1, 2, 7, 30], opts: { kernel: 3, stride: 1, padding: 1 } },
  { shape: [1, 1, 9, 44], opts: { kernel: [2, 3], stride: [1, 3], dilation: [1, 2] } },
];

test('maxPool2d: SIMD paths (2×2/2 and interior) with ties, NaN and −inf', async () => {
  const nn = await getEngine();
  const rand = rng(7);
  await checkNoLeak(nn, () => {
    for (const { shape, opts } of poolCases) {
      for (const special of [false, true]) {
        const xd = data(rand, R.prod(shape), special);
        const want = R.maxPool2d(R.T(xd, shape), opts);
        const x = nn.tensor(xd, shape);
        const got = nn.ops.maxPool2d(x, opts);
        const values = nn.ops.maxPool2dValues(x, opts);
        try {
          const name = `maxPool2d ${JSON.stringify(opts)} x [${shape}]${special ? ' special' : ''}`;
          assertClose(got.y.read(), want.y.data, `${name}: y`);
          assert.equal([...got.indices.read()], [...want.indices.data], `${name}: indices`);
          assertClose(values.read(), want.y.data, `${name}: maxPool2dValues`);
        } finally {
          disposeAll([x, got, values]);
        }
      }
    }
  });
});

test('avgPool2d forward and backward: SIMD interior paths', async () => {
  const nn = await getEngine();
  const rand = rng(8);
  await checkNoLeak(nn, () => {
    for (const { shape, opts } of poolCases.filter((c) => !c.opts.dilation)) {
      for (const countIncludePad of [true, false]) {
        const o = { ...opts, countIncludePad };
        const xd = data(rand, R.prod(shape), false);
        const x = nn.tensor(xd, shape);
        const y = nn.ops.avgPool2d(x, o);
        const dyd = Float64Array.from({ length: y.size }, () => rand() - 0.5);
        const dy = nn.tensor(dyd, y.shape);
        const dx = nn.ops.avgPool2dBackward(dy, shape, o);
        try {
          const name = `avgPool2d ${JSON.stringify(o)} x [${shape}]`;
          assertClose(y.read(), R.avgPool2d(R.T(xd, shape), o).data, `${name}: y`);
          // avg-pool is linear: dx_i = Σ_j dy_j ∂y_j/∂x_i, read off the reference column by column.
          const want = new Float64Array(xd.length);
          for (let i = 0; i < xd.length; i++) {
            const e = new Float64Array(xd.length);
            e[i] = 1;
            const col = R.avgPool2d(R.T(e, shape), o).data;
            let s = 0;
            for (let j = 0; j < col.length; j++) s += col[j] * dyd[j];
            want[i] = s;
          }
          assertClose(dx.read(), want, `${name}: dx`);
        } finally {
          disposeAll([x, y, dy, dx]);
        }
      }
    }
  });
});

test('depthwise and row-crossing conv2d paths against the reference', async () => {
  const nn = await getEngine();
  const rand = rng(9);
  const cases = [
    { x: [2, 4, 12, 40], w: [4, 1, 3, 3], opts: { padding: 1, groups: 4 } },          // 3×3/1 register path
    { x: [1, 3, 13, 37], w: [6, 1, 3, 3], opts: { padding: 1, groups: 3 } },          // multiplier 2
    { x: [1, 4, 15, 33], w: [4, 1, 3, 3], opts: { stride: 2, padding: 1, groups: 4 } },
    { x: [1, 4, 10, 30], w: [4, 1, 5, 5], opts: { padding: 2, dilation: 1, groups: 4 } },
    { x: [1, 4, 10, 30], w: [4, 1, 3, 3], opts: { padding: [0, 2, 1, 0], groups: 4 } },
    { x: [1, 4, 12, 30], w: [4, 1, 3, 3], opts: { groups: 4 } },                      // unpadded
    { x: [3, 2, 9, 14], w: [5, 2, 3, 3], opts: { padding: 1 } },                      // 8-column panels cross rows
    { x: [2, 3, 10, 28], w: [4, 3, 3, 3], opts: { stride: 2, padding: 1 } },
    { x: [2, 1, 28, 28], w: [16, 1, 3, 3], opts: { padding: 1 } },                    // few taps: direct (SIMD)
    // Direct (few taps, SIMD builds): 8- and 4-column blocks, scalar leftovers, 1–3 channels past a block of 4.
    { x: [2, 3, 10, 13], w: [6, 3, 3, 3], opts: { padding: 1 } },
    { x: [2, 1, 9, 11], w: [5, 1, 5, 5], opts: { padding: 2, stride: [2, 1] } },
    { x: [1, 2, 12, 21], w: [3, 2, 2, 3], opts: { padding: 1, dilation: [2, 1], paddingMode: 'reflect' } },
    { x: [1, 1, 20, 20], w: [12, 1, 3, 3], opts: { padding: 1 } },                    // one image: split by channels
  ];
  await checkNoLeak(nn, () => {
    for (const { x: xs, w: ws, opts } of cases) {
      const xd = Float64Array.from({ length: R.prod(xs) }, () => rand() * 2 - 1);
      const wd = Float64Array.from({ length: R.prod(ws) }, () => rand() * 2 - 1);
      const bd = Float64Array.from({ length: ws[0] }, () => rand() - 0.5);
      const want = R.conv2d(R.T(xd, xs), R.T(wd, ws), R.T(bd, [ws[0]]), opts);
      const x = nn.tensor(xd, xs), w = nn.tensor(wd, ws), b = nn.tensor(bd, [ws[0]]);
      const y = nn.ops.conv2d(x, w, b, opts);
      try {
        assertClose(y.read(), want.data, `conv2d ${JSON.stringify(opts)} x [${xs}] w [${ws}]: y`);
      } finally {
        disposeAll([x, w, b, y]);
      }
    }
  });
});

test("padding 'same' with strides: out = ⌈in / stride⌉, TensorFlow's split (odd pixel at the end)", async () => {
  const nn = await getEngine();
  const rand = rng(10);
  await checkNoLeak(nn, () => {
    for (const [xs, ws, opts, outHW] of [
      [[1, 2, 7, 8], [3, 2, 3, 3], { padding: 'same', stride: 2 }, [4, 4]],
      [[1, 2, 9, 10], [3, 2, 4, 2], { padding: 'same', stride: [3, 2], dilation: [1, 2] }, [3, 5]],
      [[2, 3, 11, 6], [3, 1, 5, 5], { padding: 'same', stride: 2, groups: 3 }, [6, 3]],
      [[1, 2, 6, 6], [2, 2, 3, 3], { padding: 'same', stride: 3, paddingMode: 'reflect' }, [2, 2]],
    ]) {
      const xd = Float64Array.from({ length: R.prod(xs) }, () => rand() * 2 - 1);
      const wd = Float64Array.from({ length: R.prod(ws) }, () => rand() * 2 - 1);
      const x = nn.tensor(xd, xs), w = nn.tensor(wd, ws);
      const y = nn.ops.conv2d(x, w, null, opts);
      try {
        assert.equal(y.shape.slice(2), outHW, `conv2d ${JSON.stringify(opts)}: output size`);
        assertClose(y.read(), R.conv2d(R.T(xd, xs), R.T(wd, ws), null, opts).data, `conv2d ${JSON.stringify(opts)}`);
      } finally {
        disposeAll([x, w, y]);
      }
    }
    const x = nn.tensor(Float64Array.from({ length: 2 * 9 }, () => rand()), [1, 2, 9]);
    const w = nn.tensor(Float64Array.from({ length: 3 * 2 * 4 }, () => rand()), [3, 2, 4]);
    const y = nn.ops.conv1d(x, w, null, { padding: 'same', stride: 2 });
    try {
      assert.equal(y.shape, [1, 3, 5]);
      assertClose(y.read(), R.conv1d(R.T(x.read(), [1, 2, 9]), R.T(w.read(), [3, 2, 4]), null, { padding: 'same', stride: 2 }).data, 'conv1d same/2');
    } finally {
      disposeAll([x, w, y]);
    }
  });
});


// linear picks yᵀ = W·xᵀ (then a transpose) when few output features would fill the GEMM's 8-wide tiles badly;
// dW splits by input features. Both orientations, forward and backward, against the float64 reference.
const linearCases = [
  { rows: 64, inF: 70, outF: 10 },   // a classifier head: the transposed product
  { rows: 37, inF: 13, outF: 5 },    // rows not a multiple of 8, outF < one tile: transposed
  { rows: 3, inF: 29, outF: 10 },    // too few rows: the direct product
  { rows: 20, inF: 33, outF: 24 },   // outF a multiple of 8: the direct product
];

test('linear forward and backward: direct and transposed GEMM orientations', async () => {
  const nn = await getEngine();
  const rand = rng(9);
  const vals = (n) => Float64Array.from({ length: n }, () => rand() - 0.5);
  await checkNoLeak(nn, () => {
    for (const { rows, inF, outF } of linearCases) {
      const xd = vals(rows * inF), wd = vals(outF * inF), bd = vals(outF), dyd = vals(rows * outF);
      const name = `linear [${rows}, ${inF}] → ${outF}`;
      const xT = R.T(xd, [rows, inF]), wT = R.T(wd, [outF, inF]);
      const want = R.linear(xT, wT, R.T(bd, [outF]));
      // dx = dy·W, dW = dyᵀ·x, db = Σ_rows dy: linear maps, read off the reference by transposition.
      const dyT = R.T(dyd, [rows, outF]);
      const dxWant = R.linear(dyT, R.T(transpose(wd, outF, inF), [inF, outF]), null);
      const dwWant = R.linear(R.T(transpose(dyd, rows, outF), [outF, rows]), R.T(transpose(xd, rows, inF), [inF, rows]), null);
      const dbWant = Array.from({ length: outF }, (_, o) => { let s = 0; for (let r = 0; r < rows; r++) s += dyd[r * outF + o]; return s; });
      const [x, w, b, dy] = [[xd, [rows, inF]], [wd, [outF, inF]], [bd, [outF]], [dyd, [rows, outF]]].map(([d, s]) => nn.tensor(d, s));
      const y = nn.ops.linear(x, w, b);
      const g = nn.ops.linearBackward(dy, x, w);
      try {
        assertClose(y.read(), want.data, `${name}: y`);
        assertClose(g.dx.read(), dxWant.data, `${name}: dx`);
        assertClose(g.dw.read(), dwWant.data, `${name}: dw`);
        assertClose(g.db.read(), dbWant, `${name}: db`);
      } finally {
        disposeAll([x, w, b, dy, y, g]);
      }
    }
  });
});

/** The transpose of an R×C row-major array. */
function transpose(a, rows, cols) {
  const t = new Float64Array(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c];
  return t;
}

test.run();
