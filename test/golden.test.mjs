// Golden tests: every case of test/fixtures/golden/*.json (written by test/fixtures/gen.py from PyTorch, computed
// in float64 and stored as float32) is run through nn.ops and every output compared with DESIGN.md's rule
// (indices and other int32 outputs exactly). One uvu test per case, named `<op>: <case name>`; each case disposes
// everything it created and checks that nn.memory() is back to its baseline.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, readdirSync } from 'node:fs';
import { getEngine, assertClose, checkNoLeak, disposeAll } from './helpers.mjs';

const DIR = new URL('./fixtures/golden/', import.meta.url);

/** A fixture array ({shape, dtype, data: base64 little-endian}) as a Float32Array / Int32Array. */
function decode(a) {
  const bytes = Buffer.from(a.data, 'base64');
  const n = a.shape.reduce((p, d) => p * d, 1);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = a.dtype === 'int32' ? new Int32Array(n) : new Float32Array(n);
  if (bytes.byteLength !== 4 * n) throw new Error(`fixture array of shape [${a.shape}] has ${bytes.byteLength} bytes`);
  for (let i = 0; i < n; i++) out[i] = a.dtype === 'int32' ? view.getInt32(4 * i, true) : view.getFloat32(4 * i, true);
  return out;
}

// Each runner calls the ops for one case and returns { outputName: Tensor | number | null }.
// `T(name)` makes a tensor from the case's input `name` (null when the case has none); `own(v)` registers a
// result (tensor, object of tensors or optimizer state) for disposal and returns it.
const RUNNERS = {
  conv2d: convRunner('conv2d'),
  conv1d: convRunner('conv1d'),

  maxPool2d({ ops }, c, T, own) {
    const x = T('x'), dy = T('dy');
    const { y, indices } = own(ops.maxPool2d(x, c.opts));
    const dx = own(ops.maxPool2dBackward(dy, indices, x.shape));
    // The values-only forward (inference) must give the same y.
    const yValues = own(ops.maxPool2dValues(x, c.opts));
    assertClose(yValues.read(), y.read(), `maxPool2dValues ${c.name}`);
    return { y, indices, dx };
  },

  avgPool2d({ ops }, c, T, own) {
    const x = T('x'), dy = T('dy');
    const y = own(ops.avgPool2d(x, c.opts));
    const dx = own(ops.avgPool2dBackward(dy, x.shape, c.opts));
    return { y, dx };
  },

  globalAvgPool2d({ ops }, c, T, own) {
    const x = T('x'), dy = T('dy');
    const y = own(ops.globalAvgPool2d(x));
    const dx = own(ops.globalAvgPool2dBackward(dy, x.shape));
    return { y, dx };
  },

  batchNorm2d({ ops }, c, T, own) {
    const x = T('x'), gamma = T('gamma'), beta = T('beta'), dy = T('dy');
    const runningMean = T('runningMean'), runningVar = T('runningVar');
    const f = own(ops.batchNorm2d(x, gamma, beta, runningMean, runningVar, c.opts));
    const g = own(ops.batchNorm2dBackward(dy, x, gamma, f.mean, f.invStd, { training: c.opts.training }));
    return { y: f.y, mean: f.mean, invStd: f.invStd, runningMean, runningVar, dx: g.dx, dgamma: g.dgamma, dbeta: g.dbeta };
  },

  layerNorm({ ops }, c, T, own) {
    const { normalizedShape, ...opts } = c.opts;
    const x = T('x'), gamma = T('gamma'), beta = T('beta'), dy = T('dy');
    const f = own(ops.layerNorm(x, normalizedShape, gamma, beta, opts));
    const g = own(ops.layerNormBackward(dy, x, normalizedShape, gamma, { mean: f.mean, invStd: f.invStd }));
    return { y: f.y, mean: f.mean, invStd: f.invStd, dx: g.dx, dgamma: g.dgamma, dbeta: g.dbeta };
  },

  groupNorm({ ops }, c, T, own) {
    const { groups, ...opts } = c.opts;
    const x = T('x'), gamma = T('gamma'), beta = T('beta'), dy = T('dy');
    const f = own(ops.groupNorm(x, groups, gamma, beta, opts));
    const g = own(ops.groupNormBackward(dy, x, groups, gamma, { mean: f.mean, invStd: f.invStd }));
    return { y: f.y, mean: f.mean, invStd: f.invStd, dx: g.dx, dgamma: g.dgamma, dbeta: g.dbeta };
  },

  instanceNorm({ ops }, c, T, own) {
    const x = T('x'), gamma = T('gamma'), beta = T('beta'), dy = T('dy');
    const f = own(ops.instanceNorm(x, gamma, beta, c.opts));
    const g = own(ops.instanceNormBackward(dy, x, gamma, { mean: f.mean, invStd: f.invStd }));
    return { y: f.y, mean: f.mean, invStd: f.invStd, dx: g.dx, dgamma: g.dgamma, dbeta: g.dbeta };
  },

  relu({ ops }, c, T, own) {
    const x = T('x'), dy = T('dy');
    return { y: own(ops.relu(x)), dx: own(ops.reluBackward(dy, x)) };
  },

  leakyRelu({ ops }, c, T, own) {
    const x = T('x'), dy = T('dy');
    const hasSlope = 'slope' in c.opts;
    const y = own(hasSlope ? ops.leakyRelu(x, c.opts.slope) : ops.leakyRelu(x));
    const dx = own(ops.leakyReluBackward(dy, x, hasSlope ? c.opts.slope : 0.01));
    return { y, dx };
  },

  sigmoid({ ops }, c, T, own) {
    const x = T('x'), dy = T('dy');
    const y = own(ops.sigmoid(x));
    return { y, dx: own(ops.sigmoidBackward(dy, y)) };
  },

  tanh({ ops }, c, T, own) {
    const x = T('x'), dy = T('dy');
    const y = own(ops.tanh(x));
    return { y, dx: own(ops.tanhBackward(dy, y)) };
  },

  linear({ ops }, c, T, own) {
    const x = T('x'), w = T('w'), b = T('b'), dy = T('dy');
    const y = own(ops.linear(x, w, b));
    const g = own(ops.linearBackward(dy, x, w, c.flags));
    return { y, dx: g.dx, dw: g.dw, db: g.db };
  },

  softmaxCrossEntropy({ ops }, c, T, own) {
    const r = own(ops.softmaxCrossEntropy(T('logits'), T('labels')));
    return { loss: r.loss, probs: r.probs, dlogits: r.dlogits };
  },

  sgdStep: optimRunner('sgdStep'),
  adamStep: optimRunner('adamStep'),
};

