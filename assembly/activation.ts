// Elementwise activations over n contiguous floats, forward and backward side by side.
// Backward of sigmoid, tanh and elu takes the forward output y: σ' = y(1 − y), tanh' = 1 − y², elu' = y + 1 (y < 0).
import { at, exp4, expm1_4, log1p4 } from './vec';

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

/** y = e^x (exp4: relative error ≤ 2.5e-7 against the exact value; 0 below −104, +Inf above ln FLT_MAX). */
export function exp_forward(x: usize, y: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) v128.store(at(y, i), exp4(v128.load(at(x, i))));
  }
  for (; i < n; i++) store<f32>(at(y, i), Mathf.exp(load<f32>(at(x, i))));
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

/**
 * y = scale·x where x ≥ 0, scaleAlpha·(e^x − 1) elsewhere: tfjs's Elu (scale = scaleAlpha = 1) and Selu (its
 * constants). e^x − 1 by expm1_4, accurate near 0 where e^x − 1 would cancel. −Inf → −scaleAlpha; NaN stays NaN.
 */
export function elu_forward(x: usize, y: usize, n: i32, scale: f32, scaleAlpha: f32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const z = f32x4.splat(0), s = f32x4.splat(scale), sa = f32x4.splat(scaleAlpha);
    for (; i + 4 <= n; i += 4) {
      const v = v128.load(at(x, i));
      v128.store(at(y, i), v128.bitselect(f32x4.mul(v, s), f32x4.mul(expm1_4(v), sa), f32x4.ge(v, z)));
    }
  }
  for (; i < n; i++) {
    const v = load<f32>(at(x, i));
    store<f32>(at(y, i), v >= 0 ? v * scale : <f32>(<f64>scaleAlpha * Math.expm1(<f64>v)));
  }
}

/** EluGrad(dy, y) of Elu (α = 1): dx = dy where y ≥ 0, dy·(y + 1) elsewhere (e^x = y + 1 there). */
export function elu_backward(dy: usize, y: usize, dx: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const z = f32x4.splat(0), one = f32x4.splat(1);
    for (; i + 4 <= n; i += 4) {
      const v = v128.load(at(y, i)), d = v128.load(at(dy, i));
      v128.store(at(dx, i), v128.bitselect(d, f32x4.mul(d, f32x4.add(v, one)), f32x4.ge(v, z)));
    }
  }
  for (; i < n; i++) {
    const v = load<f32>(at(y, i)), d = load<f32>(at(dy, i));
    store<f32>(at(dx, i), v >= 0 ? d : d * (v + 1));
  }
}

// tfjs's Softplus thresholds: ln(2^−23) + 2 ≈ −13.94. Above −T softplus(x) = x and below T it is e^x, both to
// within float32's epsilon, and tfjs returns exactly those there.
const SOFTPLUS_T: f32 = -13.942385152878742;

/**
 * y = ln(1 + e^x) = max(x, 0) + ln(1 + e^−|x|) (no overflow for large x, e^−|x| ∈ (0, 1]), with tfjs's
 * thresholds: x for x > −T, e^x for x < T. +Inf → +Inf, −Inf → 0, NaN stays NaN.
 */
export function softplus_forward(x: usize, y: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const z = f32x4.splat(0), lo = f32x4.splat(SOFTPLUS_T), hi = f32x4.splat(-SOFTPLUS_T);
    for (; i + 4 <= n; i += 4) {
      const v = v128.load(at(x, i));
      const t = exp4(f32x4.neg(f32x4.abs(v)));                   // = e^x where x < T
      let r = f32x4.add(f32x4.max(v, z), log1p4(t));                // max keeps NaN
      r = v128.bitselect(v, r, f32x4.gt(v, hi));
      v128.store(at(y, i), v128.bitselect(t, r, f32x4.lt(v, lo)));
    }
  }
  for (; i < n; i++) {
    const v = load<f32>(at(x, i));
    store<f32>(at(y, i), v < SOFTPLUS_T ? <f32>Math.exp(<f64>v) : v > -SOFTPLUS_T ? v : <f32>Math.log1p(Math.exp(<f64>v)));
  }
}
