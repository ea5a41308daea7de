// Finite-difference gradient checks of every backward op. For a fixed random r, L = Σ y·r; the numeric gradient of
// L is taken by central differences (h = 1e-6) on the float64 REFERENCE forward (test/reference.mjs), at the very
// float32 values the engine holds; the engine's analytic backward, called with dy = r, must match it under
// DESIGN.md's comparison rule (rtol 1e-4). Max-pool inputs are kept away from ties and relu/leaky-relu inputs away
// from 0, so the function is smooth within ±h.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { getEngine, assertClose, checkNoLeak, disposeAll, rng, uniform } from './helpers.mjs';
import * as R from './reference.mjs';

const H = 1e-6;

const ri = (rand, lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));
const pick = (rand, arr) => arr[Math.floor(rand() * arr.length)];
const U = (rand, n, lo = -1, hi = 1) => R.f32(uniform(rand, n, lo, hi));
const chan = (rand) => pick(rand, [1, 2, 3, 5, 7]);
const sp = (rand, choices, pairProb = 0.3) =>
  rand() < pairProb ? [pick(rand, choices), pick(rand, choices)] : pick(rand, choices);
function hw(rand, max = 7) {
  const r = rand();
  if (r < 0.15) return [1, ri(rand, 1, max)];
  if (r < 0.3) return [ri(rand, 1, max), 1];
  return [ri(rand, 1, max), ri(rand, 1, max)];
}
const isInvalid = (e) => /invalid configuration/.test(e?.message ?? '');
const reject = (msg) => { throw new Error(`invalid configuration: ${msg}`); };
const J = (o) => JSON.stringify(o);

/** Σ a·b. */
function dot(a, b) {
  let s = 0;
  for (let i = 0; i < b.length; i++) s += a[i] * b[i];
  return s;
}

/**
 * Central-difference gradient of L = Σ f().data·r with respect to the array `arr`, perturbed in place (f must read
 * it). r = null means f() returns the scalar L itself.
 */
function numGrad(f, arr, r) {
  const L = () => (r ? dot(f().data, r) : f());
  const g = new Float64Array(arr.length);
  for (let i = 0; i < arr.length; i++) {
    const v = arr[i];
    arr[i] = v + H; const lp = L();
    arr[i] = v - H; const lm = L();
    arr[i] = v;
    g[i] = (lp - lm) / (2 * H);
  }
  return g;
}

/** k distinct sorted random indices below n, or null (meaning all) when n ≤ k. */
function sample(rand, n, k) {
  if (n <= k) return null;
  const set = new Set();
  while (set.size < k) set.add(Math.floor(rand() * n));
  return Int32Array.from([...set].sort((a, b) => a - b));
}

/** numGrad restricted to the indices `at` (all when null): for shapes too large to difference every entry. */
function numGradAt(f, arr, r, at) {
  if (!at) return numGrad(f, arr, r);
  const g = new Float64Array(at.length);
  for (let j = 0; j < at.length; j++) {
    const i = at[j], v = arr[i];
    arr[i] = v + H; const lp = dot(f().data, r);
    arr[i] = v - H; const lm = dot(f().data, r);
    arr[i] = v;
    g[j] = (lp - lm) / (2 * H);
  }
  return g;
}

// ---------------------------------------------------------------------------------------------------------------
// Driver (as in random.test.mjs): every config runs, failures are collected, memory must return to its baseline.

const SHOW = 5;

function gradTest(name, count, seed, makeCase) {
  test(`${name}: ${count} finite-difference configs`, async () => {
    const nn = await getEngine();
    const rand = rng(seed);
    const failures = [];
    let done = 0, attempts = 0;
    await checkNoLeak(nn, async () => {
      while (done < count) {
        if (++attempts > count * 100) assert.unreachable(`${name}: only ${done} valid configs in ${attempts} draws`);
        let c;
        try {
          c = makeCase(rand);
        } catch (e) {
          if (isInvalid(e)) continue;
          throw e;
        }
        done++;
        const owned = [];
        const keep = (t) => { if (t) owned.push(t); return t; };
        try {
          await c.run(nn, keep);
        } catch (e) {
          failures.push(`${c.desc}\n    → ${e.message}`);
        } finally {
          disposeAll(owned);
        }
      }
    });
    assert.is(done, count);
    if (failures.length) {
      assert.unreachable(`${name}: ${failures.length}/${count} configs failed; first ${Math.min(SHOW, failures.length)}:\n  ` +
        failures.slice(0, SHOW).join('\n  '));
    }
  });
}

