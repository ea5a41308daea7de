// Property tests: hundreds of seeded random configurations of every op's forward (and of the optimizer steps)
// against the float64 reference in test/reference.mjs, with DESIGN.md's comparison rule (rtol 1e-4).
// Configurations PyTorch rejects (the reference throws) are redrawn, so every counted config is a valid one.
// Each op's test runs all its configs, then reports how many failed and the first few, and checks that the
// engine's live memory is back to where it was.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { getEngine, assertClose, checkNoLeak, disposeAll, rng, uniform } from './helpers.mjs';
import * as R from './reference.mjs';

// ---------------------------------------------------------------------------------------------------------------
// Random helpers

const ri = (rand, lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));
const pick = (rand, arr) => arr[Math.floor(rand() * arr.length)];
/** Float32-exact uniform values (what the engine stores), as a Float64Array. */
const U = (rand, n, lo = -1, hi = 1) => R.f32(uniform(rand, n, lo, hi));
/** Channel counts: mostly not multiples of 4, sometimes multiples (the SIMD fast paths). */
const chan = (rand) => (rand() < 0.8 ? pick(rand, [1, 2, 3, 5, 6, 7, 9, 11, 13]) : pick(rand, [4, 8, 12, 16]));
/** Image sizes [H, W]: 1×N, N×1, square and rectangular. */
function hw(rand, max = 11) {
  const r = rand();
  if (r < 0.15) return [1, ri(rand, 1, max)];
  if (r < 0.3) return [ri(rand, 1, max), 1];
  if (r < 0.5) { const s = ri(rand, 1, max); return [s, s]; }
  return [ri(rand, 1, max), ri(rand, 1, max)];
}
/** A scalar or, sometimes, an [h, w] pair. */
const sp = (rand, choices, pairProb = 0.3) =>
  rand() < pairProb ? [pick(rand, choices), pick(rand, choices)] : pick(rand, choices);

const isInvalid = (e) => /invalid configuration/.test(e?.message ?? '');

// ---------------------------------------------------------------------------------------------------------------
// The driver: `makeCase(rand)` draws a configuration, computes the reference (throwing for invalid ones) and returns
// { desc, run(nn, keep) }; `run` calls the engine and compares, `keep` registers tensors for disposal.

const SHOW = 5;

function opTest(name, count, seed, makeCase) {
  test(`${name}: ${count} random configs`, async () => {
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
        const keep = (t) => { owned.push(t); return t; };
        try {
          await c.run(nn, keep);
        } catch (e) {
          failures.push(`${c.desc}\n    → ${e.message}`);
        } finally {
          disposeAll(owned);
        }
      }
    });
    assert.is(done, count, `${name}: ${done} configs run`);
    if (failures.length) {
      assert.unreachable(`${name}: ${failures.length}/${count} configs failed; first ${Math.min(SHOW, failures.length)}:\n  ` +
        failures.slice(0, SHOW).join('\n  '));
    }
  });
}

/** Engine tensor from a reference tensor (or data + shape). */
const tin = (nn, keep, t, dtype) => (t == null ? null : keep(nn.tensor(t.data, t.shape, dtype)));

function sameShape(got, want, name) {
  if (JSON.stringify(Array.from(got)) !== JSON.stringify(Array.from(want))) {
    throw new Error(`${name}: shape [${Array.from(got)}], expected [${Array.from(want)}]`);
  }
}

/** Shape (unless shape === false: size only) and values of an engine tensor against a reference tensor. */
function check(t, want, name, { shape = true } = {}) {
  if (!t) throw new Error(`${name}: missing output`);
  if (shape) sameShape(t.shape, want.shape, name);
  else if (t.size !== want.data.length) throw new Error(`${name}: size ${t.size}, expected ${want.data.length}`);
  assertClose(t.read(), want.data, name);
}

function checkInt(t, want, name) {
  if (t.dtype !== 'int32') throw new Error(`${name}: dtype ${t.dtype}, expected int32`);
  const got = t.read();
  if (got.length !== want.length) throw new Error(`${name}: length ${got.length}, expected ${want.length}`);
  for (let i = 0; i < want.length; i++) {
    if (got[i] !== want[i]) throw new Error(`${name}[${i}]: got ${got[i]}, expected ${want[i]}`);
  }
}

