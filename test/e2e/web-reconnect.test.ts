/**
 * The web client through a relay restart (THREATS G.31): the connection state on screen goes
 * from connected to reconnecting and back, and a message typed while the relay was down is
 * kept in the outbox and delivered exactly once after it returns.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conversation, HAVE_CHROMIUM, joinAs, launchChromium, NO_CHROMIUM, openPage, say, type TestPage } from './src/browser.js';
import { messagesOf, startJoin, startServe, type Member, type Server } from './src/harness.js';

if (!HAVE_CHROMIUM) console.warn(`web-reconnect.test.ts ${NO_CHROMIUM}`);

describe.skipIf(!HAVE_CHROMIUM)('web client: relay killed and restarted', () => {
  let server: Server;
  let browser: Browser;
  let alice: TestPage;
  let bob: Member | undefined;

  beforeAll(async () => {
    server = await startServe();
    browser = await launchChromium();
    alice = await openPage(browser);
  });
  afterAll(async () => {
    bob?.kill('SIGKILL');
    await browser?.close();
    server?.kill('SIGKILL');
  });

  it('shows reconnecting, keeps what was typed, and delivers it once the relay is back', async () => {
    const { port, basePath } = server;
    await joinAs(alice.page, server.url, 'alice');
    await alice.page.getByRole('button', { name: 'Show invite link' }).click();
    const invite = await alice.page.getByLabel('Invite link', { exact: true }).inputValue();
    await alice.page.getByRole('button', { name: 'Close' }).click();
    bob = startJoin(invite, 'bob');
    await bob.waitFor((e) => e.type === 'joined', 30_000, 'bob joined');
    await alice.page.getByRole('status', { name: 'Connection: Connected' }).waitFor();

    server.kill('SIGKILL');
    await server.exited;
    await alice.page.getByRole('status', { name: /Connection: (Reconnecting|Connecting)/ }).waitFor({ timeout: 60_000 });
    await alice.page.getByText('what you send now is kept').waitFor();
    await say(alice.page, 'typed while the relay was down');
    await conversation(alice.page).getByText('typed while the relay was down').waitFor();

    server = await startServe(['--port', String(port), '--base-path', basePath]);
    await alice.page.getByRole('status', { name: 'Connection: Connected' }).waitFor({ timeout: 60_000 });
    await bob.waitFor((e) => e.type === 'message' && e.text === 'typed while the relay was down', 60_000, 'the offline message at bob');
    bob.send('welcome back');
    await conversation(alice.page).getByText('welcome back').waitFor({ timeout: 30_000 });
    expect(messagesOf(bob).filter((e) => e.text === 'typed while the relay was down')).toHaveLength(1);
    await expect(conversation(alice.page).getByText('typed while the relay was down').count()).resolves.toBe(1);
  });
});
