/**
 * Issue 12, attack 1, with real processes: `safehouse serve` and two `safehouse join --json`
 * members (alice, bob), and carol, a member of their room whose client is the attacker's own
 * code (in this test process: it hands the test every plaintext it decrypts, every join request
 * it sees, and a raw protocol connection of its own). alice writes to bob with `/msg`.
 *
 * The hijack needed the direct room's secret, which the invitation used to carry to every member
 * of the room it went through. Now carol decrypts the invitation and finds no secret in it, and
 * cannot open it for herself; bob's join request to the direct room (which the relay forwards to
 * any subscriber of it) opens under no secret she holds; alice and bob talk, carol shows nothing, and no byte the
 * relay carried holds their words.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createClient, type SafehouseClient } from '@safehouse/core/client';
import { createE2ee } from '@safehouse/core/e2ee';
import { decodeClientFrame, fromBase64Url, parseInvite, toBase64Url } from '@safehouse/core/protocol';
import { createWsTransport } from '../../packages/cli/src/transport/ws.js';
import { needlesFor, startWireTap, type WireTap } from '../../packages/cli/src/testing/wiretap.js';
import { recording } from '../../packages/cli/src/testing/attacker.js';
import { startJoin, startServe, type Member, type Server } from './src/harness.js';

let server: Server;
let tap: WireTap;
const members: Member[] = [];
let carol: SafehouseClient | undefined;

afterAll(async () => {
  for (const m of members) m.kill('SIGKILL');
  await carol?.quit({ timeoutMs: 200 });
  tap?.close();
  server?.kill('SIGTERM');
  await server?.exited;
});


async function until(check: () => boolean, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('a third member cannot hijack a direct-message room', () => {
  it('carol, a member with code of her own, gets no secret, cannot open the join request, and reads nothing of alice and bob', async () => {
    server = await startServe();
    tap = await startWireTap(server.port);
    const url = tap.via(server.url);
    // carol makes the room: every later member's join request passes by her.
    const own = recording();
    const events: Array<{ type: string; [k: string]: unknown }> = [];
    carol = createClient({ name: 'carol', link: url, transport: createWsTransport(), e2ee: own.e2ee });
    carol.on((e) => events.push(e));
    await carol.start();
    await until(() => events.some((e) => e.type === 'invite'), "carol's invite link");
    const link = String(events.find((e) => e.type === 'invite')!.link);
    const room = String(events.find((e) => e.type === 'invite')!.room);
    const alice = startJoin(link, 'alice');
    members.push(alice);
    await alice.waitFor((e) => e.type === 'joined' && e.room === room, 30_000, 'alice joined');
    const bob = startJoin(link, 'bob');
    members.push(bob);
    await bob.waitFor((e) => e.type === 'joined' && e.room === room, 30_000, 'bob joined');

    alice.send('/msg bob meet me at the usual place');
    await bob.waitFor((e) => e.type === 'message' && e.text === 'meet me at the usual place', 30_000, 'the direct message at bob');
    // A marker in the shared room from alice, after the invitation: carol has processed it.
    alice.send('marker after the invitation');
    await until(() => events.some((e) => e.type === 'message' && e.text === 'marker after the invitation'), 'the marker at carol');

    // 1. The invitation carol decrypted names bob and the room, and carries no secret.
    const invitation = own.texts.map((p) => JSON.parse(p) as Record<string, string>).find((p) => p.t === 'dm');
    expect(invitation).toBeDefined();
    expect(invitation!).not.toHaveProperty('secret');
    const dmRoom = invitation!.room!;
    // ...and it does not open for her: it is sealed to bob's leaf.
    const shared = own.sessions.find((s) => s.room === room)!;
    const sealed = { key: fromBase64Url(invitation!.key!)!, enc: fromBase64Url(invitation!.enc!)!, ct: fromBase64Url(invitation!.ct!)! };
    const tried = [`safehouse dm v1|${room}|${dmRoom}|${invitation!.to}|${invitation!.to}`];
    for (const m of shared.members()) tried.push(`safehouse dm v1|${room}|${dmRoom}|${toBase64Url(m.fingerprint)}|${invitation!.to}`);
    for (const context of tried) expect(await shared.openSealed(new TextEncoder().encode(context), sealed)).toBeUndefined();

    // 2. bob's join request to the direct room (what the relay forwards, byte for byte, to any
    //    subscriber of that room, carol's own connection included) opens under no secret she holds.
    const parsed = parseInvite(link);
    if (!parsed.ok || !parsed.invite.room) throw new Error('a room link');
    const joins = tap
      .streams()
      .flatMap((st) => st.toRelay.payloads)
      .map((p) => ({ d: decodeClientFrame(p), p }))
      .filter(({ d }) => d.ok && d.header.t === 'join' && d.header.room === dmRoom);
    expect(joins.length).toBeGreaterThanOrEqual(1);
    const e2ee = createE2ee();
    for (const { d } of joins) if (d.ok) expect(await e2ee.openJoinRequest(d.body, dmRoom, parsed.invite.room.secret)).toBeUndefined();

    // 3. alice and bob talk; carol shows nothing of it, and the relay carried none of it in the clear.
    bob.send('/msg alice see you there');
    await alice.waitFor((e) => e.type === 'message' && e.text === 'see you there', 30_000, "bob's answer at alice");
    bob.send('marker from bob');
    await until(() => events.some((e) => e.type === 'message' && e.text === 'marker from bob'), "bob's marker at carol");
    const carolSaw = events.filter((e) => e.type === 'message').map((e) => String(e.text));
    expect(carolSaw).not.toContain('meet me at the usual place');
    expect(carolSaw).not.toContain('see you there');
    expect(own.texts.join('\n')).not.toContain('usual place');
    expect(tap.find([...needlesFor('meet me at the usual place'), ...needlesFor('see you there')])).toEqual([]);
  });
});
