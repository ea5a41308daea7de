// Golden tests: every case of test/fixtures/golden/*.json (written by test/fixtures/gen.py from PyTorch, computed
// in float64 and stored as float32) is run through nn.ops and every output compared with DESIGN.md's rule
// (indices and other int32 outputs exactly) by test/golden-core.mjs, which the browser suite shares. One uvu test
// per case, named `<op>: <case name>`; each case disposes everything it created and checks that nn.memory() is
// back to its baseline.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, readdirSync } from 'node:fs';
import { getEngine } from './helpers.mjs';
import { runCase, RUNNERS } from './golden-core.mjs';

const DIR = new URL('./fixtures/golden/', import.meta.url);

const files = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();
for (const file of files) {
  const fixture = JSON.parse(readFileSync(new URL(file, DIR), 'utf8'));
  for (const c of fixture.cases) {
    test(`${fixture.op}: ${c.name}`, async () => {
      assert.ok(RUNNERS[fixture.op], `no runner for op '${fixture.op}' (${file})`);
      const errors = runCase(await getEngine(), fixture.op, c);
      if (errors.length) assert.unreachable(errors.join('\n'));
    });
  }
}

test.run();
