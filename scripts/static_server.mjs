// A static file server for build/web on the loopback interface only, with the cross-origin
// isolation headers (COOP/COEP) that wasm threads need. Usage:
//   node scripts/static_server.mjs [ROOT] [PORT]      (default build/web, 8080)
// Exported as startServer(root, port) for the browser tests (port 0 picks a free port).
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.csv': 'text/csv; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.gz': 'application/gzip',
};

export function startServer(root, port = 8080) {
  const base = path.resolve(root);
  const server = http.createServer((req, res) => {
    const headers = {
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
      'Cross-Origin-Resource-Policy': 'same-origin',
      'Cache-Control': 'no-cache',
    };
    let pathname;
    try {
      pathname = decodeURIComponent(new URL(req.url, 'http://localhost').pathname);
    } catch {
      res.writeHead(400, headers).end('bad request');
      return;
    }
    if (pathname.endsWith('/')) pathname += 'index.html';
    const file = path.join(base, pathname);
    if (!file.startsWith(base + path.sep)) {
      res.writeHead(403, headers).end('forbidden');
      return;
    }
    fs.stat(file, (err, stat) => {
      if (err || !stat.isFile()) {
        res.writeHead(404, { ...headers, 'Content-Type': 'text/plain' }).end('not found');
        return;
      }
      // Our minified scripts and styles name their source maps in a header, not in a comment
      // every visitor would download (developer tools fetch the map; the page never does).
      const map =
        /\.(js|css)$/.test(file) && fs.existsSync(`${file}.map`) ? { SourceMap: `${path.basename(file)}.map` } : {};
      res.writeHead(200, {
        ...headers,
        ...map,
        'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream',
        'Content-Length': stat.size,
      });
      fs.createReadStream(file).pipe(res);
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = process.argv[2] || 'build/web';
  const port = Number(process.argv[3] || 8080);
  startServer(root, port)
    .then((server) => {
      console.log(`Lathe is at http://127.0.0.1:${server.address().port}/  (serving ${root}; Ctrl-C stops)`);
    })
    .catch((e) => {
      console.error(`lathe: could not serve on 127.0.0.1:${port}: ${e.message}`);
      process.exit(1);
    });
}
