// The machine line of RESULTS.md: CPU model, family/model and AVX-512 from /proc/cpuinfo, cores, Node.
import { readFileSync } from 'node:fs';
import os from 'node:os';

export function machine() {
  let cpuinfo = '';
  try { cpuinfo = readFileSync('/proc/cpuinfo', 'utf8'); } catch { /* not Linux */ }
  const field = (name) => cpuinfo.match(new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm'))?.[1]?.trim();
  const flags = (field('flags') ?? '').split(/\s+/);
  const family = field('cpu family'), model = field('model');
  const m = {
    cpu: field('model name') ?? os.cpus()[0]?.model ?? 'unknown',
    family, model,
    avx512f: flags.includes('avx512f'),
    cores: os.cpus().length,
    node: process.version,
    v8: process.versions.v8,
    os: `${os.type()} ${os.release()}`,
  };
  // The f32x4 peaks of one core measured on this machine kind (shared/notes/machine-facts.md), 12 independent chains:
  // Zen 5 (cpu family 26) ≈ 45 GFLOP/s mul+add, ≈ 55 relaxed_madd; Zen 4 (AVX-512) ≈ 45 / 57; Zen 3 ≈ 38 / 51.
  m.peak = family === '26' ? { simd: 45, relaxed: 55, core: 'Zen 5' }
    : m.avx512f ? { simd: 45, relaxed: 57, core: 'Zen 4' } : { simd: 38, relaxed: 51, core: 'Zen 3' };
  return m;
}

export function machineLine(m) {
  return `${m.cpu} (cpu family ${m.family}, model ${m.model}; avx512f ${m.avx512f ? 'yes' : 'no'}), ${m.cores} cores, ` +
    `Node ${m.node} (V8 ${m.v8}), ${m.os}`;
}
