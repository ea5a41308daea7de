// How busy the rest of the machine was while a workload was timed: CPU time of all other processes
// (busy jiffies from /proc/stat minus this process's own CPU time) divided by the wall time, i.e. the
// average number of cores something else was using. 2 cores: anything above ~0.3 disturbs the numbers.
import { readFileSync } from 'node:fs';

function busySeconds() {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const total = f.reduce((s, v) => s + v, 0);
    return (total - f[3] - (f[4] ?? 0)) / 100;                       // minus idle and iowait; USER_HZ = 100
  } catch {
    return null;
  }
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
