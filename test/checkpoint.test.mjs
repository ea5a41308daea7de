// Checkpoints: model.save() → nn.load() round trips (identical predictions, architecture, running statistics),
// the safetensors layout, atomic saveFile/loadFile, and rejection of truncated, corrupt or mismatched files
// without touching the model. PyTorch-written files are tested in train-e2e.test.mjs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getEngine, checkNoLeak, rng, uniform } from './helpers.mjs';

const randArr = (seed, n, lo = -1, hi = 1) => Float32Array.from(uniform(rng(seed), n, lo, hi));

function makeModel(nn, seed = 4) {
  const L = nn.layers;
  return nn.sequential([
    L.conv2d(4, 3, { padding: 'same', paddingMode: 'replicate' }), L.batchNorm2d(), L.relu(), L.maxPool2d({ kernel: 2, ceilMode: true }),
    L.conv2d(6, [3, 1], { groups: 2, bias: false }), L.groupNorm(3), L.leakyRelu(0.05), L.avgPool2d(2, { countIncludePad: false }),
    L.flatten(), L.dropout(0.25), L.linear(8), L.batchNorm1d({ momentum: 0.3 }), L.tanh(), L.layerNorm(), L.linear(3),
  ], { inputShape: [2, 9, 7], seed });
}

/** A model trained for a few steps, so weights and running statistics are not the initial ones. */
async function trained(nn) {
  const m = makeModel(nn);
  const opt = nn.optim.adam({ lr: 0.01 });
  const r = rng(3);
  await m.fit({ x: uniform(r, 24 * 126), y: Int32Array.from({ length: 24 }, (_, i) => i % 3) },
              { optimizer: opt, epochs: 2, batchSize: 8, verbose: 0 });
  opt.dispose();
  return m;
}

function header(bytes) {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return { n, json: JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) };
}

test('save → load: the same architecture, weights, running statistics and identical predictions', async () => {
  const nn = await getEngine();
  await checkNoLeak(nn, async () => {
    const m = await trained(nn);
    const bytes = m.save();
    const back = nn.load(bytes);
    assert.equal(back.toJSON(), m.toJSON());
    assert.is(back.seed, m.seed);
    for (const [k, t] of m.stateDict()) assert.equal(back.stateDict().get(k).read(), t.read(), k);
    assert.is(back.layers[1].numBatchesTracked, m.layers[1].numBatchesTracked);
    assert.is(back.layers[1].numBatchesTracked, 6);
    const x = nn.tensor(randArr(8, 5 * 126), [5, 2, 9, 7]);
    const a = m.predict(x), b = back.predict(x);
    assert.equal(b.read(), a.read());
    // The loaded model trains on from there like the original.
    const buf = nn.load(back.save());
    assert.equal(buf.save(), back.save());
    for (const t of [x, a, b]) t.dispose();
    for (const mm of [m, back, buf]) mm.dispose();
  });
});

test('the file is standard safetensors: PyTorch state_dict names, F32 tensors, int64 num_batches_tracked, aligned header', async () => {
  const nn = await getEngine();
  await checkNoLeak(nn, () => {
    const m = makeModel(nn);
    const bytes = m.save();
    const { n, json } = header(bytes);
    assert.is(n % 8, 0, 'header padded to 8 bytes');
    assert.is(json.__metadata__.format, 'pt');
    const arch = JSON.parse(json.__metadata__['simdnn.architecture']);
    assert.is(arch.format, 'simdnn.sequential');
    assert.equal(arch.inputShape, [2, 9, 7]);
    assert.equal(json['0.weight'], { dtype: 'F32', shape: [4, 2, 3, 3], data_offsets: json['0.weight'].data_offsets });
    assert.equal(json['1.num_batches_tracked'].dtype, 'I64');
    assert.equal(json['1.num_batches_tracked'].shape, []);
    assert.equal(json['11.running_var'].shape, [8]);
    assert.ok(!('4.bias' in json));
    const names = Object.keys(json).filter((k) => k !== '__metadata__');
    assert.equal(names.sort(), [...m.stateDict().keys(), '1.num_batches_tracked', '11.num_batches_tracked'].sort());
    // Data offsets tile the data section exactly.
    const spans = names.map((k) => json[k].data_offsets).sort((p, q) => p[0] - q[0]);
    let at = 0;
    for (const [b, e] of spans) { assert.is(b, at); at = e; }
    assert.is(8 + n + at, bytes.length);
    m.dispose();
  });
});

