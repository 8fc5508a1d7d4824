/**
 * The web client's rooms and identity, in Chromium with a `safehouse join --json` member:
 * creating a room and sharing its link (copied, and as a QR code), the switcher with unread
 * counts and the "new messages" marker, leaving; and an identity saved encrypted under a
 * passphrase and loaded on a later visit, so that the member keeps their fingerprint (and
 * others see no key change).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conversation, HAVE_CHROMIUM, serveAndChromium, joinAs, launchChromium, NO_CHROMIUM, openPage, say, type TestPage } from './src/browser.js';
import { startJoin, startServe, type Member, type Server } from './src/harness.js';

if (!HAVE_CHROMIUM) console.warn(`web-rooms.test.ts ${NO_CHROMIUM}`);

/** Terminal members started by the tests below; all stopped at the end. */
const others: Member[] = [];
afterAll(() => {
  for (const m of others) m.kill();
});

describe.skipIf(!HAVE_CHROMIUM)('web client: rooms, invites, leaving, identity files', () => {
  let server: Server;
  let browser: Browser;
  let alice: TestPage;
  let bob: Member;
  let lobbyInvite = '';

  beforeAll(async () => {
    server = await startServe();
    browser = await launchChromium();
    alice = await openPage(browser);
  });
  afterAll(async () => {
    for (const m of others) m.kill();
    await browser?.close();
    server?.kill();
    await server?.exited;
  });

  it('creates a room, then a second one from the switcher, and shares its link (copy and QR)', async () => {
    await joinAs(alice.page, server.url, 'alice');
    await alice.page.getByRole('button', { name: 'Invite', exact: true }).click();
    lobbyInvite = await alice.page.getByLabel('Invite link', { exact: true }).inputValue();
    await alice.page.keyboard.press('Escape');
    bob = startJoin(lobbyInvite, 'bob');
    others.push(bob);
    await bob.waitFor((e) => e.type === 'joined', 30_000, 'bob joined');

    await alice.page.getByLabel('New room name').fill('ops');
    await alice.page.getByRole('button', { name: 'Create', exact: true }).click();
    await alice.page.getByRole('heading', { name: '#ops' }).waitFor();
    await expect(alice.page.getByRole('button', { name: /^#ops/ }).getAttribute('aria-current')).resolves.toBe('page');
    await alice.page.getByRole('button', { name: 'Show invite link' }).click();
    const opsInvite = await alice.page.getByLabel('Invite link', { exact: true }).inputValue();
    expect(opsInvite).not.toBe(lobbyInvite);
    const qr = alice.page.getByRole('img', { name: 'QR code of the invite link' });
    await qr.waitFor(); // the dialog may still be settling on a loaded machine: wait, then count
    await expect(qr.count()).resolves.toBe(1);
    await alice.page.getByRole('button', { name: 'Copy link' }).click();
    await alice.page.getByRole('button', { name: 'Copied' }).waitFor();
    await expect(alice.page.evaluate('navigator.clipboard.readText()')).resolves.toBe(opsInvite);
    await alice.page.getByRole('button', { name: 'Close' }).click();

    bob.send(`/join ${opsInvite}`);
    await bob.waitFor((e) => e.type === 'joined' && e.roomName === 'ops', 30_000, 'bob in ops');
    await conversation(alice.page).getByText('bob joined').waitFor();
  });

  it('counts unread messages of another room and marks where they start', async () => {
    bob.send('/switch lobby');
    await bob.waitFor((e) => e.type === 'switched' && e.roomName === 'lobby', 10_000, 'bob switched');
    bob.send('first while away');
    bob.send('second while away');
    const lobby = alice.page.getByRole('button', { name: /^#lobby, 2 unread/ });
    await lobby.waitFor();
    await expect.poll(() => alice.page.title()).toBe('(2) Safehouse');
    await lobby.click();
    await alice.page.getByRole('separator').filter({ hasText: 'New messages' }).waitFor();
    const lines = await conversation(alice.page).locator('li').allTextContents();
    const marker = lines.findIndex((l) => l === 'New messages');
    expect(lines[marker + 1]).toContain('first while away');
    await expect.poll(() => alice.page.title()).toBe('Safehouse');
  });

  it('leaves a room: it goes from the switcher, and the others are told', async () => {
    await alice.page.getByRole('button', { name: /^#ops/ }).click();
    await alice.page.getByRole('heading', { name: '#ops' }).waitFor();
    await alice.page.getByRole('button', { name: 'Leave', exact: true }).click(); // confirm() is accepted
    await bob.waitFor((e) => e.type === 'member-left' && e.name === 'alice' && e.roomName === 'ops', 20_000, 'alice left ops');
    await expect.poll(() => alice.page.getByRole('button', { name: /^#ops/ }).count()).toBe(0);
    expect(alice.dialogs.some((d) => d.startsWith('confirm: Leave #ops'))).toBe(true);
  });

  it('an identity saved under a passphrase and loaded later keeps its fingerprint', async () => {
    const first = await openPage(browser);
    await first.page.goto(lobbyInvite);
    await first.page.getByText(/^Options/).click();
    await first.page.getByLabel('Make an identity I can save').check();
    await first.page.getByLabel('Name', { exact: true }).fill('dave');
    await first.page.getByRole('button', { name: 'Join' }).click();
    await first.page.getByText('You are in lobby as dave').waitFor({ timeout: 30_000 });
    const fingerprint = await first.page.locator('.me .fingerprint').textContent();
    expect(fingerprint).toMatch(/^[\d ]{40,}$/);
    await first.page.getByRole('button', { name: 'Save identity…' }).click();
    await first.page.getByLabel('Passphrase', { exact: true }).fill('correct horse battery');
    await first.page.getByLabel('Passphrase again').fill('correct horse battery');
    const [download] = await Promise.all([first.page.waitForEvent('download'), first.page.getByRole('button', { name: 'Save identity file' }).click()]);
    expect(download.suggestedFilename()).toBe('safehouse-identity.shid');
    const file = join(mkdtempSync(join(tmpdir(), 'safehouse-id-')), download.suggestedFilename());
    await download.saveAs(file);
    expect(readFileSync(file).subarray(0, 4).toString('latin1')).toBe('SHID');
    await first.page.getByRole('button', { name: 'Close' }).click();
    await first.page.getByRole('button', { name: 'Leave', exact: true }).click();
    await conversation(alice.page).getByText('dave left').waitFor({ timeout: 20_000 });
    await first.context.close();

    // A later visit, in a fresh browser profile: a wrong passphrase is refused, the right one works.
    const later = await openPage(browser);
    await later.page.goto(lobbyInvite);
    await later.page.getByText(/^Options/).click();
    await later.page.getByLabel('Load a saved identity').setInputFiles(file);
    await later.page.getByLabel('Passphrase of the identity file').fill('wrong passphrase');
    await later.page.getByLabel('Name', { exact: true }).fill('dave');
    await later.page.getByRole('button', { name: 'Join' }).click();
    await later.page.getByRole('alert').filter({ hasText: 'could not be opened' }).waitFor();
    await later.page.getByLabel('Passphrase of the identity file').fill('correct horse battery');
    await later.page.getByRole('button', { name: 'Join' }).click();
    await later.page.getByText('You are in lobby as dave').waitFor({ timeout: 30_000 });
    await expect(later.page.locator('.me .fingerprint').textContent()).resolves.toBe(fingerprint);
    await conversation(alice.page).getByText('dave joined').nth(1).waitFor();
    await say(later.page, 'same dave');
    await conversation(alice.page).getByText('same dave').waitFor();
    await expect(alice.page.getByRole('alert').count()).resolves.toBe(0);
    await later.context.close();
    rmSync(dirname(file), { recursive: true, force: true });
  });
});

describe.skipIf(!HAVE_CHROMIUM)('web client: keyboard only', () => {
  const env = serveAndChromium();

  it('name, Enter, type, Enter: a room and a first message without touching the mouse', async () => {
    const { page } = await openPage(env.browser, { width: 360, height: 740 });
    await page.goto(env.server.url);
    await page.getByLabel('Name', { exact: true }).waitFor();
    await page.keyboard.type('erin');
    await page.keyboard.press('Enter');
    await page.getByText('You are in lobby as erin').waitFor({ timeout: 30_000 });
    await expect.poll(() => page.evaluate('document.activeElement && document.activeElement.id')).toBe('message');
    await page.keyboard.type('typed without a mouse');
    await page.keyboard.press('Enter');
    await conversation(page).getByText('typed without a mouse').waitFor();
    // Tab reaches the header's buttons; Escape closes a panel opened from there.
    await page.getByRole('button', { name: 'Members', exact: true }).focus();
    await page.keyboard.press('Enter');
    await page.locator('#members-panel').getByText('erin').waitFor();
    await page.keyboard.press('Escape');
    await expect.poll(() => page.locator('#members-panel').isVisible()).toBe(false);
    // /quit: delivered, left, closed; the page says so.
    await say(page, '/quit');
    await page.getByText('You left every room and the connection is closed').waitFor({ timeout: 20_000 });
  });
});

describe.skipIf(!HAVE_CHROMIUM)('web client: waiting to be admitted', () => {
  const env = serveAndChromium();

  it('says it is waiting for a member, keeps the room in the switcher, and shows no error meanwhile', async () => {
    const zed = startJoin(env.server.url, 'zed');
    const inv = await zed.waitFor((e) => e.type === 'invite', 30_000, 'invite');
    zed.end();
    await zed.exited;
    const { page } = await openPage(env.browser);
    await page.goto(String(inv.link));
    await page.getByLabel('Name', { exact: true }).fill('yan');
    await page.getByRole('button', { name: 'Join' }).click();
    await conversation(page).getByText('a member must be online').waitFor({ timeout: 20_000 });
    await page.getByRole('button', { name: /waiting to be admitted/ }).waitFor();
    await page.waitForTimeout(1_500);
    await expect(page.locator('.notice.error').allTextContents()).resolves.toEqual([]);
  });
});

describe.skipIf(!HAVE_CHROMIUM)('web client: a server with a password', () => {
  let server: Server;
  let browser: Browser;
  let dir = '';
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'safehouse-pw-'));
    writeFileSync(join(dir, 'password'), 'open sesame 42\n');
    server = await startServe(['--password-file', join(dir, 'password')]);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    server?.kill();
    await server?.exited;
    rmSync(dir, { recursive: true, force: true });
  });

  const open = async (password: string) => {
    const { page } = await openPage(browser);
    await page.goto(server.url);
    await page.getByText(/^Options/).click();
    await page.getByLabel('Server password (only if the operator gave you one)').fill(password);
    await page.getByLabel('Name', { exact: true }).fill('pat');
    await page.getByRole('button', { name: 'Create room' }).click();
    return page;
  };

  it('without the right password the page says the relay does not answer, and why that may be', async () => {
    const page = await open('wrong password');
    await page.getByText('If this server has a password, it is missing or wrong').waitFor({ timeout: 30_000 });
    await expect(page.getByRole('status', { name: 'Connection: Connected' }).count()).resolves.toBe(0);
    await page.context().close();
  });

  it('with it, the page connects and chats with a terminal member who has it too', async () => {
    const page = await open('open sesame 42');
    await page.getByRole('status', { name: 'Connection: Connected' }).waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: 'Show invite link' }).click();
    const invite = await page.getByLabel('Invite link', { exact: true }).inputValue();
    await page.getByRole('button', { name: 'Close' }).click();
    const quinn = startJoin(invite, 'quinn', ['--password-file', join(dir, 'password')]);
    others.push(quinn);
    await quinn.waitFor((e) => e.type === 'joined', 30_000, 'quinn joined');
    quinn.send('the password worked');
    await conversation(page).getByText('the password worked').waitFor();
    await page.context().close();
  });
});

describe.skipIf(!HAVE_CHROMIUM)('web client: removed by the operator', () => {
  const env = serveAndChromium();

  it('a member kicked from the console is told, plainly, and the chat ends', async () => {
    const invite = String(env.server.events.find((e) => e.type === 'ready')!.invite);
    const { page } = await openPage(env.browser);
    await joinAs(page, invite, 'kim');
    env.server.send('/kick kim');
    await page.getByRole('alert').filter({ hasText: /no room/ }).waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: 'Start again' }).waitFor();
    await page.getByText('Left lobby: you were removed').waitFor();
  });
});
