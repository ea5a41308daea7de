// `npm run bench [-- --quick] [--rounds N] [--libs key,key] [--only id,id]`: runs every library of the comparison
// in its own child process (bench/child.mjs), one after the other (the machine has 2 noisy cores), collects the
// JSON lines they print and writes bench/RESULTS.md (and bench/results.json with the raw numbers).
// The libraries whose ratios the goals are about (marked `rounds`) run N times (default 3 in full mode, 1 in
// quick mode), interleaved round by round, and each of their cells is the median of those process runs: a slow
// moment of the host then moves one run, not the ratio.
// A partial run (--libs / --only) writes bench/RESULTS-partial.md and results-partial.json instead, so the
// full table stays. `--render` re-renders RESULTS.md from results.json without running anything.
// Rebuilds simdnn first (npm run build, ~20 s) when build/ or dist/ is missing or older than its sources,
// unless --no-build.
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import os from 'node:os';
import { WORKLOADS } from './workloads.mjs';
import { HOST_CALIBRATIONS } from './host-arith.mjs';
import { median } from './measure.mjs';
import { machine } from './machine.mjs';
import { render } from './report.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');

const LIBS = [
  { key: 'simdnn-relaxed-simd', label: 'simdnn relaxed', pkg: 'simdnn', adapter: 'simdnn', variant: 'relaxed-simd', nodeFlags: ['--experimental-wasm-relaxed-simd'], rounds: true },
  { key: 'simdnn-simd', label: 'simdnn SIMD', pkg: 'simdnn', adapter: 'simdnn', variant: 'simd', rounds: true },
  { key: 'simdnn-scalar', label: 'simdnn scalar', pkg: 'simdnn', adapter: 'simdnn', variant: 'scalar' },
  { key: 'simdnn-simd-2t', label: 'simdnn SIMD 2 threads', pkg: 'simdnn', adapter: 'simdnn', variant: 'simd:2', rounds: true },
  { key: 'tfjs-wasm', label: 'tfjs-wasm', pkg: '@tensorflow/tfjs-backend-wasm', adapter: 'tfjs', variant: 'wasm', rounds: true },
  { key: 'tfjs-cpu', label: 'tfjs-cpu', pkg: '@tensorflow/tfjs-backend-cpu', adapter: 'tfjs', variant: 'cpu' },
  { key: 'onnxruntime-web', label: 'onnxruntime-web', pkg: 'onnxruntime-web', adapter: 'onnxruntime', rounds: true },
  { key: 'convnetjs', label: 'ConvNetJS', pkg: 'convnetjs', adapter: 'convnetjs' },
  { key: 'plain-js', label: 'plain JS', pkg: 'Node', adapter: 'plainjs' },
  // Issue 7: a tfjs-layers model on three TensorFlow.js backends; they run only the workloads marked tfjs (and only they do).
  { key: 'tfjs-layers-simdnn', label: 'tfjs on simdnn', pkg: 'simdnn', adapter: 'tfjs-layers', variant: 'simdnn', tfjs: true, rounds: true },
  { key: 'tfjs-layers-wasm', label: 'tfjs on wasm', pkg: '@tensorflow/tfjs-backend-wasm', adapter: 'tfjs-layers', variant: 'wasm', tfjs: true, rounds: true },
  { key: 'tfjs-layers-cpu', label: 'tfjs on cpu', pkg: '@tensorflow/tfjs-backend-cpu', adapter: 'tfjs-layers', variant: 'cpu', tfjs: true },
];

