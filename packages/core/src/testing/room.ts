/**
 * Test support (not built, not shipped): a room of MLS sessions made directly with the E2ee
 * API, no client or relay: the first name creates it, the others join in one commit.
 */
import { randomBytes, randomId } from '../protocol/ids.js';
import type { GroupSession } from '../e2ee/api.js';
import { createE2ee } from '../e2ee/index.js';

export async function mlsRoom(names: string[]) {
  const e2ee = createE2ee();
  const id = randomId();
  const secret = randomBytes(32);
  const creator = await e2ee.createIdentity();
  const first = await e2ee.createGroup(creator, names[0]!, id, { secret });
  const joins = await Promise.all(
    names.slice(1).map(async (n) => {
      const pending = await e2ee.createJoinRequest(await e2ee.createIdentity(), n, id, secret);
      return { pending, req: e2ee.parseJoinRequest(pending.request)! };
    }),
  );
  const p = await first.add(
    joins.map((j) => j.req),
    secret,
  );
  await first.confirm(p);
  const sessions: GroupSession[] = [first];
  for (const j of joins) {
    const r = await e2ee.joinFromWelcome(j.pending, p.welcome!, creator.fingerprint);
    if (!r.ok) throw new Error(r.message);
    sessions.push(r.session);
  }
  const leaf = (s: GroupSession, name: string) => s.members().find((m) => m.name === name)!.leaf;
  return { id, secret, creator, sessions, leaf };
}
