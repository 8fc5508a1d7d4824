/**
 * The web client's protections, checked in Chromium against the real `safehouse serve`:
 * the Content-Security-Policy is sent and enforced (an injected inline script does not run,
 * a markup sink throws under Trusted Types), every script and style is pinned by SRI and the
 * hash `serve` prints names exactly the index.html it serves, and a page opened over plain
 * HTTP on a network address explains what to do instead of breaking.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { networkInterfaces } from 'node:os';
import { connect as tlsConnect } from 'node:tls';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAVE_CHROMIUM, serveAndChromium, unlabelledControls, launchChromium, NO_CHROMIUM, openPage, startClientTap, type Tap } from './src/browser.js';
import { BIN, startServe, type Server } from './src/harness.js';

if (!HAVE_CHROMIUM) console.warn(`web-security.test.ts ${NO_CHROMIUM}`);

async function fetchText(url: string): Promise<{ status: number; headers: Headers; body: string; bytes: Buffer }> {
  const res = await fetch(url, { redirect: 'manual' });
  const bytes = Buffer.from(await res.arrayBuffer());
  return { status: res.status, headers: res.headers, body: bytes.toString('utf8'), bytes };
}

describe('web client: headers, SRI and the printed hash', () => {
  let server: Server;
  beforeAll(async () => {
    server = await startServe();
  });
  afterAll(async () => {
    server?.kill();
    await server?.exited;
  });

  it('index.html comes with a strict CSP, no referrer, no caching', async () => {
    const { status, headers } = await fetchText(server.url);
    expect(status).toBe(200);
    const csp = headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/default-src 'none'/);
    expect(csp).toMatch(/script-src 'self'(;|$)/);
    expect(csp).toMatch(/style-src 'self'(;|$)/);
    expect(csp).toContain(`connect-src 'self' ws://127.0.0.1:${server.port} wss://127.0.0.1:${server.port}`);
    expect(csp).toMatch(/base-uri 'none'/);
    expect(csp).toMatch(/frame-ancestors 'none'/);
    expect(csp).toMatch(/require-trusted-types-for 'script'/);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|data:|blob:|https?:\/\/(?!127)|\*/);
    expect(headers.get('referrer-policy')).toBe('no-referrer');
    expect(headers.get('cache-control')).toBe('no-store');
    expect(headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('every script and style is pinned by SRI, and serve printed the hash of this index.html', async () => {
    const { body, bytes } = await fetchText(server.url);
    const ready = server.events.find((e) => e.type === 'ready')!;
    expect(ready.webSha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    const tags = [...body.matchAll(/<(script|link)\b[^>]*>/g)].map((m) => m[0]);
    expect(tags.length).toBeGreaterThanOrEqual(2);
    expect(body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>|<style|\sstyle=/);
    for (const tag of tags) {
      const url = /(?:src|href)="([^"]+)"/.exec(tag)![1]!;
      const integrity = /integrity="sha384-([^"]+)"/.exec(tag)?.[1];
      expect(integrity, tag).toBeDefined();
      const asset = await fetchText(new URL(url, server.url).href);
      expect(asset.status).toBe(200);
      expect(createHash('sha384').update(asset.bytes).digest('base64')).toBe(integrity);
    }
  });

  it('the human-readable banner prints the same hash', async () => {
    const child = spawn(process.execPath, [BIN, 'serve', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no banner: ${out}`)), 20_000);
      child.stdout.on('data', (c: string) => {
        out += c;
        if (/SHA-256 of index\.html [0-9a-f]{64}/.test(out)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    child.kill('SIGTERM');
    const ready = server.events.find((e) => e.type === 'ready')!;
    expect(out).toContain(`SHA-256 of index.html ${String(ready.webSha256)}`);
    expect(out).toContain('Open the link in a browser');
  });
});

describe.skipIf(!HAVE_CHROMIUM)('web client in Chromium: the policy is enforced', () => {
  const env = serveAndChromium();

  it('loads with no policy violation; injected inline script does not run; markup sinks throw', async () => {
    const { page, errors } = await openPage(env.browser);
    await page.goto(env.server.url);
    await page.getByLabel('Name', { exact: true }).waitFor();
    expect(errors).toEqual([]);
    await page.getByText(/^Options/).click();
    await expect(unlabelledControls(page)).resolves.toEqual([]);
    const tried = await page.evaluate(`(async () => {
      const attempt = (f) => { try { f(); return 'allowed'; } catch (e) { return e.name; } };
      const script = attempt(() => {
        const s = document.createElement('script');
        s.textContent = 'window.__inline = 1';
        document.body.appendChild(s);
      });
      const markup = attempt(() => document.body.insertAdjacentHTML('beforeend', '<img src=x onerror="window.__inline=2">'));
      const handler = attempt(() => {
        const img = document.createElement('img');
        img.setAttribute('onerror', 'window.__inline = 3');
        img.src = 'x';
        document.body.appendChild(img);
      });
      await new Promise((r) => setTimeout(r, 300));
      return { script, markup, handler, inline: window.__inline };
    })()`);
    // Trusted Types refuses the sinks outright; whatever gets past them, CSP does not run.
    expect(tried).toMatchObject({ script: 'TypeError', markup: 'TypeError', inline: undefined });
    expect(errors.join('\n')).toMatch(/Content Security Policy|Trusted ?Type|TrustedScript/);
    await page.context().close();
  });
});

const lanAddress = Object.values(networkInterfaces())
  .flat()
  .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
if (HAVE_CHROMIUM && !lanAddress) console.warn('web-security.test.ts: insecure-context test skipped: this machine has no non-loopback IPv4 address');

describe.skipIf(!HAVE_CHROMIUM || !lanAddress)('web client over plain HTTP on a network address', () => {
  let server: Server;
  let tap: Tap;
  let browser: Browser;
  beforeAll(async () => {
    server = await startServe();
    tap = await startClientTap(server.port, lanAddress);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    tap?.close();
    server?.kill();
    await server?.exited;
  });

  it('explains HTTPS or an SSH tunnel instead of breaking (no WebCrypto there)', async () => {
    const { page, errors } = await openPage(browser);
    await page.goto(`http://${lanAddress}:${tap.port}${server.basePath}/#r=AAAAAAAAAAAAAAAAAAAAAA`);
    await expect(page.evaluate('window.isSecureContext')).resolves.toBe(false);
    await page.getByRole('alert').filter({ hasText: 'plain HTTP' }).waitFor();
    await expect(page.locator('pre.command').allTextContents()).resolves.toEqual([
      `ssh -N -L ${tap.port}:${lanAddress}:${tap.port} YOUR_LOGIN@${lanAddress}`,
      `http://127.0.0.1:${tap.port}${server.basePath}/#r=AAAAAAAAAAAAAAAAAAAAAA`,
    ]);
    await expect(page.getByLabel('Name', { exact: true }).count()).resolves.toBe(0);
    // Chromium notes that it ignores Cross-Origin-Opener-Policy on an insecure origin: expected here.
    const unexpected = errors.filter((e) => !/Cross-Origin-Opener-Policy/.test(e));
    expect(unexpected, unexpected.join('\n')).toEqual([]);
  });
});