const args = process.argv.slice(2);
const value = (name) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
const quick = args.includes('--quick');
const only = value('--only');
const libKeys = value('--libs')?.split(',');
const rounds = Number(value('--rounds') ?? (quick ? 1 : 3));
const unknown = args.filter((a, i) => a.startsWith('--') && !['--quick', '--only', '--libs', '--render', '--no-build', '--rounds'].includes(a) && args[i - 1] !== '--only');
if (!Number.isInteger(rounds) || rounds < 1) { console.error(`--rounds must be a positive integer, got ${value('--rounds')}`); process.exit(1); }
if (unknown.length || args.includes('--help')) {
  console.log('usage: npm run bench [-- --quick] [--no-build] [--rounds N] [--libs ' + LIBS.map((l) => l.key).join(',') + '] [--only ' + WORKLOADS.map((w) => w.id).join(',') + ']\n' +
    '       npm run bench -- --render     (RESULTS.md from results.json, no run)');
  process.exit(unknown.length ? 1 : 0);
}
if (args.includes('--render')) {
  const saved = JSON.parse(readFileSync(path.join(here, 'results.json'), 'utf8'));
  saved.mode ??= saved.command.includes('--quick') ? 'quick' : 'full';
  if (saved.started.includes('T')) saved.started = saved.started.replace('T', ' ').slice(0, 16) + ' UTC';
  writeFileSync(path.join(here, 'RESULTS.md'), render(saved));
  console.log('wrote bench/RESULTS.md from bench/results.json');
  process.exit(0);
}
// --only tfjs: all of issue 7's rows.
const workloads = WORKLOADS.filter((w) => !only || only.split(',').some((o) => o === w.id || (o === 'tfjs' && w.tfjs)));
/** The workloads a library runs: the tfjs-layers libraries the tfjs rows, every other library the rest. */
const idsFor = (lib) => workloads.filter((w) => Boolean(w.tfjs) === Boolean(lib.tfjs)).map((w) => w.id);
const libs = LIBS.filter((l) => (!libKeys || libKeys.includes(l.key)) && idsFor(l).length > 0);
const CHILD_TIMEOUT_S = quick ? 120 : 900;

// ------------------------------------------------------------------------------------------ build

function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}
function ensureBuilt() {
  const outputs = ['build/simd.wasm', 'build/scalar.wasm', 'build/relaxed-simd.wasm', 'dist/index.js'].map((p) => path.join(root, p));
  const stale = outputs.some((p) => !existsSync(p)) ||
    Math.min(...outputs.map((p) => statSync(p).mtimeMs)) < Math.max(newest(path.join(root, 'assembly')), newest(path.join(root, 'src')),
      statSync(path.join(root, 'asconfig.json')).mtimeMs);
  if (!stale) return null;
  console.log('simdnn build missing or older than its sources: npm run build');
  const r = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  if (r.status === 0) return null;
  if (outputs.some((p) => !existsSync(p))) { console.error('npm run build failed and there is no previous build'); process.exit(1); }
  console.error('npm run build failed: measuring the previous build');
  return 'npm run build failed; the previous build (older than the sources) was measured';
}
const buildWarning = libs.some((l) => l.pkg === 'simdnn') && !args.includes('--no-build') ? ensureBuilt() : null;

// ------------------------------------------------------------------------------------------ children

/**
 * Runs `node [nodeFlags] bench/<script> ...childArgs`, handing every `@@BENCH {json}` line of its stdout to onMessage;
 * resolves to { durationS, error } (error: a timeout, or an exit before its 'done' message).
 */
function spawnChild(script, nodeFlags, childArgs, onMessage) {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...nodeFlags, path.join(here, script), ...childArgs], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let buf = '', stderr = '', done = false, error;
    const timer = setTimeout(() => {
      error = `timed out after ${CHILD_TIMEOUT_S} s`;
      child.kill('SIGKILL');
    }, CHILD_TIMEOUT_S * 1000);
    child.stdout.on('data', (chunk) => {
      buf += chunk;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (!line.startsWith('@@BENCH ')) continue;
        const msg = JSON.parse(line.slice(8));
        if (msg.type === 'done') done = true;
        else onMessage(msg);
      }
    });
    child.stderr.on('data', (chunk) => { stderr = (stderr + chunk).slice(-4000); });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (!done && !error) error = `exited with code ${code}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`;
      resolve({ durationS: (performance.now() - t0) / 1000, error });
    });
  });
}

async function runChild(lib) {
  const childArgs = [lib.adapter, ...(lib.variant ? [lib.variant] : []), ...(quick ? ['--quick'] : []), '--only', idsFor(lib).join(',')];
  lib.nodeFlags ??= [];
  lib.childArgs = childArgs;
  lib.results = {};
  lib.error = undefined;
  const { durationS, error } = await spawnChild('child.mjs', lib.nodeFlags, childArgs, (msg) => {
    if (msg.type === 'lib') Object.assign(lib, { lib: msg.lib, version: msg.version, info: msg.info, notes: msg.notes });
    else if (msg.type === 'result') {
      lib.results[msg.id] = msg;
      const wl = WORKLOADS.find((w) => w.id === msg.id);
      const what = msg.na ? `n/a (${msg.na})` : msg.skipped ? 'skipped' : msg.error ? `ERROR ${msg.error}` :
        wl.unit === 'gflops' ? `${(wl.flops / (msg.medianMs * 1e6)).toFixed(2)} GFLOP/s` : `${msg.medianMs.toFixed(3)} ms`;
      const load = msg.otherLoad > 0.25 ? `  [others busy: ${msg.otherLoad.toFixed(2)} cores]` : '';
      console.log(`  ${lib.key.padEnd(20)} ${msg.id.padEnd(10)} ${what}${msg.n ? `  (n=${msg.n})` : ''}${load}`);
    }
  });
  lib.durationS = (lib.durationS ?? 0) + durationS;
  lib.lib ??= lib.key;
  lib.error = error;
  if (error) console.log(`  ${lib.key}: ${error}`);
}

