/**
 * Which Roughtime servers the CLI asks, and the time source built on them (issue 6): the user's
 * `--roughtime`/`--server HOST:PORT:BASE64KEY` flags, else the invite link's `t` servers (chosen
 * by the inviter), else the built-in public list — never servers named by the relay.
 */
import { UsageError, type Invite } from '@safehouse/core/protocol';
import {
  DEFAULT_VERSIONS,
  defaultServers,
  formatAddress,
  parseServerSpec,
  ProvenTimeSource,
  type Malfeasance,
  type RoughtimeServer,
} from '@safehouse/core/roughtime';
import { udpQuery } from './udp.js';

export type ChosenServers = { servers: RoughtimeServer[]; from: 'flags' | 'link' | 'built-in' };

export function chooseTimeServers(specs: readonly string[] | undefined, invite?: Invite, flag = '--roughtime'): ChosenServers {
  if (specs && specs.length > 0) {
    if (specs.length > 20) throw new UsageError('E_USAGE', `${flag} may be given at most 20 times`);
    const servers = specs.map((spec) => {
      const r = parseServerSpec(spec);
      if (!r.ok) throw new UsageError('E_USAGE', `${flag} ${r.message}`);
      return r.server;
    });
    return { servers, from: 'flags' };
  }
  if (invite?.timeServers?.length) {
    const servers = invite.timeServers.map((t) => {
      const address = formatAddress(t.host, t.port);
      return { name: address, address, publicKey: t.publicKey, versions: DEFAULT_VERSIONS };
    });
    return { servers, from: 'link' };
  }
  return { servers: [...defaultServers()], from: 'built-in' };
}

/** The servers as link entries (`t`), for invite links this client makes. */
export function linkEntries(servers: readonly RoughtimeServer[]): { host: string; port: number; publicKey: Uint8Array }[] {
  return servers.flatMap((s) => {
    const m = /^\[?([^\]]+?)\]?:([0-9]+)$/.exec(s.address ?? '');
    return m?.[1] && m[2] ? [{ host: m[1], port: Number(m[2]), publicKey: s.publicKey }] : [];
  });
}

/** A proven time source over UDP; malfeasance goes to `onMalfeasance` (the CLI shows it). */
export function udpTimeSource(servers: readonly RoughtimeServer[], onMalfeasance?: (m: Malfeasance) => void): ProvenTimeSource {
  return new ProvenTimeSource({
    servers,
    query: udpQuery(),
    count: Math.min(servers.length, 5),
    ...(onMalfeasance ? { onMalfeasance } : {}),
  });
}

/**
 * What `join` gives `createClient`: a UDP time source on the chosen servers and, when the user
 * named servers, the same servers in the invite links it makes (`t`, for air-gapped rooms).
 */
export function clientTimeOptions(
  specs: readonly string[] | undefined,
  invite: Invite,
  onMalfeasance?: (m: Malfeasance) => void,
): { timeSource: ProvenTimeSource; linkTimeServers?: ReturnType<typeof linkEntries> } {
  const chosen = chooseTimeServers(specs, invite);
  const timeSource = udpTimeSource(chosen.servers, onMalfeasance);
  return chosen.from === 'flags' ? { timeSource, linkTimeServers: linkEntries(chosen.servers).slice(0, 8) } : { timeSource };
}
