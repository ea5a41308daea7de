// The wasm kernel table (assembly/index.ts), typed. Pointers are byte offsets into the engine's memory;
// 0 stands for "absent" where a kernel takes an optional array.
type Ptr = number;

export interface Kernels {
  heap_base(): Ptr;
  sgemm(M: number, N: number, K: number, A: Ptr, rsA: number, csA: number, B: Ptr, rsB: number, csB: number,
        C: Ptr, ldc: number, accumulate: number, scratch: Ptr): void;
  sgemm_scratch_bytes(): number;
  channel_sum(x: Ptr, N: number, C: number, S: number, c0: number, c1: number, out: Ptr): void;
  conv2d_scratch_bytes(...geometry: number[]): number;
  conv2d_pack_weights(w: Ptr, Cout: number, K: number, groups: number, transposed: number, dst: Ptr): void;
  conv2d_packed_bytes(Cout: number, K: number, groups: number, transposed: number): number;
  conv2d_is_direct(Cin: number, H: number, W: number, Cout: number, KH: number, KW: number, SH: number, SW: number,
                   PT: number, PL: number, OH: number, OW: number, groups: number): number;
  pack_a(A: Ptr, rsA: number, csA: number, M: number, K: number, dst: Ptr): void;
  pack_a_bytes(M: number, K: number): number;
  sgemm_packed(M: number, N: number, K: number, PA: Ptr, B: Ptr, rsB: number, csB: number,
               C: Ptr, ldc: number, accumulate: number, scratch: Ptr, rowBias: Ptr): void;
  sgemm_bias(M: number, N: number, K: number, A: Ptr, rsA: number, csA: number, B: Ptr, rsB: number, csB: number,
             C: Ptr, ldc: number, rowBias: Ptr, colBias: Ptr, scratch: Ptr): void;
  conv2d_forward(x: Ptr, w: Ptr, b: Ptr, y: Ptr, ...geometry: number[]): void;
  conv2d_prepare_image(x: Ptr, ...geometryThenPrepared: number[]): void;
  conv2d_backward_data(dy: Ptr, w: Ptr, dx: Ptr, ...geometry: number[]): void;
  conv2d_backward_filter(dy: Ptr, x: Ptr, dw: Ptr, db: Ptr, ...geometry: number[]): void;
  winograd_weights_bytes(Cout: number, Cin: number): number;
  winograd_pack_weights(w: Ptr, Cout: number, Cin: number, flipped: number, dst: Ptr): void;
  winograd_scratch_bytes(Cin: number, Cout: number, OH: number, OW: number, tileRows: number): number;
  winograd_batch_rows(Cin: number, OW: number): number;
  winograd_filter_scratch_bytes(Cin: number, Cout: number, OH: number, OW: number, tileRows: number): number;
  winograd_filter_finish(M: Ptr, parts: number, dw: Ptr, Cout: number, Cin: number, first: number, end: number): void;
  maxpool2d_forward(x: Ptr, y: Ptr, idx: Ptr, P: number, H: number, W: number, KH: number, KW: number,
                    SH: number, SW: number, PH: number, PW: number, DH: number, DW: number, OH: number, OW: number): void;
  maxpool2d_backward(dy: Ptr, idx: Ptr, dx: Ptr, P: number, HW: number, OHW: number, badOut: Ptr): number;
  avgpool2d_forward(x: Ptr, y: Ptr, P: number, H: number, W: number, KH: number, KW: number, SH: number, SW: number,
                    PH: number, PW: number, OH: number, OW: number, countIncludePad: number, divisorOverride: number): void;
  avgpool2d_backward(dy: Ptr, dx: Ptr, P: number, H: number, W: number, KH: number, KW: number, SH: number, SW: number,
                     PH: number, PW: number, OH: number, OW: number, countIncludePad: number, divisorOverride: number): void;
  global_avgpool_forward(x: Ptr, y: Ptr, P: number, HW: number): void;
  global_avgpool_backward(dy: Ptr, dx: Ptr, P: number, HW: number): void;
  batchnorm_train_forward(x: Ptr, y: Ptr, N: number, C: number, HW: number, eps: number, momentum: number, gamma: Ptr, beta: Ptr,
                          mean: Ptr, invStd: Ptr, runMean: Ptr, runVar: Ptr, c0: number, c1: number): void;
  batchnorm_eval_stats(runMean: Ptr, runVar: Ptr, C: number, eps: number, mean: Ptr, invStd: Ptr): void;
  batchnorm_forward(x: Ptr, y: Ptr, N: number, C: number, HW: number, gamma: Ptr, beta: Ptr, mean: Ptr, invStd: Ptr, c0: number, c1: number): void;
  batchnorm_backward(dy: Ptr, x: Ptr, gamma: Ptr, mean: Ptr, invStd: Ptr, dx: Ptr, dgamma: Ptr, dbeta: Ptr,
                     N: number, C: number, HW: number, training: number, c0: number, c1: number): void;
  rownorm_forward(x: Ptr, y: Ptr, mean: Ptr, invStd: Ptr, R: number, D: number, eps: number,
                  gamma: Ptr, beta: Ptr, G: number, CPR: number, S: number): void;
  rownorm_backward(dy: Ptr, x: Ptr, mean: Ptr, invStd: Ptr, dx: Ptr, dgamma: Ptr, dbeta: Ptr, R: number, D: number,
                   gamma: Ptr, G: number, CPR: number, S: number): void;
  relu_forward(x: Ptr, y: Ptr, n: number): void;
  relu_backward(dy: Ptr, x: Ptr, dx: Ptr, n: number): void;
  leaky_relu_forward(x: Ptr, y: Ptr, n: number, slope: number): void;
  leaky_relu_backward(dy: Ptr, x: Ptr, dx: Ptr, n: number, slope: number): void;
  sigmoid_forward(x: Ptr, y: Ptr, n: number): void;
  sigmoid_backward(dy: Ptr, y: Ptr, dx: Ptr, n: number): void;
  tanh_forward(x: Ptr, y: Ptr, n: number): void;
  tanh_backward(dy: Ptr, y: Ptr, dx: Ptr, n: number): void;
  /** y = eˣ (exp4 in the SIMD builds). */
  exp_forward(x: Ptr, y: Ptr, n: number): void;
  /** tfjs's Elu (scale = scaleAlpha = 1) and Selu: y = scale·x where x ≥ 0, scaleAlpha·(eˣ − 1) elsewhere. */
  elu_forward(x: Ptr, y: Ptr, n: number, scale: number, scaleAlpha: number): void;
  /** EluGrad: dx = dy where y ≥ 0, dy·(y + 1) elsewhere. */
  elu_backward(dy: Ptr, y: Ptr, dx: Ptr, n: number): void;
  /** y = ln(1 + eˣ) with tfjs's thresholds (x above 13.94, eˣ below −13.94). */
  softplus_forward(x: Ptr, y: Ptr, n: number): void;
  /** Softmax over rows of K (max-shifted). */
  softmax_forward(x: Ptr, y: Ptr, rows: number, K: number): void;
  softmax_xent(logits: Ptr, labels: Ptr, probs: Ptr, dlogits: Ptr, N: number, K: number): number;
  sgd_step(p: Ptr, g: Ptr, buf: Ptr, n: number, lr: number, momentum: number, dampening: number,
           nesterov: number, wd: number, first: number): void;
  adam_step(p: Ptr, g: Ptr, m: Ptr, v: Ptr, n: number, lr: number, beta1: number, beta2: number, eps: number,
            wd: number, decoupled: number, bc1: number, bc2: number): void;
  add_forward(a: Ptr, b: Ptr, y: Ptr, n: number): void;
  axpy(y: Ptr, x: Ptr, n: number, alpha: number): void;
  scale(x: Ptr, n: number, alpha: number): void;
  copy_blocks(src: Ptr, dst: Ptr, rows: number, len: number, srcStride: number, dstStride: number, accumulate: number): void;
  /** NHWC max pooling over output rows [r0, r1) of n·OH + oh (assembly/nhwc.ts). */
  maxpool_nhwc(x: Ptr, y: Ptr, H: number, W: number, C: number, KH: number, KW: number, SH: number, SW: number,
               PT: number, PL: number, OH: number, OW: number, r0: number, r1: number): void;
  /** y[r, c] = (x[r, c] − mean[c])·mul[c] + offset[c] over rows [r0, r1) of an [R, C] tensor. */
  channel_affine_nhwc(x: Ptr, y: Ptr, C: number, mean: Ptr, mul: Ptr, offset: Ptr, r0: number, r1: number): void;
  /** dst[b][c][r] = src[b][r][c] for 4-byte elements: B batched R×C transposes. */
  transpose2d(src: Ptr, dst: Ptr, B: number, R: number, C: number): void;
  /** dst = src permuted, 4-byte elements; meta: i32[3·rank] = output shape, src strides per output axis, scratch. */
  transpose_nd(src: Ptr, dst: Ptr, rank: number, meta: Ptr): void;
  /**
   * y = a ∘ b over n float32; op 0 add, 1 sub, 2 mul, 3 div, 4 prelu, 5 max, 6 min, 7 (a − b)²; mode 0 same size, 1 b repeats with period m,
   * 2 a does.
   */
  broadcast_f32(op: number, mode: number, a: Ptr, b: Ptr, y: Ptr, n: number, m: number): void;
  /** `blocks` broadcast_f32 blocks of n, a and b stepping over r outer dims: desc = sizes, a strides, b strides, 0s. */
  broadcast_strided_f32(op: number, mode: number, a: Ptr, b: Ptr, y: Ptr, n: number, m: number,
                        blocks: number, r: number, desc: Ptr): void;
  /** y = f(x) over n float32: op 0 floor, 1 ceil, 2 round half to even, 3 negate, 4 abs, 5 sqrt, 6 relu6, 7 1/x, 8 1/√x, 9 ln. */
  unary_f32(op: number, x: Ptr, y: Ptr, n: number): void;
  /** tfjs's Step: 1 where x > 0, alpha elsewhere, NaN stays NaN. */
  step_f32(x: Ptr, y: Ptr, n: number, alpha: number): void;
  /** tfjs's ClipByValue: min(max(x, lo), hi), NaN stays NaN. */
  clip_f32(x: Ptr, y: Ptr, n: number, lo: number, hi: number): void;
  /** Column sums (or means) of a [rows, m] float32 matrix, accumulated in float64 in acc (8·m bytes of scratch). */
  sum_columns(x: Ptr, rows: number, m: number, out: Ptr, acc: Ptr, mean: number): void;
  reduce_rows(op: number, x: Ptr, rows: number, n: number, out: Ptr): void;
}
