/**
 * A newcomer's first proof (`sub first`, docs/protocol.md "Membership authority"): the relay
 * takes it only into a cohort on the room's line, never into a rival that a link holder opened
 * with a group of its own. Honest epochs use the shared test keys (harness.ts `epochKey`); the
 * rival group uses keys of its own (`variant`).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { randomId } from '@safehouse/core/protocol';
import { TestClient, startTestServer, subHeader, type TestServer } from './testing/harness.js';

let server: TestServer | undefined;
const clients: TestClient[] = [];
async function client(): Promise<TestClient> {
  server ??= await startTestServer({});
  const c = await TestClient.connect(server);
  clients.push(c);
  return c;
}
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server?.close();
  server = undefined;
});

const first = (nonce: string, room: string, epoch: number, variant = '') => ({ ...subHeader(nonce, room, epoch, variant), first: true as const });

describe("a newcomer's first proof", () => {
  it('aFirstProofIntoARivalGroupIsRefused: a link holder opened a cohort of its own; the newcomer is not let in', async () => {
    const room = randomId();
    const [a, b] = [await client(), await client()];
    await a.sub(room, 3);
    await b.sub(room, 3);
    // The link holder's rival group under the room's id: a claim the relay cannot check (here
    // made first, as after a relay restart: the line is the cohort most members follow).
    const rival = await client();
    await rival.sub(room, 1, 'rival');
    // The newcomer, Welcomed into the rival group, proves it as a first proof: refused.
    const newcomer = await client();
    newcomer.send(first(newcomer.nonce, room, 1, 'rival'));
    const nack = await newcomer.next('nack', (h) => h.id === room);
    expect(nack.header.t === 'nack' && nack.header.code).toBe('E_NOT_MEMBER');
    // Without `first` (a member coming back) the same proof is still taken as a rival's.
    const other = await client();
    other.send(subHeader(other.nonce, room, 1, 'rival'));
    expect((await other.next('presence', (h) => h.room === room)).header.count).toBe(2);
  });

  it('theLineIsTheCohortMostMembersFollow: a rival opened first, before the members came back, is not the line', async () => {
    const room = randomId();
    const rival = await client();
    await rival.sub(room, 1, 'rival');
    const [a, b] = [await client(), await client()];
    await a.sub(room, 3);
    await b.sub(room, 3);
    const newcomer = await client();
    newcomer.send(first(newcomer.nonce, room, 1, 'rival'));
    const nack = await newcomer.next('nack', (h) => h.id === room);
    expect(nack.header.t === 'nack' && nack.header.code).toBe('E_NOT_MEMBER');
    const honest = await client();
    honest.send(first(honest.nonce, room, 3));
    expect((await honest.next('presence', (h) => h.room === room)).header.count).toBe(3);
  });

  it('aFirstProofOnTheLineIsTaken: at the line epoch, or from its log', async () => {
    const room = randomId();
    const member = await client();
    await member.sub(room, 3);
    const newcomer = await client();
    newcomer.send(first(newcomer.nonce, room, 3));
    expect((await newcomer.next('presence', (h) => h.room === room)).header.count).toBe(2);
    // The room moves on before a second newcomer proves the epoch it was Welcomed into.
    const id = randomId();
    member.commit(room, id, 3, new Uint8Array([1]));
    await member.next('ack', (h) => h.id === id);
    const late = await client();
    late.send(first(late.nonce, room, 3));
    expect((await late.next('msg', (h) => h.id === id)).header.t).toBe('msg');
    const nack = await late.next('nack', (h) => h.id === room);
    expect(nack.header.t === 'nack' && nack.header.code).toBe('E_STALE_EPOCH');
  });

  it('aFirstProofOpensTheRoomWhenTheRelayHoldsNoLine: a fresh relay takes the first proof it hears', async () => {
    const room = randomId();
    const newcomer = await client();
    newcomer.send(first(newcomer.nonce, room, 5));
    expect((await newcomer.next('presence', (h) => h.room === room)).header.count).toBe(1);
  });
});

