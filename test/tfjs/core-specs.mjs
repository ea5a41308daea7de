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
];

/** Spec-name substrings to skip, with the reason for each. */
export const EXCLUDES = [
  ['ignores NaNs', 'max pooling follows PyTorch (and simdnn\'s kernels): a NaN in the window is the maximum; tfjs skips NaNs'],
  ['string tensor', 'string tensors are stored but no kernel here computes on them (Tile, Concat, Stack of strings)'],
  ['Accepts string', 'string tensors are stored but no kernel here computes on them (Concat of strings)'],
  ['complex', 'complex64 tensors are not supported by this backend (no Complex/Real/Imag kernels)'],
  ['upcasts when dtypes dont match', 'the spec includes complex64 operands, not supported by this backend'],
  ['fill string', 'string tensors are stored but no kernel here computes on them (Fill with a string)'],
  ['string comparison', 'string tensors are stored but no kernel here computes on them (Equal/Greater of strings)'],
  ['accepts string', 'string tensors are stored but no kernel here computes on them (Stack of strings)'],
];
