/**
 * Debian's Chromium driven by playwright-core, for the web client's end-to-end tests
 * (test/e2e/web*.test.ts). `npx playwright install` cannot download browsers here: the system
 * package is used (`apt-get install chromium`, scripts/system-deps.sh). Without it, the tests
 * skip and say why.
 *
 * Also a two-way TCP tap: the browser reaches the relay through it, so a test can read every
 * byte a browser sent to the server (the invite link's fragment must never be among them).
 */
import { existsSync } from 'node:fs';
import { once } from 'node:events';
import net from 'node:net';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { startServe, type Server } from './harness.js';

export const CHROMIUM = '/usr/bin/chromium';
export const HAVE_CHROMIUM = existsSync(CHROMIUM);
export const NO_CHROMIUM = `skipped: ${CHROMIUM} is missing (apt-get install -y chromium, or run scripts/system-deps.sh as root)`;

/** Flags that work on these machines: no sandbox as root, no GPU, no network of Chromium's own. */
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Starts Chromium (playwright gives it a fresh, empty user-data-dir, removed on close). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS, timeout: 30_000 });
}

/**
 * A `safehouse serve` and a Chromium for the tests of one `describe`: started before them,
 * stopped after. Read them through the getters once the tests run.
 */
export function serveAndChromium(): { readonly server: Server; readonly browser: Browser } {
  let server: Server | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    server = await startServe();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    server?.kill();
    await server?.exited;
  });
  return {
    get server() {
      if (!server) throw new Error('the server is not started yet');
      return server;
    },
    get browser() {
      if (!browser) throw new Error('Chromium is not started yet');
      return browser;
    },
  };
}

export type TestPage = { context: BrowserContext; page: Page; errors: string[]; dialogs: string[] };

/** A page in a context of its own (its own cookies, storage and WebCrypto keys: another person). */
export async function openPage(browser: Browser, viewport = { width: 1280, height: 800 }): Promise<TestPage> {
  const context = await browser.newContext({ viewport, permissions: ['clipboard-read', 'clipboard-write'] });
  const page = await context.newPage();
  const errors: string[] = [];
  const dialogs: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  // window.confirm (Leave) is accepted; anything else (an alert from a payload) is recorded.
  page.on('dialog', (d) => {
    dialogs.push(`${d.type()}: ${d.message()}`);
    void (d.type() === 'confirm' ? d.accept() : d.dismiss());
  });
  return { context, page, errors, dialogs };
}

/** Opens `link`, chooses `name`, and waits until the page says we are in the room. */
export async function joinAs(page: Page, link: string, name: string): Promise<void> {
  await page.goto(link);
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByRole('button', { name: /^(Join|Create room)$/ }).click();
  await page.getByText(new RegExp(`you are in \\S+ as ${name}`, 'i')).first().waitFor({ timeout: 30_000 });
}

/** Types a line into the message field and sends it with Enter. */
export async function say(page: Page, line: string): Promise<void> {
  const field = page.getByLabel('Message', { exact: true });
  await field.fill(line);
  await field.press('Enter');
}

/** The conversation list of the current room. */
export function conversation(page: Page) {
  return page.locator('ol.lines');
}

export type Tap = {
  port: number;
  /** Everything clients sent, per connection, in order. */
  connections: () => Buffer[];
  close: () => void;
};

/**
 * What a client sent on one connection, readable: the HTTP request head as is, then the
 * payloads of its WebSocket frames unmasked (RFC 6455 §5.3: client frames are masked, so a
 * plain byte search of the wire would miss them).
 */
export function readable(conn: Buffer): Buffer {
  // Plain HTTP requests may come first on a kept-alive connection; the upgrade ends them.
  const upgrade = /GET \S*\/ws HTTP\/1\.1\r\n/.exec(conn.toString('latin1'));
  if (!upgrade) return conn;
  const end = conn.indexOf('\r\n\r\n', upgrade.index);
  if (end < 0) return conn;
  const parts: Buffer[] = [conn.subarray(0, end + 4)];
  let i = end + 4;
  while (i + 2 <= conn.length) {
    const masked = (conn[i + 1]! & 0x80) !== 0;
    let len = conn[i + 1]! & 0x7f;
    let at = i + 2;
    if (len === 126) {
      len = conn.readUInt16BE(at);
      at += 2;
    } else if (len === 127) {
      len = Number(conn.readBigUInt64BE(at));
      at += 8;
    }
    const mask = masked ? conn.subarray(at, at + 4) : undefined;
    if (masked) at += 4;
    if (at + len > conn.length) break;
    const payload = Buffer.from(conn.subarray(at, at + len));
    if (mask) for (let k = 0; k < payload.length; k++) payload[k]! ^= mask[k % 4]!;
    parts.push(payload);
    i = at + len;
  }
  return Buffer.concat(parts);
}

/** A TCP proxy to `targetPort` that records every byte clients send (requests, WebSocket frames). */
export async function startClientTap(targetPort: number, host = '127.0.0.1'): Promise<Tap> {
  const conns: Buffer[][] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    const chunks: Buffer[] = [];
    conns.push(chunks);
    client.on('data', (d: Buffer) => chunks.push(d));
    client.pipe(upstream);
    upstream.pipe(client);
    const closeBoth = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', closeBoth).on('close', closeBoth);
    upstream.on('error', closeBoth).on('close', closeBoth);
  });
  server.listen(0, host);
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    connections: () => conns.map((c) => Buffer.concat(c)),
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

/**
 * Controls on screen without an accessible name (no aria-label, no <label>, no text): every
 * control must have one, for screen readers and for voice control.
 */
export function unlabelledControls(page: Page): Promise<string[]> {
  return page.evaluate<string[]>(`[...document.querySelectorAll('button, input, textarea, select, summary')]
    .filter((el) => el.getClientRects().length > 0)
    .filter((el) => {
      const labels = el.labels ? [...el.labels].map((l) => l.textContent).join(' ') : '';
      return ((el.getAttribute('aria-label') ?? '') + labels + (el.textContent ?? '')).trim() === '';
    })
    .map((el) => el.outerHTML.slice(0, 80))`);
}
