// A minimal protobuf writer for ONNX ModelProto: just enough to build single-op (or few-op) float32 graphs
// in code, so onnxruntime-web can be benchmarked without model files. Field numbers from onnx/onnx.proto.

class Writer {
  // Bytes as a list of chunks: small fields gather in `cur`, large payloads (weights) are kept as given, so a
  // 47 MB ResNet-18 encodes without a byte-by-byte copy.
  constructor() { this.parts = []; this.cur = []; }
  flush() { if (this.cur.length) { this.parts.push(Uint8Array.from(this.cur)); this.cur = []; } }
  varint(v) {
    let n = BigInt(v);
    if (n < 0n) n += 1n << 64n;                       // int64 two's complement (ONNX has negative ints, e.g. axes)
    do {
      let b = Number(n & 0x7fn);
      n >>= 7n;
      if (n !== 0n) b |= 0x80;
      this.cur.push(b);
    } while (n !== 0n);
    return this;
  }
  tag(field, wire) { return this.varint((field << 3) | wire); }
  int(field, v) { return this.tag(field, 0).varint(v); }
  f32(field, v) {
    const b = new Uint8Array(new Float32Array([v]).buffer);
    this.tag(field, 5); this.cur.push(...b); return this;
  }
  raw(field, u8) {
    this.tag(field, 2).varint(u8.length);
    if (u8.length < 64) { for (let i = 0; i < u8.length; i++) this.cur.push(u8[i]); return this; }
    this.flush();
    this.parts.push(u8);
    return this;
  }
  str(field, s) { return this.raw(field, new TextEncoder().encode(s)); }
  msg(field, w) { return this.raw(field, w.finish()); }
  finish() {
    this.flush();
    if (this.parts.length === 1) return this.parts[0];
    const out = new Uint8Array(this.parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of this.parts) { out.set(p, at); at += p.length; }
    return out;
  }
}

const FLOAT = 1, INT64 = 7;
const ATTR = { FLOAT: 1, INT: 2, INTS: 7 };

function attribute(name, value) {
  const w = new Writer().str(1, name);
  if (Array.isArray(value)) { for (const v of value) w.int(8, v); w.int(20, ATTR.INTS); }
  else if (Number.isInteger(value)) w.int(3, value).int(20, ATTR.INT);
  else w.f32(2, value).int(20, ATTR.FLOAT);
  return w;
}

/** A TensorProto initializer: float32 data (raw_data, little-endian) or int64 (for shape/axes inputs). */
function initializer(name, dims, data, type = FLOAT) {
  const w = new Writer();
  for (const d of dims) w.int(1, d);
  w.int(2, type).str(8, name);
  if (type === INT64) { for (const v of data) w.int(7, v); }
  else w.raw(9, new Uint8Array(Float32Array.from(data).buffer));
  return w;
}

function valueInfo(name, shape) {
  const dims = new Writer();
  for (const d of shape) dims.msg(1, new Writer().int(1, d));
  const tensorType = new Writer().int(1, FLOAT).msg(2, dims);
  return new Writer().str(1, name).msg(2, new Writer().msg(1, tensorType));
}

/**
 * Encodes a model. spec: { inputs: [[name, shape]], outputs: [[name, shape]],
 * initializers: [[name, dims, Float32Array | int[] , 'int64'?]], nodes: [{ op, inputs, outputs, attrs }] }.
 */
export function encodeModel({ inputs, outputs, initializers = [], nodes }, opset = 17) {
  const g = new Writer();
  nodes.forEach((n, i) => {
    const w = new Writer();
    for (const s of n.inputs) w.str(1, s);
    for (const s of n.outputs) w.str(2, s);
    w.str(3, `n${i}`).str(4, n.op);
    for (const [k, v] of Object.entries(n.attrs ?? {})) w.msg(5, attribute(k, v));
    g.msg(1, w);
  });
  g.str(2, 'bench');
  for (const [name, dims, data, type] of initializers) g.msg(5, initializer(name, dims, data, type === 'int64' ? INT64 : FLOAT));
  for (const [name, shape] of inputs) g.msg(11, valueInfo(name, shape));
  for (const [name, shape] of outputs) g.msg(12, valueInfo(name, shape));
  return new Writer()
    .int(1, 8)                                        // ir_version 8
    .str(2, 'simdnn-bench')
    .msg(7, g)
    .msg(8, new Writer().str(1, '').int(2, opset))
    .finish();
}
