// Elementwise activations over n contiguous floats, forward and backward side by side.
// Backward of sigmoid and tanh takes the forward output y: σ' = y(1 − y), tanh' = 1 − y².
import { at, exp4 } from './vec';

/** y = max(x, 0) (NaN stays NaN, like torch.relu). */
export function relu_forward(x: usize, y: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const z = f32x4.splat(0);
    for (; i + 4 <= n; i += 4) {
      const v = v128.load(at(x, i));
      v128.store(at(y, i), v128.bitselect(z, v, f32x4.lt(v, z)));
    }
  }
  for (; i < n; i++) { const v = load<f32>(at(x, i)); store<f32>(at(y, i), v < 0 ? 0 : v); }
}

/** dx = dy where x > 0, else 0 (PyTorch's threshold_backward: the gradient at 0 is 0). */
export function relu_backward(dy: usize, x: usize, dx: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const z = f32x4.splat(0);
    for (; i + 4 <= n; i += 4) v128.store(at(dx, i), v128.and(v128.load(at(dy, i)), f32x4.gt(v128.load(at(x, i)), z)));
  }
  for (; i < n; i++) store<f32>(at(dx, i), load<f32>(at(x, i)) > 0 ? load<f32>(at(dy, i)) : 0);
}

/** y = x if x > 0 else slope·x. */
export function leaky_relu_forward(x: usize, y: usize, n: i32, slope: f32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const z = f32x4.splat(0), s = f32x4.splat(slope);
    for (; i + 4 <= n; i += 4) {
      const v = v128.load(at(x, i));
      v128.store(at(y, i), v128.bitselect(v, f32x4.mul(v, s), f32x4.gt(v, z)));
    }
  }
  for (; i < n; i++) { const v = load<f32>(at(x, i)); store<f32>(at(y, i), v > 0 ? v : v * slope); }
}

/** dx = dy if x > 0 else slope·dy. */
export function leaky_relu_backward(dy: usize, x: usize, dx: usize, n: i32, slope: f32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const z = f32x4.splat(0), s = f32x4.splat(slope);
    for (; i + 4 <= n; i += 4) {
      const d = v128.load(at(dy, i));
      v128.store(at(dx, i), v128.bitselect(d, f32x4.mul(d, s), f32x4.gt(v128.load(at(x, i)), z)));
    }
  }
  for (; i < n; i++) { const d = load<f32>(at(dy, i)); store<f32>(at(dx, i), load<f32>(at(x, i)) > 0 ? d : d * slope); }
}

/** y = 1 / (1 + e^−x). */
export function sigmoid_forward(x: usize, y: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const one = f32x4.splat(1);
    for (; i + 4 <= n; i += 4) v128.store(at(y, i), f32x4.div(one, f32x4.add(one, exp4(f32x4.neg(v128.load(at(x, i)))))));
  }
  for (; i < n; i++) store<f32>(at(y, i), <f32>1 / (<f32>1 + Mathf.exp(-load<f32>(at(x, i)))));
}

/** dx = dy·y·(1 − y). */
export function sigmoid_backward(dy: usize, y: usize, dx: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const one = f32x4.splat(1);
    for (; i + 4 <= n; i += 4) {
      const v = v128.load(at(y, i));
      v128.store(at(dx, i), f32x4.mul(v128.load(at(dy, i)), f32x4.mul(v, f32x4.sub(one, v))));
    }
  }
  for (; i < n; i++) { const v = load<f32>(at(y, i)); store<f32>(at(dx, i), load<f32>(at(dy, i)) * (v * (1 - v))); }
}

/** y = tanh(x) = sign(x)·(1 − 2 / (e^{2|x|} + 1)). */
export function tanh_forward(x: usize, y: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const one = f32x4.splat(1), two = f32x4.splat(2), sign = f32x4.splat(-0.0);
    for (; i + 4 <= n; i += 4) {
      const v = v128.load(at(x, i));
      const e = exp4(f32x4.mul(two, f32x4.abs(v)));
      const t = f32x4.sub(one, f32x4.div(two, f32x4.add(e, one)));
      v128.store(at(y, i), v128.or(t, v128.and(v, sign)));
    }
  }
  for (; i < n; i++) store<f32>(at(y, i), <f32>Math.tanh(<f64>load<f32>(at(x, i))));
}

/** dx = dy·(1 − y²). */
export function tanh_backward(dy: usize, y: usize, dx: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const one = f32x4.splat(1);
    for (; i + 4 <= n; i += 4) {
      const v = v128.load(at(y, i));
      v128.store(at(dx, i), f32x4.mul(v128.load(at(dy, i)), f32x4.sub(one, f32x4.mul(v, v))));
    }
  }
  for (; i < n; i++) { const v = load<f32>(at(y, i)); store<f32>(at(dx, i), load<f32>(at(dy, i)) * (1 - v * v)); }
}