const tin = (nn, keep, t) => (t == null ? null : keep(nn.tensor(t.data, t.shape)));

/** An engine gradient (shape and values, or the values at the indices `at`) against a numeric one. */
function check(t, wantShape, want, name, at = null) {
  if (!t) throw new Error(`${name}: missing`);
  if (J(Array.from(t.shape)) !== J(wantShape)) throw new Error(`${name}: shape [${Array.from(t.shape)}], expected [${wantShape}]`);
  const got = t.read();
  if (at) assertClose(Array.from(at, (i) => got[i]), want, `${name} (${at.length} sampled entries)`);
  else assertClose(got, want, name);
}

/** Keeps every tensor of an op's result object. */
function keepAll(keep, r) {
  if (r && typeof r === 'object' && typeof r.dispose !== 'function') {
    for (const v of Object.values(r)) {
      if (v && typeof v.dispose === 'function') keep(v);
    }
  } else if (r) {
    keep(r);
  }
  return r;
}

// ---------------------------------------------------------------------------------------------------------------
// Convolution

function convPadding(rand, dims) {
  const r = rand();
  if (r < 0.3) return ri(rand, 0, 2);
  if (r < 0.45) return [ri(rand, 0, 2), ri(rand, 0, 2)];
  if (r < 0.6 && dims === 2) return [ri(rand, 0, 2), ri(rand, 0, 2), ri(rand, 0, 2), ri(rand, 0, 2)];
  if (r < 0.8) return 'same';
  return 'valid';
}
function groups(rand) {
  const r = rand();
  if (r < 0.5) return { G: 1, Cg: chan(rand), CoG: chan(rand) };
  if (r < 0.75) return { G: pick(rand, [2, 3]), Cg: pick(rand, [1, 2, 3]), CoG: pick(rand, [1, 2]) };
  return { G: pick(rand, [2, 3, 5]), Cg: 1, CoG: pick(rand, [1, 2]) }; // depthwise
}
function convFlags(rand) {
  const f = {};
  const r = rand();
  if (r < 0.15) f.input = false;
  else if (r < 0.3) f.weight = false;
  if (rand() < 0.3) f.bias = false;
  return f;
}

/** Shared by conv2d and conv1d: numeric dx, dw, db of L = Σ conv(x, w, b)·r against the engine's backward. */
function convCase(rand, x, w, opts, refFn, engineFwdName, engineBwdName) {
  const Co = w.shape[0];
  const b = R.T(U(rand, Co), [Co]);
  const y = refFn(x, w, b, opts); // throws for invalid configs
  const r = U(rand, y.data.length);
  const flags = convFlags(rand);
  const f = () => refFn(x, w, b, opts);
  const want = {
    dx: flags.input === false ? null : numGrad(f, x.data, r),
    dw: flags.weight === false ? null : numGrad(f, w.data, r),
    db: flags.bias === false ? null : numGrad(f, b.data, r),
  };
  return {
    desc: `x [${x.shape}] w [${w.shape}] ${J(opts)} flags ${J(flags)}`,
    run(nn, keep) {
      const xt = tin(nn, keep, x), wt = tin(nn, keep, w);
      const dy = keep(nn.tensor(r, y.shape));
      const g = keepAll(keep, nn.ops[engineBwdName](dy, xt, wt, opts, flags));
      for (const [k, flag] of [['dx', 'input'], ['dw', 'weight'], ['db', 'bias']]) {
        if (flags[flag] === false && g[k] != null) throw new Error(`${k} returned although ${flag}: false`);
      }
      if (want.dx) check(g.dx, x.shape, want.dx, 'dx');
      if (want.dw) check(g.dw, w.shape, want.dw, 'dw');
      if (want.db) check(g.db, [Co], want.db, 'db');
    },
  };
}

gradTest('conv2dBackward', 100, 1101, (rand) => {
  const N = ri(rand, 1, 2);
  const { G, Cg, CoG } = groups(rand);
  const [Hh, W] = hw(rand);
  const KH = ri(rand, 1, 4), KW = rand() < 0.6 ? KH : ri(rand, 1, 4);
  const opts = { padding: convPadding(rand, 2) };
  if (rand() < 0.4 && opts.padding !== 'same') opts.stride = sp(rand, [1, 2, 3]);
  if (rand() < 0.35) opts.dilation = sp(rand, [1, 2]);
  if (G > 1) opts.groups = G;
  if (rand() < 0.5) opts.paddingMode = pick(rand, ['reflect', 'replicate', 'circular']);
  const C = G * Cg, Co = G * CoG;
  const x = R.T(U(rand, N * C * Hh * W), [N, C, Hh, W]);
  const w = R.T(U(rand, Co * Cg * KH * KW), [Co, Cg, KH, KW]);
  return convCase(rand, x, w, opts, R.conv2d, 'conv2d', 'conv2dBackward');
});

