// The exported kernel table. Every kernel takes byte offsets into the imported memory and sizes; none
// allocates: scratch comes from the caller (TypeScript owns the memory).
export { sgemm, sgemm_bias, sgemm_packed, sgemm_scratch_bytes, pack_a, pack_a_bytes, channel_sum } from './gemm';
export { conv2d_winograd, winograd_pack_weights, winograd_weights_bytes, winograd_scratch_bytes, winograd_batch_rows, conv2d_winograd_filter, winograd_filter_finish, winograd_filter_scratch_bytes } from './winograd';
export { conv2d_forward, conv2d_prepare_image, conv2d_forward_columns, conv2d_backward_data, conv2d_backward_filter, conv2d_backward_data_channels, conv2d_backward_filter_channels, conv2d_scratch_bytes, conv2d_pack_weights, conv2d_is_direct,
         conv2d_packed_bytes } from './conv';
export { maxpool2d_forward, maxpool2d_backward, avgpool2d_forward, avgpool2d_backward,
         global_avgpool_forward, global_avgpool_backward } from './pool';
export { adaptive_avgpool2d_forward, adaptive_avgpool2d_backward, adaptive_maxpool2d_forward } from './adaptive-pool';
export { local2d_forward, local2d_backward_filter, local2d_backward_data } from './local';
export { batchnorm_train_forward, batchnorm_eval_stats, batchnorm_forward, batchnorm_backward, rownorm_forward, rownorm_backward } from './norm';
export { relu_forward, relu_backward, leaky_relu_forward, leaky_relu_backward, sigmoid_forward,
         sigmoid_backward, tanh_forward, tanh_backward, elu_forward, elu_backward, softplus_forward, exp_forward } from './activation';
export { softmax_xent, softmax_forward } from './loss';
export { sgd_step, adam_step } from './optim';
export { add_forward, axpy, scale, copy_blocks } from './elementwise';
export { transpose2d, transpose_nd } from './transpose';
export { maxpool_nhwc, channel_affine_nhwc } from './nhwc';
export { broadcast_f32, broadcast_strided_f32, unary_f32, step_f32, clip_f32 } from './broadcast';
export { sum_columns, reduce_rows } from './reduce';

/** First byte the TypeScript allocator may hand out (the module keeps no static data above it). */
export function heap_base(): usize {
  return __heap_base;
}
