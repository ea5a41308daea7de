// Runs the whole uvu suite once per wasm build: scalar, SIMD, and relaxed SIMD (Node 20 validates relaxed
// SIMD only behind --experimental-wasm-relaxed-simd). Prints each run, then one closing line
// "N passed, M failed" over all builds; exits non-zero if anything failed.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { existsSync, readdirSync } from 'node:fs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const uvu = join(root, 'node_modules', 'uvu', 'bin.js');
const pattern = process.argv[2];   // optional: only test files matching this pattern
const relaxed = ['--experimental-wasm-relaxed-simd'];
const builds = [
  { backend: 'scalar', flags: [], threads: 1 },
  { backend: 'simd', flags: [], threads: 1 },
  { backend: 'relaxed-simd', flags: relaxed, threads: 1 },
  // The same suites with worker threads sharing the memory (every op split, even tiny ones): 2 threads,
  // and 3 for uneven splits, on every build.
  { backend: 'scalar', flags: [], threads: 2 },
  { backend: 'simd', flags: [], threads: 2 },
  { backend: 'relaxed-simd', flags: relaxed, threads: 2 },
  { backend: 'scalar', flags: [], threads: 3 },
  { backend: 'simd', flags: [], threads: 3 },
  { backend: 'relaxed-simd', flags: relaxed, threads: 3 },
];

let passed = 0, failed = 0, skipped = 0;
for (const { backend, flags, threads } of builds) {
  const name = `${backend}${threads > 1 ? `, ${threads} threads` : ''}`;
  console.log(`\n=== build: ${name} ===`);
  const args = [...flags, uvu, 'test', ...(pattern ? [pattern] : []), '-i', 'helpers|reference|run-all|fixtures|suites|browser\/|core-specs|layers-fit|golden-core'];
  const started = Date.now();
  const r = spawnSync(process.execPath, args, {
    cwd: root, encoding: 'utf8', env: { ...process.env, SIMDNN_BACKEND: backend, SIMDNN_THREADS: String(threads) }, maxBuffer: 1 << 28,
  });
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  const plain = r.stdout.replace(/\x1b\[[0-9;]*m/g, '');
  const num = (label) => Number((plain.match(new RegExp(`${label}:\\s+(\\d+)`)) || [])[1] ?? NaN);
  const total = num('Total'), ok = num('Passed'), skip = num('Skipped');
  if (!Number.isFinite(total) || !Number.isFinite(ok)) {
    console.log(`build ${name}: the uvu run did not report totals (exit ${r.status})`);
    failed++;
    continue;
  }
  passed += ok;
  skipped += Number.isFinite(skip) ? skip : 0;
  failed += total - ok - (Number.isFinite(skip) ? skip : 0);
  if (r.status !== 0 && total === ok) failed++;   // a crash after the counts still fails the run
  console.log(`build ${name}: ${ok}/${total} passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
// Suites that are not uvu files under one build (the browser tests, the TensorFlow.js backend's jasmine run):
// each `test/suites/<name>.run.mjs` is run in its own process and must end its output with a line
// "N passed, M failed" (and exit non-zero on failure). Skipped when a file pattern was given.
const suitesDir = join(root, 'test', 'suites');
const extra = pattern || !existsSync(suitesDir) ? [] : readdirSync(suitesDir).filter((f) => f.endsWith('.run.mjs')).sort();
for (const file of extra) {
  console.log(`\n=== suite: ${file} ===`);
  const started = Date.now();
  const r = spawnSync(process.execPath, [join(suitesDir, file)], { cwd: root, encoding: 'utf8', env: process.env, maxBuffer: 1 << 28 });
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  const m = r.stdout.replace(/\x1b\[[0-9;]*m/g, '').match(/(\d+) passed, (\d+) failed\s*$/);
  if (!m) {
    console.log(`suite ${file}: no closing "N passed, M failed" line (exit ${r.status})`);
    failed++;
    continue;
  }
  passed += Number(m[1]);
  failed += Number(m[2]) + (r.status !== 0 && Number(m[2]) === 0 ? 1 : 0);
  console.log(`suite ${file}: ${m[1]} passed, ${m[2]} failed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 ? 1 : 0);