// Shapes that take one of the GEMMs under the conv (forward Y = W·col, data dcol = Wᵀ·dY, filter dW = dY·colᵀ) past
// a cache block of assembly/gemm.ts (rows MC = 72, depth KC = 256, columns NC = 512), the depthwise kernels over wide
// rows and a large 1×1 conv. Too big to difference every entry: dx, dw and db are checked at ≤ 128 sampled entries each.
const BLOCKING = [
  { x: [1, 9, 24, 24], w: [3, 9, 3, 3], what: 'P = 576 > NC, K = 81 > MC' },
  { x: [1, 2, 5, 5], w: [270, 2, 3, 3], what: 'Cout = 270 > KC, MC' },
  { x: [1, 60, 4, 4], w: [2, 60, 3, 3], what: 'K = 540 > NC, KC' },
  { x: [1, 4, 6, 27], w: [8, 1, 3, 3], groups: 4, what: 'depthwise, wide rows' },
  { x: [2, 80, 3, 3], w: [90, 80, 1, 1], what: '1×1, Cout 90 > MC' },
  { x: [1, 6, 23, 23], w: [4, 3, 3, 3], groups: 2, what: 'groups 2, P = 529 > NC' },
];
let blockingNext = 0;
gradTest('conv2dBackward (GEMM blocking shapes)', BLOCKING.length, 1103, (rand) => {
  const s = BLOCKING[blockingNext++ % BLOCKING.length];
  const opts = { padding: pick(rand, [1, 'same', [0, 1, 1, 0]]) };
  if (s.groups) opts.groups = s.groups;
  if (s.w[2] > 1 && rand() < 0.4) opts.paddingMode = pick(rand, ['reflect', 'replicate', 'circular']);
  if (s.w[2] > 1 && rand() < 0.3) opts.stride = pick(rand, [1, 2]);
  const x = R.T(U(rand, R.prod(s.x)), s.x), w = R.T(U(rand, R.prod(s.w)), s.w);
  const Co = s.w[0];
  const b = R.T(U(rand, Co), [Co]);
  const y = R.conv2d(x, w, b, opts);
  const r = U(rand, y.data.length);
  const f = () => R.conv2d(x, w, b, opts);
  const atX = sample(rand, x.data.length, 128), atW = sample(rand, w.data.length, 128), atB = sample(rand, Co, 128);
  const want = { dx: numGradAt(f, x.data, r, atX), dw: numGradAt(f, w.data, r, atW), db: numGradAt(f, b.data, r, atB) };
  return {
    desc: `${s.what}: x [${x.shape}] w [${w.shape}] ${J(opts)}`,
    run(nn, keep) {
      const g = keepAll(keep, nn.ops.conv2dBackward(keep(nn.tensor(r, y.shape)), tin(nn, keep, x), tin(nn, keep, w), opts));
      check(g.dx, x.shape, want.dx, 'dx', atX);
      check(g.dw, w.shape, want.dw, 'dw', atW);
      check(g.db, [Co], want.db, 'db', atB);
    },
  };
});

