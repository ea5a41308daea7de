// `npm run serve`: a small static file server for the browser demo and the browser tests, on Node's `http`.
// It serves the repository root on localhost (the demo imports ../../dist/index.js and the wasm from build/),
// with the cross-origin isolation headers (COOP/COEP) that SharedArrayBuffer — and so threads — need.
//
//   node scripts/serve.mjs [--port 8080] [--no-isolation]
//
// Imported, `startServer({ port: 0 })` starts one on a free port and resolves to { url, port, close() }.
import { createServer } from 'node:http';
import { createReadStream, statSync } from 'node:fs';
import { extname, join, normalize, resolve, sep, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ensureBrowserData } from './build-browser-data.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',   // lets WebAssembly.compileStreaming take the response
  '.map': 'application/json; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.bin': 'application/octet-stream',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
};

/** The file a URL path maps to under root, or null when it would leave root. */
function fileFor(root, urlPath) {
  let path;
  try {
    path = decodeURIComponent(urlPath.split('?')[0].split('#')[0]);
  } catch {
    return null;
  }
  const file = normalize(join(root, path));
  return file === root || file.startsWith(root + sep) ? file : null;
}

/**
 * Starts the server. Options: port (0 = any free port; default 8080), host (default 127.0.0.1), root (default the
 * repository), isolation (COOP/COEP headers; default true), log (a function given one line per request, or null).
 */
export function startServer({ port = 8080, host = '127.0.0.1', root = ROOT, isolation = true, log = null } = {}) {
  const server = createServer((req, res) => {
    const send = (status, body, type = 'text/plain; charset=utf-8') => {
      res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' });
      res.end(body);
      log?.(`${status} ${req.method} ${req.url}`);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed\n');
    let file = fileFor(root, new URL(req.url ?? '/', 'http://localhost').pathname);
    if (!file) return send(403, 'forbidden\n');
    let stat;
    try {
      stat = statSync(file);
      if (stat.isDirectory()) { file = join(file, 'index.html'); stat = statSync(file); }
    } catch {
      return send(404, `not found: ${req.url}\n`);
    }
    const headers = {
      'Content-Type': TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
      'Content-Length': stat.size,
      'Cache-Control': 'no-store',
    };
    if (isolation) {
      headers['Cross-Origin-Opener-Policy'] = 'same-origin';
      headers['Cross-Origin-Embedder-Policy'] = 'require-corp';
      headers['Cross-Origin-Resource-Policy'] = 'same-origin';
    }
    res.writeHead(200, headers);
    log?.(`200 ${req.method} ${req.url}`);
    if (req.method === 'HEAD') return res.end();
    createReadStream(file).on('error', () => res.destroy()).pipe(res);
  });
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const actual = server.address().port;
      resolvePromise({
        port: actual,
        url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${actual}/`,
        close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); }),
      });
    });
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const args = process.argv.slice(2);
  let port = 8080, isolation = true;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--port') port = Number(args[++i]);
    else if (args[i] === '--no-isolation') isolation = false;
    else { console.error(`serve: unknown argument ${args[i]} (usage: node scripts/serve.mjs [--port N] [--no-isolation])`); process.exit(2); }
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) { console.error(`serve: --port must be an integer in [0, 65535]`); process.exit(2); }
  await ensureBrowserData();
  const { url } = await startServer({ port, isolation }).catch((e) => {
    console.error(e.code === 'EADDRINUSE' ? `serve: port ${port} is in use; pick another with --port N (0: any free port)` : `serve: ${e.message}`);
    process.exit(1);
  });
  console.log(`simdnn demo:         ${url}examples/browser/`);
  console.log(`op golden suite:     ${url}examples/browser/golden.html?backend=simd`);
  console.log(isolation ? '(cross-origin isolated: COOP/COEP headers on)' : '(no COOP/COEP headers: SharedArrayBuffer unavailable)');
}
