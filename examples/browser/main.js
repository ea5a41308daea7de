// The demo page: controls, live curves, filters and feature maps, the drawing pad and the wasm-vs-JS panel. The net
// trains in train-worker.js; this thread only draws. Query parameters preset the controls: ?backend=simd&threads=1
// &epochs=1&train=4000&autostart=1. `window.demo` exposes the page's state (the browser tests read it).
import { trainingCharts } from './charts.js';
import { drawingPad, toDigit } from './draw.js';
import { MEAN, STD } from './data.js';

const $ = (id) => document.getElementById(id);
const q = new URLSearchParams(location.search);
for (const [param, id] of [['backend', 'backend'], ['threads', 'threads'], ['epochs', 'epochs'], ['train', 'ntrain']]) {
  if (q.has(param)) $(id).value = q.get(param);
}

const state = {
  ready: false, backend: null, threads: null, crossOriginIsolated: self.crossOriginIsolated === true,
  training: false, done: false, steps: 0, testAccuracy: null, final: null, probs: null, inspected: null,
  errors: [], warnings: [],
};
const charts = trainingCharts($('chart-loss'), $('chart-acc'));
const compare = { rows: [], done: false, error: null, leaked: null };
window.demo = { state, charts, compare };

const fail = (message) => {
  state.errors.push(message);
  $('st-state').textContent = `error: ${message}`;
  console.error(message);
};

function putImage(canvas, img) {
  canvas.width = img.width;
  canvas.height = img.height;
  canvas.getContext('2d').putImageData(new ImageData(img.data, img.width, img.height), 0, 0);
}

// ------------------------------------------------------------------------------------------ the training worker

let worker = null, workerConfig = '', nextId = 1, pendingPredict = 0;
let trainWhenReady = q.get('autostart') === '1';

function startWorker() {
  const config = `${$('backend').value}/${$('threads').value}`;
  if (worker && config === workerConfig) return;
  worker?.terminate();
  Object.assign(state, { ready: false, backend: null, threads: null, training: false });
  $('train').disabled = true;
  $('st-state').textContent = 'loading the wasm build and the digits…';
  workerConfig = config;
  worker = new Worker(new URL('./train-worker.js', import.meta.url), { type: 'module' });
  worker.onmessage = (e) => onWorkerMessage(e.data);
  worker.onerror = (e) => fail(`the training worker failed: ${e.message ?? 'script error'}`);
  worker.postMessage({ type: 'start', options: { backend: $('backend').value, threads: Number($('threads').value) } });
}

function onWorkerMessage(m) {
  switch (m.type) {
    case 'ready':
      Object.assign(state, { ready: true, backend: m.backend, threads: m.threads });
      $('st-backend').textContent = m.backend;
      $('st-threads').textContent = `${m.threads}${m.crossOriginIsolated ? '' : ' (page not cross-origin isolated)'}`;
      $('st-state').textContent = `ready: up to ${m.nTrain} digits to train on, ${m.nTest} held out (loaded in ${m.seconds.toFixed(1)} s)`;
      $('train').disabled = false;
      if (trainWhenReady) train();
      break;
    case 'warning':
      state.warnings.push(m.message);
      $('warning').hidden = false;
      $('warning').textContent = m.message;
      break;
    case 'batch':
      state.steps = m.step;
      charts.add(m);
      $('st-step').textContent = `${m.step} (epoch ${m.epoch + 1}/${m.epochs}, batch ${m.batch + 1}/${m.stepsPerEpoch})`;
      $('st-speed').textContent = Math.round(m.imagesPerSec).toLocaleString('en-US');
      if (m.testAccuracy != null) {
        state.testAccuracy = m.testAccuracy;
        $('st-acc').textContent = `${(100 * m.testAccuracy).toFixed(1)} % (first 1,000)`;
        putImage($('filters'), m.filters);
        refreshPredictions();
      }
      scheduleRedraw();
      break;
    case 'done':
      Object.assign(state, { training: false, done: true, final: m });
      $('st-acc').textContent = `${(100 * m.testAccuracy).toFixed(2)} % (all ${m.nTest.toLocaleString('en-US')})`;
      $('st-state').textContent = `${m.stopped ? 'stopped' : 'trained'}: ${m.step} steps on ${m.nTrain.toLocaleString('en-US')} digits in ${m.seconds.toFixed(1)} s`;
      putImage($('filters'), m.filters);
      $('train').disabled = false; $('stop').disabled = true;
      refreshPredictions();
      scheduleRedraw();
      break;
    case 'probs':
      if (m.id === pendingPredict) showProbs(m.probs, m.reason);
      break;
    case 'inspect':
      if (m.result) showInspect(m.result);
      break;
    case 'error':
      fail(m.message);
      state.training = false;
      $('train').disabled = false; $('stop').disabled = true;
      break;
  }
}

function train() {
  startWorker();
  trainWhenReady = !state.ready;   // a new worker is starting: train once it is ready
  if (!state.ready) return;
  charts.clear();
  Object.assign(state, { training: true, done: false, steps: 0, testAccuracy: null, final: null });
  $('train').disabled = true; $('stop').disabled = false;
  $('st-state').textContent = 'training…';
  worker.postMessage({ type: 'train', options: { epochs: Number($('epochs').value), train: Number($('ntrain').value) } });
}