// Shapes that the SIMD builds compute directly (few taps, K = Cin·KH·KW ≤ 27, unit column stride: assembly/conv-direct.ts):
// output rows of 8-column blocks, a 4-column block and scalar leftovers, channel blocks of 4 with 1–3 left over, and dW in
// blocks of up to 9 taps (K = 27: three full, K = 25: a partial third, K = 12: a partial second).
const DIRECT = [
  { x: [3, 1, 28, 28], w: [16, 1, 3, 3], opts: { padding: 1 }, what: 'MNIST first layer' },
  { x: [2, 3, 10, 13], w: [6, 3, 3, 3], opts: { padding: 1 }, what: 'K = 27, OW = 13, 2 channels left over' },
  { x: [2, 1, 9, 11], w: [5, 1, 5, 5], opts: { padding: 2, stride: [2, 1] }, what: 'K = 25, row stride 2' },
  { x: [1, 2, 12, 21], w: [3, 2, 2, 3], opts: { padding: 1, dilation: [2, 1], paddingMode: 'reflect' }, what: 'K = 12, dilated rows, reflect' },
  { x: [2, 3, 7, 6], w: [9, 3, 1, 3], opts: { padding: [0, 1], dilation: [1, 2], paddingMode: 'circular' }, what: 'dilated columns, circular' },
];
let directNext = 0;
gradTest('conv2dBackward (direct few-tap shapes)', DIRECT.length, 1104, (rand) => {
  const s = DIRECT[directNext++ % DIRECT.length];
  const x = R.T(U(rand, R.prod(s.x)), s.x), w = R.T(U(rand, R.prod(s.w)), s.w);
  const Co = s.w[0];
  const b = R.T(U(rand, Co), [Co]);
  const y = R.conv2d(x, w, b, s.opts);
  const r = U(rand, y.data.length);
  const f = () => R.conv2d(x, w, b, s.opts);
  const atX = sample(rand, x.data.length, 128), atW = sample(rand, w.data.length, 128), atB = sample(rand, Co, 128);
  const want = { dx: numGradAt(f, x.data, r, atX), dw: numGradAt(f, w.data, r, atW), db: numGradAt(f, b.data, r, atB) };
  return {
    desc: `${s.what}: x [${x.shape}] w [${w.shape}] ${J(s.opts)}`,
    run(nn, keep) {
      const g = keepAll(keep, nn.ops.conv2dBackward(keep(nn.tensor(r, y.shape)), tin(nn, keep, x), tin(nn, keep, w), s.opts));
      check(g.dx, x.shape, want.dx, 'dx', atX);
      check(g.dw, w.shape, want.dw, 'dw', atW);
      check(g.db, [Co], want.db, 'db', atB);
    },
  };
});

gradTest('conv1dBackward', 50, 1102, (rand) => {
  const N = ri(rand, 1, 2);
  const { G, Cg, CoG } = groups(rand);
  const L = ri(rand, 1, 12), K = ri(rand, 1, 4);
  const opts = { padding: convPadding(rand, 1) };
  if (rand() < 0.4 && opts.padding !== 'same') opts.stride = pick(rand, [1, 2, 3]);
  if (rand() < 0.35) opts.dilation = pick(rand, [1, 2]);
  if (G > 1) opts.groups = G;
  if (rand() < 0.5) opts.paddingMode = pick(rand, ['reflect', 'replicate', 'circular']);
  const C = G * Cg, Co = G * CoG;
  const x = R.T(U(rand, N * C * L), [N, C, L]);
  const w = R.T(U(rand, Co * Cg * K), [Co, Cg, K]);
  return convCase(rand, x, w, opts, R.conv1d, 'conv1d', 'conv1dBackward');
});

// ---------------------------------------------------------------------------------------------------------------
// Pooling

function poolOpts(rand, withDilation) {
  const opts = { kernel: sp(rand, [1, 2, 3, 4]) };
  if (rand() < 0.7) opts.stride = sp(rand, [1, 2, 3]); // stride < kernel: overlapping windows accumulate
  if (rand() < 0.5) opts.padding = sp(rand, [0, 1, 2]);
  if (withDilation && rand() < 0.3) opts.dilation = sp(rand, [1, 2]);
  if (rand() < 0.5) opts.ceilMode = true;
  return opts;
}

/** n distinct float32 values in [−1, 1), at least 1/n apart, in random order (no ties within ±h). */
function distinct(rand, n) {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.fround(-1 + (2 * i + 0.5 + 0.5 * rand()) / (2 * n) * 2);
  for (let i = n - 1; i > 0; i--) { const j = Math.floor(rand() * (i + 1)); [a[i], a[j]] = [a[j], a[i]]; }
  if (rand() < 0.3) for (let i = 0; i < n; i++) a[i] = Math.fround(a[i] - 3); // all negative
  return a;
}

gradTest('maxPool2dBackward', 100, 1201, (rand) => {
  const N = ri(rand, 1, 2), C = chan(rand), [Hh, W] = hw(rand, 9);
  const opts = poolOpts(rand, true);
  const x = R.T(distinct(rand, N * C * Hh * W), [N, C, Hh, W]);
  const y = R.maxPool2d(x, opts).y;
  const r = U(rand, y.data.length);
  const want = numGrad(() => R.maxPool2d(x, opts).y, x.data, r);
  return {
    desc: `x [${x.shape}] ${J(opts)}`,
    run(nn, keep) {
      const f = nn.ops.maxPool2d(tin(nn, keep, x), opts);
      keep(f.y); keep(f.indices);
      const dx = keep(nn.ops.maxPool2dBackward(keep(nn.tensor(r, y.shape)), f.indices, x.shape));
      check(dx, x.shape, want, 'dx');
    },
  };
});