// Issues 3 and 5 compare simdnn configurations with each other: those ratios are also measured in one process,
// alternating (bench/paired.mjs), free of the host's drift between separate processes.
const PAIRS = [
  { key: 'relaxed-vs-simd', label: 'relaxed build over SIMD build (one process, both under --experimental-wasm-relaxed-simd)',
    a: 'simd', b: 'relaxed-simd', nodeFlags: ['--experimental-wasm-relaxed-simd'], ids: ['S1', 'S2', 'S3', 'S4', 'S5', 'S6'] },
  { key: 'threads', label: '2 threads over 1 (SIMD build, one process: two engines)', a: 'simd', b: 'simd:2', nodeFlags: [],
    // host.arith, host.stream (bench/host-arith.mjs): what the host gave two threads during these rounds, for reference.
    ids: [...HOST_CALIBRATIONS.map((c) => c.id), 'S2', 'S3', 'S4', 'S6', 'S2.dX', 'S3.dX', 'S2.dW', 'S3.dW', 'train', 'trainBN', 'resnet8.train'] },
  { key: 'backward-vs-forward', label: 'backward pass over its own forward, GFLOP/s (SIMD build, one process)', a: 'simd', nodeFlags: [],
    versus: [['S2', 'S2.dX'], ['S3', 'S3.dX'], ['S2', 'S2.dW'], ['S3', 'S3.dW']] },
];

const isCalibration = (id) => HOST_CALIBRATIONS.some((c) => c.id === id);
const inRun = (id) => isCalibration(id) || workloads.some((w) => w.id === id);

/**
 * The 1-thread train step pinned to each vCPU in turn (bench/vcpu-speed.mjs under taskset), `rounds` times each,
 * alternating: { cpus: [median ms per vCPU], ms: [[each run's ms] per vCPU] }, or null without taskset (not Linux).
 */
function vcpuSpeeds(rounds = 3) {
  if (spawnSync('taskset', ['-c', '0', 'true']).status !== 0) return null;
  const ms = Array.from({ length: os.cpus().length }, () => []);
  for (let r = 0; r < rounds; r++) {
    ms.forEach((runs, cpu) => {
      const child = spawnSync('taskset', ['-c', String(cpu), process.execPath, path.join(here, 'vcpu-speed.mjs')], { cwd: root, encoding: 'utf8', timeout: 120_000 });
      const line = child.stdout?.split('\n').find((l) => l.startsWith('@@BENCH '));
      runs.push(line ? JSON.parse(line.slice(8)).ms : null);
    });
  }
  const cpus = ms.map((runs) => (runs.some((v) => v != null) ? median(runs.filter((v) => v != null)) : null));
  console.log(`  vCPU speed (1-thread train step, pinned): ${cpus.map((v, i) => `vCPU${i} ${v?.toFixed(2) ?? '?'} ms`).join(', ')}`);
  return { cpus, ms };
}

async function runPair(pair) {
  const args = pair.versus
    ? [pair.a, ...(quick ? ['--quick'] : []), '--versus', pair.versus.filter((v) => v.every(inRun)).map((v) => v.join(':')).join(',')]
    : [pair.a, pair.b, ...(quick ? ['--quick'] : []), '--only', pair.ids.filter(inRun).join(',')];
  pair.command = `node ${[...pair.nodeFlags, 'bench/paired.mjs', ...args].join(' ')}`;
  pair.results = {};
  const { durationS, error } = await spawnChild('paired.mjs', pair.nodeFlags, args, (msg) => {
    if (msg.type !== 'paired') return;
    pair.results[msg.id] = msg;
    console.log(`  ${pair.key.padEnd(20)} ${msg.id.padEnd(14)} ${msg.error ? `ERROR ${msg.error}` : `${msg.ratio.toFixed(2)}× (${msg.aMs.toFixed(3)} → ${msg.bMs.toFixed(3)} ms)`}`);
  });
  Object.assign(pair, { durationS, error });
  if (error) console.log(`  ${pair.key}: ${error}`);
}