function convRunner(op) {
  return ({ ops }, c, T, own) => {
    const x = T('x'), w = T('w'), b = T('b'), dy = T('dy');
    const y = own(ops[op](x, w, b, c.opts));
    const g = own(ops[`${op}Backward`](dy, x, w, c.opts, c.flags));
    return { y, dx: g.dx, dw: g.dw, db: g.db };
  };
}

function optimRunner(op) {
  return ({ ops }, c, T, own) => {
    const param = T('param');
    const out = {};
    let state = null;
    for (let step = 1; `grad${step}` in c.inputs; step++) {
      state = ops[op](param, T(`grad${step}`), state, c.opts);
      if (state != null) own(state);
      out[`param${step}`] = param.read();
    }
    return out;
  };
}

// Gradients a case turns off (backward flags) or cannot have (no bias) must be absent from the result.
const ABSENT_WHEN = {
  conv2d: c => ({ dx: c.flags.input === false, dw: c.flags.weight === false, db: !c.flags.bias }),
  conv1d: c => ({ dx: c.flags.input === false, dw: c.flags.weight === false, db: !c.flags.bias }),
  linear: c => ({ db: !c.flags.bias }),
};

// Outputs whose shape is not pinned down by the contract beyond their size.
const SIZE_ONLY = new Set(['mean', 'invStd']);

function compare(key, got, want, errors) {
  if (got == null) { errors.push(`${key}: missing from the op's result`); return; }
  const wantData = decode(want);
  let data;
  if (typeof got === 'number') data = [got];
  else if (ArrayBuffer.isView(got)) data = got;
  else {
    data = got.read();
    const shape = Array.from(got.shape);
    if (SIZE_ONLY.has(key)) {
      if (data.length !== wantData.length) errors.push(`${key}: size ${data.length} (shape [${shape}]), expected ${wantData.length} ([${want.shape}])`);
    } else if (shape.join(',') !== want.shape.join(',')) {
      errors.push(`${key}: shape [${shape}], expected [${want.shape}]`);
      return;
    }
    if (got.dtype !== want.dtype) errors.push(`${key}: dtype ${got.dtype}, expected ${want.dtype}`);
  }
  if (want.dtype === 'int32') {
    if (data.length !== wantData.length) { errors.push(`${key}: length ${data.length}, expected ${wantData.length}`); return; }
    let bad = 0, first = -1;
    for (let i = 0; i < wantData.length; i++) if (data[i] !== wantData[i]) { bad++; if (first < 0) first = i; }
    if (bad) errors.push(`${key}: ${bad} of ${wantData.length} differ; first [${first}]: got ${data[first]}, expected ${wantData[first]}`);
    return;
  }
  try {
    assertClose(data, wantData, key);
  } catch (e) {
    errors.push(e.message);
  }
}

const files = readdirSync(DIR).filter(f => f.endsWith('.json')).sort();
for (const file of files) {
  const fixture = JSON.parse(readFileSync(new URL(file, DIR), 'utf8'));
  const op = fixture.op;
  const runner = RUNNERS[op];
  for (const c of fixture.cases) {
    test(`${op}: ${c.name}`, async () => {
      assert.ok(runner, `no runner for op '${op}' (${file})`);
      const nn = await getEngine();
      const errors = [];
      let bodyDone = false;
      try {
        await checkNoLeak(nn, () => {
          const owned = new Set();
          const own = v => { if (v != null && typeof v === 'object') owned.add(v); return v; };
          const T = name => {
            const a = c.inputs[name];
            return a ? own(nn.tensor(decode(a), a.shape, a.dtype)) : null;
          };
          try {
            const got = runner(nn, c, T, own);
            for (const [key, want] of Object.entries(c.outputs)) compare(key, got[key], want, errors);
            const absent = ABSENT_WHEN[op]?.(c) ?? {};
            for (const [key, mustBeAbsent] of Object.entries(absent)) {
              if (mustBeAbsent && got[key] != null) errors.push(`${key}: present but the case turns it off (flags ${JSON.stringify(c.flags)})`);
            }
          } finally {
            for (const v of owned) disposeAll(v);
          }
          bodyDone = true;
        });
      } catch (e) {
        if (!bodyDone) throw e;   // the op itself threw
        errors.push(e.message);   // the leak check failed
      }
      if (errors.length) assert.unreachable(errors.join('\n'));
    });
  }
}

test.run();
