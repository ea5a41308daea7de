// Compiles assembly/ into every target listed in asconfig.json (three ISAs × plain/shared memory).
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const config = JSON.parse(readFileSync(join(root, 'asconfig.json'), 'utf8'));
const asc = join(root, 'node_modules', 'assemblyscript', 'bin', 'asc.js');
for (const target of Object.keys(config.targets)) {
  const r = spawnSync(process.execPath, [asc, '--config', 'asconfig.json', '--target', target], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`build-wasm: target '${target}' failed (exit ${r.status})`);
    process.exit(r.status ?? 1);
  }
}
console.log(`build-wasm: ${Object.keys(config.targets).length} targets built into build/`);
