// nn.inspect and nn.adversarial: seeing what a net learns (activations, input gradients / saliency, filters and
// feature maps as images, training-curve plots, PNG files in Node) and FGSM adversarial examples.
import type { Engine } from '../engine.js';
import type { Tensor } from '../tensor.js';
import type { Sequential } from '../model/sequential.js';
import { activations, inputGradient, lossAndInputGradient, saliency, fgsm, type InspectOptions, type Labels, type FgsmOptions } from './model.js';
import { filterImages, featureMapImages, saliencyImages, toGray, grid, toRGBA, hstack } from './images.js';
import { linePlot, PALETTE } from './plot.js';
import { encodePng, writePng } from './png.js';

export { activations, inputGradient, lossAndInputGradient, saliency, fgsm } from './model.js';
export type { InspectOptions, Labels, FgsmOptions, LossGradient } from './model.js';
export { filterImages, featureMapImages, saliencyImages, toGray, grid, toRGBA, hstack } from './images.js';
export type { GrayImage, RGBAImage, Normalize, FilterImageOptions, MapImageOptions, GridOptions, Colormap } from './images.js';
export { linePlot, PALETTE } from './plot.js';
export type { Series, LinePlotOptions, RGB } from './plot.js';
export { encodePng, writePng } from './png.js';

export function makeInspect(e: Engine) {
  return {
    activations: (model: Sequential, x: Tensor, opts?: InspectOptions) => activations(model, x, opts),
    inputGradient: (model: Sequential, x: Tensor, labels: Labels, opts?: InspectOptions) => inputGradient(model, x, labels, opts),
    lossAndInputGradient: (model: Sequential, x: Tensor, labels: Labels, opts?: InspectOptions) => lossAndInputGradient(model, x, labels, opts),
    saliency: (grad: Tensor) => saliency(e, grad),
    filterImages, featureMapImages, saliencyImages, toGray, grid, toRGBA, hstack, linePlot, palette: PALETTE, encodePng, writePng,
  };
}
export type Inspect = ReturnType<typeof makeInspect>;

export function makeAdversarial() {
  return {
    fgsm: (model: Sequential, x: Tensor, labels: Labels, eps: number, opts?: FgsmOptions) => fgsm(model, x, labels, eps, opts),
  };
}
export type Adversarial = ReturnType<typeof makeAdversarial>;
