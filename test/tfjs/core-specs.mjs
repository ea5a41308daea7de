// Which of tfjs-core's own spec files run against the simdnn backend, and which specs are excluded (each with
// its reason). Files are paths under @tensorflow/tfjs-core/dist without "_test.js".
export const SPEC_FILES = [
  // The kernels of a Keras-style conv net and their gradients.
  'ops/conv2d', 'ops/conv2d_transpose', 'ops/depthwise_conv2d', 'ops/fused/fused_conv2d', 'ops/fused/fused_depthwise_conv2d',
  'ops/fused/fused_mat_mul', 'ops/mat_mul', 'ops/max_pool', 'ops/avg_pool', 'ops/batchnorm',
  'ops/relu', 'ops/relu6', 'ops/leaky_relu', 'ops/elu', 'ops/sigmoid', 'ops/tanh', 'ops/softmax',
  // Elementwise, reduction and shape kernels that the gradients and tfjs-layers' fit call.
  'ops/add', 'ops/sub', 'ops/arithmetic', 'ops/transpose', 'ops/sum', 'ops/mean', 'ops/max', 'ops/arg_max',
  'ops/tile', 'ops/pad', 'ops/concat', 'ops/stack', 'ops/clip_by_value', 'ops/sqrt', 'ops/rsqrt',
  'ops/square', 'ops/step', 'ops/log', 'ops/exp', 'ops/neg', 'ops/zeros_like', 'ops/ones_like', 'ops/fill',
  'ops/slice', 'ops/equal', 'ops/greater', 'ops/one_hot',
  // More of the kernels above, and the ones next to them.
  'ops/min', 'ops/prod', 'ops/all', 'ops/any', 'ops/arg_min', 'ops/add_n', 'ops/abs', 'ops/floor', 'ops/ceil', 'ops/round',
  'ops/sign', 'ops/reciprocal', 'ops/log1p', 'ops/expm1', 'ops/sin', 'ops/cos', 'ops/softplus', 'ops/is_nan', 'ops/is_inf',
  'ops/is_finite', 'ops/greater_equal', 'ops/less', 'ops/less_equal', 'ops/not_equal', 'ops/logical_and', 'ops/logical_or',
  'ops/logical_not', 'ops/floordiv', 'ops/binary_ops', 'ops/where', 'ops/gather', 'ops/split', 'ops/unstack',
  'ops/strided_slice', 'ops/reverse', 'ops/reverse_1d', 'ops/reverse_2d', 'ops/reverse_3d', 'ops/reverse_4d', 'ops/range',
  'ops/moments', 'ops/expand_dims', 'ops/squeeze', 'ops/clone', 'ops/zeros', 'ops/ones', 'ops/dropout', 'ops/conv1d',
  'ops/pool', 'ops/conv2d_separable', 'ops/slice1d', 'ops/slice2d', 'ops/slice3d', 'ops/slice4d', 'ops/log_softmax',
  'ops/log_sum_exp', 'ops/norm', 'ops/selu', 'ops/mirror_pad', 'ops/broadcast_to',
  // The optimizers tfjs-layers' fit runs, gradients, tensors and variables.
  'optimizers/sgd_optimizer', 'optimizers/momentum_optimizer', 'optimizers/adam_optimizer', 'optimizers/adamax_optimizer',
  'optimizers/rmsprop_optimizer', 'optimizers/adagrad_optimizer', 'optimizers/adadelta_optimizer',
  'gradients', 'tensor', 'variable',
];

/** Spec-name substrings to skip, with the reason for each. */
export const EXCLUDES = [
  ['ignores NaNs', 'max pooling follows PyTorch (and simdnn\'s kernels): a NaN in the window is the maximum; tfjs skips NaNs'],
  ['string tensor', 'string tensors are stored but no kernel here computes on them (Tile, Concat, Stack of strings)'],
  ['Accepts string', 'string tensors are stored but no kernel here computes on them (Concat of strings)'],
  ['complex', 'complex64 tensors are not supported by this backend (no Complex/Real/Imag kernels)'],
  ['upcasts when dtypes dont match', 'the spec includes complex64 operands, not supported by this backend'],
  ['string comparison', 'string tensors are stored but no kernel here computes on them (Equal/Greater of strings)'],
  ['accepts string', 'string tensors are stored but no kernel here computes on them (Stack of strings)'],
];