gradTest('avgPool2dBackward', 100, 1202, (rand) => {
  const N = ri(rand, 1, 2), C = chan(rand), [Hh, W] = hw(rand, 9);
  const opts = poolOpts(rand, false);
  if (rand() < 0.6) opts.countIncludePad = rand() < 0.5;
  if (rand() < 0.3) opts.divisorOverride = ri(rand, 1, 7);
  const x = R.T(U(rand, N * C * Hh * W), [N, C, Hh, W]);
  const y = R.avgPool2d(x, opts);
  const r = U(rand, y.data.length);
  const want = numGrad(() => R.avgPool2d(x, opts), x.data, r);
  return {
    desc: `x [${x.shape}] ${J(opts)}`,
    run(nn, keep) {
      const dx = keep(nn.ops.avgPool2dBackward(keep(nn.tensor(r, y.shape)), x.shape, opts));
      check(dx, x.shape, want, 'dx');
    },
  };
});

gradTest('globalAvgPool2dBackward', 20, 1203, (rand) => {
  const N = ri(rand, 1, 3), C = chan(rand), [Hh, W] = hw(rand, 9);
  const x = R.T(U(rand, N * C * Hh * W), [N, C, Hh, W]);
  const r = U(rand, N * C);
  const want = numGrad(() => R.globalAvgPool2d(x), x.data, r);
  return {
    desc: `x [${x.shape}]`,
    run(nn, keep) {
      const dx = keep(nn.ops.globalAvgPool2dBackward(keep(nn.tensor(r, [N, C, 1, 1])), x.shape));
      check(dx, x.shape, want, 'dx');
    },
  };
});

// ---------------------------------------------------------------------------------------------------------------
// Normalisation
// Every normalised set has at least 3 elements: with 2, y = ±sqrt(var/(var + eps))·gamma + beta is constant in x up
// to eps/var, so dx is pure cancellation (≈ eps·invStd³) that no float32 formula (PyTorch's included) resolves to
// 1e-4 of its own tiny magnitude; with 1, it is identically 0.

function normInput(rand, n) {
  const off = rand() < 0.5 ? 0 : uniform(rand, 1, -2, 2)[0];
  return U(rand, n, off - 1, off + 1);
}

/** Affine parameters: gamma, beta of `shape`, or nulls. */
function affine(rand, shape, prob) {
  if (rand() >= prob) return { gamma: null, beta: null };
  const n = R.prod(shape);
  return { gamma: R.T(U(rand, n, 0.5, 1.5), shape), beta: R.T(U(rand, n), shape) };
}
/** The reference needs concrete parameters to differentiate against: ones / zeros when absent. */
const ones = (shape) => R.T(new Float64Array(R.prod(shape)).fill(1), shape);
const zeros = (shape) => R.T(new Float64Array(R.prod(shape)), shape);

function batchNormCase(rand, training) {
  const N = ri(rand, 1, 3), C = chan(rand);
  const [Hh, W] = hw(rand, 5);
  if (training && N * Hh * W < 3) reject(`batch norm over ${N * Hh * W} values`);
  const x = R.T(normInput(rand, N * C * Hh * W), [N, C, Hh, W]);
  const { gamma, beta } = affine(rand, [C], 0.8);
  const rm = R.T(U(rand, C), [C]), rv = R.T(U(rand, C, 0.3, 2), [C]);
  const withRunning = !training || rand() < 0.5;
  const eps = rand() < 0.5 ? 1e-5 : 1e-3;
  const opts = { training, eps };
  const g = gamma ?? ones([C]), b = beta ?? zeros([C]);
  const f = () => R.batchNorm2d(x, g, b, rm, rv, opts).y;
  const r = U(rand, x.data.length);
  const want = { dx: numGrad(f, x.data, r), dgamma: numGrad(f, g.data, r), dbeta: numGrad(f, b.data, r) };
  return {
    desc: `x [${x.shape}] gamma ${!!gamma} beta ${!!beta} running ${withRunning} ${J(opts)}`,
    run(nn, keep) {
      const xt = tin(nn, keep, x), gt = tin(nn, keep, gamma);
      const fwd = keepAll(keep, nn.ops.batchNorm2d(xt, gt, tin(nn, keep, beta),
        withRunning ? tin(nn, keep, rm) : null, withRunning ? tin(nn, keep, rv) : null, opts));
      const grads = keepAll(keep, nn.ops.batchNorm2dBackward(keep(nn.tensor(r, x.shape)), xt, gt, fwd.mean, fwd.invStd, { training }));
      check(grads.dx, x.shape, want.dx, 'dx');
      if (gamma) {
        check(grads.dgamma, [C], want.dgamma, 'dgamma');
        check(grads.dbeta, [C], want.dbeta, 'dbeta');
      }
    },
  };
}

