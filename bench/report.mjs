// Renders bench/RESULTS.md from the collected child results: the workload × library table, ratios vs
// tfjs-wasm, the correctness checks, issue 3's goals evaluated on these numbers, and notes.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compare, TOLERANCE } from './check.mjs';
import { machineLine } from './machine.mjs';
import { median, runCount } from './measure.mjs';
import { tfjsSection, withoutTfjs } from './tfjs-report.mjs';
import { HOST_ARITH, HOST_STREAM, HOST_TRAIN, HOST_CALIBRATIONS } from './host-arith.mjs';

const REFERENCE = ['plain-js', 'simdnn-simd'];
const BASELINE = 'tfjs-wasm';
const CONV_FWD = ['S1', 'S2', 'S3', 'S4', 'S5', 'S6'];

/** Cores' worth of CPU used by other processes while a workload was timed, above which a cell gets ⚠. */
const BUSY = 0.25;
/** Rounds whose two sides both had less than this share of the vCPUs' time stolen (pairedSection's last column). */
const CALM = 0.05;
const fmt = (v) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v >= 0.01 ? v.toFixed(3) : v.toPrecision(2));
const fmtRatio = (v) => `${v >= 0.1 ? v.toFixed(2) : v.toPrecision(2)}×`;
const geomean = (a) => (a.length ? Math.exp(a.reduce((s, v) => s + Math.log(v), 0) / a.length) : NaN);

/** Adds perf (GFLOP/s or ms), spread (%) and the check verdict to every result. */
export function evaluate(libs, workloads) {
  const byId = Object.fromEntries(workloads.map((w) => [w.id, w]));
  for (const wl of workloads) {
    const ref = REFERENCE.map((k) => libs.find((l) => l.lib === k)?.results[wl.id]).find((r) => r?.check);
    for (const l of libs) {
      const r = l.results[wl.id];
      if (!r || r.medianMs == null) continue;
      r.perf = wl.unit === 'gflops' ? wl.flops / (r.medianMs * 1e6) : r.medianMs;
      r.spread = r.rme != null ? r.rme : r.n > 1 ? (100 * (r.maxMs - r.minMs)) / 2 / r.medianMs : null;
      if (r.verdict && !r.check?.values) continue;            // re-rendering a saved run: samples were dropped
      r.verdict = ref && ref !== r ? { ...compare(r.check, ref.check), against: ref.lib } : { ok: null, reference: true };
    }
  }
  return byId;
}

const good = (r) => r && r.perf != null && r.verdict?.ok !== false;
/** Speed of a relative to b (> 1: a is faster), from the same workload. */
const speedup = (wl, a, b) => (wl.unit === 'gflops' ? a.perf / b.perf : b.perf / a.perf);

function cell(r) {
  if (!r) return '—';
  if (r.na) return 'n/a';
  if (r.skipped) return 'skipped';
  if (r.error) return 'error';
  let s = fmt(r.perf);
  s += r.spread != null ? ` ±${r.spread < 10 ? r.spread.toFixed(1) : r.spread.toFixed(0)}%` : ` (n=${r.n})`;
  if (r.caveat) s += ' †';
  if (r.otherLoad > BUSY) s += ' ⚠';
  if (r.verdict?.ok === false) s = `✗ ${s}`;
  return s;
}

