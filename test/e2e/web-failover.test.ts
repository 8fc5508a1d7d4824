/**
 * The web client fails over in a real browser: two `safehouse serve` on one base path, each
 * started with `--also` naming the other. A page loaded from relay A (its link carries `a=`)
 * connects to A; when A stops, it connects to B: A's page policy lets it (`connect-src` names
 * B), and B accepts its `Origin` (A's, a peer of its cluster). A terminal member moves too, and
 * the two go on chatting through B.
 */
import { createServer } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conversation, HAVE_CHROMIUM, joinAs, launchChromium, NO_CHROMIUM, openPage, say, type TestPage } from './src/browser.js';
import { messagesOf, startJoin, startServe, type Member, type Server } from './src/harness.js';

if (!HAVE_CHROMIUM) console.warn(`web-failover.test.ts ${NO_CHROMIUM}`);

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe.skipIf(!HAVE_CHROMIUM)('web client: failover to another relay of the link', () => {
  const procs: Array<Server | Member> = [];
  let browser: Browser;
  let alice: TestPage;

  beforeAll(async () => {
    browser = await launchChromium();
    alice = await openPage(browser);
  });
  afterAll(async () => {
    for (const p of procs) p.kill('SIGKILL');
    await browser?.close();
  });

  it('a page loaded from A moves to B when A stops, and chats on there', async () => {
    const [portA, portB] = [await freePort(), await freePort()];
    const basePath = `/${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
    const b = await startServe(['--no-admin', '--port', String(portB), '--base-path', basePath, '--also', `http://127.0.0.1:${portA}`]);
    procs.push(b);
    const a = await startServe(['--no-admin', '--port', String(portA), '--base-path', basePath, '--also', `http://127.0.0.1:${portB}`]);
    procs.push(a);
    const link = String(a.events.find((e) => e.type === 'ready')!.invite);
    expect(link).toMatch(/#a=/);

    await joinAs(alice.page, link, 'alice');
    await alice.page.getByRole('status', { name: `Connection: Connected to 127.0.0.1:${portA}` }).waitFor();
    await alice.page.getByRole('button', { name: 'Show invite link' }).click();
    const invite = await alice.page.getByLabel('Invite link', { exact: true }).inputValue();
    await alice.page.getByRole('button', { name: 'Close' }).click();
    expect(invite).toContain('&a=');
    const bob = startJoin(invite, 'bob');
    procs.push(bob);
    await bob.waitFor((e) => e.type === 'joined', 30_000, 'bob joined');

    a.kill('SIGTERM');
    await a.exited;
    await alice.page.getByRole('status', { name: `Connection: Connected to 127.0.0.1:${portB}` }).waitFor({ timeout: 30_000 });
    await bob.waitFor((e) => e.type === 'connection' && e.state === 'connected' && e.endpoint === `127.0.0.1:${portB}`, 30_000, 'bob on B');
    await say(alice.page, 'from the page, through B');
    await bob.waitFor((e) => e.type === 'message' && e.text === 'from the page, through B', 30_000, "alice's message at bob");
    bob.send('from the terminal, through B');
    await conversation(alice.page).getByText('from the terminal, through B').waitFor({ timeout: 30_000 });
    expect(messagesOf(bob).filter((e) => e.text === 'from the page, through B')).toHaveLength(1);
    expect(alice.errors.filter((e) => /Content Security Policy/i.test(e))).toEqual([]);
  });
});
