// BatchMatMul and _FusedMatMul on simdnn's packed SGEMM: transposes are free (the GEMM takes row and column
// strides), a bias of N values goes into the GEMM epilogue, batches broadcast as in tfjs (one side's batch of
// 1 is reused). Non-float32 inputs (int32 matmuls in tfjs's tests) take a JS loop.
import { backend_util, util, type TensorInfo } from '@tensorflow/tfjs-core';
import type { SimdnnBackend } from '../backend.js';
import { attrsOf, kernel, type KernelArgs } from './kernel.js';
import { applyActivation } from './activation.js';
import { addBias } from './bias.js';
import { broadcastLoop } from './elementwise.js';
import { runSplit } from '../../ops/parallel.js';

interface MatMulAttrs {
  transposeA: boolean;
  transposeB: boolean;
  activation?: string;
  leakyreluAlpha?: number;
}

/** For each batch of the broadcast batch shape, the batch of an input with batch shape `shape`. */
function batchIndex(shape: number[], out: number[]): Int32Array {
  const idx = new Int32Array(util.sizeFromShape(out));
  const own = Int32Array.from({ length: util.sizeFromShape(shape) }, (_, i) => i);
  broadcastLoop(own, shape, [0], [1], idx, out, (p) => p);
  return idx;
}

function matmul(op: string, b: SimdnnBackend, a: TensorInfo, bt: TensorInfo, ta: boolean, tb: boolean, bias?: TensorInfo): TensorInfo {
  const ra = a.shape.length, rb = bt.shape.length;
  const M = ta ? a.shape[ra - 1] : a.shape[ra - 2], K = ta ? a.shape[ra - 2] : a.shape[ra - 1];
  const K2 = tb ? bt.shape[rb - 1] : bt.shape[rb - 2], N = tb ? bt.shape[rb - 2] : bt.shape[rb - 1];
  if (K !== K2) throw new Error(`${op} (simdnn): inner dimensions must agree, got a [${a.shape}] and b [${bt.shape}] (transposeA ${ta}, transposeB ${tb})`);
  const batchShape = backend_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), bt.shape.slice(0, -2));
  const batch = util.sizeFromShape(batchShape);
  const ia = batchIndex(a.shape.slice(0, -2), batchShape), ib = batchIndex(bt.shape.slice(0, -2), batchShape);
  const outShape = [...batchShape, M, N];
  const dtype = a.dtype === 'float32' || bt.dtype === 'float32' ? 'float32' : 'int32';
  const { info, t } = b.makeEmpty(outShape, dtype);
  if (!t) return info;
  const [rsA, csA] = ta ? [1, M] : [K, 1];
  const [rsB, csB] = tb ? [1, K] : [N, 1];
  if (K === 0) {
    t.view().fill(0);
  } else if (dtype === 'float32' && a.dtype === 'float32' && bt.dtype === 'float32') {
    const k = b.nn.kernels;
    const ao = b.tensor(a)!.offset, bo = b.tensor(bt)!.offset;
    const colBias = bias && util.sizeFromShape(bias.shape) === N && bias.shape.length <= 1 ? b.tensor(bias)!.offset : 0;
    if (M === 1 && batch === 1) {
      // One row (a dense layer's inference on one sample): yᵀ = Bᵀ·xᵀ with Bᵀ packed once per value of b
      // (simdnn's pack cache, keyed on b's tensor) instead of packing B on every call; bias per row of yᵀ.
      const w = b.tensor(bt)!;
      const packed = b.nn.packs.get(w, `matmul-t ${K} ${N} ${tb ? 1 : 0}`, k.pack_a_bytes(N, K), op,
                                    (dst) => k.pack_a(w.offset, csB, rsB, N, K, dst));
      k.sgemm_packed(N, 1, K, packed, ao, csA, rsA, t.offset, 1, 0, b.nn.scratch(k.sgemm_scratch_bytes(), op), colBias);
      if (bias && !colBias) addBias(b, info, bias, op);
      return info;
    }
    for (let i = 0; i < batch; i++) {
      const A = ao + 4 * ia[i] * M * K, B = bo + 4 * ib[i] * K * N, C = t.offset + 4 * i * M * N;
      // Rows of C split over the engine's threads (when the product is big enough), as simdnn's linear does.
      runSplit(b.nn, M, 2 * M * N * K, op, k.sgemm_scratch_bytes(), (r0, rows, scratch) => ({
        fn: colBias ? 'sgemm_bias' : 'sgemm',
        args: colBias ? [rows, N, K, A + 4 * r0 * rsA, rsA, csA, B, rsB, csB, C + 4 * r0 * N, N, 0, colBias, scratch]
                      : [rows, N, K, A + 4 * r0 * rsA, rsA, csA, B, rsB, csB, C + 4 * r0 * N, N, 0, scratch],
      }));
    }
    if (bias && !colBias) addBias(b, info, bias, op);
    return info;
  } else {
    const av = b.values(a), bv = b.values(bt), out = t.view();
    for (let i = 0; i < batch; i++) {
      const A = ia[i] * M * K, B = ib[i] * K * N;
      for (let r = 0; r < M; r++) {
        for (let c = 0; c < N; c++) {
          let s = 0;
          for (let q = 0; q < K; q++) s += av[A + r * rsA + q * csA] * bv[B + q * rsB + c * csB];
          out[i * M * N + r * N + c] = s;
        }
      }
    }
  }
  if (bias) addBias(b, info, bias, op);
  return info;
}

function batchMatMul(args: KernelArgs): TensorInfo {
  const { transposeA, transposeB } = attrsOf<MatMulAttrs>(args);
  return matmul('BatchMatMul', args.backend, args.inputs.a, args.inputs.b, transposeA, transposeB);
}

function fusedMatMul(args: KernelArgs): TensorInfo {
  const { transposeA, transposeB, activation = 'linear', leakyreluAlpha } = attrsOf<MatMulAttrs>(args);
  const { a, b, bias, preluActivationWeights } = args.inputs;
  const out = matmul('_FusedMatMul', args.backend, a, b, transposeA, transposeB, bias);
  applyActivation(args.backend, out, { name: activation, prelu: preluActivationWeights, alpha: leakyreluAlpha }, '_FusedMatMul');
  return out;
}

export const matmulKernels = [kernel('BatchMatMul', batchMatMul), kernel('_FusedMatMul', fusedMatMul)];