function table(header, rows, numeric = true) {
  const rule = header.map((_, i) => (i && numeric ? '---:' : '---')).join('|');
  return [`| ${header.join(' | ')} |`, `|${rule}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/** b's speed over a's in one of bench/paired.mjs's comparisons (null when not run or failed). */
const pairedRatio = (pairs, key, id) => {
  const r = pairs?.find((p) => p.key === key)?.results[id];
  return r && !r.error ? r.ratio : null;
};

function goals(libs, byId, m, pairs) {
  const get = (lib, id) => libs.find((l) => (l.key ?? l.lib) === lib)?.results[id];
  const simd = (id) => get('simdnn-simd', id), relaxed = (id) => get('simdnn-relaxed-simd', id), scalar = (id) => get('simdnn-scalar', id);
  const tfw = (id) => get(BASELINE, id);
  const lines = [];
  const line = (ok, text) => lines.push(`- ${ok == null ? '·' : ok ? '✅' : '❌'} ${text}`);
  const val = (r) => (good(r) ? r.perf : null);

  const convRatios = CONV_FWD.map((id) => (good(simd(id)) && good(tfw(id)) ? speedup(byId[id], simd(id), tfw(id)) : null));
  const have = convRatios.every((v) => v != null);
  line(have ? convRatios.every((v) => v >= 1) : null,
    `conv forward, SIMD build ≥ tfjs-wasm on each of S1–S6: ${CONV_FWD.map((id, i) => `${id} ${convRatios[i] != null ? convRatios[i].toFixed(2) + '×' : '?'}`).join(', ')}`);
  const gm = have ? geomean(convRatios) : null;
  line(gm == null ? null : gm >= 1.25, `conv forward geometric mean vs tfjs-wasm ≥ 1.25×: ${gm != null ? gm.toFixed(2) + '×' : '?'}`);
  const relRatios = CONV_FWD.map((id) => (good(relaxed(id)) && good(simd(id)) ? relaxed(id).perf / simd(id).perf : null));
  const relGm = relRatios.every((v) => v != null) ? geomean(relRatios) : null;
  // Judged on the paired measurement (one process, alternating) when there is one; the separate processes' ratio
  // is given beside it.
  const relPaired = CONV_FWD.map((id) => pairedRatio(pairs, 'relaxed-vs-simd', id));
  const relPairedGm = relPaired.every((v) => v != null) ? geomean(relPaired) : null;
  const relJudged = relPairedGm ?? relGm;
  line(relJudged == null ? null : relJudged >= 1.2, `relaxed build ≥ 1.2× SIMD build (conv forward geomean): ` +
    (relPairedGm != null ? `${relPairedGm.toFixed(2)}× paired in one process (${CONV_FWD.map((id, i) => `${id} ${relPaired[i].toFixed(2)}×`).join(', ')}); ` : '') +
    `${relGm != null ? relGm.toFixed(2) + '×' : '?'} between the separate processes`);
  const g = simd('gemm'), gr = relaxed('gemm'), gt = tfw('gemm');
  const gRatio = good(g) && good(gt) ? g.perf / gt.perf : null;
  line(gRatio == null ? null : gRatio >= 1.25, `GEMM 1024³ ≥ 1.25× tfjs-wasm: SIMD ${gRatio != null ? gRatio.toFixed(2) + '×' : '?'}` +
    (good(gr) && good(gt) ? `, relaxed ${(gr.perf / gt.perf).toFixed(2)}×` : ''));
  line(good(g) ? g.perf >= 0.7 * m.peak.simd : null, `GEMM ≥ 70 % of the core's peak (${m.peak.core}: ${m.peak.simd} GFLOP/s mul+add, ` +
    `${m.peak.relaxed} relaxed_madd): SIMD ${good(g) ? Math.round((100 * g.perf) / m.peak.simd) + ' %' : '?'}` +
    (good(gr) ? `, relaxed ${Math.round((100 * gr.perf) / m.peak.relaxed)} %` : ''));
  for (const id of ['S2.dX', 'S3.dX', 'S2.dW', 'S3.dW']) {
    const fwd = simd(id.slice(0, 2)), r = simd(id);
    const ratio = good(fwd) && good(r) ? r.perf / fwd.perf : null;
    // Judged on the paired measurement (both passes in one process, alternating) when there is one.
    const paired = pairedRatio(pairs, 'backward-vs-forward', id);
    const judged = paired ?? ratio;
    const o = ['onnxruntime-web', 'tfjs-wasm'].map((k) => [k, get(k, id)]).filter(([, x]) => good(x));
    line(judged == null ? null : judged >= 0.8, `${id} ≥ 0.8× own forward (SIMD): ` +
      (paired != null ? `${paired.toFixed(2)}× paired in one process; ` : '') +
      `${ratio != null ? ratio.toFixed(2) + '×' : '?'} between the separate timings` +
      (good(r) ? ` (${fmt(r.perf)} GFLOP/s${o.map(([k, x]) => `; ${(r.perf / x.perf).toFixed(1)}× ${k}`).join('')})` : ''));
  }
  const pf = simd('pool.fwd'), pt = tfw('pool.fwd');
  const pi = simd('pool.fwdIdx');
  line(good(pf) && good(pt) ? pf.perf <= pt.perf : null, `max-pool forward ≤ tfjs-wasm: ${good(pf) ? fmt(pf.perf) : '?'} ms vs ${good(pt) ? fmt(pt.perf) : '?'} ms` +
    ' (values only, as tfjs\'s MaxPool' + (good(pi) ? `; with the argmax indices a training forward keeps: ${fmt(pi.perf)} ms` : '') + ')');
  const limit = (id, ms, text) => {
    const r = simd(id), rr = relaxed(id);
    line(good(r) ? r.perf <= ms : null, `${text} ≤ ${ms} ms: SIMD ${val(r) != null ? fmt(r.perf) : '?'} ms` + (good(rr) ? `, relaxed ${fmt(rr.perf)} ms` : ''));
  };
  limit('pool.bwd', 3, 'max-pool backward');
  limit('bn.fwd', 3, 'batch norm train forward');
  limit('bn.fwdbwd', 8, 'batch norm forward+backward');
  limit('train', 20, 'train step (CNN, batch 64)');
  limit('trainBN', 30, 'train step with BatchNorm');
  // Issue 9: a real model against the wasm inference runtimes, and a training step of the small ResNet.
  const ort = (id) => get('onnxruntime-web', id);
  const r18 = simd('resnet18.infer'), r18peers = [['tfjs-wasm', tfw('resnet18.infer')], ['onnxruntime-web', ort('resnet18.infer')]].filter(([, r]) => good(r));
  const bestPeer = r18peers.length ? Math.min(...r18peers.map(([, r]) => r.perf)) : null;
  line(good(r18) && bestPeer != null ? r18.perf <= bestPeer : null, `ResNet-18 inference (224², batch 1) ≤ the best of tfjs-wasm / onnxruntime-web: SIMD ${good(r18) ? fmt(r18.perf) : '?'} ms` +
    (good(relaxed('resnet18.infer')) ? `, relaxed ${fmt(relaxed('resnet18.infer').perf)} ms` : '') +
    (r18peers.length ? ` vs ${r18peers.map(([k, r]) => `${k} ${fmt(r.perf)} ms`).join(', ')}` : ' (no peer result)') + ' (issue 9)');
  const r8 = simd('resnet8.train'), r8t = tfw('resnet8.train');
  line(good(r8) && good(r8t) ? r8.perf <= r8t.perf : null, `ResNet-8 train step (28², batch 64) faster than tfjs-wasm (whose dW needs the polyfill; onnxruntime-web cannot train): ` +
    `SIMD ${good(r8) ? fmt(r8.perf) : '?'} ms vs ${good(r8t) ? fmt(r8t.perf) : '?'} ms (issue 9)`);
  // Issue 5: 2 threads over 1 (SIMD build, same run) on the large convolutions and the training steps.
  const two = (id) => get('simdnn-simd-2t', id);
  const threadRatio = (id) => (good(two(id)) && good(simd(id)) ? speedup(byId[id], two(id), simd(id)) : null);
  const fmtRatio = (id) => { const r = threadRatio(id); return `${id} ${r != null ? r.toFixed(2) + '×' : '?'}`; };
  const convIds = ['S2', 'S3', 'S4', 'S6', 'S2.dX', 'S3.dX', 'S2.dW', 'S3.dW'];
  const convThreads = convIds.map(threadRatio);
  const sepGm = convThreads.every((v) => v != null) ? geomean(convThreads) : null;
  const convPaired = convIds.map((id) => pairedRatio(pairs, 'threads', id));
  const pairedGm = convPaired.every((v) => v != null) ? geomean(convPaired) : null;
  const convJudged = pairedGm ?? sepGm;
  line(convJudged == null ? null : convJudged >= 1.7, `2 threads ≥ 1.7× 1 thread on large convolutions (issue 5): ` +
    (pairedGm != null ? `paired in one process ${convIds.map((id, i) => `${id} ${convPaired[i].toFixed(2)}×`).join(', ')} (geomean ${pairedGm.toFixed(2)}×); ` : '') +
    `between the separate processes ${convIds.map(fmtRatio).join(', ')}${sepGm != null ? ` (geomean ${sepGm.toFixed(2)}×)` : ''}`);
  const hostArith = pairedRatio(pairs, 'threads', HOST_ARITH.id), hostStream = pairedRatio(pairs, 'threads', HOST_STREAM.id);
  const hostTrain = pairedRatio(pairs, 'threads', HOST_TRAIN.id);
  if (hostArith != null || hostStream != null || hostTrain != null) {
    line(null, 'for reference, what the host gave 2 threads over 1 during those rounds (bench/host-arith.mjs): ' +
      [hostArith != null ? `register-only arithmetic ${hostArith.toFixed(2)}×` : null,
       hostStream != null ? `reading memory beyond the caches ${hostStream.toFixed(2)}×` : null,
       hostTrain != null ? `independent 1-thread train steps shared out over 2 worker threads (no split, no shared data) ${hostTrain.toFixed(2)}×` : null,
      ].filter(Boolean).join(', '));
  }
  const threadsPair = pairs.find((p) => p.key === 'threads');
  const vcpus = [['before', threadsPair?.vcpuBefore], ['after', threadsPair?.vcpuAfter]].filter(([, v]) => v?.cpus.every((ms) => ms != null));
  if (vcpus.length) {
    // Two vCPUs that run the step in f and s ms (f ≤ s) give at most 1/f + 1/s steps per ms: 1 + f/s times the faster one.
    line(null, 'the 1-thread train step pinned to each vCPU (bench/vcpu-speed.mjs under taskset, median of 3 runs each), ' +
      vcpus.map(([when, v]) => `${when} those rounds: ${v.cpus.map((ms, i) => `vCPU${i} ${fmt(ms)} ms`).join(', ')} ` +
        `(two such threads give at most ${(1 + Math.min(...v.cpus) / Math.max(...v.cpus)).toFixed(2)}× the faster one)`).join('; '));
  }
  for (const id of ['train', 'trainBN', 'resnet8.train']) {
    const r = threadRatio(id), pr = pairedRatio(pairs, 'threads', id), judged = pr ?? r;
    line(judged == null ? null : judged >= 1.7, `2 threads ≥ 1.7× 1 thread on the ${id} step (issue 5): ` +
      (pr != null ? `${pr.toFixed(2)}× paired in one process; ` : '') +
      `${r != null ? r.toFixed(2) + '×' : '?'} between the separate processes` +
      (good(two(id)) && good(simd(id)) ? ` (${fmt(simd(id).perf)} → ${fmt(two(id).perf)} ms)` : ''));
  }
  const sc = CONV_FWD.map((id) => (good(simd(id)) && good(scalar(id)) ? simd(id).perf / scalar(id).perf : null));
  const scOk = sc.every((v) => v != null);
  line(scOk ? sc.every((v) => v >= 3) : null, `SIMD build ≥ 3× scalar build on convolution: ${CONV_FWD.map((id, i) => `${id} ${sc[i] != null ? sc[i].toFixed(1) + '×' : '?'}`).join(', ')}` +
    (scOk ? ` (geomean ${geomean(sc).toFixed(1)}×)` : ''));
  return lines.join('\n');
}

