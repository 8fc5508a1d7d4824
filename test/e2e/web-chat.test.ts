/**
 * The web client in Debian's Chromium: two browser pages and one `safehouse join --json`
 * member in one room; a direct message; a key-change banner; markup and script sent by a peer
 * shown as text and never run; a phone-sized page; the invite link's fragment never reaching
 * the server (every byte the browsers sent is read at a tap, WebSocket frames unmasked).
 *
 * With SAFEHOUSE_SCREENSHOTS=1 it also writes docs/web-desktop.png, docs/web-phone.png and
 * docs/web-key-change.png.
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conversation, HAVE_CHROMIUM, unlabelledControls, joinAs, launchChromium, NO_CHROMIUM, openPage, readable, say, startClientTap, type Tap, type TestPage } from './src/browser.js';
import { startJoin, startServe, type Member, type Server } from './src/harness.js';

const DOCS = fileURLToPath(new URL('../../docs/', import.meta.url));
const SCREENSHOTS = process.env.SAFEHOUSE_SCREENSHOTS === '1';

if (!HAVE_CHROMIUM) console.warn(`web-chat.test.ts ${NO_CHROMIUM}`);

describe.skipIf(!HAVE_CHROMIUM)('web client in Chromium: two pages and a CLI member in one room', () => {
  let server: Server;
  let tap: Tap;
  let browser: Browser;
  let alice: TestPage;
  let bob: TestPage;
  let carol: Member | undefined;
  let invite = '';
  const members: Member[] = [];

  beforeAll(async () => {
    server = await startServe();
    tap = await startClientTap(server.port);
    browser = await launchChromium();
    alice = await openPage(browser);
    bob = await openPage(browser);
  });

  afterAll(async () => {
    for (const m of members) m.kill();
    await browser?.close();
    tap?.close();
    server?.kill();
    await server?.exited;
  });

  /** The server's link, reached through the tap. */
  const viaTap = (link: string): string => link.replace(`:${server.port}/`, `:${tap.port}/`);

  it('the first member creates a room from the server link and gets its invite link', async () => {
    await joinAs(alice.page, viaTap(server.url), 'alice');
    await alice.page.getByRole('button', { name: 'Show invite link' }).click();
    invite = await alice.page.getByLabel('Invite link', { exact: true }).inputValue();
    expect(invite).toMatch(/#r=[\w-]{22}&k=[\w-]+&f=[\w-]+/);
    await expect.poll(() => alice.page.locator('dialog svg.qr path').count()).toBe(1);
    await alice.page.getByRole('button', { name: 'Close' }).click();
  });

  it('a second page joins by the invite link and a CLI member joins too; all three chat (timed)', async () => {
    const t0 = Date.now();
    await joinAs(bob.page, invite, 'bob');
    const joinedMs = Date.now() - t0;
    // Once in, the invite secret is no longer in the address bar (nor in the history entry).
    expect(bob.page.url()).toBe(invite.slice(0, invite.indexOf('#')));
    await alice.page.getByText('bob joined').waitFor();
    await say(alice.page, 'welcome bob');
    await conversation(bob.page).getByText('welcome bob').waitFor();
    const firstMessageMs = Date.now() - t0;
    console.log(`web: link opened → in the room ${joinedMs} ms; → first message shown ${firstMessageMs} ms`);

    carol = startJoin(invite, 'carol');
    members.push(carol);
    await carol.waitFor((e) => e.type === 'joined', 30_000, 'carol joined');
    await bob.page.getByText('carol joined').waitFor();
    carol.send('hello from the terminal');
    await conversation(alice.page).getByText('hello from the terminal').waitFor();
    await conversation(bob.page).getByText('hello from the terminal').waitFor();
    await say(bob.page, 'hello from bob');
    await carol.waitFor((e) => e.type === 'message' && e.text === 'hello from bob' && e.from === 'bob', 20_000, 'bob → carol');
    await conversation(alice.page).getByText('hello from bob').waitFor();
    // Own messages are echoed, with a time.
    await expect(conversation(bob.page).locator('li.msg.self').getByText('hello from bob').count()).resolves.toBe(1);
    await expect(conversation(bob.page).locator('li.msg.self time').first().textContent()).resolves.toMatch(/^\d\d:\d\d$/);
    // The connection state is on screen; members are listed with their verification state.
    await expect.poll(() => alice.page.getByRole('status', { name: 'Connection: Connected' }).count()).toBe(1);
    await alice.page.locator('.member-list').getByText('carol').waitFor();
    await expect(alice.page.locator('.member-list .badge').allTextContents()).resolves.toEqual(expect.arrayContaining(['you', 'not verified']));
  });

  it('typed commands work: /me, /code, /help', async () => {
    await say(alice.page, '/me waves');
    await carol!.waitFor((e) => e.type === 'message' && e.text === 'waves' && e.action === true, 20_000, '/me');
    await say(bob.page, '/code');
    const code = await bob.page.locator('dialog .number').textContent();
    carol!.send('/code');
    const ev = await carol!.waitFor((e) => e.type === 'room-code', 20_000, 'room code');
    expect(code).toBe(ev.code);
    await bob.page.getByRole('button', { name: 'Close' }).click();
    await say(bob.page, '/help');
    await bob.page.locator('dialog pre').getByText('/msg NAME TEXT').waitFor();
    await bob.page.keyboard.press('Escape');
    await expect.poll(() => bob.page.locator('dialog[open]').count()).toBe(0);
  });

  it('markup and script from a peer are shown as text and never run', async () => {
    const payloads = ['<img src=x onerror="window.__pwned=1;alert(1)">', '<script>window.__pwned=2;alert(2)</script>', '<a href="javascript:alert(3)">x</a>'];
    for (const p of payloads) carol!.send(p);
    for (const page of [alice.page, bob.page]) {
      for (const p of payloads) await conversation(page).getByText(p, { exact: true }).waitFor();
      await expect(page.evaluate('window.__pwned')).resolves.toBeUndefined();
      await expect(conversation(page).locator('img, script, a').count()).resolves.toBe(0);
    }
    expect([...alice.dialogs, ...bob.dialogs]).toEqual([]);
  });

  it('a direct message between the two pages', async () => {
    await bob.page.getByRole('button', { name: 'Direct message to alice' }).click();
    await expect.poll(() => bob.page.getByLabel('Message', { exact: true }).inputValue()).toBe('/msg alice ');
    await bob.page.getByLabel('Message', { exact: true }).pressSequentially('just between us');
    await bob.page.getByLabel('Message', { exact: true }).press('Enter');
    // Alice sees a new room for it, with an unread mark, and reads it there.
    const dm = alice.page.getByRole('button', { name: /^@bob/ });
    await dm.waitFor({ timeout: 30_000 });
    await dm.click();
    await conversation(alice.page).getByText('just between us').waitFor();
    expect(carol!.events.some((e) => e.type === 'message' && e.text === 'just between us')).toBe(false);
    // From the member list again, "Message" now opens the direct room (and a plain line goes there).
    await alice.page.getByRole('button', { name: /^#lobby/ }).click();
    await alice.page.getByRole('button', { name: 'Direct message to bob' }).click();
    await alice.page.getByRole('heading', { name: '@bob' }).waitFor();
    await say(alice.page, 'replying in private');
    await bob.page.getByRole('button', { name: /^@alice/ }).click();
    await conversation(bob.page).getByText('replying in private').waitFor();
    await bob.page.getByRole('button', { name: /^#lobby/ }).click();
    await alice.page.getByRole('button', { name: /^#lobby/ }).click();
  });

  it('a changed key raises a banner that cannot be missed', async () => {
    carol!.end();
    await carol!.exited;
    await alice.page.getByText('carol left').waitFor();
    // "carol" comes back with a new identity (another device, or someone else).
    const carol2 = startJoin(invite, 'carol');
    members.push(carol2);
    carol = carol2;
    await carol2.waitFor((e) => e.type === 'joined', 30_000, 'carol again');
    for (const page of [alice.page, bob.page]) {
      const banner = page.getByRole('alert').filter({ hasText: "carol's key changed" });
      await banner.waitFor();
      await expect(banner.isVisible()).resolves.toBe(true);
    }
    await expect(alice.page.locator('.member-list .badge.danger').textContent()).resolves.toBe('key changed');
    if (SCREENSHOTS) await alice.page.screenshot({ path: `${DOCS}web-key-change.png` });
    // Comparing safety numbers shows the number and its QR code; then the banner goes.
    await alice.page.getByRole('button', { name: 'Compare safety number' }).click();
    await alice.page.getByRole('button', { name: 'Show safety number' }).click();
    const number = await alice.page.locator('dialog .number').textContent();
    expect(number).toMatch(/^[\d ]{40,}$/);
    await expect.poll(() => alice.page.getByRole('img', { name: /QR code of the safety number/ }).count()).toBe(1);
    // carol sees the same number (the terminal's /safety); looking did not mark her verified.
    carol.send('/safety alice');
    const theirs = await carol.waitFor((e) => e.type === 'safety-number', 20_000, 'carol safety number');
    expect(theirs).toMatchObject({ safetyNumber: number, verified: false });
    await expect.poll(() => alice.page.getByRole('alert').filter({ hasText: "carol's key changed" }).count()).toBe(1);
    await alice.page.getByRole('button', { name: 'They match: mark verified' }).click();
    await alice.page.getByRole('dialog').getByText('carol is marked verified').waitFor();
    await alice.page.getByRole('button', { name: 'Close' }).click();
    await expect(alice.page.getByRole('alert').filter({ hasText: "carol's key changed" }).count()).resolves.toBe(0);
    await alice.page.locator('.member-list .badge.ok').getByText('verified').waitFor();
    // Bob accepts the new key instead.
    await bob.page.getByRole('button', { name: 'Accept new key' }).click();
    await expect(bob.page.getByRole('alert').filter({ hasText: "carol's key changed" }).count()).resolves.toBe(0);
  });

  it('works at phone size (360×740): no sideways scrolling, panels open from the header', async () => {
    const phone = bob.page;
    await phone.setViewportSize({ width: 360, height: 740 });
    await expect(phone.evaluate('document.documentElement.scrollWidth')).resolves.toBeLessThanOrEqual(360);
    await say(phone, 'typed on a phone');
    await conversation(alice.page).getByText('typed on a phone').waitFor();
    const field = await phone.getByLabel('Message', { exact: true }).boundingBox();
    expect(field && field.y + field.height).toBeLessThanOrEqual(740);
    await phone.getByRole('button', { name: 'Members' }).click();
    await phone.locator('#members-panel').getByText('alice').waitFor();
    await expect(unlabelledControls(phone)).resolves.toEqual([]);
    await phone.getByRole('button', { name: 'Members' }).click();
    await phone.getByRole('button', { name: /^Rooms/ }).click();
    await phone.getByRole('button', { name: /^@alice/ }).waitFor();
    await expect(unlabelledControls(phone)).resolves.toEqual([]);
    await phone.getByRole('button', { name: /^Rooms/ }).click();
    await expect(unlabelledControls(phone)).resolves.toEqual([]);
    await expect(unlabelledControls(alice.page)).resolves.toEqual([]);
    if (SCREENSHOTS) {
      // A few ordinary lines, so that the pictures show a conversation.
      carol!.send('back on my new laptop; alice and I compared safety numbers by phone');
      await conversation(alice.page).getByText('back on my new laptop', { exact: false }).waitFor();
      await say(alice.page, 'numbers matched. Stand-up at 10, same room');
      await conversation(phone).getByText('Stand-up at 10', { exact: false }).waitFor();
      await say(phone, 'on my way');
      await conversation(alice.page).getByText('on my way', { exact: false }).waitFor();
      mkdirSync(DOCS, { recursive: true });
      await alice.page.screenshot({ path: `${DOCS}web-desktop.png` });
      await phone.screenshot({ path: `${DOCS}web-phone.png` });
    }
    expect([...alice.errors, ...bob.errors].filter((e) => !/WebSocket|ERR_CONNECTION|404/.test(e))).toEqual([]);
  });

  it('the fragment of the link never reached the server', () => {
    const fragment = invite.slice(invite.indexOf('#') + 1);
    const secret = /k=([\w-]+)/.exec(fragment)![1]!;
    const secretBytes = Buffer.from(secret, 'base64url');
    const sent = tap.connections();
    expect(sent.length).toBeGreaterThan(2);
    const all = Buffer.concat(sent.map(readable));
    expect(all.includes(Buffer.from('GET '))).toBe(true);
    expect(all.includes(Buffer.from(secret))).toBe(false);
    expect(all.includes(secretBytes)).toBe(false);
    expect(all.includes(Buffer.from(fragment.slice(0, 24)))).toBe(false);
    expect(all.toString('latin1')).not.toMatch(/^Referer:/im);
  });
});
