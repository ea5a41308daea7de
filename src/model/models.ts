// nn.models: the classic architectures with torchvision's module names, so a torchvision state_dict saved as
// safetensors (`safetensors.torch.save_file(m.state_dict(), path)`) loads by name with model.loadWeights():
//   lenet5    LeCun et al. 1998, 1×32×32 (not in torchvision: names features.0/3/6, classifier.0/2; see gen_models.py)
//   alexnet   torchvision.models.alexnet, 3×224×224: features.0.weight, …, classifier.1/4/6
//   vgg11/16  torchvision.models.vgg11/vgg16 (no batch norm), 3×224×224: features.N, classifier.0/3/6
//   resnet18  torchvision.models.resnet18, 3×224×224: conv1, bn1, layer1.0.conv1, layer2.0.downsample.0, fc
//   resnet8   a small ResNet for 1×28×28 (MNIST) or 3×32×32 (CIFAR): conv1/bn1 with 16 channels, 3 stages of one
//             BasicBlock (16, 32, 64 channels; stride 1, 2, 2), global average pool, fc — torchvision's names.
// torchvision's functional torch.flatten(x, 1) is a parameter-free `flatten` layer, and ResNet's BasicBlock is
// nn.named({ '': nn.residual({ conv1, bn1, relu, conv2, bn2 }, downsample, { bodyName: '', shortcutName: 'downsample' }), relu }):
// the same state_dict paths, the residual sum followed by the ReLU.
//
// Every factory returns a built model (weights allocated, PyTorch's default initialisation, seeded) for its input
// shape; { build: false } returns the unbuilt nn.sequential instead — a model spec that allocates nothing, for
// nn.summary(spec, inputShape) or a later model.build(inputShape) / first forward.
import type { Engine } from '../engine.js';
import { layers as L } from '../layers/index.js';
import type { Layer } from '../layers/layer.js';
import { fmt } from '../layers/layer.js';
import { Sequential } from './sequential.js';
import { Named, Residual } from './containers.js';

export interface ModelOptions {
  /** Classes of the last linear layer (default 1000 for the ImageNet models, 10 for lenet5 and resnet8). */
  numClasses?: number;
  /** Per-sample input shape (default: the paper's / torchvision's, e.g. [3, 224, 224]). */
  inputShape?: number[];
  /** Dropout probability of the classifier (alexnet, vgg; default 0.5, as torchvision). */
  dropout?: number;
  /** Weights seed (see nn.sequential). */
  seed?: number;
  /** false: return the unbuilt model (a spec; no weights allocated). Default true. */
  build?: boolean;
}

const KNOWN = ['numClasses', 'inputShape', 'dropout', 'seed', 'build'];

function options(where: string, o: unknown): ModelOptions {
  if (o === undefined || o === null) return {};
  if (typeof o !== 'object' || Array.isArray(o)) throw new Error(`${where}: options must be an object, got ${fmt(o)}`);
  for (const k of Object.keys(o)) if (!KNOWN.includes(k)) throw new Error(`${where}: unknown option '${k}' (known: ${KNOWN.join(', ')})`);
  const c = o as ModelOptions;
  if (c.numClasses !== undefined && (!Number.isInteger(c.numClasses) || c.numClasses < 1)) throw new Error(`${where}: numClasses must be a positive integer, got ${fmt(c.numClasses)}`);
  if (c.build !== undefined && typeof c.build !== 'boolean') throw new Error(`${where}: build must be a boolean, got ${fmt(c.build)}`);
  return c;
}

function make(e: Engine, layers: Record<string, Layer>, o: ModelOptions, inputShape: number[]): Sequential {
  const model = new Sequential(e, layers, o.seed !== undefined ? { seed: o.seed } : {});
  if (o.build !== false) model.build(o.inputShape ?? inputShape);
  return model;
}

const conv = (c: number, k: number, opts: Record<string, unknown> = {}) => L.conv2d(c, k, opts);

/** LeNet-5 (tanh, average pooling; C5 as a 5×5 conv). For 28×28 inputs C1 pads by 2 (the usual MNIST variant). */
function lenet5(e: Engine, opts?: ModelOptions): Sequential {
  const o = options('lenet5', opts);
  const pad = o.inputShape && o.inputShape[1] === 28 && o.inputShape[2] === 28 ? 2 : 0;
  return make(e, {
    features: new Named([conv(6, 5, { padding: pad }), L.tanh(), L.avgPool2d(2), conv(16, 5), L.tanh(), L.avgPool2d(2), conv(120, 5), L.tanh()]),
    flatten: L.flatten(),
    classifier: new Named([L.linear(84), L.tanh(), L.linear(o.numClasses ?? 10)]),
  }, o, [1, 32, 32]);
}