const J = (o) => JSON.stringify(o, (k, v) => (v === undefined ? undefined : v));

// ---------------------------------------------------------------------------------------------------------------
// Convolution

function convPaddingChoice(rand, dims) {
  const r = rand();
  if (r < 0.3) return ri(rand, 0, 2);
  if (r < 0.45) return dims === 2 ? [ri(rand, 0, 2), ri(rand, 0, 2)] : [ri(rand, 0, 2), ri(rand, 0, 2)];
  if (r < 0.6 && dims === 2) return [ri(rand, 0, 2), ri(rand, 0, 2), ri(rand, 0, 2), ri(rand, 0, 2)];
  if (r < 0.8) return 'same';
  return 'valid';
}
const padMode = (rand) => (rand() < 0.5 ? 'zeros' : pick(rand, ['reflect', 'replicate', 'circular']));

function groupsAndChannels(rand) {
  const r = rand();
  if (r < 0.6) return { G: 1, Cg: chan(rand), CoG: chan(rand) };
  if (r < 0.8) return { G: pick(rand, [2, 3, 4]), Cg: pick(rand, [1, 2, 3, 5]), CoG: pick(rand, [1, 2, 3]) };
  return { G: chan(rand), Cg: 1, CoG: pick(rand, [1, 1, 2]) }; // depthwise (channel multiplier 1 or 2)
}

opTest('conv2d', 400, 101, (rand) => {
  let N, G, Cg, CoG, H, W, KH, KW;
  const opts = {};
  const bucket = rand();
  if (bucket < 0.08) { // larger layers
    N = ri(rand, 1, 2); G = 1; Cg = ri(rand, 9, 40); CoG = ri(rand, 9, 40);
    H = ri(rand, 6, 18); W = ri(rand, 6, 18);
    KH = KW = pick(rand, [1, 3, 3, 5]);
    opts.padding = pick(rand, [0, 1, 'same']);
    if (rand() < 0.3) opts.stride = 2;
    if (rand() < 0.3) opts.paddingMode = pick(rand, ['reflect', 'replicate', 'circular']);
  } else if (bucket < 0.16) { // one GEMM dimension past a cache block (rows > 72, depth > 256 or columns > 512)
    N = 1; G = rand() < 0.8 ? 1 : 2; KH = KW = pick(rand, [1, 3]);
    const which = pick(rand, ['M', 'K', 'N', 'all']);
    Cg = which === 'K' ? ri(rand, 29, 60) : which === 'all' ? ri(rand, 29, 33) : ri(rand, 1, 5);
    CoG = which === 'M' ? ri(rand, 73, 150) : which === 'all' ? ri(rand, 73, 80) : ri(rand, 1, 7);
    [H, W] = which === 'N' || which === 'all' ? [ri(rand, 23, 26), ri(rand, 23, 26)] : [ri(rand, 3, 8), ri(rand, 3, 8)];
    if (which === 'all') KH = KW = 3;
    opts.padding = pick(rand, [0, 'same', [0, 1, 1, 0]]);
    if (G > 1) opts.groups = G;
  } else if (bucket < 0.24) { // depthwise, wider images (its direct kernels' SIMD rows)
    N = ri(rand, 1, 2); Cg = 1; G = ri(rand, 2, 24); CoG = pick(rand, [1, 2]);
    H = ri(rand, 4, 20); W = ri(rand, 4, 24);
    KH = KW = pick(rand, [3, 3, 5]);
    opts.groups = G;
    opts.padding = pick(rand, [0, 1, 2, 'same', 'valid']);
    if (rand() < 0.4) opts.stride = sp(rand, [1, 2]);
    if (rand() < 0.25) opts.dilation = pick(rand, [1, 2]);
    if (rand() < 0.2) opts.paddingMode = pick(rand, ['reflect', 'replicate', 'circular']);
  } else if (bucket < 0.3) { // pointwise 1×1 (straight to GEMM)
    N = ri(rand, 1, 3); G = 1; Cg = ri(rand, 1, 40); CoG = ri(rand, 1, 40);
    [H, W] = hw(rand, 16); KH = KW = 1;
  } else {
    N = ri(rand, 1, 3);
    ({ G, Cg, CoG } = groupsAndChannels(rand));
    [H, W] = hw(rand);
    if (rand() < 0.6) KH = KW = pick(rand, [1, 2, 3, 5]);
    else { KH = ri(rand, 1, 5); KW = ri(rand, 1, 5); }
    if (rand() < 0.4) opts.stride = sp(rand, [1, 2, 3]);
    if (rand() < 0.3) opts.dilation = sp(rand, [1, 2, 3]);
    opts.padding = convPaddingChoice(rand, 2);
    if (G > 1) opts.groups = G;
    opts.paddingMode = padMode(rand);
  }
  const C = G * Cg, Co = G * CoG;
  const x = R.T(U(rand, N * C * H * W), [N, C, H, W]);
  const w = R.T(U(rand, Co * Cg * KH * KW), [Co, Cg, KH, KW]);
  const b = rand() < 0.6 ? R.T(U(rand, Co), [Co]) : null;
  const want = R.conv2d(x, w, b, opts);
  return {
    desc: `x [${x.shape}] w [${w.shape}] bias ${!!b} ${J(opts)}`,
    run(nn, keep) {
      const y = keep(nn.ops.conv2d(tin(nn, keep, x), tin(nn, keep, w), tin(nn, keep, b), opts));
      check(y, want, 'y');
    },
  };
});

