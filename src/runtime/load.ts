// Finds and compiles a wasm build: from the file system in Node, with fetch (streaming when served as
// application/wasm) in browsers. URLs are spelled out one per build so that bundlers can see them.
import type { Kernels } from './kernels.js';

export type Backend = 'relaxed-simd' | 'simd' | 'scalar';
export const BACKENDS: readonly Backend[] = ['relaxed-simd', 'simd', 'scalar'];

function buildUrl(backend: Backend, shared: boolean): URL {
  switch (`${backend}${shared ? '-shared' : ''}`) {
    case 'relaxed-simd': return new URL('../../build/relaxed-simd.wasm', import.meta.url);
    case 'simd': return new URL('../../build/simd.wasm', import.meta.url);
    case 'scalar': return new URL('../../build/scalar.wasm', import.meta.url);
    case 'relaxed-simd-shared': return new URL('../../build/relaxed-simd-shared.wasm', import.meta.url);
    case 'simd-shared': return new URL('../../build/simd-shared.wasm', import.meta.url);
    default: return new URL('../../build/scalar-shared.wasm', import.meta.url);
  }
}

const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';
// A variable specifier: browser bundlers leave the import alone (it runs only under Node).
const NODE_FS = 'node:fs/promises';

/** Compiles the wasm module of a build; `base` replaces the directory the .wasm files are looked up in. */
export async function compileBuild(backend: Backend, shared: boolean, base?: string | URL): Promise<WebAssembly.Module> {
  const file = `${backend}${shared ? '-shared' : ''}.wasm`;
  const url = base ? new URL(file, base) : buildUrl(backend, shared);
  if (isNode && url.protocol === 'file:') {
    const { readFile } = await import(/* @vite-ignore */ NODE_FS) as typeof import('node:fs/promises');
    return WebAssembly.compile(await readFile(url));
  }
  const response = await fetch(url);
  if (!response.ok) throw new Error(`init: could not fetch ${url.href}: HTTP ${response.status}`);
  if (typeof WebAssembly.compileStreaming === 'function' &&
      response.headers.get('content-type')?.startsWith('application/wasm')) {
    return WebAssembly.compileStreaming(response);
  }
  return WebAssembly.compile(await response.arrayBuffer());
}

export interface Instance {
  kernels: Kernels;
  memory: WebAssembly.Memory;
}

/** Instantiates a compiled build on the given memory (the module imports it as env.memory). */
export async function instantiate(module: WebAssembly.Module, memory: WebAssembly.Memory): Promise<Instance> {
  const instance = await WebAssembly.instantiate(module, {
    env: {
      memory,
      abort(_msg: number, _file: number, line: number, col: number) {
        throw new Error(`simdnn: wasm kernel aborted at ${line}:${col}`);
      },
    },
  });
  return { kernels: instance.exports as unknown as Kernels, memory };
}
