// How busy the rest of the machine was while a workload was timed: CPU time of all other processes
// (busy jiffies from /proc/stat minus this process's own CPU time) divided by the wall time, i.e. the
// average number of cores something else was using. 2 cores: anything above ~0.3 disturbs the numbers.
import { readFileSync } from 'node:fs';

/** The machine's CPU time counters (jiffies, all cores) from /proc/stat's first line; null where there is none. */
function cpuJiffies() {
  try {
    return readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  } catch {
    return null;
  }
}

function busySeconds() {
  const f = cpuJiffies();
  if (!f) return null;
  const total = f.reduce((s, v) => s + v, 0);
  return (total - f[3] - (f[4] ?? 0)) / 100;                       // minus idle and iowait; USER_HZ = 100
}

/**
 * The share of the machine's CPU time that the hypervisor gave to other guests while this meter ran ("steal", the
 * 8th field of /proc/stat), 0–1; null where it is not reported. A vCPU taken away for milliseconds in the middle of a
 * split op makes the other thread wait for its share: 2 threads suffer from it more than 1.
 */
export function stealMeter() {
  const f0 = cpuJiffies();
  return () => {
    const f1 = cpuJiffies();
    if (!f0 || !f1 || f0.length < 8) return null;
    const d = f1.map((v, i) => v - f0[i]), total = d.reduce((s, v) => s + v, 0);
    return total > 0 ? d[7] / total : null;
  };
}

export function loadMeter() {
  const t0 = performance.now(), b0 = busySeconds(), c0 = process.cpuUsage();
  return () => {
    const b1 = busySeconds();
    if (b0 == null || b1 == null) return null;
    const c = process.cpuUsage(c0);
    const wall = (performance.now() - t0) / 1000;
    return Math.max(0, (b1 - b0 - (c.user + c.system) / 1e6) / wall);
  };
}