function alexnet(e: Engine, opts?: ModelOptions): Sequential {
  const o = options('alexnet', opts);
  const p = o.dropout ?? 0.5;
  return make(e, {
    features: new Named([
      conv(64, 11, { stride: 4, padding: 2 }), L.relu(), L.maxPool2d(3, { stride: 2 }),
      conv(192, 5, { padding: 2 }), L.relu(), L.maxPool2d(3, { stride: 2 }),
      conv(384, 3, { padding: 1 }), L.relu(), conv(256, 3, { padding: 1 }), L.relu(), conv(256, 3, { padding: 1 }), L.relu(),
      L.maxPool2d(3, { stride: 2 }),
    ]),
    avgpool: L.adaptiveAvgPool2d([6, 6]),
    flatten: L.flatten(),
    classifier: new Named([L.dropout(p), L.linear(4096), L.relu(), L.dropout(p), L.linear(4096), L.relu(), L.linear(o.numClasses ?? 1000)]),
  }, o, [3, 224, 224]);
}

const VGG_CFG: Record<string, (number | 'M')[]> = {
  vgg11: [64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
  vgg16: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'],
};

function vgg(name: string, e: Engine, opts?: ModelOptions): Sequential {
  const o = options(name, opts);
  const p = o.dropout ?? 0.5;
  const features: Layer[] = [];
  for (const v of VGG_CFG[name]) features.push(...(v === 'M' ? [L.maxPool2d(2, { stride: 2 })] : [conv(v, 3, { padding: 1 }), L.relu()]));
  return make(e, {
    features: new Named(features),
    avgpool: L.adaptiveAvgPool2d([7, 7]),
    flatten: L.flatten(),
    classifier: new Named([L.linear(4096), L.relu(), L.dropout(p), L.linear(4096), L.relu(), L.dropout(p), L.linear(o.numClasses ?? 1000)]),
  }, o, [3, 224, 224]);
}

/** torchvision's BasicBlock: relu(bn2(conv2(relu(bn1(conv1(x))))) + downsample(x)), downsample when the shape changes. */
function basicBlock(inC: number, c: number, stride: number): Layer {
  const body = {
    conv1: conv(c, 3, { stride, padding: 1, bias: false }), bn1: L.batchNorm2d(), relu: L.relu(),
    conv2: conv(c, 3, { padding: 1, bias: false }), bn2: L.batchNorm2d(),
  };
  const down = stride !== 1 || inC !== c ? [conv(c, 1, { stride, bias: false }), L.batchNorm2d()] : null;
  return new Named({ '': new Residual(body, down, { bodyName: '', shortcutName: 'downsample' }), relu: L.relu() });
}

function resnet(e: Engine, o: ModelOptions, stem: Record<string, Layer>, widths: number[], blocks: number[], inputShape: number[]): Sequential {
  const layers: Record<string, Layer> = { ...stem };
  let inC = widths[0];
  widths.forEach((c, s) => {
    const list: Layer[] = [];
    for (let b = 0; b < blocks[s]; b++) { list.push(basicBlock(inC, c, b === 0 && s > 0 ? 2 : 1)); inC = c; }
    layers[`layer${s + 1}`] = new Named(list);
  });
  layers.avgpool = L.adaptiveAvgPool2d(1);
  layers.flatten = L.flatten();
  layers.fc = L.linear(o.numClasses ?? 1000);
  return make(e, layers, o, inputShape);
}

function resnet18(e: Engine, opts?: ModelOptions): Sequential {
  const o = options('resnet18', opts);
  return resnet(e, o, {
    conv1: conv(64, 7, { stride: 2, padding: 3, bias: false }), bn1: L.batchNorm2d(), relu: L.relu(),
    maxpool: L.maxPool2d(3, { stride: 2, padding: 1 }),
  }, [64, 128, 256, 512], [2, 2, 2, 2], [3, 224, 224]);
}

function resnet8(e: Engine, opts?: ModelOptions): Sequential {
  const o = options('resnet8', opts);
  return resnet(e, { ...o, numClasses: o.numClasses ?? 10 }, {
    conv1: conv(16, 3, { padding: 1, bias: false }), bn1: L.batchNorm2d(), relu: L.relu(),
  }, [16, 32, 64], [1, 1, 1], [1, 28, 28]);
}

export interface Models {
  lenet5(opts?: ModelOptions): Sequential;
  alexnet(opts?: ModelOptions): Sequential;
  vgg11(opts?: ModelOptions): Sequential;
  vgg16(opts?: ModelOptions): Sequential;
  resnet18(opts?: ModelOptions): Sequential;
  resnet8(opts?: ModelOptions): Sequential;
}

export function makeModels(e: Engine): Models {
  return {
    lenet5: (o) => lenet5(e, o),
    alexnet: (o) => alexnet(e, o),
    vgg11: (o) => vgg('vgg11', e, o),
    vgg16: (o) => vgg('vgg16', e, o),
    resnet18: (o) => resnet18(e, o),
    resnet8: (o) => resnet8(e, o),
  };
}