let redrawQueued = false;
function scheduleRedraw() {
  if (redrawQueued) return;
  redrawQueued = true;
  requestAnimationFrame(() => { redrawQueued = false; charts.redraw(); });
}

// ------------------------------------------------------------------------------------ feature maps, drawing pad

function requestInspect() {
  if (worker && state.ready) worker.postMessage({ type: 'inspect', id: nextId++, index: Number($('digit-index').value) });
}

function showInspect(r) {
  state.inspected = { index: r.index, label: r.label, probs: r.probs, maps: r.maps.map((m) => m.shape) };
  putImage($('digit'), r.digit);
  const pred = r.probs.indexOf(Math.max(...r.probs));
  $('digit-info').textContent = `label ${r.label}, predicted ${pred} (${(100 * r.probs[pred]).toFixed(1)} %)`;
  const box = $('maps');
  box.replaceChildren();
  for (const m of r.maps) {
    const title = document.createElement('div');
    title.textContent = `after layer ${m.layer} (ReLU): ${m.shape[0]} maps of ${m.shape[1]}×${m.shape[2]}`;
    const c = document.createElement('canvas');
    putImage(c, m.image);
    box.append(title, c);
  }
}

const pad = drawingPad($('pad'), () => requestPredict());

function requestPredict() {
  const digit = toDigit($('pad'));
  const ctx = $('pad28').getContext('2d');
  if (!digit) { pendingPredict = 0; ctx.clearRect(0, 0, 28, 28); showProbs(null, 'draw a digit'); return; }   // drops answers in flight
  const rgba = new Uint8ClampedArray(28 * 28 * 4);
  for (let i = 0; i < 784; i++) { const v = Math.round(255 * digit[i]); rgba.set([v, v, v, 255], 4 * i); }
  ctx.putImageData(new ImageData(rgba, 28, 28), 0, 0);
  if (!worker || !state.ready) { showProbs(null, 'the net is still loading'); return; }
  pendingPredict = nextId++;
  worker.postMessage({ type: 'predict', id: pendingPredict, pixels: digit.map((v) => (v - MEAN) / STD) });
}

function refreshPredictions() {
  requestInspect();
  if (toDigit($('pad'))) requestPredict();
}

function showProbs(probs, reason) {
  state.probs = probs;
  const table = $('probs');
  table.replaceChildren();
  if (!probs) { table.innerHTML = `<tr><td>${reason ?? ''}</td></tr>`; return; }
  const top = probs.indexOf(Math.max(...probs));
  probs.forEach((p, k) => {
    const tr = document.createElement('tr');
    if (k === top) tr.className = 'top';
    tr.innerHTML = `<td>${k}</td><td><span class="bar" style="width:${(160 * p).toFixed(1)}px"></span></td><td>${(100 * p).toFixed(1)} %</td>`;
    table.append(tr);
  });
}

// ------------------------------------------------------------------------------------------------ wasm vs JS

function runCompare() {
  Object.assign(compare, { rows: [], done: false, error: null, leaked: null });
  const body = $('compare').tBodies[0];
  body.replaceChildren();
  $('compare-run').disabled = true;
  $('compare-state').textContent = 'running…';
  const w = new Worker(new URL('./compare-worker.js', import.meta.url), { type: 'module' });
  const notes = new Map();
  w.onmessage = (e) => {
    const m = e.data;
    if (m.type === 'row') {
      compare.rows.push(m);
      notes.set(m.name, m.flopsNote);
      const tr = document.createElement('tr');
      const f = (v, d = 2) => v.toFixed(d);
      tr.innerHTML = `<td>${m.label}</td><td>${f(m.simdMs, 3)}</td><td>${f(m.jsMs, 3)}</td><td>${f(m.simdGflops)}</td><td>${f(m.jsGflops)}</td>` +
        `<td>${f(m.speedup, 1)}×</td><td class="${m.match ? 'ok' : 'bad'}">${m.match ? 'yes' : `NO (${m.worst.toExponential(1)}× tol)`}</td>`;
      body.append(tr);
      $('compare-state').textContent = `running… (${m.backend} build)`;
    } else {
      w.terminate();
      $('compare-run').disabled = false;
      if (m.type === 'done') {
        compare.done = true;
        compare.leaked = m.leaked;
        $('compare-state').textContent = `${m.backend} build, one thread`;
        $('compare-note').textContent = 'FLOPs counted: ' + [...notes].map(([k, v]) => `${k}: ${v}`).join('; ') + '.';
      } else {
        compare.error = m.message;
        $('compare-state').textContent = `error: ${m.message}`;
      }
    }
  };
  w.onerror = (e) => { compare.error = e.message ?? 'worker error'; $('compare-state').textContent = `error: ${compare.error}`; $('compare-run').disabled = false; };
  w.postMessage({ backend: $('backend').value, seconds: Number(q.get('compareSeconds') ?? 0.5) });
}

// ---------------------------------------------------------------------------------------------------- wiring

$('train').onclick = train;
$('stop').onclick = () => worker?.postMessage({ type: 'stop' });
$('backend').onchange = $('threads').onchange = () => { if (!state.training) startWorker(); };
$('digit-index').onchange = requestInspect;
$('digit-random').onclick = () => { $('digit-index').value = String(Math.floor(Math.random() * 2000)); requestInspect(); };
$('clear').onclick = () => { pad.clear(); requestPredict(); };
$('compare-run').onclick = runCompare;
showProbs(null, 'draw a digit on the black square');
startWorker();
