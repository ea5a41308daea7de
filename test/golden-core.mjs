// The op golden suite's core, shared by Node (test/golden.test.mjs) and the browser page (test/browser/
// golden-cases.mjs): decoding a case of test/fixtures/golden/*.json (PyTorch, float64 → float32), running it through
// nn.ops (one runner per op) and comparing every output with DESIGN.md's rule |got − want| ≤ 1e-4·(|want| + max|want|)
// (int32 outputs and non-finite values exactly), with nn.memory() back to its baseline after each case.
// Platform-neutral: atob and typed arrays only.

const RTOL = 1e-4;

/** A fixture array ({ shape, dtype, data: base64 little-endian }) as a Float32Array / Int32Array. */
export function decode(a) {
  const bin = atob(a.data);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  const n = a.shape.reduce((p, d) => p * d, 1);
  if (bytes.length !== 4 * n) throw new Error(`fixture array of shape [${a.shape}] has ${bytes.length} bytes`);
  const view = new DataView(bytes.buffer);
  const out = a.dtype === 'int32' ? new Int32Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = a.dtype === 'int32' ? view.getInt32(4 * i, true) : view.getFloat32(4 * i, true);
  return out;
}

/** DESIGN.md's rule over one array; returns an error message or null. */
function closeError(got, want, name) {
  if (got.length !== want.length) return `${name}: length ${got.length}, expected ${want.length}`;
  let maxAbs = 0;
  for (let i = 0; i < want.length; i++) if (Number.isFinite(want[i])) maxAbs = Math.max(maxAbs, Math.abs(want[i]));
  for (let i = 0; i < want.length; i++) {
    const g = got[i], w = want[i];
    if (!Number.isFinite(w) || !Number.isFinite(g)) {
      if (!(Object.is(g, w) || (Number.isNaN(g) && Number.isNaN(w)))) return `${name}[${i}]: got ${g}, expected ${w} (non-finite values must match exactly)`;
      continue;
    }
    const tol = RTOL * (Math.abs(w) + maxAbs);
    if (!(Math.abs(g - w) <= tol)) return `${name}[${i}]: got ${g}, expected ${w}, |diff| ${Math.abs(g - w)} > tol ${tol}`;
  }
  return null;
}

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

const norm = (forward, backward) => ({ ops }, c, T, own) => {
  const x = T('x'), gamma = T('gamma'), beta = T('beta'), dy = T('dy');
  const f = own(forward(ops, c, x, gamma, beta));
  const g = own(backward(ops, c, dy, x, gamma, f));
  return { y: f.y, mean: f.mean, invStd: f.invStd, dx: g.dx, dgamma: g.dgamma, dbeta: g.dbeta };
};

