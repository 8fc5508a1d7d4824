/**
 * Static hosting of the web client (packages/web/dist), under the secret base path only:
 *
 *   GET <base>/                 → index.html (it pins every asset by Subresource Integrity)
 *   GET <base>/assets/<file>    → one of the files the build produced, nothing else
 *
 * The bundle is read into memory once, at start-up: the set of paths is fixed, so the gate
 * matches them in constant time like its other routes (gate.ts, PathMatcher), a request can
 * never name a file outside it (no path is ever joined from a request), and nothing touches
 * the disk afterwards (THREATS B.15). Anything else under the base path is the standard 404.
 *
 * Headers are strict (THREATS D.24): a Content-Security-Policy with no inline script or
 * style, no third-party origin, `connect-src` limited to this relay's own ws:/wss: origin (and
 * those of the other relays of its cluster, `peerOrigins`, which the page fails over to);
 * no referrer, no caching anywhere, no framing, no sniffing.
 */
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { UsageError } from '@safehouse/core/protocol';

/** Files bigger than this are not a web client's: refuse to start rather than serve them. */
const MAX_FILE_BYTES = 4 * 1024 * 1024;
const MAX_FILES = 64;
const ASSET_NAME = /^[A-Za-z0-9._-]+\.(js|css|svg|png|woff2|txt)$/;

const TYPES: Record<string, string> = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
  woff2: 'font/woff2',
  txt: 'text/plain; charset=utf-8',
};

export type WebFile = { readonly body: Buffer; readonly type: string };

export type WebBundle = {
  readonly index: Buffer;
  /** Asset paths relative to the base path (`assets/index-abc.js`), with their bytes. */
  readonly assets: ReadonlyMap<string, WebFile>;
  /** SHA-256 of index.html, hex: it pins every asset by SRI, so it names the whole client. */
  readonly sha256: string;
};

function readRegular(path: string): Buffer {
  const st = lstatSync(path);
  if (!st.isFile()) throw new UsageError('E_USAGE', `the web client bundle has something other than a plain file at ${path}`);
  if (st.size > MAX_FILE_BYTES) throw new UsageError('E_USAGE', `the web client bundle file ${path} is larger than ${MAX_FILE_BYTES} bytes`);
  return readFileSync(path);
}

/** Reads a built web client (`index.html` + `assets/*`) into memory. Throws `UsageError` when it is not one. */
export function loadWebBundle(root: string): WebBundle {
  let index: Buffer;
  try {
    index = readRegular(join(root, 'index.html'));
  } catch (cause) {
    if (cause instanceof UsageError) throw cause;
    throw new UsageError('E_USAGE', `no web client at ${root} (build it with: npm run build)`, { cause });
  }
  const assets = new Map<string, WebFile>();
  let names: string[];
  try {
    names = readdirSync(join(root, 'assets'));
  } catch {
    names = []; // a bundle without assets (everything in index.html would be refused by the CSP anyway)
  }
  if (names.length > MAX_FILES) throw new UsageError('E_USAGE', `the web client bundle has more than ${MAX_FILES} assets`);
  for (const name of names.sort()) {
    const ext = ASSET_NAME.exec(name)?.[1];
    if (ext === undefined) continue;
    assets.set(`assets/${name}`, { body: readRegular(join(root, 'assets', name)), type: TYPES[ext] ?? 'application/octet-stream' });
  }
  return { index, assets, sha256: createHash('sha256').update(index).digest('hex') };
}

/** A Host header we may repeat in a header: a name or an address, and a port. Anything else is not echoed. */
const HOST = /^(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

export function safeHost(req: IncomingMessage): string | undefined {
  const h = req.headers.host;
  return typeof h === 'string' && h.length <= 260 && HOST.test(h) ? h : undefined;
}

/**
 * The page's policy. `'self'` does not cover ws:/wss: in every browser, so the relay's
 * WebSocket origin is named, from the Host the browser asked for (validated above). `peers`:
 * the other relays of the cluster (`http(s)://host[:port]`, validated by config.ts), each
 * named by its WebSocket origin, so that the page may fail over to them.
 */
export function webCsp(host: string | undefined, peers: readonly string[] = []): string {
  const own = host === undefined ? ["'self'"] : ["'self'", `ws://${host}`, `wss://${host}`];
  const connect = [...own, ...peers.map((o) => o.replace(/^http/, 'ws'))].join(' ');
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    `connect-src ${connect}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "require-trusted-types-for 'script'",
    "trusted-types 'none'",
  ].join('; ');
}

function commonHeaders(csp: string): [string, string][] {
  return [
    ['Content-Security-Policy', csp],
    ['Referrer-Policy', 'no-referrer'],
    ['Cache-Control', 'no-store'],
    ['Pragma', 'no-cache'],
    ['X-Content-Type-Options', 'nosniff'],
    ['X-Frame-Options', 'DENY'],
    ['Cross-Origin-Opener-Policy', 'same-origin'],
    ['Cross-Origin-Resource-Policy', 'same-origin'],
    ['Permissions-Policy', 'camera=(), microphone=(), geolocation=(), payment=(), usb=()'],
  ];
}

export function sendWebIndex(req: IncomingMessage, res: ServerResponse, bundle: WebBundle, peers: readonly string[] = []): void {
  res.writeHead(200, [
    ...commonHeaders(webCsp(safeHost(req), peers)),
    ['Content-Type', 'text/html; charset=utf-8'],
    ['Content-Length', String(bundle.index.length)],
  ].flat());
  res.end(bundle.index);
}

export function sendWebAsset(res: ServerResponse, file: WebFile): void {
  res.writeHead(200, [
    ...commonHeaders("default-src 'none'; frame-ancestors 'none'"),
    ['Content-Type', file.type],
    ['Content-Length', String(file.body.length)],
  ].flat());
  res.end(file.body);
}

/**
 * A page of this relay reached under another name than the one it binds (`localhost`, or the
 * local end of an SSH tunnel on another port): its `Origin` is this server's scheme + the Host it
 * asked for. A foreign page's Origin never equals the Host it connects to; the secret base path
 * is still required (THREATS A.11). A TLS proxy in front is configured with `allowedOrigins`.
 */
export function isSameHostOrigin(origin: string, req: IncomingMessage, tls = false): boolean {
  const host = safeHost(req);
  return host !== undefined && origin === `${tls ? 'https' : 'http'}://${host}`;
}