/** bench/paired.mjs's comparisons: two configurations timed alternately in one process. */
function pairedSection(pairs, byId) {
  // Rounds per workload, from the data (bench/paired.mjs: ROUNDS in full mode, 2 in quick mode).
  const counts = [...new Set(pairs.flatMap((p) => Object.values(p.results ?? {}).map((r) => r.roundsA?.length).filter(Boolean)))];
  const rounds = counts.length ? counts.sort((x, y) => x - y).join(' or ') : 'several';
  const out = ['## Paired comparisons (one process)', '',
    'The ratios between simdnn configurations (and between a backward pass and its own forward) that issues 3 and 5 set goals ' +
    'for, measured a second way: both configurations (or both passes) in one process (bench/paired.mjs), timed round by round ' +
    `alternately (benchmark.js, ≥ 0.5 s per round; ${rounds} ` +
    'rounds) on the same data. Ratio: the median over the rounds of the second configuration\'s speed over the ' +
    'first\'s; times: medians of the rounds\' medians. Host slowdowns lasting seconds to minutes hit both sides of a round alike, ' +
    'while separate processes run minutes apart. The goals above are judged on these ratios where they exist; the separate ' +
    'processes\' ratios are given beside them.', ''];
  for (const p of pairs) {
    out.push(`**${p.label}** — \`${p.command}\`${p.durationS != null ? `, ${p.durationS.toFixed(0)} s` : ''}${p.error ? `; the process failed: ${p.error}` : ''}`, '');
    const results = Object.values(p.results);
    const withSteal = results.some((r) => r.stealA);
    out.push(table(['workload', 'first (ms)', 'second (ms)', 'speed-up (median)', 'per round (min – max)',
                    ...(withSteal ? ['host steal, first / second (median)', `speed-up over rounds with < ${100 * CALM} % steal (rounds)`] : [])],
    results.map((r) => {
      const label = (r.versus ? `${byId[r.versus]?.label ?? r.versus} → ` : '') + (byId[r.id]?.label ?? HOST_CALIBRATIONS.find((c) => c.id === r.id)?.label ?? r.id);
      if (r.error) return [label, 'error', r.error, '', '', ...(withSteal ? ['', ''] : [])];
      const work = r.versus ? (byId[r.id]?.flops ?? 1) / (byId[r.versus]?.flops ?? 1) : 1;   // GFLOP/s ratio for two workloads
      const per = r.roundsA.map((a, i) => (work * a) / r.roundsB[i]);
      const cells = [label, fmt(r.aMs), fmt(r.bMs), `${r.ratio.toFixed(2)}×`, `${Math.min(...per).toFixed(2)} – ${Math.max(...per).toFixed(2)}×`];
      if (!withSteal) return cells;
      if (!r.stealA) return [...cells, '', ''];
      const calm = per.filter((_, i) => r.stealA[i] < CALM && r.stealB[i] < CALM);
      const pct = (v) => `${(100 * median(v)).toFixed(0)} %`;
      return [...cells, `${pct(r.stealA)} / ${pct(r.stealB)}`, calm.length ? `${median(calm).toFixed(2)}× (${calm.length})` : '– (0)'];
    })), '');
  }
  if (pairs.some((p) => Object.values(p.results ?? {}).some((r) => r.stealA))) {
    out.push('Host steal: the share of the two vCPUs\' time that the hypervisor gave to other guests while a side was timed (/proc/stat). ' +
      'It comes and goes over seconds (4–30 % within minutes on this host). A vCPU taken away in the middle of a split op stalls it ' +
      'until the vCPU returns, so it costs two threads more than one. The last column is for diagnosis only: the goals are judged ' +
      'on the median over all rounds.', '');
  }
  return out.join('\n');
}