gradTest('batchNorm2dBackward (training)', 50, 1301, (rand) => batchNormCase(rand, true));
gradTest('batchNorm2dBackward (eval)', 30, 1302, (rand) => batchNormCase(rand, false));

gradTest('layerNormBackward', 50, 1303, (rand) => {
  const rank = ri(rand, 2, 4);
  const shape = Array.from({ length: rank }, () => ri(rand, 1, 5));
  const k = ri(rand, 1, rank - 1);
  const ns = shape.slice(rank - k);
  if (R.prod(ns) < 3) reject(`layer norm over ${R.prod(ns)} values`);
  const x = R.T(normInput(rand, R.prod(shape)), shape);
  const { gamma, beta } = affine(rand, ns, 0.7);
  const g = gamma ?? ones(ns), b = beta ?? zeros(ns);
  const f = () => R.layerNorm(x, ns, g, b).y;
  const r = U(rand, x.data.length);
  const want = { dx: numGrad(f, x.data, r), dgamma: numGrad(f, g.data, r), dbeta: numGrad(f, b.data, r) };
  return {
    desc: `x [${shape}] normalizedShape [${ns}] affine ${!!gamma}`,
    run(nn, keep) {
      const xt = tin(nn, keep, x), gt = tin(nn, keep, gamma);
      const fwd = keepAll(keep, nn.ops.layerNorm(xt, ns, gt, tin(nn, keep, beta)));
      const grads = keepAll(keep, nn.ops.layerNormBackward(keep(nn.tensor(r, shape)), xt, ns, gt, { mean: fwd.mean, invStd: fwd.invStd }));
      check(grads.dx, shape, want.dx, 'dx');
      if (gamma) {
        check(grads.dgamma, ns, want.dgamma, 'dgamma');
        check(grads.dbeta, ns, want.dbeta, 'dbeta');
      }
    },
  };
});

gradTest('groupNormBackward', 50, 1304, (rand) => {
  const G = pick(rand, [1, 2, 3]), Cg = pick(rand, [1, 2, 3]);
  const N = ri(rand, 1, 2), C = G * Cg, [Hh, W] = hw(rand, 5);
  if (Cg * Hh * W < 3) reject(`group norm over ${Cg * Hh * W} values`);
  const x = R.T(normInput(rand, N * C * Hh * W), [N, C, Hh, W]);
  const { gamma, beta } = affine(rand, [C], 0.7);
  const g = gamma ?? ones([C]), b = beta ?? zeros([C]);
  const f = () => R.groupNorm(x, G, g, b).y;
  const r = U(rand, x.data.length);
  const want = { dx: numGrad(f, x.data, r), dgamma: numGrad(f, g.data, r), dbeta: numGrad(f, b.data, r) };
  return {
    desc: `x [${x.shape}] groups ${G} affine ${!!gamma}`,
    run(nn, keep) {
      const xt = tin(nn, keep, x), gt = tin(nn, keep, gamma);
      const fwd = keepAll(keep, nn.ops.groupNorm(xt, G, gt, tin(nn, keep, beta)));
      const grads = keepAll(keep, nn.ops.groupNormBackward(keep(nn.tensor(r, x.shape)), xt, G, gt, { mean: fwd.mean, invStd: fwd.invStd }));
      check(grads.dx, x.shape, want.dx, 'dx');
      if (gamma) {
        check(grads.dgamma, [C], want.dgamma, 'dgamma');
        check(grads.dbeta, [C], want.dbeta, 'dbeta');
      }
    },
  };
});

