/**
 * docs/security.md, "A cluster's bus sees what a relay sees": real clients on two relays that
 * share one real Redis chat, send a direct message and a timed message, with a canary display
 * name and room name; every command Redis executed (MONITOR: the scripts' arguments, which hold
 * everything Redis stores or publishes) is recorded. The room id is there (positive control);
 * the canary, the messages' texts and the link's secrets are not, in any encoding.
 */
import { createConnection, type Socket } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { parseInvite, randomId, toBase64Url } from '@safehouse/core/protocol';
import { World, marker, roomOf, until } from '../testing/members.js';
import { needlesFor } from '../testing/wiretap.js';
import { startRedis, type TestRedis } from '../../../server/src/testing/redis.js';

const CANARY = 'canary-Bu5p9Q';
const world = new World();
let redis: TestRedis | undefined;
let monitor: Socket | undefined;
afterEach(async () => {
  await world.end();
  monitor?.destroy();
  await redis?.stop();
});

/** Redis's MONITOR output, with its escapes (`\xHH`, `\"`, `\\`, `\n`...) undone: the commands' bytes. */
function unescape(text: string): Buffer {
  const out: number[] = [];
  const named: Record<string, number> = { n: 10, r: 13, t: 9, a: 7, b: 8, '"': 34, '\\': 92 };
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c !== '\\') {
      out.push(...Buffer.from(c, 'latin1'));
      continue;
    }
    const n = text[i + 1] ?? '';
    if (n === 'x') {
      out.push(parseInt(text.slice(i + 2, i + 4), 16));
      i += 3;
    } else {
      out.push(named[n] ?? n.charCodeAt(0));
      i += 1;
    }
  }
  return Buffer.from(out);
}

it('a cluster\'s bus never carries a display name, a room name, a message or a link secret', async () => {
  redis = await startRedis();
  const seen: Buffer[] = [];
  monitor = createConnection(redis.socketPath);
  await new Promise<void>((resolve) => monitor!.once('connect', resolve));
  monitor.on('data', (d: Buffer) => seen.push(d));
  monitor.write('MONITOR\r\n');
  await until(() => Buffer.concat(seen).toString().startsWith('+OK'), 'MONITOR to start');

  const basePath = `/${randomId()}`;
  const cluster = { url: redis.url, heartbeatMs: 200 };
  const a = await world.server({ basePath, cluster });
  const b = await world.server({ basePath, cluster });
  const onB = (link: string): string => link.replace(`:${a.port}/`, `:${b.port}/`);

  const alice = await world.member('alice', a.url);
  await until(() => alice.of('invite').length === 1, 'an invite link');
  const link = alice.of('invite')[0]!.link;
  const canary = await world.member(CANARY, onB(link));
  await until(() => canary.of('joined').length === 1, 'the canary to join through the other relay');
  const secret = `secret text ${randomId()}`;
  await canary.client.command(secret);
  await until(() => alice.texts().includes(secret), 'the canary heard across relays');
  await alice.client.command(`/msg ${CANARY} just us ${secret}`);
  await until(() => canary.texts().includes(`just us ${secret}`), 'the direct message across relays', 20_000);
  await marker(canary, alice);

  // Negative control: bytes that do cross Redis (here UTF-16, with NULs) are found through MONITOR's escaping.
  const control = `control-${randomId()}`;
  const raw = createConnection(redis.socketPath);
  const payload = Buffer.from(control, 'utf16le');
  raw.write(Buffer.concat([Buffer.from(`*3\r\n$7\r\nPUBLISH\r\n$7\r\ncontrol\r\n$${payload.length}\r\n`), payload, Buffer.from('\r\n')]));
  await until(() => unescape(Buffer.concat(seen).toString('latin1')).includes(payload), 'the control to be seen');
  raw.destroy();
  await until(() => Buffer.concat(seen).includes(Buffer.from('EVALSHA')), 'the scripts to run');
  const bytes = unescape(Buffer.concat(seen).toString('latin1'));
  const invite = parseInvite(link);
  if (!invite.ok || !invite.invite.room) throw new Error('no room link');
  // Positive control: what the bus must carry is found (the room id, in key and channel names).
  expect(bytes.includes(Buffer.from(roomOf(link)))).toBe(true);
  const needles = [
    ...needlesFor(CANARY),
    ...needlesFor(secret),
    ...needlesFor('just us'),
    ...needlesFor(invite.invite.room.name ?? 'lobby'),
    { label: 'invite secret', bytes: Buffer.from(toBase64Url(invite.invite.room.secret)) },
    { label: 'base path', bytes: Buffer.from(basePath.slice(1)) },
  ];
  expect(needles.filter((n) => bytes.includes(n.bytes)).map((n) => n.label)).toEqual([]);
}, 60_000);
