// The op golden suite in a browser page: every case of test/fixtures/golden/*.json fetched and run through
// test/golden-core.mjs (the same runners and comparison rule as Node's test/golden.test.mjs).
import { runCase } from '../golden-core.mjs';

/**
 * Runs the fixture files (names under fixturesUrl) on an engine; `every` > 1 keeps every every-th case of each file
 * (a third with 3). Resolves to { backend, threads, passed, failed, failures: [{ name, errors }], ms }.
 */
export async function runGolden(nn, files, fixturesUrl, { every = 1, onCase = null } = {}) {
  const t0 = performance.now();
  let passed = 0, failed = 0;
  const failures = [];
  for (const file of files) {
    const response = await fetch(new URL(file, fixturesUrl));
    if (!response.ok) throw new Error(`golden: could not fetch ${file}: HTTP ${response.status}`);
    const fixture = await response.json();
    for (let i = 0; i < fixture.cases.length; i += every) {
      const c = fixture.cases[i];
      const name = `${fixture.op}: ${c.name}`;
      const errors = runCase(nn, fixture.op, c);
      if (errors.length) { failed++; failures.push({ name, errors }); } else passed++;
      onCase?.(name, errors);
    }
  }
  return { backend: nn.backend, threads: nn.threads, passed, failed, failures, ms: performance.now() - t0 };
}