test('saveFile / loadFile: atomic (temporary file + rename), overwrites, leaves no temporary files, fails cleanly', async () => {
  const nn = await getEngine();
  const dir = mkdtempSync(join(tmpdir(), 'simdnn-ckpt-'));
  try {
    await checkNoLeak(nn, async () => {
      const m = await trained(nn);
      const path = join(dir, 'model.safetensors');
      await m.saveFile(path);
      const first = readFileSync(path);
      const back = await nn.loadFile(path);
      assert.equal(back.save(), m.save());
      await back.saveFile(path);   // overwrite
      assert.equal(new Uint8Array(readFileSync(path)), new Uint8Array(first));
      assert.equal(readdirSync(dir), ['model.safetensors'], 'no temporary files left');
      // A failing write (the target is a directory) leaves the directory's contents alone and no temporary file.
      const blocked = join(dir, 'blocked');
      mkdirSync(blocked);
      writeFileSync(join(blocked, 'keep'), 'x');
      let err = null;
      try { await m.saveFile(blocked); } catch (e) { err = e; }
      assert.ok(err, 'saving onto a directory must fail');
      assert.match(err.message, /saveFile: renaming the temporary file onto .*blocked failed/);
      assert.equal(readdirSync(dir).sort(), ['blocked', 'model.safetensors']);
      let err2 = null;
      try { await nn.loadFile(join(dir, 'missing.safetensors')); } catch (e) { err2 = e; }
      assert.match(err2.message, /ENOENT/);
      m.dispose(); back.dispose();
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('truncated or corrupt files are rejected with a clear error and never half-loaded', async () => {
  const nn = await getEngine();
  await checkNoLeak(nn, async () => {
    const m = await trained(nn);
    const good = m.save();
    const target = makeModel(nn, 99);
    const before = [...target.stateDict()].map(([k, t]) => [k, t.read()]);
    const unchanged = () => before.forEach(([k, v]) => assert.equal(target.stateDict().get(k).read(), v, `${k} untouched`));
    const { n } = header(good);
    // Every kind of truncation.
    for (const len of [0, 5, 8, 20, 8 + n - 1, 8 + n, 8 + n + 3, good.length - 1]) {
      const bad = good.slice(0, len);
      assert.throws(() => nn.load(bad), /load: not a valid safetensors file: .*(truncated|shorter|not valid JSON)/, `truncated to ${len}`);
      assert.throws(() => target.loadWeights(bad), /not a valid safetensors file/);
      unchanged();
    }
    // A flipped data byte: the checksum catches it.
    const flipped = good.slice();
    flipped[good.length - 5] ^= 0x40;
    assert.throws(() => nn.load(flipped), /the data checksum is [0-9a-f]{8}, the header says [0-9a-f]{8} \(corrupt file\)/);
    assert.throws(() => target.loadWeights(flipped), /corrupt file/);
    unchanged();
    // Header damage.
    const huge = good.slice();
    new DataView(huge.buffer).setBigUint64(0, 1n << 40n, true);
    assert.throws(() => nn.load(huge), /header length \d+ is implausible/);
    const garbled = good.slice();
    garbled[9] = 0x7b; garbled[10] = 0x7b;
    assert.throws(() => nn.load(garbled), /header is not valid JSON/);
    const trailing = new Uint8Array(good.length + 4);
    trailing.set(good);
    assert.throws(() => nn.load(trailing), /trailing bytes/);
    assert.throws(() => nn.load('model.safetensors'), /load: bytes must be a Uint8Array or ArrayBuffer/);
    // Shape and name mismatches: the whole set is checked before anything is written.
    const other = nn.sequential([nn.layers.conv2d(4, 3, { padding: 'same', paddingMode: 'replicate' }), nn.layers.flatten(), nn.layers.linear(3)],
                                { inputShape: [2, 9, 7], seed: 1 });
    const otherBefore = other.stateDict().get('0.weight').read();
    assert.throws(() => other.loadWeights(good), /loadWeights: the weights do not match the model; missing: 2.weight, 2.bias; unexpected: 1.bias, 1.num_batches_tracked, 1.running_mean, 1.running_var, 1.weight, 4.weight, .* \(7 more\)/);
    unchanged();
    const w = Object.fromEntries([...m.stateDict()].map(([k, t]) => [k, t.read()]));
    w['10.weight'] = new Float32Array(7);
    assert.throws(() => target.loadWeights(w), /'10.weight' must have shape \[8, 12\] \(96 values\), got 7 values/);
    unchanged();
    const partial = { '0.weight': randArr(1, 72), '0.bias': randArr(2, 4) };
    target.loadWeights(partial, { strict: false });
    assert.equal(target.stateDict().get('0.bias').read(), partial['0.bias']);
    assert.equal(other.stateDict().get('0.weight').read(), otherBefore);
    m.dispose(); target.dispose(); other.dispose();
  });
});

test('half, bfloat16 and float64 tensors (PyTorch checkpoints in other dtypes) load as float32', async () => {
  const nn = await getEngine();
  await checkNoLeak(nn, () => {
    const m = nn.sequential([nn.layers.linear(2)], { inputShape: [2], seed: 1 });
    // Hand-written safetensors: weight as F16 [2, 2] = [1, -2, 0.5, 65504], bias as F64 [2] = [0.1, -3], plus a BF16 extra.
    const f16 = [0x3c00, 0xc000, 0x3800, 0x7bff];
    const data = new ArrayBuffer(16 + 8 + 4);
    const dv = new DataView(data);
    dv.setFloat64(0, 0.1, true); dv.setFloat64(8, -3, true);
    f16.forEach((h, i) => dv.setUint16(16 + 2 * i, h, true));
    dv.setUint16(24, 0x3fc0, true); dv.setUint16(26, 0xc020, true);   // bf16 1.5, -2.5
    const head = JSON.stringify({ '0.bias': { dtype: 'F64', shape: [2], data_offsets: [0, 16] },
                                  '0.weight': { dtype: 'F16', shape: [2, 2], data_offsets: [16, 24] },
                                  'extra': { dtype: 'BF16', shape: [2], data_offsets: [24, 28] } });
    const hb = new TextEncoder().encode(head);
    const bytes = new Uint8Array(8 + hb.length + 28);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(hb.length), true);
    bytes.set(hb, 8);
    bytes.set(new Uint8Array(data), 8 + hb.length);
    assert.throws(() => m.loadWeights(bytes), /unexpected: extra/);
    m.loadWeights(bytes, { strict: false });
    assert.equal(Array.from(m.stateDict().get('0.weight').read()), [1, -2, 0.5, 65504]);
    assert.equal(Array.from(m.stateDict().get('0.bias').read()), [Math.fround(0.1), -3]);
    m.dispose();
  });
});

test.run();