opTest('conv1d', 200, 102, (rand) => {
  const N = ri(rand, 1, 3);
  const { G, Cg, CoG } = groupsAndChannels(rand);
  const L = rand() < 0.1 ? 1 : ri(rand, 1, 20), K = ri(rand, 1, 5);
  const opts = {};
  if (rand() < 0.4) opts.stride = pick(rand, [1, 2, 3]);
  if (rand() < 0.3) opts.dilation = pick(rand, [1, 2, 3]);
  opts.padding = convPaddingChoice(rand, 1);
  if (G > 1) opts.groups = G;
  opts.paddingMode = padMode(rand);
  const C = G * Cg, Co = G * CoG;
  const x = R.T(U(rand, N * C * L), [N, C, L]);
  const w = R.T(U(rand, Co * Cg * K), [Co, Cg, K]);
  const b = rand() < 0.6 ? R.T(U(rand, Co), [Co]) : null;
  const want = R.conv1d(x, w, b, opts);
  return {
    desc: `x [${x.shape}] w [${w.shape}] bias ${!!b} ${J(opts)}`,
    run(nn, keep) {
      check(keep(nn.ops.conv1d(tin(nn, keep, x), tin(nn, keep, w), tin(nn, keep, b), opts)), want, 'y');
    },
  };
});

// ---------------------------------------------------------------------------------------------------------------
// Pooling

function poolInput(rand, n) {
  const r = rand();
  let a = U(rand, n), kind = 'uniform';
  if (r < 0.2) { kind = 'ties'; a = a.map((v) => Math.round(v * 2) / 2); } // many ties: the first maximum wins
  else if (r < 0.35) { kind = 'negative'; a = a.map((v) => -2 - Math.abs(v)); } // all-negative windows
  else if (r < 0.4) { kind = '-inf'; a = a.map((v) => (v < -0.5 ? -Infinity : v)); } // −inf inputs
  else if (r < 0.45) { kind = 'NaN'; a = a.map((v) => (v < -0.8 ? NaN : v)); } // NaN propagates (the last one's index)
  return { data: a, kind };
}
/** Pool planes: mostly small, sometimes wide (the SIMD interior columns). */
const poolHW = (rand) => (rand() < 0.2 ? [ri(rand, 1, 12), ri(rand, 14, 40)] : hw(rand, 13));

function poolOpts(rand, withDilation) {
  const opts = { kernel: sp(rand, [1, 2, 3, 4, 5]) };
  if (rand() < 0.6) opts.stride = sp(rand, [1, 2, 3]);
  if (rand() < 0.5) opts.padding = sp(rand, [0, 1, 2]);
  if (withDilation && rand() < 0.3) opts.dilation = sp(rand, [1, 2, 3]);
  if (rand() < 0.5) opts.ceilMode = true;
  return opts;
}

