// Issue 7's section of RESULTS.md: the tfjs-layers conv net (workloads marked `tfjs`) on the TensorFlow.js
// backends simdnn, wasm and cpu (libraries marked `tfjs`), its correctness checks against tfjs's cpu backend,
// and issue 7's speed goals. report.mjs keeps these rows and columns out of its main tables and calls
// tfjsSection with its formatting helpers.
import { compare, TOLERANCE } from './check.mjs';
import { runCount } from './measure.mjs';

const REFERENCE = 'tfjs-layers-cpu';
const SIMDNN = 'tfjs-layers-simdnn', WASM = 'tfjs-layers-wasm';

/** The run without issue 7's libraries and rows (what report.mjs's main tables show). */
export function withoutTfjs(run) {
  return { ...run, libs: run.libs.filter((l) => !l.tfjs), workloads: run.workloads.filter((w) => !w.tfjs) };
}

/** Sets perf (ms), spread (%) and the verdict against tfjs's cpu backend on every tfjs result. */
function evaluate(libs, workloads) {
  const ref = libs.find((l) => (l.key ?? l.lib) === REFERENCE);
  for (const wl of workloads) {
    const want = ref?.results[wl.id];
    for (const l of libs) {
      const r = l.results[wl.id];
      if (!r || r.medianMs == null) continue;
      r.perf = r.medianMs;
      r.spread = r.rme != null ? r.rme : r.n > 1 ? (100 * (r.maxMs - r.minMs)) / 2 / r.medianMs : null;
      if (r.verdict && !r.check?.values) continue;            // re-rendering a saved run: samples were dropped
      r.verdict = l === ref ? { ok: null, reference: true } : want?.check ? { ...compare(r.check, want.check), against: REFERENCE } : { ok: null };
    }
  }
}

/** The markdown section (empty string when the run has no tfjs libraries or rows). */
export function tfjsSection(run, { cell, table, fmt }) {
  const libs = run.libs.filter((l) => l.tfjs), workloads = run.workloads.filter((w) => w.tfjs);
  if (!libs.length || !workloads.length) return '';
  evaluate(libs, workloads);
  const get = (key, id) => libs.find((l) => (l.key ?? l.lib) === key)?.results[id];
  const good = (r) => r && r.perf != null && r.verdict?.ok !== false;
  const out = [];
  out.push('## TensorFlow.js backends (issue 7)', '');
  out.push('One tfjs-layers Sequential conv net (bench/workloads.mjs `TFJS_NET`: Conv2D 16 3×3 same ReLU → BatchNormalization → ' +
    'MaxPooling2D 2 → Conv2D 32 3×3 same ReLU → BatchNormalization → MaxPooling2D 2 → Dropout 0.25 (fixed seed) → Flatten → ' +
    'Dense 10 softmax; SGD lr 0.01, categorical cross-entropy; seeded Glorot weights, the same in every process) on three ' +
    'TensorFlow.js 4.22 backends, each in its own process (bench/libs/tfjs-layers.mjs), single-threaded. Fit step: ' +
    '`model.trainOnBatch` on 32 inputs (forward, gradients, SGD update, loss read back). Predict: `model.predict` + `dataSync`. ' +
    'Cells in ms (lower is better), as in the main table.', '');
  out.push(table(['workload', ...libs.map((l) => l.label)], workloads.map((wl) => [`${wl.label} (ms)`, ...libs.map((l) => cell(l.results[wl.id]))])), '');

  out.push('### Issue 7 goals on these numbers', '');
  const lines = [];
  const line = (ok, text) => lines.push(`- ${ok == null ? '·' : ok ? '✅' : '❌'} ${text}`);
  const fit = get(SIMDNN, 'tfjs.fit'), fitCpu = get(REFERENCE, 'tfjs.fit');
  const fitRatio = good(fit) && good(fitCpu) ? fitCpu.perf / fit.perf : null;
  line(fitRatio == null ? null : fitRatio >= 5, `fit step (batch 32) on simdnn ≥ 5× faster than on cpu: ${good(fit) ? fmt(fit.perf) : '?'} ms vs ` +
    `${good(fitCpu) ? fmt(fitCpu.perf) : '?'} ms (${fitRatio != null ? fitRatio.toFixed(0) + '×' : '?'})` +
    (get(WASM, 'tfjs.fit')?.na ? '; wasm cannot train it (no Conv2DBackpropFilter)' : ''));
  for (const id of ['tfjs.predict1', 'tfjs.predict64']) {
    const s = get(SIMDNN, id), w = get(WASM, id);
    const wl = workloads.find((x) => x.id === id);
    if (!wl) continue;
    line(good(s) && good(w) ? s.perf <= w.perf : null, `model.predict at batch ${wl.shape.N} on simdnn ≤ on wasm: ${good(s) ? fmt(s.perf) : '?'} ms vs ` +
      `${good(w) ? fmt(w.perf) : '?'} ms` + (good(s) && good(w) ? ` (${(w.perf / s.perf).toFixed(2)}× wasm's speed)` : ''));
  }
  out.push(lines.join('\n'), '');

  out.push(`Correctness: each output of the check call (fit: the first step's loss and conv1's kernel gradient, (w₀ − w₁)/lr, 145 values; ` +
    `predict: the probabilities) against tfjs's cpu backend, pass if |got − want| ≤ ${TOLERANCE}·(|want| + max|want|): ` +
    libs.filter((l) => (l.key ?? l.lib) !== REFERENCE).map((l) => `${l.label} ` + workloads.map((wl) => {
      const v = l.results[wl.id]?.verdict;
      return `${wl.id} ${v?.ok == null ? '—' : `${v.ok ? '✓' : '✗'} ${v.maxRelErr === Infinity ? '∞' : v.maxRelErr.toExponential(0)}`}`;
    }).join(', ')).join('; ') + '.', '');

  const notes = [];
  for (const l of libs) {
    const procs = `\`node ${[...(l.nodeFlags ?? []), 'bench/child.mjs', ...(l.childArgs ?? [])].join(' ')}\``;
    const runs = runCount(l);
    notes.push(`- **${l.label}**: ${l.pkg} ${l.version ?? '?'}; ${l.info ?? ''}; ${procs}, ${l.durationS != null ? l.durationS.toFixed(0) + ' s' : '?'}` +
      (runs > 1 ? ` in ${runs} process runs (cells: the run with the median time)` : '') +
      (l.error ? `; the process failed: ${l.error}` : ''));
    for (const wl of workloads) {
      const r = l.results[wl.id];
      if (r?.na) notes.push(`  - ${wl.id}: n/a — ${r.na}`);
      else if (r?.error) notes.push(`  - ${wl.id}: error — ${r.error}`);
      else if (r?.method && r.method !== 'benchmark.js') notes.push(`  - ${wl.id}: timed by ${r.method}`);
    }
  }
  out.push(notes.join('\n'), '');
  return out.join('\n');
}
