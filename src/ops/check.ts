// Argument checks shared by the ops. Every failure is an Error whose message starts with the op's name,
// names the argument and says what was expected and what was given.
import { Tensor, type DType } from '../tensor.js';
import type { Engine } from '../engine.js';

export function fail(op: string, arg: string, expected: string, actual: unknown): never {
  throw new Error(`${op}: ${arg} must be ${expected}, got ${show(actual)}`);
}

export function show(v: unknown): string {
  if (v instanceof Tensor) return v.toString();
  if (Array.isArray(v)) return `[${v.map(show).join(', ')}]`;
  if (typeof v === 'string') return `'${v}'`;
  if (v === null) return 'null';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

export const shapeStr = (s: readonly number[]) => `[${s.join(', ')}]`;

export function checkShape(op: string, arg: string, shape: unknown): asserts shape is readonly number[] {
  if (!Array.isArray(shape)) fail(op, arg, 'an array of positive integers', shape);
  for (const d of shape) if (!Number.isInteger(d) || d <= 0) fail(op, arg, 'an array of positive integers', shape);
}

export interface TensorRule {
  /** Required rank, or a list of allowed ranks. */
  rank?: number | readonly number[];
  /** Minimum rank. */
  minRank?: number;
  dtype?: DType;
  /** Required shape. */
  shape?: readonly number[];
}

/** Checks that t is a live float32 (or rule.dtype) tensor of this engine with the required rank/shape. */
export function checkTensor(e: Engine, op: string, arg: string, t: unknown, rule: TensorRule = {}): Tensor {
  if (!(t instanceof Tensor)) fail(op, arg, 'a Tensor', t);
  if (t.disposed) throw new Error(`${op}: ${arg} was disposed (${t})`);
  if (t.engine !== e) throw new Error(`${op}: ${arg} belongs to another engine (${t}); tensors cannot cross engines`);
  const dtype = rule.dtype ?? 'float32';
  if (t.dtype !== dtype) throw new Error(`${op}: ${arg} must have dtype ${dtype}, got ${t.dtype}`);
  if (rule.rank !== undefined) {
    const ranks = typeof rule.rank === 'number' ? [rule.rank] : rule.rank;
    if (!ranks.includes(t.rank)) {
      throw new Error(`${op}: ${arg} must have rank ${ranks.join(' or ')}, got rank ${t.rank} (shape ${shapeStr(t.shape)})`);
    }
  }
  if (rule.minRank !== undefined && t.rank < rule.minRank) {
    throw new Error(`${op}: ${arg} must have rank ≥ ${rule.minRank}, got rank ${t.rank} (shape ${shapeStr(t.shape)})`);
  }
  if (rule.shape && !sameShape(t.shape, rule.shape)) {
    throw new Error(`${op}: ${arg} must have shape ${shapeStr(rule.shape)}, got ${shapeStr(t.shape)}`);
  }
  return t;
}

/** Like checkTensor, but null/undefined passes (an optional argument). */
export function checkOptional(e: Engine, op: string, arg: string, t: unknown, rule: TensorRule = {}): Tensor | null {
  return t == null ? null : checkTensor(e, op, arg, t, rule);
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** A positive integer. */
export function posInt(op: string, arg: string, v: unknown): number {
  if (!Number.isInteger(v) || (v as number) <= 0) fail(op, arg, 'a positive integer', v);
  return v as number;
}

/** A non-negative integer. */
export function nonNegInt(op: string, arg: string, v: unknown): number {
  if (!Number.isInteger(v) || (v as number) < 0) fail(op, arg, 'a non-negative integer', v);
  return v as number;
}

/** A finite number (optionally ≥ min). */
export function finite(op: string, arg: string, v: unknown, min = -Infinity): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min) {
    fail(op, arg, min === -Infinity ? 'a finite number' : `a finite number ≥ ${min}`, v);
  }
  return v;
}

/** A scalar or [h, w] pair of positive (or, with allowZero, non-negative) integers. */
export function pair(op: string, arg: string, v: unknown, allowZero = false): [number, number] {
  const what = allowZero ? 'a non-negative integer or a pair of them' : 'a positive integer or a pair of them';
  const ok = (d: unknown) => Number.isInteger(d) && (allowZero ? (d as number) >= 0 : (d as number) > 0);
  if (ok(v)) return [v as number, v as number];
  if (Array.isArray(v) && v.length === 2 && v.every(ok)) return [v[0], v[1]];
  return fail(op, arg, what, v);
}

/** Checks that an options argument is an object (or absent). */
export function options<T extends object>(op: string, v: T | undefined | null): Partial<T> {
  if (v == null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) fail(op, 'options', 'an object', v);
  return v;
}

export function checkSameShape(op: string, argA: string, a: Tensor, argB: string, b: Tensor): void {
  if (!sameShape(a.shape, b.shape)) {
    throw new Error(`${op}: ${argB} must have the shape of ${argA} ${shapeStr(a.shape)}, got ${shapeStr(b.shape)}`);
  }
}