gradTest('instanceNormBackward', 50, 1305, (rand) => {
  const N = ri(rand, 1, 2), C = chan(rand);
  const [Hh, W] = hw(rand, 5);
  if (Hh * W < 3) reject(`instance norm over ${Hh * W} values`);
  const x = R.T(normInput(rand, N * C * Hh * W), [N, C, Hh, W]);
  const { gamma, beta } = affine(rand, [C], 0.6);
  const g = gamma ?? ones([C]), b = beta ?? zeros([C]);
  const f = () => R.instanceNorm(x, g, b).y;
  const r = U(rand, x.data.length);
  const want = { dx: numGrad(f, x.data, r), dgamma: numGrad(f, g.data, r), dbeta: numGrad(f, b.data, r) };
  return {
    desc: `x [${x.shape}] affine ${!!gamma}`,
    run(nn, keep) {
      const xt = tin(nn, keep, x), gt = tin(nn, keep, gamma);
      const fwd = keepAll(keep, nn.ops.instanceNorm(xt, gt, tin(nn, keep, beta)));
      const grads = keepAll(keep, nn.ops.instanceNormBackward(keep(nn.tensor(r, x.shape)), xt, gt, { mean: fwd.mean, invStd: fwd.invStd }));
      check(grads.dx, x.shape, want.dx, 'dx');
      if (gamma) {
        check(grads.dgamma, [C], want.dgamma, 'dgamma');
        check(grads.dbeta, [C], want.dbeta, 'dbeta');
      }
    },
  };
});

// ---------------------------------------------------------------------------------------------------------------
// Activations: the backward takes x (relu, leaky relu) or the forward output y (sigmoid, tanh).

function actShape(rand) {
  const rank = ri(rand, 1, 4);
  const shape = Array.from({ length: rank }, () => ri(rand, 1, 6));
  if (rand() < 0.3) shape[rank - 1] = ri(rand, 20, 70);
  return shape;
}
/** Values in ±[0.01, 3): away from relu's kink at 0. */
function awayFromZero(rand, n) {
  const a = U(rand, n, 0.01, 3);
  for (let i = 0; i < n; i++) if (rand() < 0.5) a[i] = -a[i];
  return a;
}

function actGradTest(name, count, seed, { input, ref, fwd, bwd, slope }) {
  gradTest(name, count, seed, (rand) => {
    const shape = actShape(rand);
    const n = R.prod(shape);
    const x = R.T(input(rand, n), shape);
    const s = slope ? Math.fround(pick(rand, [0.01, 0.1, 0.2, 0.5])) : undefined;
    const r = U(rand, n);
    // Element-wise: L = Σ f(x_i)·r_i, so each central difference only needs f at x_i ± h (the reference on one element).
    const want = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const one = R.T([x.data[i]], [1]);
      want[i] = r[i] * numGrad(() => ref(one, s), one.data, [1])[0];
    }
    return {
      desc: `x [${shape}]${slope ? ` slope ${s}` : ''}`,
      run(nn, keep) {
        const xt = tin(nn, keep, x);
        const dx = keep(bwd(nn, keep(nn.tensor(r, shape)), xt, fwd ? keep(fwd(nn, xt)) : null, s));
        check(dx, shape, want, 'dx');
      },
    };
  });
}

actGradTest('reluBackward', 30, 1401, {
  input: awayFromZero, ref: (x) => R.relu(x), bwd: (nn, dy, x) => nn.ops.reluBackward(dy, x),
});
actGradTest('leakyReluBackward', 30, 1402, {
  input: awayFromZero, ref: (x, s) => R.leakyRelu(x, s), bwd: (nn, dy, x, y, s) => nn.ops.leakyReluBackward(dy, x, s), slope: true,
});
actGradTest('sigmoidBackward', 30, 1403, {
  input: (rand, n) => U(rand, n, -6, 6), ref: (x) => R.sigmoid(x),
  fwd: (nn, x) => nn.ops.sigmoid(x), bwd: (nn, dy, x, y) => nn.ops.sigmoidBackward(dy, y),
});
actGradTest('tanhBackward', 30, 1404, {
  input: (rand, n) => U(rand, n, -3, 3), ref: (x) => R.tanh(x),
  fwd: (nn, x) => nn.ops.tanh(x), bwd: (nn, dy, x, y) => nn.ops.tanhBackward(dy, y),
});

// ---------------------------------------------------------------------------------------------------------------
// Dense and loss

