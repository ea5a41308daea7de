// TensorFlow.js's own op specs (shipped in @tensorflow/tfjs-core/dist/**/*_test.js) run with jasmine against
// the 'simdnn' backend (dist/tfjs, so `npm run build` first), filtered to the spec files of the kernels it
// implements (test/tfjs/core-specs.mjs, with the reason for every exclusion); then the tfjs-layers smoke test
// (test/tfjs/layers-fit.mjs) and the accuracy check against cpu (test/tfjs/layers-fit-accuracy.mjs).
// Closes with "N passed, M failed" and exits non-zero on failure.
// Usage: node test/suites/tfjs.run.mjs [spec-name substring]
// The spec files cannot be imported as shipped (extension-less imports mixed with require()): they are
// bundled with esbuild together with the backend, so that both share one copy of tfjs-core, and loaded
// after jasmine has defined its globals. No cpu backend is in the bundle, so nothing can silently fall
// back to it; every spec also asserts that the active backend is 'simdnn'.
import { build } from 'esbuild';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import Jasmine from 'jasmine';
import { SPEC_FILES, EXCLUDES } from '../tfjs/core-specs.mjs';

// uvu's directory scan (test/run-all.mjs) imports every .mjs under test/: run only as the main module.
if (process.argv[1] === fileURLToPath(import.meta.url)) await main();

async function main() {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const grep = process.argv[2] ?? '';
  const out = join(root, 'build', 'tfjs-test');   // two levels below the root, as dist/tfjs: the wasm URLs resolve alike
  if (!existsSync(join(root, 'dist', 'tfjs', 'index.js'))) {
    console.log('dist/tfjs/index.js is missing: run `npm run build` first\n0 passed, 1 failed');
    process.exitCode = 1;
    return;
  }
  mkdirSync(out, { recursive: true });

  // The entry requires everything lazily: load() runs after jasmine exists and the test env is set.
  const core = '@tensorflow/tfjs-core/dist';
  writeFileSync(join(out, 'entry.mjs'), `
  export function load(envs, options) {
    require('${core}/jasmine_util.js').setTestEnvs(envs);
    require(${JSON.stringify(join(root, 'dist', 'tfjs', 'index.js'))}).setSimdnnOptions(options);
    // What @tensorflow/tfjs and tfjs-core's own test setup load: gradients and the chained tensor methods.
    require('${core}/register_all_gradients.js');
    require('${core}/public/chained_ops/register_all_chained_ops.js');
    require(${JSON.stringify(join(root, 'dist', 'tfjs', 'index.js'))});
  ${SPEC_FILES.map((f) => `  require('${core}/${f}_test.js');`).join('\n')}
  }
  export function getBackend() {
    return require('${core}/index.js').getBackend();
  }
  `);
  // simdnn's modules find their .wasm files and worker script relative to import.meta.url: keep each module's own URL.
  const ownUrls = {
    name: 'own-import-meta-url',
    setup(b) {
      b.onLoad({ filter: /[\\/]dist[\\/].*\.js$/ }, async ({ path }) => {
        if (!path.startsWith(join(root, 'dist'))) return undefined;
        const text = await readFile(path, 'utf8');
        return { contents: text.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(path).href)), loader: 'js', resolveDir: dirname(path) };
      });
    },
  };
  const started = Date.now();
  await build({
    entryPoints: [join(out, 'entry.mjs')], outfile: join(out, 'bundle.mjs'), bundle: true, format: 'esm', platform: 'node',
    // tfjs-core's ES modules (dist/index.js), the same files the specs import: one engine and kernel registry.
    mainFields: ['module', 'main'], logLevel: 'error',
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    plugins: [ownUrls],
  });

  const jasmine = new Jasmine({ projectBaseDir: root });
  jasmine.exitOnCompletion = false;
  jasmine.jasmine.DEFAULT_TIMEOUT_INTERVAL = 20000;
  const excluded = (name) => EXCLUDES.some(([part]) => name.includes(part));
  jasmine.env.configure({ random: false, specFilter: (spec) => spec.getFullName().includes(grep) && !excluded(spec.getFullName()) });

  let passed = 0, failed = 0;
  const failures = [];
  jasmine.env.clearReporters();
  jasmine.env.addReporter({
    specDone(r) {
      if (r.status === 'passed') passed++;
      else if (r.status === 'failed') {
        failed++;
        failures.push(`${r.fullName}\n    ${r.failedExpectations.map((e) => e.message.split('\n')[0]).slice(0, 3).join('\n    ')}`);
      }
    },
    suiteDone(r) {
      // An error in beforeAll/afterAll (a backend that failed to initialise) fails the suite.
      if (r.failedExpectations?.length) {
        failed++;
        failures.push(`${r.fullName} (suite)\n    ${r.failedExpectations.map((e) => e.message.split('\n')[0]).join('\n    ')}`);
      }
    },
  });

  const bundle = await import(pathToFileURL(join(out, 'bundle.mjs')).href);
  globalThis.beforeEach(() => {
    const name = bundle.getBackend();
    if (name !== 'simdnn') throw new Error(`the active backend is '${name}', not 'simdnn'`);
  });
  // The engine's build and threads as for the uvu suites (SIMDNN_BACKEND, SIMDNN_THREADS; default auto, 1 thread).
  const threads = Number(process.env.SIMDNN_THREADS || 1);
  // With threads, every op is split (minParallelFlops 0), as in the uvu suites.
  const engineOptions = { backend: process.env.SIMDNN_BACKEND || 'auto', threads, ...(threads > 1 ? { minParallelFlops: 0 } : {}) };
  bundle.load([{ name: 'simdnn', backendName: 'simdnn', isDataSync: true }], engineOptions);
  await jasmine.execute();
  const coreSeconds = (Date.now() - started) / 1000;
  if (passed + failed === 0) {
    failed++;
    failures.push(`no spec ran${grep ? ` (filter '${grep}')` : ''}`);
  }
  for (const f of failures.slice(0, 60)) console.log(`FAILED ${f}`);
  if (failures.length > 60) console.log(`… and ${failures.length - 60} more failures`);
  console.log(`tfjs-core specs on simdnn (${engineOptions.backend}, ${engineOptions.threads} thread(s)): ${passed} passed, ${failed} failed (${SPEC_FILES.length} spec files, ` +
              `${EXCLUDES.length} exclusions) in ${coreSeconds.toFixed(1)} s`);

  // The tfjs-layers tests, each in its own process (plain Node imports, tfjs-layers' own tfjs-core): the model.fit
  // smoke test against cpu, and issue 7's accuracy check (50 fit steps on cpu and simdnn, ≈ 1.5–2 min).
  let layersPassed = 0, layersFailed = 0;
  if (!grep) {
    for (const file of ['layers-fit.mjs', 'layers-fit-accuracy.mjs']) {
      const r = spawnSync(process.execPath, [join(root, 'test', 'tfjs', file)], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 26 });
      process.stdout.write(r.stdout);
      process.stderr.write(r.stderr);
      const m = r.stdout.match(/(\d+) passed, (\d+) failed\s*$/);
      layersPassed += m ? Number(m[1]) : 0;
      layersFailed += m ? Number(m[2]) + (r.status !== 0 && Number(m[2]) === 0 ? 1 : 0) : 1;
    }
  }
  console.log(`${passed + layersPassed} passed, ${failed + layersFailed} failed`);
  process.exitCode = failed + layersFailed > 0 ? 1 : 0;
}