opTest('maxPool2d', 300, 201, (rand) => {
  const N = ri(rand, 1, 3), C = chan(rand), [H, W] = poolHW(rand);
  const opts = poolOpts(rand, true);
  const inp = poolInput(rand, N * C * H * W);
  const x = R.T(inp.data, [N, C, H, W]);
  const want = R.maxPool2d(x, opts);
  return {
    desc: `x [${x.shape}] (${inp.kind}) ${J(opts)}`,
    run(nn, keep) {
      const r = nn.ops.maxPool2d(tin(nn, keep, x), opts);
      keep(r.y); keep(r.indices);
      check(r.y, want.y, 'y');
      sameShape(r.indices.shape, want.indices.shape, 'indices');
      checkInt(r.indices, want.indices.data, 'indices');
      check(keep(nn.ops.maxPool2dValues(tin(nn, keep, x), opts)), want.y, 'maxPool2dValues y');
    },
  };
});

opTest('avgPool2d', 300, 202, (rand) => {
  const N = ri(rand, 1, 3), C = chan(rand), [H, W] = poolHW(rand);
  const opts = poolOpts(rand, false);
  if (rand() < 0.5) opts.countIncludePad = rand() < 0.5;
  if (rand() < 0.25) opts.divisorOverride = ri(rand, 1, 7);
  const x = R.T(U(rand, N * C * H * W), [N, C, H, W]);
  const want = R.avgPool2d(x, opts);
  return {
    desc: `x [${x.shape}] ${J(opts)}`,
    run(nn, keep) {
      check(keep(nn.ops.avgPool2d(tin(nn, keep, x), opts)), want, 'y');
    },
  };
});

opTest('globalAvgPool2d', 80, 203, (rand) => {
  const N = ri(rand, 1, 3), C = chan(rand), [H, W] = rand() < 0.1 ? [1, 1] : hw(rand, 16);
  const x = R.T(U(rand, N * C * H * W, -1, 2), [N, C, H, W]);
  const want = R.globalAvgPool2d(x);
  return {
    desc: `x [${x.shape}]`,
    run(nn, keep) {
      check(keep(nn.ops.globalAvgPool2d(tin(nn, keep, x))), want, 'y');
    },
  };
});

// ---------------------------------------------------------------------------------------------------------------
// Normalisation

/** Inputs with a random offset and scale (realistic activations, not zero-mean). */
function normInput(rand, n) {
  const off = rand() < 0.5 ? 0 : uniform(rand, 1, -3, 3)[0];
  const scale = pick(rand, [0.5, 1, 2]);
  return U(rand, n, off - scale, off + scale);
}

opTest('batchNorm2d', 200, 301, (rand) => {
  const training = rand() < 0.6;
  const N = ri(rand, 1, 4), C = chan(rand), [H, W] = rand() < 0.15 ? [ri(rand, 9, 24), ri(rand, 9, 24)] : hw(rand, 8);
  const x = R.T(normInput(rand, N * C * H * W), [N, C, H, W]);
  const gamma = rand() < 0.8 ? R.T(U(rand, C, 0.5, 1.5), [C]) : null;
  const beta = rand() < 0.8 ? R.T(U(rand, C), [C]) : null;
  const withRunning = !training || rand() < 0.8;
  const rm = withRunning ? R.T(U(rand, C), [C]) : null;
  const rv = withRunning ? R.T(U(rand, C, 0.2, 2), [C]) : null;
  const opts = { training };
  if (rand() < 0.5) opts.momentum = pick(rand, [0.1, 0.3, 0.01]);
  if (rand() < 0.5) opts.eps = pick(rand, [1e-5, 1e-3]);
  const want = R.batchNorm2d(x, gamma, beta, rm, rv, opts);
  return {
    desc: `x [${x.shape}] gamma ${!!gamma} beta ${!!beta} running ${withRunning} ${J(opts)}`,
    run(nn, keep) {
      const rmT = tin(nn, keep, rm), rvT = tin(nn, keep, rv);
      const r = nn.ops.batchNorm2d(tin(nn, keep, x), tin(nn, keep, gamma), tin(nn, keep, beta), rmT, rvT, opts);
      keep(r.y); keep(r.mean); keep(r.invStd);
      check(r.y, want.y, 'y');
      check(r.mean, want.mean, 'mean');
      check(r.invStd, want.invStd, 'invStd');
      if (rmT) { check(rmT, want.runningMean, 'runningMean (in place)'); check(rvT, want.runningVar, 'runningVar (in place)'); }
    },
  };
});