// Each runner calls the ops for one case and returns { outputName: Tensor | typed array | number | null }.
export const RUNNERS = {
  conv2d: convRunner('conv2d'),
  conv1d: convRunner('conv1d'),
  maxPool2d({ ops }, c, T, own) {
    const x = T('x'), dy = T('dy');
    const { y, indices } = own(ops.maxPool2d(x, c.opts));
    // The values-only forward (inference) must give the same y.
    const yValues = own(ops.maxPool2dValues(x, c.opts));
    return { y, yValues: yValues.read(), indices, dx: own(ops.maxPool2dBackward(dy, indices, x.shape)) };
  },
  avgPool2d({ ops }, c, T, own) {
    const x = T('x'), dy = T('dy');
    return { y: own(ops.avgPool2d(x, c.opts)), dx: own(ops.avgPool2dBackward(dy, x.shape, c.opts)) };
  },
  globalAvgPool2d({ ops }, c, T, own) {
    const x = T('x'), dy = T('dy');
    return { y: own(ops.globalAvgPool2d(x)), dx: own(ops.globalAvgPool2dBackward(dy, x.shape)) };
  },
  batchNorm2d({ ops }, c, T, own) {
    const x = T('x'), gamma = T('gamma'), beta = T('beta'), dy = T('dy');
    const runningMean = T('runningMean'), runningVar = T('runningVar');
    const f = own(ops.batchNorm2d(x, gamma, beta, runningMean, runningVar, c.opts));
    const g = own(ops.batchNorm2dBackward(dy, x, gamma, f.mean, f.invStd, { training: c.opts.training }));
    return { y: f.y, mean: f.mean, invStd: f.invStd, runningMean, runningVar, dx: g.dx, dgamma: g.dgamma, dbeta: g.dbeta };
  },
  layerNorm: norm(
    (ops, c, x, gamma, beta) => { const { normalizedShape, ...o } = c.opts; return ops.layerNorm(x, normalizedShape, gamma, beta, o); },
    (ops, c, dy, x, gamma, f) => ops.layerNormBackward(dy, x, c.opts.normalizedShape, gamma, { mean: f.mean, invStd: f.invStd })),
  groupNorm: norm(
    (ops, c, x, gamma, beta) => { const { groups, ...o } = c.opts; return ops.groupNorm(x, groups, gamma, beta, o); },
    (ops, c, dy, x, gamma, f) => ops.groupNormBackward(dy, x, c.opts.groups, gamma, { mean: f.mean, invStd: f.invStd })),
  instanceNorm: norm(
    (ops, c, x, gamma, beta) => ops.instanceNorm(x, gamma, beta, c.opts),
    (ops, c, dy, x, gamma, f) => ops.instanceNormBackward(dy, x, gamma, { mean: f.mean, invStd: f.invStd })),
  relu({ ops }, c, T, own) {
    const x = T('x'), dy = T('dy');
    return { y: own(ops.relu(x)), dx: own(ops.reluBackward(dy, x)) };
  },
  leakyRelu({ ops }, c, T, own) {
    const x = T('x'), dy = T('dy');
    const hasSlope = 'slope' in c.opts;
    return {
      y: own(hasSlope ? ops.leakyRelu(x, c.opts.slope) : ops.leakyRelu(x)),
      dx: own(ops.leakyReluBackward(dy, x, hasSlope ? c.opts.slope : 0.01)),
    };
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

// Outputs whose shape the contract pins down only by size.
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
      if (data.length !== wantData.length) errors.push(`${key}: size ${data.length}, expected ${wantData.length}`);
    } else if (shape.join(',') !== want.shape.join(',')) {
      errors.push(`${key}: shape [${shape}], expected [${want.shape}]`);
      return;
    }
    if (got.dtype !== want.dtype) errors.push(`${key}: dtype ${got.dtype}, expected ${want.dtype}`);
  }
  if (want.dtype === 'int32') {
    let bad = 0, first = -1;
    if (data.length !== wantData.length) { errors.push(`${key}: length ${data.length}, expected ${wantData.length}`); return; }
    for (let i = 0; i < wantData.length; i++) if (data[i] !== wantData[i]) { bad++; if (first < 0) first = i; }
    if (bad) errors.push(`${key}: ${bad} of ${wantData.length} differ; first [${first}]: got ${data[first]}, expected ${wantData[first]}`);
    return;
  }
  const e = closeError(data, wantData, key);
  if (e) errors.push(e);
}

function disposeAll(value) {
  if (value == null) return;
  if (typeof value.dispose === 'function') { value.dispose(); return; }
  if (Array.isArray(value)) { value.forEach(disposeAll); return; }
  if (typeof value === 'object') for (const v of Object.values(value)) disposeAll(v);
}

/** Runs one case; returns a list of errors (empty when it passes). */
export function runCase(nn, op, c) {
  const runner = RUNNERS[op];
  if (!runner) return [`no runner for op '${op}' in test/golden-core.mjs`];
  const errors = [];
  const before = nn.memory();
  const owned = new Set();
  const own = (v) => { if (v != null && typeof v === 'object') owned.add(v); return v; };
  const T = (name) => { const a = c.inputs[name]; return a ? own(nn.tensor(decode(a), a.shape, a.dtype)) : null; };
  try {
    const got = runner(nn, c, T, own);
    for (const [key, want] of Object.entries(c.outputs)) compare(key, got[key], want, errors);
    if (got.yValues) compare('maxPool2dValues y', got.yValues, c.outputs.y, errors);
    const turnedOff = op === 'conv2d' || op === 'conv1d'
      ? { dx: c.flags.input === false, dw: c.flags.weight === false, db: !c.flags.bias }
      : op === 'linear' ? { db: !c.flags.bias } : {};
    for (const [key, off] of Object.entries(turnedOff)) if (off && got[key] != null) errors.push(`${key}: present but the case turns it off`);
  } catch (e) {
    errors.push(`threw: ${e.message}`);
  } finally {
    for (const v of owned) disposeAll(v);
  }
  const after = nn.memory();
  if (after.tensors !== before.tensors || after.bytes !== before.bytes) {
    errors.push(`leak: ${after.tensors} tensors / ${after.bytes} bytes after vs ${before.tensors} / ${before.bytes} before`);
  }
  return errors;
}