export function render(run) {
  // Issue 7's tfjs-layers rows and columns get their own section (bench/tfjs-report.mjs), not the main tables.
  const { libs, workloads, mode, command, machine: m, started, totalS, partial, code } = withoutTfjs(run);
  const byId = evaluate(libs, workloads);
  const out = [];
  out.push('# simdnn benchmark results', '');
  out.push(`Produced by \`${command}\` (${mode} mode${partial ? ', partial run' : ''}) on ${started}; the whole run took ${Math.round(totalS)} s.`, '');
  out.push(`**Machine:** ${machineLine(m)}.`, '');
  if (code) out.push(`**simdnn code:** ${code}.`, '');
  const repeated = libs.filter((l) => runCount(l) > 1);
  out.push('Every library ran in its own Node process, one after the other, single-threaded. ' +
    (repeated.length ? `${repeated.map((l) => l.label).join(', ')} ran in ${runCount(repeated[0])} processes each, interleaved (one round of ` +
      'every library, then further rounds of these), so that a slow moment of the host moves one run and not a ratio; their cells are the ' +
      'run with the median time (results.json lists every run\'s time as runMs). ' : '') +
    'Cells: median over the samples, ' +
    '± the spread (benchmark.js\'s relative margin of error at 95 %, or half the min–max range for workloads timed by direct calls; ' +
    '`(n=1)`: one call). GFLOP/s = 2·MACs / median time (higher is better); ms: lower is better. ' +
    'Convolutions count the direct convolution\'s 2·MACs whatever the algorithm: simdnn runs 3×3 stride-1 convolutions with ≥ 8 ' +
    'input and output channels (S2, S3 and their dX / dW, the CNN\'s second conv, ResNet\'s 3×3 layers) by Winograd F(2×2, 3×3) ' +
    '(forward, dX) and F(3×3, 2×2) (dW), 2.25× fewer multiplies, so its figures there are effective GFLOP/s and may exceed ' +
    'the core\'s f32x4 peak; its outputs pass the same checks. ' +
    '`†`: computed in a non-native way, see the notes. `✗`: the output failed the correctness check (the number is not comparable). ' +
    `\`⚠\`: other processes used more than ${BUSY} of a core on average while it was timed (from /proc/stat; the machine has 2 cores). ` +
    'Regenerate with `npm run bench` (full, ≈ 40 min with 3 runs of the compared columns) or `npm run bench -- --quick` (< 2 min, few samples).', '');

  const header = ['workload', ...libs.map((l) => l.label)];
  const unit = (wl) => (wl.unit === 'gflops' ? 'GFLOP/s' : 'ms');
  out.push('## Results', '');
  out.push(table(header, workloads.map((wl) => [`${wl.label} (${unit(wl)})`, ...libs.map((l) => cell(l.results[wl.id]))])), '');

  out.push(`## Speed relative to ${BASELINE}`, '');
  out.push(`×: how many times faster than ${BASELINE} on the same workload (GFLOP/s ratio, or inverse time ratio). ` +
    `${BASELINE}'s dW and train-step numbers use the Conv2DBackpropFilter polyfill. In parentheses: ${BASELINE}'s output failed ` +
    'the correctness check there, so the ratio is for information only.', '');
  const base = libs.find((l) => l.lib === BASELINE);
  const ratioRows = workloads.map((wl) => {
    const b = base?.results[wl.id];
    return [wl.label, ...libs.map((l) => {
      const r = l.results[wl.id];
      if (r?.verdict?.ok === false) return '✗';
      if (!good(r) || b?.perf == null) return '—';
      // A baseline whose output failed the check: the ratio in parentheses, for information only.
      return b.verdict?.ok === false ? `(${fmtRatio(speedup(wl, r, b))})` : fmtRatio(speedup(wl, r, b));
    })];
  });
  ratioRows.push(['**conv forward S1–S6, geomean**', ...libs.map((l) => {
    const rs = CONV_FWD.map((id) => [l.results[id], base?.results[id]]).filter(([r, b]) => good(r) && good(b)).map(([r, b]) => r.perf / b.perf);
    return rs.length === CONV_FWD.length ? `**${geomean(rs).toFixed(2)}×**` : rs.length ? `${geomean(rs).toFixed(2)}× (${rs.length} of 6)` : '—';
  })]);
  out.push(table(header, ratioRows), '');

  out.push('## Issue 3 and issue 9 goals on these numbers', '');
  out.push('Evaluated on the SIMD build (what Node runs without flags); relaxed-SIMD figures in addition where the goal concerns it.', '');
  out.push(goals(libs, byId, m, run.pairs), '');
  if (run.pairs?.length) out.push(pairedSection(run.pairs, byId), '');
  const tfjs = tfjsSection(run, { cell, table, fmt });
  if (tfjs) out.push(tfjs);

  out.push('## Correctness spot checks', '');
  out.push(`Each library's output of the check call (the first call) was sampled at up to 512 fixed positions (NCHW order) and compared with the ` +
    `reference (plain JS; simdnn SIMD where plain JS has none): pass if |got − want| ≤ ${TOLERANCE}·(|want| + max|want|). ` +
    'Train steps compare the first loss and conv1\'s weight gradient (144 values, from an SGD step with lr 1 on fresh parameters). ' +
    'ResNet-8\'s conv1 gradient passes through seven training-mode batch norms and is ill-conditioned in float32 (PyTorch\'s own float32 ' +
    'gradient differs from its float64 one by ≈ 1 % of the largest value), so there the scale is set by the loss (≈ 2.3): the gradient is ' +
    'checked to ≈ 2e-3 absolute and the loss to 1e-3 relative. ResNet-18 inference compares the 1000 logits. ' +
    'Cells: largest relative error; `ref` marks the reference.', '');
  out.push(table(header, workloads.map((wl) => [wl.label, ...libs.map((l) => {
    const r = l.results[wl.id];
    if (!r || r.perf == null) return '—';
    if (r.verdict?.reference) return 'ref';
    if (r.verdict?.ok == null) return '?';
    return `${r.verdict.ok ? '✓' : '✗'} ${r.verdict.maxRelErr === Infinity ? '∞' : r.verdict.maxRelErr.toExponential(0)}${r.verdict.why ? ` (${r.verdict.why})` : ''}`;
  })])), '');

  out.push('## Notes', '');
  const notes = [];
  const group = new Map();
  for (const l of libs) {
    for (const wl of workloads) {
      const r = l.results[wl.id];
      const text = r?.note ? `${r.caveat ? '† ' : ''}${r.note}` : r?.na ? `n/a: ${r.na}` : r?.skipped ? r.skipped : r?.error ? `error: ${r.error}` : null;
      if (!text) continue;
      const key = `${l.label}\u0000${text}`;
      if (!group.has(key)) group.set(key, { lib: l.label, text, ids: [] });
      group.get(key).ids.push(wl.id);
    }
  }
  for (const g of group.values()) notes.push(`- **${g.lib}** (${g.ids.join(', ')}): ${g.text}`);
  const copies = libs.filter((l) => l.notes?.flattenCopyMs != null);
  if (copies.length) {
    notes.push('- **simdnn** (train, trainBN): the step is composed from `nn.ops` calls and `ops.sgdStep` (deliberately: the kernels, not the layer API, are measured). ' +
      'It flattens the pooled [64, 32, 7, 7] map into `ops.linear`\'s [64, 1568] input (and unflattens its dx) through a zero-copy ' +
      '`Tensor` handle at the same offset (`new Tensor(nn, t.offset, shape, dtype)`, untracked by the engine), as `nn.ops.reshape` ' +
      'does. Copying through JS instead (`nn.tensor(p.y.read(), [64, 1568])`) would cost ' +
      `${copies.map((l) => `${l.notes.flattenCopyMs.toFixed(2)} ms (${l.label})`).join(', ')} per copy, two copies per step.`);
  }
  for (const l of libs) {
    for (const [k, v] of Object.entries(l.notes ?? {})) if (k !== 'flattenCopyMs') notes.push(`- **${l.label}**: ${v}`);
    if (l.error) notes.push(`- **${l.label}**: the process failed: ${l.error}`);
  }
  out.push(notes.join('\n') || '- none', '');

  out.push('## Libraries and timing method', '');
  const busy = (l) => {
    const v = Object.values(l.results).map((r) => r.otherLoad).filter((x) => x != null);
    return v.length ? `${(v.reduce((a, b) => a + b, 0) / v.length).toFixed(2)} / ${Math.max(...v).toFixed(2)}` : '?';
  };
  out.push(table(['column', 'package / version', 'configuration', 'process', 'runs', 'time (s), all runs', 'other load, mean / max (cores)'], libs.map((l) => [
    l.label, `${l.pkg} ${l.version ?? '?'}`, l.info ?? '', `\`node ${[...l.nodeFlags, 'bench/child.mjs', ...l.childArgs].join(' ')}\``, runCount(l), l.durationS.toFixed(0), busy(l),
  ]), false), '');
  const methods = new Map();
  for (const l of libs) for (const wl of workloads) {
    const r = l.results[wl.id];
    if (!r?.method || r.method === 'benchmark.js') continue;
    const key = `${r.method}`;
    if (!methods.has(key)) methods.set(key, []);
    methods.get(key).push(`${l.label} ${wl.id}`);
  }
  out.push('Workloads were timed by benchmark.js (each sample a cycle of ≥ 50 ms; samples until the time budget and minimum count are met) ' +
    'after one untimed check call, except where one call is too slow for that:', '');
  out.push([...methods].map(([k, v]) => `- ${k}: ${v.join(', ')}`).join('\n') || '- none', '');
  out.push('Data is generated deterministically (bench/workloads.mjs) and converted to each library\'s layout (NHWC for tfjs, HWC float64 ' +
    'Vols for ConvNetJS) outside the timed region; outputs are allocated inside it (as each library does per call). ' +
    'onnxruntime-web keeps the weights as graph initializers and copies the activations in on each run.', '');
  // Hand-written history of what was tried (bench/HISTORY.md), carried along under the generated report.
  const history = path.join(path.dirname(fileURLToPath(import.meta.url)), 'HISTORY.md');
  if (existsSync(history)) out.push(readFileSync(history, 'utf8'));
  return out.join('\n');
}