opTest('layerNorm', 150, 302, (rand) => {
  const rank = ri(rand, 2, 4);
  const shape = Array.from({ length: rank }, () => (rand() < 0.15 ? 1 : ri(rand, 1, 9)));
  if (rand() < 0.15) shape[rank - 1] = ri(rand, 30, 130);
  const k = ri(rand, 1, rank - 1);
  const ns = shape.slice(rank - k);
  const x = R.T(normInput(rand, R.prod(shape)), shape);
  const affine = rand() < 0.7;
  const gamma = affine ? R.T(U(rand, R.prod(ns), 0.5, 1.5), ns) : null;
  const beta = affine && rand() < 0.8 ? R.T(U(rand, R.prod(ns)), ns) : null;
  const opts = rand() < 0.5 ? { eps: pick(rand, [1e-5, 1e-3]) } : {};
  const want = R.layerNorm(x, ns, gamma, beta, opts);
  return {
    desc: `x [${shape}] normalizedShape [${ns}] gamma ${!!gamma} beta ${!!beta} ${J(opts)}`,
    run(nn, keep) {
      const r = nn.ops.layerNorm(tin(nn, keep, x), ns, tin(nn, keep, gamma), tin(nn, keep, beta), opts);
      keep(r.y); keep(r.mean); keep(r.invStd);
      check(r.y, want.y, 'y');
      // Values only here; the stats' shape has its own test below, so that a shape mismatch hides no wrong value.
      check(r.mean, want.mean, 'mean', { shape: false });
      check(r.invStd, want.invStd, 'invStd', { shape: false });
    },
  };
});

test('layerNorm: mean/invStd shaped [leading dims, 1 per normalized dim] (PyTorch native_layer_norm), 4 shapes', async () => {
  const nn = await getEngine();
  await checkNoLeak(nn, () => {
    for (const [shape, ns] of [[[2, 3, 4], [4]], [[2, 3, 4], [3, 4]], [[5, 7], [7]], [[2, 1, 3, 2], [2]]]) {
      const x = nn.tensor(new Float32Array(R.prod(shape)).map((_, i) => Math.sin(i)), shape);
      const r = nn.ops.layerNorm(x, ns, null, null);
      try {
        const lead = [...shape.slice(0, shape.length - ns.length), ...ns.map(() => 1)];
        sameShape(r.mean.shape, lead, `x [${shape}] normalizedShape [${ns}]: mean`);
        sameShape(r.invStd.shape, lead, `x [${shape}] normalizedShape [${ns}]: invStd`);
      } finally {
        disposeAll([x, r]);
      }
    }
  });
});

opTest('groupNorm', 150, 303, (rand) => {
  const G = pick(rand, [1, 2, 3, 4, 5]), Cg = pick(rand, [1, 2, 3, 5]);
  const N = ri(rand, 1, 3), C = G * Cg, [H, W] = hw(rand, 8);
  const x = R.T(normInput(rand, N * C * H * W), [N, C, H, W]);
  const gamma = rand() < 0.7 ? R.T(U(rand, C, 0.5, 1.5), [C]) : null;
  const beta = rand() < 0.7 ? R.T(U(rand, C), [C]) : null;
  const opts = rand() < 0.5 ? { eps: pick(rand, [1e-5, 1e-3]) } : {};
  const want = R.groupNorm(x, G, gamma, beta, opts);
  return {
    desc: `x [${x.shape}] groups ${G} gamma ${!!gamma} beta ${!!beta} ${J(opts)}`,
    run(nn, keep) {
      const r = nn.ops.groupNorm(tin(nn, keep, x), G, tin(nn, keep, gamma), tin(nn, keep, beta), opts);
      keep(r.y); keep(r.mean); keep(r.invStd);
      check(r.y, want.y, 'y');
      check(r.mean, want.mean, 'mean', { shape: false });
      check(r.invStd, want.invStd, 'invStd', { shape: false });
    },
  };
});

