// Node 20 runs simdnn's relaxed-SIMD build (f32x4.relaxed_madd, ≈ 25 % faster here) only behind a V8 flag: an
// example run without it (and without SIMDNN_BACKEND) re-runs itself with the flag, passing its exit status on.
export async function rerunWithRelaxedSimd() {
  const flag = '--experimental-wasm-relaxed-simd';
  if (process.versions.node.split('.')[0] !== '20' || process.execArgv.includes(flag) || process.env.SIMDNN_BACKEND) return;
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync(process.execPath, [...process.execArgv, flag, ...process.argv.slice(1)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
