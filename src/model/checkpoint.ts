// Checkpoints in the safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian
// header length, a JSON header { name: { dtype, shape, data_offsets: [begin, end] }, __metadata__: { str: str } }
// padded with spaces to 8 bytes, then the raw little-endian tensor bytes. We write the layout of the reference
// implementation (tensors ordered by dtype alignment, then name) plus a CRC-32 of the data in the metadata, and
// validate everything on read before returning anything, so a truncated or corrupt file is never half-loaded.

export type SafeDType = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

const DTYPE_SIZE: Record<SafeDType, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };
const MAX_HEADER = 100_000_000;

export interface TensorEntry {
  name: string;
  dtype: 'F32' | 'I64' | 'I32';
  shape: number[];
  data: Float32Array | BigInt64Array | Int32Array;
}

export interface DecodedTensor {
  name: string;
  /** The dtype in the file; floating types are converted to float32, I64 to BigInt64Array. */
  dtype: SafeDType;
  shape: number[];
  data: Float32Array | Int32Array | BigInt64Array;
}

export class DecodedSafetensors {
  constructor(readonly tensors: DecodedTensor[], readonly metadata: Record<string, string>) {}
}

// ----------------------------------------------------------------------------------------------- crc-32

let crcTable: Uint32Array | null = null;

export function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = crcTable[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// ----------------------------------------------------------------------------------------------- encode

export function encodeSafetensors(entries: TensorEntry[], metadata: Record<string, string> = {}): Uint8Array {
  const names = new Set<string>();
  for (const t of entries) {
    if (names.has(t.name)) throw new Error(`save: tensor name '${t.name}' appears twice`);
    names.add(t.name);
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== n) throw new Error(`save: '${t.name}' has ${t.data.length} values for shape [${t.shape}]`);
  }
  const order = [...entries].sort((a, b) => DTYPE_SIZE[b.dtype] - DTYPE_SIZE[a.dtype] || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  let offset = 0;
  const header: Record<string, unknown> = {};
  const placed: [TensorEntry, number][] = [];
  for (const t of order) {
    const bytes = t.data.length * DTYPE_SIZE[t.dtype];
    placed.push([t, offset]);
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  const data = new Uint8Array(offset);
  const view = new DataView(data.buffer);
  for (const [t, at] of placed) {
    const d = t.data;
    if (d instanceof Float32Array) for (let i = 0; i < d.length; i++) view.setFloat32(at + 4 * i, d[i], true);
    else if (d instanceof Int32Array) for (let i = 0; i < d.length; i++) view.setInt32(at + 4 * i, d[i], true);
    else for (let i = 0; i < d.length; i++) view.setBigInt64(at + 8 * i, d[i], true);
  }
  const meta = { ...metadata, 'simdnn.crc32': crc32(data).toString(16).padStart(8, '0') };
  const json = JSON.stringify({ __metadata__: meta, ...header });
  let headerBytes = new TextEncoder().encode(json);
  const padded = Math.ceil(headerBytes.length / 8) * 8;
  if (padded !== headerBytes.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(headerBytes);
    headerBytes = p;
  }
  const out = new Uint8Array(8 + headerBytes.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  out.set(data, 8 + headerBytes.length);
  return out;
}

// ----------------------------------------------------------------------------------------------- decode

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/** Parses and validates a whole safetensors file; throws a clear Error (prefix 'load: ') on anything wrong. */
export function decodeSafetensors(bytes: Uint8Array): DecodedSafetensors {
  const bad = (msg: string): never => { throw new Error(`load: not a valid safetensors file: ${msg}`); };
  if (!(bytes instanceof Uint8Array)) bad('expected bytes (Uint8Array)');
  if (bytes.length < 8) bad(`${bytes.length} bytes is shorter than the 8-byte header length (truncated?)`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = dv.getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER)) bad(`the header length ${n64} is implausible (corrupt file?)`);
  const n = Number(n64);
  if (8 + n > bytes.length) bad(`the header is ${n} bytes but the file has only ${bytes.length - 8} after the length (truncated?)`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    bad(`the header is not valid JSON (${(e as Error).message})`);
  }
  if (!header || typeof header !== 'object' || Array.isArray(header)) bad('the header is not a JSON object');
  const h = header as Record<string, unknown>;
  const metadata: Record<string, string> = {};
  if (h.__metadata__ !== undefined) {
    const m = h.__metadata__;
    if (!m || typeof m !== 'object' || Array.isArray(m)) bad('__metadata__ must be an object of strings');
    for (const [k, v] of Object.entries(m as object)) {
      if (typeof v !== 'string') bad(`__metadata__['${k}'] must be a string`);
      metadata[k] = v;
    }
  }
  const dataStart = 8 + n, dataLen = bytes.length - dataStart;
  const spans: { name: string; dtype: SafeDType; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, info] of Object.entries(h)) {
    if (name === '__metadata__') continue;
    const i = info as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (!i || typeof i !== 'object') bad(`entry '${name}' is not an object`);
    if (typeof i.dtype !== 'string' || !(i.dtype in DTYPE_SIZE)) bad(`'${name}' has unsupported dtype ${JSON.stringify(i.dtype)}`);
    const dtype = i.dtype as SafeDType;
    if (!Array.isArray(i.shape) || !i.shape.every((d) => Number.isInteger(d) && d >= 0)) bad(`'${name}' has a bad shape ${JSON.stringify(i.shape)}`);
    const shape = i.shape as number[];
    const off = i.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isInteger(d) && d >= 0) || off[0] > off[1]) {
      bad(`'${name}' has bad data_offsets ${JSON.stringify(off)}`);
    }
    const [begin, end] = off as [number, number];
    const count = shape.reduce((a, b) => a * b, 1);
    if (end - begin !== count * DTYPE_SIZE[dtype]) {
      bad(`'${name}' ([${shape}] ${dtype}) needs ${count * DTYPE_SIZE[dtype]} bytes but data_offsets span ${end - begin}`);
    }
    if (end > dataLen) bad(`'${name}' ends at data byte ${end} but the file has ${dataLen} data bytes (truncated?)`);
    spans.push({ name, dtype, shape, begin, end });
  }
  // The data must be covered exactly, without holes, overlaps or trailing bytes (as the reference reader demands).
  const sorted = [...spans].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const s of sorted) {
    if (s.begin !== at) bad(`tensor data is not contiguous at byte ${at} ('${s.name}' starts at ${s.begin})`);
    at = s.end;
  }
  if (at !== dataLen) bad(`the tensors cover ${at} data bytes but the file has ${dataLen} (trailing bytes)`);
  const data = bytes.subarray(dataStart);
  const expectCrc = metadata['simdnn.crc32'];
  if (expectCrc !== undefined) {
    const got = crc32(data).toString(16).padStart(8, '0');
    if (got !== expectCrc) bad(`the data checksum is ${got}, the header says ${expectCrc} (corrupt file)`);
  }
  const tensors: DecodedTensor[] = spans.map((s) => {
    const count = (s.end - s.begin) / DTYPE_SIZE[s.dtype];
    const base = dataStart + s.begin;
    let out: Float32Array | Int32Array | BigInt64Array;
    switch (s.dtype) {
      case 'F32': { const o = new Float32Array(count); for (let i = 0; i < count; i++) o[i] = dv.getFloat32(base + 4 * i, true); out = o; break; }
      case 'F64': { const o = new Float32Array(count); for (let i = 0; i < count; i++) o[i] = dv.getFloat64(base + 8 * i, true); out = o; break; }
      case 'F16': { const o = new Float32Array(count); for (let i = 0; i < count; i++) o[i] = halfToFloat(dv.getUint16(base + 2 * i, true)); out = o; break; }
      case 'BF16': {
        const o = new Float32Array(count), u = new Uint32Array(o.buffer);
        for (let i = 0; i < count; i++) u[i] = dv.getUint16(base + 2 * i, true) << 16;
        out = o;
        break;
      }
      case 'I64': { const o = new BigInt64Array(count); for (let i = 0; i < count; i++) o[i] = dv.getBigInt64(base + 8 * i, true); out = o; break; }
      case 'I32': { const o = new Int32Array(count); for (let i = 0; i < count; i++) o[i] = dv.getInt32(base + 4 * i, true); out = o; break; }
      case 'I16': { const o = new Int32Array(count); for (let i = 0; i < count; i++) o[i] = dv.getInt16(base + 2 * i, true); out = o; break; }
      case 'I8': { const o = new Int32Array(count); for (let i = 0; i < count; i++) o[i] = dv.getInt8(base + i); out = o; break; }
      default: { const o = new Int32Array(count); for (let i = 0; i < count; i++) o[i] = dv.getUint8(base + i); out = o; }
    }
    return { name: s.name, dtype: s.dtype, shape: s.shape, data: out };
  });
  return new DecodedSafetensors(tensors, metadata);
}