/**
 * Folds a library's process runs into one result per workload: the run with the median time (the lower middle
 * one for an even count), whole (its samples' spread, check and load stay together), with every run's median
 * time in `runMs`. A workload that failed in some run keeps the runs that worked.
 */
function medianOfRuns(lib) {
  const runs = lib.runs;
  lib.error = runs.map((r) => r.error).find(Boolean);
  if (runs.length === 1) { lib.results = runs[0].results; return; }
  lib.results = {};
  for (const id of new Set(runs.flatMap((r) => Object.keys(r.results)))) {
    const all = runs.map((r) => r.results[id]).filter(Boolean);
    const timed = all.filter((r) => r.medianMs != null).sort((a, b) => a.medianMs - b.medianMs);
    if (!timed.length) { lib.results[id] = all[0]; continue; }
    lib.results[id] = { ...timed[(timed.length - 1) >> 1], runMs: all.map((r) => r.medianMs ?? null) };
  }
}

/** The simdnn commit measured (and whether its kernels or TypeScript had uncommitted changes). */
function gitVersion() {
  const git = (...a) => spawnSync('git', a, { cwd: root, encoding: 'utf8' });
  const head = git('log', '-1', '--format=%h %s');
  if (head.status !== 0) return null;
  const dirty = git('status', '--porcelain', '--', 'assembly', 'src', 'asconfig.json').stdout.trimEnd();
  return `commit ${head.stdout.trim()}${dirty ? ' + uncommitted changes in ' + [...new Set(dirty.split('\n').map((l) => l.slice(3).split('/')[0]))].join(', ') : ''}`;
}
const codeVersion = [gitVersion(), buildWarning].filter(Boolean).join('; ') || null;

const started = new Date();
const t0 = performance.now();
console.log(`simdnn benchmark (${quick ? 'quick' : 'full'}): ${libs.length} libraries × ${workloads.length} workloads, one process at a time`);
for (let round = 1; round <= rounds; round++) {
  for (const lib of libs) {
    if (round > 1 && !lib.rounds) continue;
    console.log(`▶ ${lib.key}${rounds > 1 && lib.rounds ? ` (round ${round} of ${rounds})` : ''}`);
    await runChild(lib);
    (lib.runs ??= []).push({ results: lib.results, error: lib.error });
  }
}
for (const lib of libs) medianOfRuns(lib);
const pairs = libs.some((l) => l.key === 'simdnn-simd')
  ? PAIRS.filter((p) => (p.versus ? p.versus.some((v) => v.every(inRun)) : p.ids.some((id) => !isCalibration(id) && inRun(id)))) : [];
for (const pair of pairs) {
  console.log(`▶ paired: ${pair.key}`);
  // The threads pair: each vCPU's own speed just before and after its rounds (they drift apart and back over minutes).
  if (pair.key === 'threads') pair.vcpuBefore = vcpuSpeeds();
  await runPair(pair);
  if (pair.key === 'threads') pair.vcpuAfter = vcpuSpeeds();
}
const totalS = (performance.now() - t0) / 1000;

const command = process.env.npm_lifecycle_event === 'bench'
  ? `npm run bench${args.length ? ` -- ${args.join(' ')}` : ''}`
  : `node bench/run.mjs${args.length ? ` ${args.join(' ')}` : ''}`;
const partial = Boolean(only || libKeys);
const run = {
  command, mode: quick ? 'quick' : 'full', partial, rounds, machine: machine(), workloads, libs, pairs, totalS, code: codeVersion,
  started: started.toISOString().replace('T', ' ').slice(0, 16) + ' UTC',
};
const [md, json] = partial ? ['RESULTS-partial.md', 'results-partial.json'] : ['RESULTS.md', 'results.json'];
writeFileSync(path.join(here, md), render(run));
// The raw numbers, with each check's verdict but without its 512 sampled values (they would make it megabytes).
for (const l of libs) {
  delete l.runs;
  for (const r of Object.values(l.results)) if (r.check) delete r.check.values;
}
writeFileSync(path.join(here, json), JSON.stringify(run, null, 1));
console.log(`\nwrote bench/${md} and bench/${json} (${Math.round(totalS)} s)`);
