// One library in one process: `node bench/child.mjs <lib> [variant] [--quick] [--only id,id]`.
// For each workload: prepare (untimed: upload data, build graphs), one check call whose output is sampled
// for the correctness comparison, then timing. Prints one `@@BENCH {json}` line per event on stdout
// (libraries may print their own chatter; the orchestrator ignores every other line).
import { WORKLOADS, makeData } from './workloads.mjs';
import { summarize } from './check.mjs';
import { MODES, measure } from './measure.mjs';
import { loadMeter } from './load.mjs';

const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const value = (name) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
const positional = args.filter((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1] === '--only'));
const [libName, variant] = positional;
const quick = flag('--quick');
const only = value('--only')?.split(',');

const emit = (obj) => process.stdout.write(`@@BENCH ${JSON.stringify(obj)}\n`);

const adapter = await (await import(`./libs/${libName}.mjs`)).create(variant);
emit({ type: 'lib', lib: adapter.name, version: adapter.version, info: adapter.info, notes: adapter.notes ?? {} });

for (const wl of WORKLOADS) {
  if (only && !only.includes(wl.id)) continue;
  const base = { type: 'result', lib: adapter.name, id: wl.id };
  if (quick && adapter.slowInQuick?.includes(wl.id)) {
    emit({ ...base, skipped: 'skipped in --quick (one call takes many seconds)' });
    continue;
  }
  let prepared;
  try {
    prepared = await adapter.prepare(wl, makeData(wl));
    if (!prepared || prepared.na) {
      emit({ ...base, na: prepared?.na ?? 'not supported' });
      continue;
    }
    const t0 = performance.now();
    const out = await prepared.check();
    const firstMs = performance.now() - t0;
    const check = summarize(out);
    const otherLoad = loadMeter();
    const timing = await measure(prepared, firstMs, quick ? MODES.quick : MODES.full, adapter.steadyFirstCall);
    emit({ ...base, ...timing, firstMs, check, otherLoad: otherLoad(), note: prepared.note, caveat: Boolean(prepared.caveat) });
  } catch (e) {
    emit({ ...base, error: String(e?.message ?? e).split('\n')[0].slice(0, 300) });
  } finally {
    try { await prepared?.dispose?.(); } catch { /* ignore */ }
  }
}
emit({ type: 'done', lib: adapter.name });
process.exit(0);