// ---------------------------------------------------------------------------------------------- files (Node)

// A variable specifier: browser bundlers leave it alone (these functions are Node-only), Node resolves it.
const FS_MODULE = 'node:fs/promises';
const nodeFs = (): Promise<typeof import('node:fs/promises')> => import(FS_MODULE);

/** Writes bytes to path atomically: a temporary file beside it, flushed, then renamed over the target. */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  if (typeof path !== 'string' || path === '') throw new Error(`saveFile: path must be a non-empty string, got ${String(path)}`);
  let fs: typeof import('node:fs/promises');
  try {
    fs = await nodeFs();
  } catch {
    throw new Error('saveFile: needs Node (node:fs); in a browser use model.save() and store the bytes yourself');
  }
  const tmp = `${path}.tmp-${typeof process !== 'undefined' ? process.pid : 0}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
  const fh = await fs.open(tmp, 'w');
  try {
    await fh.writeFile(bytes);
    await fh.sync();
  } catch (e) {
    await fh.close().catch(() => {});
    await fs.rm(tmp, { force: true }).catch(() => {});
    throw new Error(`saveFile: writing ${path} failed: ${(e as Error).message}`);
  }
  await fh.close();
  try {
    await fs.rename(tmp, path);
  } catch (e) {
    await fs.rm(tmp, { force: true }).catch(() => {});
    throw new Error(`saveFile: renaming the temporary file onto ${path} failed: ${(e as Error).message}`);
  }
}

export async function readFileBytes(path: string): Promise<Uint8Array> {
  if (typeof path !== 'string' || path === '') throw new Error(`loadFile: path must be a non-empty string, got ${String(path)}`);
  let fs: typeof import('node:fs/promises');
  try {
    fs = await nodeFs();
  } catch {
    throw new Error('loadFile: needs Node (node:fs); in a browser fetch the bytes and call nn.load(bytes)');
  }
  const b = await fs.readFile(path);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}