opTest('instanceNorm', 150, 304, (rand) => {
  const N = ri(rand, 1, 3), C = chan(rand), [H, W] = hw(rand, 9);
  const x = R.T(normInput(rand, N * C * H * W), [N, C, H, W]);
  const gamma = rand() < 0.6 ? R.T(U(rand, C, 0.5, 1.5), [C]) : null;
  const beta = rand() < 0.6 ? R.T(U(rand, C), [C]) : null;
  const opts = rand() < 0.5 ? { eps: pick(rand, [1e-5, 1e-3]) } : {};
  const want = R.instanceNorm(x, gamma, beta, opts);
  return {
    desc: `x [${x.shape}] gamma ${!!gamma} beta ${!!beta} ${J(opts)}`,
    run(nn, keep) {
      const r = nn.ops.instanceNorm(tin(nn, keep, x), tin(nn, keep, gamma), tin(nn, keep, beta), opts);
      keep(r.y); keep(r.mean); keep(r.invStd);
      check(r.y, want.y, 'y');
      check(r.mean, want.mean, 'mean', { shape: false });
      check(r.invStd, want.invStd, 'invStd', { shape: false });
    },
  };
});

// ---------------------------------------------------------------------------------------------------------------
// Activations

const SPECIAL = [0, -0, Infinity, -Infinity, NaN, 1e-30, -1e-30, 88, -88, 1e4, -1e4];

function actInput(rand) {
  const rank = ri(rand, 1, 4);
  const shape = Array.from({ length: rank }, () => ri(rand, 1, 9));
  if (rand() < 0.2) shape[rank - 1] = ri(rand, 50, 300);
  const n = R.prod(shape);
  const r = rand();
  let kind = 'uniform ±3', a = U(rand, n, -3, 3);
  if (r < 0.2) { kind = 'uniform ±40'; a = U(rand, n, -40, 40); }
  else if (r < 0.3) {
    kind = 'special values';
    for (let i = 0; i < n; i++) if (rand() < 0.3) a[i] = pick(rand, SPECIAL);
  }
  return { x: R.T(a, shape), kind };
}

function actTest(name, count, seed, refFn, engineFn, withSlope) {
  opTest(name, count, seed, (rand) => {
    const { x, kind } = actInput(rand);
    const slope = withSlope && rand() < 0.8 ? Math.fround(pick(rand, [0.01, 0.1, 0.2, 0.333, 0.5])) : undefined;
    const want = slope === undefined ? refFn(x) : refFn(x, slope);
    return {
      desc: `x [${x.shape}] (${kind})${withSlope ? ` slope ${slope ?? 'default'}` : ''}`,
      run(nn, keep) {
        check(keep(engineFn(nn, tin(nn, keep, x), slope)), want, 'y');
      },
    };
  });
}

actTest('relu', 60, 401, R.relu, (nn, x) => nn.ops.relu(x));
actTest('leakyRelu', 60, 402, R.leakyRelu, (nn, x, s) => (s === undefined ? nn.ops.leakyRelu(x) : nn.ops.leakyRelu(x, s)), true);
actTest('sigmoid', 60, 403, R.sigmoid, (nn, x) => nn.ops.sigmoid(x));
actTest('tanh', 60, 404, R.tanh, (nn, x) => nn.ops.tanh(x));

// ---------------------------------------------------------------------------------------------------------------
// Dense and loss

opTest('linear', 200, 501, (rand) => {
  let N, I, O;
  const bucket = rand();
  if (bucket < 0.15) { N = ri(rand, 16, 70); I = ri(rand, 30, 300); O = ri(rand, 10, 70); }
  else if (bucket < 0.2) { N = ri(rand, 73, 150); I = ri(rand, 257, 300); O = ri(rand, 513, 560); } // past every GEMM block
  else { N = ri(rand, 1, 9); I = rand() < 0.5 ? chan(rand) : ri(rand, 1, 40); O = rand() < 0.5 ? chan(rand) : ri(rand, 1, 40); }
  const x = R.T(U(rand, N * I), [N, I]);
  const w = R.T(U(rand, O * I), [O, I]);
  const b = rand() < 0.7 ? R.T(U(rand, O), [O]) : null;
  const want = R.linear(x, w, b);
  return {
    desc: `x [${x.shape}] w [${w.shape}] bias ${!!b}`,
    run(nn, keep) {
      check(keep(nn.ops.linear(tin(nn, keep, x), tin(nn, keep, w), tin(nn, keep, b))), want, 'y');
    },
  };
});