gradTest('linearBackward', 50, 1501, (rand) => {
  const N = ri(rand, 1, 8), I = rand() < 0.2 ? ri(rand, 30, 70) : ri(rand, 1, 13), O = ri(rand, 1, 13);
  const x = R.T(U(rand, N * I), [N, I]), w = R.T(U(rand, O * I), [O, I]), b = R.T(U(rand, O), [O]);
  const bias = rand() < 0.7;
  const f = () => R.linear(x, w, b);
  const r = U(rand, N * O);
  const want = { dx: numGrad(f, x.data, r), dw: numGrad(f, w.data, r), db: numGrad(f, b.data, r) };
  return {
    desc: `x [${x.shape}] w [${w.shape}] bias ${bias}`,
    run(nn, keep) {
      const g = keepAll(keep, nn.ops.linearBackward(keep(nn.tensor(r, [N, O])), tin(nn, keep, x), tin(nn, keep, w), { bias }));
      check(g.dx, [N, I], want.dx, 'dx');
      check(g.dw, [O, I], want.dw, 'dw');
      if (bias) check(g.db, [O], want.db, 'db');
      else if (g.db != null) throw new Error('db returned although bias: false');
    },
  };
});

// Linear past every block of the GEMMs (x·wᵀ: rows N > 72, depth I > 256, columns O > 512; the backward GEMMs
// transpose these roles), checked at 128 sampled entries of dx, dw and db. x[n, i] only reaches row n of y, and
// w[o, i], b[o] only column o, so each difference is taken on the reference forward of that row (x[n] with all of
// w, b) or that column (all of x with w[o], b[o]): the same L up to terms that cancel exactly.
const rowOf = (t, k) => R.T(t.data.slice(k * t.shape[1], (k + 1) * t.shape[1]), [1, t.shape[1]]);
gradTest('linearBackward (GEMM blocking shapes)', 3, 1503, (rand) => {
  const N = ri(rand, 73, 100), I = ri(rand, 257, 270), O = ri(rand, 513, 530);
  const x = R.T(U(rand, N * I), [N, I]), w = R.T(U(rand, O * I), [O, I]), b = R.T(U(rand, O), [O]);
  const r = U(rand, N * O);
  const atX = sample(rand, N * I, 128), atW = sample(rand, O * I, 128), atB = sample(rand, O, 128);
  const want = { dx: new Float64Array(128), dw: new Float64Array(128), db: new Float64Array(128) };
  atX.forEach((k, j) => {
    const n = Math.floor(k / I), xn = rowOf(x, n), rn = r.slice(n * O, (n + 1) * O);
    want.dx[j] = numGradAt(() => R.linear(xn, w, b), xn.data, rn, [k % I])[0];
  });
  const rCol = (o) => Float64Array.from({ length: N }, (_, n) => r[n * O + o]);
  atW.forEach((k, j) => {
    const o = Math.floor(k / I), wo = rowOf(w, o), bo = R.T([b.data[o]], [1]);
    want.dw[j] = numGradAt(() => R.linear(x, wo, bo), wo.data, rCol(o), [k % I])[0];
  });
  atB.forEach((o, j) => {
    const wo = rowOf(w, o), bo = R.T([b.data[o]], [1]);
    want.db[j] = numGradAt(() => R.linear(x, wo, bo), bo.data, rCol(o), [0])[0];
  });
  return {
    desc: `x [${x.shape}] w [${w.shape}]`,
    run(nn, keep) {
      const g = keepAll(keep, nn.ops.linearBackward(keep(nn.tensor(r, [N, O])), tin(nn, keep, x), tin(nn, keep, w), { bias: true }));
      check(g.dx, [N, I], want.dx, 'dx', atX);
      check(g.dw, [O, I], want.dw, 'dw', atW);
      check(g.db, [O], want.db, 'db', atB);
    },
  };
});

gradTest('softmaxCrossEntropy dlogits', 50, 1502, (rand) => {
  const N = ri(rand, 1, 8), K = rand() < 0.2 ? ri(rand, 20, 60) : ri(rand, 1, 11);
  const scale = pick(rand, [1, 4, 10]);
  const logits = R.T(U(rand, N * K, -scale, scale), [N, K]);
  const labels = Array.from({ length: N }, () => ri(rand, 0, K - 1));
  const want = numGrad(() => R.softmaxCrossEntropy(logits, labels).loss, logits.data, null);
  return {
    desc: `logits [${logits.shape}] scale ±${scale}`,
    run(nn, keep) {
      const out = keepAll(keep, nn.ops.softmaxCrossEntropy(tin(nn, keep, logits), keep(nn.tensor(labels, [N], 'int32'))));
      check(out.dlogits, [N, K], want, 'dlogits');
    },
  };
});

test.run();