describe.skipIf(!HAVE_CHROMIUM)('web client over TLS with a self-signed certificate', () => {
  let server: Server;
  let browser: Browser;
  beforeAll(async () => {
    server = await startServe(['--tls-self-signed']);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    server?.kill();
    await server?.exited;
  });

  it('shows the pinned fingerprint to compare with the browser’s, and chats over wss', async () => {
    const invite = String(server.events.find((e) => e.type === 'ready')!.invite);
    expect(invite).toMatch(/^https:\/\/.*[#&]c=/);
    const pin = Buffer.from(/[#&]c=([\w-]+)/.exec(invite)![1]!, 'base64url');
    // The certificate the server really presents, as a browser shows it.
    const presented = await new Promise<Buffer>((resolve, reject) => {
      const s = tlsConnect({ host: '127.0.0.1', port: server.port, rejectUnauthorized: false }, () => {
        resolve(createHash('sha256').update(s.getPeerCertificate().raw).digest());
        s.destroy();
      });
      s.on('error', reject);
    });
    expect(presented.equals(pin)).toBe(true);

    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    // Reached as `localhost` (not the address it binds): the page's Origin is https:// + its Host.
    await page.goto(invite.replace('//127.0.0.1:', '//localhost:'));
    const hex = [...presented].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':');
    await expect(page.locator('.cert-note .fingerprint').textContent()).resolves.toBe(hex);
    await page.getByLabel('Name', { exact: true }).fill('tess');
    await page.getByRole('button', { name: 'Join' }).click();
    await page.getByText('You are in lobby as tess').waitFor({ timeout: 30_000 });
    await page.getByRole('status', { name: 'Connection: Connected' }).waitFor();
    await context.close();
  });
});
