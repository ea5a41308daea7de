// The MNIST demo's pictures of what the net learned (used by examples/mnist.mjs; PNG files through pngjs):
//   filters.png                       the 16 first-layer 3×3 filters (one shared gray scale: black = most negative)
//   digit-<label>.png                 the test digit the next three files are about
//   feature-maps-layer2-relu.png      its 16 feature maps after conv 1 → BN → ReLU (28×28 each, own scale each)
//   feature-maps-layer6-relu.png      its 32 feature maps after conv 2 → BN → ReLU (14×14 each)
//   saliency-<label>.png              the digit | max over channels of |d loss / d pixel| (hot colours)
//   adversarial-eps<E>-true<T>-pred<P>-adv<A>.png   original | FGSM adversarial (eps in pixel units) | perturbation
//   curves-loss.png, curves-accuracy.png  per epoch: blue = training, orange = held-out (validation)
// Images are denormalised to pixel values in [0, 1] for display; FGSM clamps to that range.

/** Writes the pictures into dir; returns { files, fgsm: [{ eps, accuracy }] }. */
export async function writeVisuals(nn, model, test, history, dir, { mean, std, print = console.log, fgsmEps = [0, 0.05, 0.1, 0.2] } = {}) {
  const I = nn.inspect;
  const { join } = await import('node:path');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(dir, { recursive: true });
  const files = [];
  const write = async (name, img) => { files.push(await I.writePng(join(dir, name), img)); };
  const S = 28 * 28, n = test.y.length;
  const toPixels = (v) => { const o = new Float32Array(v.length); for (let i = 0; i < v.length; i++) o[i] = Math.min(1, Math.max(0, v[i] * std + mean)); return o; };
  const big = (values, scale = 8, colormap = 'gray') => {
    const g = I.grid([{ width: 28, height: 28, data: values }], { pad: 0, scale });
    return I.toRGBA(g, colormap);
  };

  // First-layer filters.
  await write('filters.png', I.grid(I.filterImages(model), { cols: 8, scale: 12, pad: 2 }));

  // One test digit: its feature maps and saliency map.
  const k = 0, label = test.y[k];
  const x1 = nn.tensor(test.x.subarray(k * S, (k + 1) * S), [1, 1, 28, 28]);
  await write(`digit-${label}.png`, big(toPixels(x1.read())));
  const acts = model.activations(x1);
  for (const i of [2, 6]) {
    if (acts[i]?.rank === 4) {
      const maps = I.featureMapImages(acts[i]);
      await write(`feature-maps-layer${i}-${model.layers[i].type}.png`, I.grid(maps, { cols: 8, scale: i === 2 ? 3 : 5, pad: 2 }));
    }
  }
  for (const a of acts) a.dispose();
  const grad = model.inputGradient(x1, [label]);
  const sal = I.saliencyImages(grad)[0];
  grad.dispose();
  await write(`saliency-${label}.png`, I.hstack([big(toPixels(x1.read())), big(sal.data, 8, 'hot')], 8));
  x1.dispose();

  // FGSM on the whole test set at several eps (pixel units; the model sees normalised inputs, so eps/std there and
  // the range [0, 1] normalised), and one adversarial pair: the first correctly classified digit that flips.
  const range = [(0 - mean) / std, (1 - mean) / std];
  const fgsm = [];
  let pair = null;
  for (const eps of fgsmEps) {
    let correct = 0;
    for (let s = 0; s < n; s += 500) {
      const m = Math.min(500, n - s);
      const x = nn.tensor(test.x.subarray(s * S, (s + m) * S), [m, 1, 28, 28]);
      const y = test.y.subarray(s, s + m);
      const adv = nn.adversarial.fgsm(model, x, y, eps / std, { range });
      const pa = argmaxAll(model.predict(adv), m);
      for (let i = 0; i < m; i++) if (pa[i] === y[i]) correct++;
      if (!pair && eps > 0) {
        const po = argmaxAll(model.predict(x), m);
        const i = [...Array(m).keys()].find((j) => po[j] === y[j] && pa[j] !== y[j]);
        if (i !== undefined) {
          pair = { eps, label: y[i], pred: po[i], adv: pa[i], orig: toPixels(x.read().subarray(i * S, (i + 1) * S)), advx: toPixels(adv.read().subarray(i * S, (i + 1) * S)) };
        }
      }
      x.dispose(); adv.dispose();
    }
    fgsm.push({ eps, accuracy: correct / n });
  }
  if (pair) {
    const diff = new Float32Array(S);
    for (let i = 0; i < S; i++) diff[i] = 0.5 + (pair.advx[i] - pair.orig[i]) / (2 * Math.max(pair.eps, 1e-6));
    await write(`adversarial-eps${pair.eps.toFixed(2)}-true${pair.label}-pred${pair.pred}-adv${pair.adv}.png`,
      I.hstack([big(pair.orig), big(pair.advx), big(diff)], 8));
  }

  // Training curves: training vs held-out loss and accuracy per epoch.
  const h = history.history;
  if (h.valLoss.length) {
    await write('curves-loss.png', I.linePlot([{ values: h.loss, label: 'training' }, { values: h.valLoss, label: 'held-out' }]));
    await write('curves-accuracy.png', I.linePlot([{ values: h.accuracy, label: 'training' }, { values: h.valAccuracy, label: 'held-out' }]));
  }
  if (print) {
    print(`\naccuracy under FGSM (eps in pixel units) on the ${n} held-out digits: ${fgsm.map((f) => `eps ${f.eps}: ${(100 * f.accuracy).toFixed(2)}%`).join(', ')}`);
    print(`pictures (${files.length} PNG files; curves: blue = training, orange = held-out) in ${dir}:`);
    for (const f of files) print(`  ${f}`);
  }
  return { files, fgsm };
}

/** Argmax per row of logits [m, K] (disposes them). */
function argmaxAll(logits, m) {
  const v = logits.read(), K = v.length / m, out = new Int32Array(m);
  logits.dispose();
  for (let i = 0; i < m; i++) { let b = 0; for (let c = 1; c < K; c++) if (v[i * K + c] > v[i * K + b]) b = c; out[i] = b; }
  return out;
}