opTest('softmaxCrossEntropy', 150, 502, (rand) => {
  const N = ri(rand, 1, 9), K = rand() < 0.2 ? ri(rand, 50, 120) : ri(rand, 1, 13);
  const scale = pick(rand, [1, 5, 30]);
  const logits = R.T(U(rand, N * K, -scale, scale), [N, K]);
  const labels = Array.from({ length: N }, () => ri(rand, 0, K - 1));
  const want = R.softmaxCrossEntropy(logits, labels);
  // dlogits of the mean loss: (softmax − onehot)/N.
  const dl = want.probs.data.map((p, i) => (p - (labels[Math.floor(i / K)] === i % K ? 1 : 0)) / N);
  return {
    desc: `logits [${logits.shape}] scale ±${scale}`,
    run(nn, keep) {
      const r = nn.ops.softmaxCrossEntropy(tin(nn, keep, logits), keep(nn.tensor(labels, [N], 'int32')));
      keep(r.dlogits); keep(r.probs);
      if (typeof r.loss !== 'number') throw new Error(`loss: ${typeof r.loss}, expected a number`);
      assertClose([r.loss], [want.loss], 'loss');
      check(r.probs, want.probs, 'probs');
      check(r.dlogits, R.T(dl, [N, K]), 'dlogits');
    },
  };
});

// ---------------------------------------------------------------------------------------------------------------
// Optimizers: several steps on one parameter, state passed from call to call, param checked after every step.

function optimTest(name, count, seed, drawOpts, refStep, engineStep) {
  opTest(name, count, seed, (rand) => {
    const n = rand() < 0.2 ? ri(rand, 100, 400) : ri(rand, 1, 40);
    const steps = ri(rand, 1, 6);
    const opts = drawOpts(rand);
    const p0 = U(rand, n);
    const grads = Array.from({ length: steps }, () => U(rand, n, -pick(rand, [0.01, 1, 3]), pick(rand, [0.01, 1, 3])));
    const want = [];
    let p = p0, st = null;
    for (const g of grads) { ({ param: p, state: st } = refStep(p, g, st, opts)); want.push(p); }
    return {
      desc: `n ${n} steps ${steps} ${J(opts)}`,
      async run(nn, keep) {
        const param = keep(nn.tensor(p0, [n]));
        let state = null;
        try {
          for (let s = 0; s < steps; s++) {
            const g = keep(nn.tensor(grads[s], [n]));
            state = engineStep(nn, param, g, state, opts);
            assertClose(param.read(), want[s], `param after step ${s + 1}`);
          }
        } finally {
          disposeAll(state);
        }
      },
    };
  });
}

optimTest('sgdStep', 150, 601, (rand) => {
  const o = { lr: pick(rand, [0.1, 0.01, 0.5]) };
  if (rand() < 0.7) o.momentum = pick(rand, [0.9, 0.5, 0.99]);
  if (o.momentum && rand() < 0.4) o.dampening = pick(rand, [0.1, 0.5]);
  if (o.momentum && !o.dampening && rand() < 0.4) o.nesterov = true;
  if (rand() < 0.5) o.weightDecay = pick(rand, [1e-4, 0.01, 0.1]);
  return o;
}, R.sgdStep, (nn, p, g, s, o) => nn.ops.sgdStep(p, g, s, o));

optimTest('adamStep', 150, 602, (rand) => {
  const o = {};
  if (rand() < 0.7) o.lr = pick(rand, [1e-3, 1e-2, 0.1]);
  if (rand() < 0.4) o.beta1 = pick(rand, [0.9, 0.5, 0]);
  if (rand() < 0.4) o.beta2 = pick(rand, [0.999, 0.9, 0.99]);
  if (rand() < 0.4) o.eps = pick(rand, [1e-8, 1e-6, 1e-3]);
  if (rand() < 0.6) { o.weightDecay = pick(rand, [1e-4, 0.01, 0.1]); o.decoupled = rand() < 0.5; }
  return o;
}, R.adamStep, (nn, p, g, s, o) => nn.ops.adamStep(p, g, s, o));

test.run();
