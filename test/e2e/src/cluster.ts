/**
 * Helpers for the cluster tests (cluster.test.ts): the nginx configuration docs/deploy.md gives
 * for a cluster, which relay holds how many WebSockets, and a conversation whose every message
 * is counted at every member by its sender's id.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import type { Json, Member } from './harness.js';
import { sleep } from './ops.js';

const DEPLOY_MD = fileURLToPath(new URL('../../../docs/deploy.md', import.meta.url));
/** The comment in docs/deploy.md that comes just before the cluster's nginx configuration. */
const MARKER = '<!-- test/e2e/cluster.test.ts runs the nginx configuration below';
/** What the documented configuration names, replaced by the test's own. */
const DOC_PATH = '/blog/assets/Q2mXzv7dYt0yJpC1';
const DOC_RELAYS = ['127.0.0.1:8091', '127.0.0.1:8092', '127.0.0.1:8093'];
const SERVER_PART = "# in the site's server { } block";

/**
 * The nginx configuration of docs/deploy.md section 8 as written there, with the test's hidden
 * path and relay ports: `http` goes into the `http { }` block, `server` into the site's
 * `server { }` block. Throws if the document no longer has the block or the names replaced.
 */
export function clusterNginxFromDoc(hidden: string, relayPorts: readonly number[]): { http: string; server: string } {
  const doc = readFileSync(DEPLOY_MD, 'utf8');
  const at = doc.indexOf(MARKER);
  if (at < 0) throw new Error(`docs/deploy.md: the marker "${MARKER}" is gone`);
  const block = /```nginx\n([\s\S]*?)```/.exec(doc.slice(at));
  if (!block?.[1]) throw new Error('docs/deploy.md: no ```nginx block after the marker');
  let text = block[1];
  const count = (s: string): number => text.split(s).length - 1;
  if (count(DOC_PATH) !== 2)
    throw new Error(
      `docs/deploy.md: expected the hidden path twice in the cluster's nginx block, got ${count(DOC_PATH)}`,
    );
  text = text.replaceAll(DOC_PATH, hidden);
  if (relayPorts.length !== DOC_RELAYS.length)
    throw new Error(`expected ${DOC_RELAYS.length} relay ports, got ${relayPorts.length}`);
  DOC_RELAYS.forEach((addr, i) => {
    if (count(addr) !== 1)
      throw new Error(`docs/deploy.md: expected ${addr} once in the cluster's nginx block, got ${count(addr)}`);
    text = text.replace(addr, `127.0.0.1:${relayPorts[i]}`);
  });
  const split = text.indexOf(SERVER_PART);
  if (split < 0) throw new Error(`docs/deploy.md: the cluster's nginx block has no "${SERVER_PART}" line`);
  return { http: text.slice(0, split), server: text.slice(split) };
}

/** How many established TCP connections go to each of `ports` on this host now (nginx → relays). */
export function connectionsTo(ports: readonly number[]): number[] {
  return ports.map((port) => {
    const out = execFileSync('ss', ['-tnH', 'state', 'established', 'dst', `127.0.0.1:${port}`], { encoding: 'utf8' });
    return out.split('\n').filter((l) => l.trim() !== '').length;
  });
}

/** Polls `cond` every 100 ms until it holds; throws `what` (and `detail()`) after `ms`. */
export async function until(
  cond: () => boolean,
  ms: number,
  what: string,
  detail: () => string = () => '',
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${ms} ms waiting for ${what}${detail() ? `: ${detail()}` : ''}`);
    await sleep(100);
  }
}

/** The port Redis listens on in its own namespace (nothing else there to collide with). */
const REDIS_PORT = 6379;

export type NetRedis = { url: string; child: ChildProcess; stop(): Promise<void> };
export type TlsFiles = { ca: string; cert: string; key: string };

/** A CA, and a certificate for address `ip` signed by it (EC P-256, valid a day), as PEM files in `dir`. */
export function testCertificates(dir: string, ip: string): TlsFiles {
  if (net.isIPv4(ip) === false) throw new TypeError(`an IPv4 address expected, got "${ip}"`);
  const f: TlsFiles = { ca: join(dir, 'ca.pem'), cert: join(dir, 'redis.pem'), key: join(dir, 'redis.key') };
  const caKey = join(dir, 'ca.key');
  const csr = join(dir, 'redis.csr');
  const ext = join(dir, 'redis.ext');
  const openssl = (...args: string[]): void => void execFileSync('openssl', args, { stdio: 'ignore' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl('req', '-x509', ...ec, '-keyout', caKey, '-out', f.ca, '-days', '1', '-subj', '/CN=safehouse test CA');
  openssl('req', ...ec, '-keyout', f.key, '-out', csr, '-subj', '/CN=redis');
  execFileSync('sh', ['-c', 'umask 077 && printf "subjectAltName=IP:%s\\n" "$1" > "$2"', 'sh', ip, ext]);
  openssl(
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    f.ca,
    '-CAkey',
    caKey,
    '-CAcreateserial',
    '-out',
    f.cert,
    '-days',
    '1',
    '-extfile',
    ext,
  );
  return f;
}

/**
 * `redis-server` in network namespace `ns`, on `address` over TLS (certificate `files`), with a
 * password and nothing written to disk. Its configuration goes in on stdin: the password is on
 * no command line and in no file. Resolves once it answers over TLS (its certificate checked
 * against `files.ca`) and refuses a client without the password (NOAUTH).
 */
export async function startRedisIn(
  ns: string,
  address: string,
  password: string,
  files: TlsFiles,
  dir: string,
): Promise<NetRedis> {
  if (!/^[A-Za-z0-9_-]{16,}$/.test(password))
    throw new TypeError('the Redis password expected 16 or more base64url characters');
  const child = spawn('ip', ['netns', 'exec', ns, 'redis-server', '-'], { stdio: ['pipe', 'ignore', 'ignore'] });
  child.stdin?.end(
    [
      `bind ${address}`,
      'port 0',
      `tls-port ${REDIS_PORT}`,
      `tls-cert-file ${files.cert}`,
      `tls-key-file ${files.key}`,
      `tls-ca-cert-file ${files.ca}`,
      'tls-auth-clients no',
      'save ""',
      'appendonly no',
      'protected-mode yes',
      `dir ${dir}`,
      `requirepass ${password}`,
      '',
    ].join('\n'),
  );
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await gone;
  };
  const ca = readFileSync(files.ca);
  const deadline = Date.now() + 10_000;
  for (;;) {
    const reply = await new Promise<string>((resolve) => {
      const s = tls.connect({ host: address, port: REDIS_PORT, ca }, () => s.write('PING\r\n'));
      s.setTimeout(1_000, () => (s.destroy(), resolve('')));
      s.once('error', () => resolve(''));
      s.once('data', (d: Buffer) => (s.destroy(), resolve(d.toString('latin1'))));
    });
    if (reply.startsWith('-NOAUTH')) return { url: `rediss://${address}:${REDIS_PORT}`, child, stop };
    if (reply !== '' || Date.now() > deadline || child.exitCode !== null) {
      await stop();
      throw new Error(
        reply
          ? `redis-server answered PING without a password: ${JSON.stringify(reply.slice(0, 40))}`
          : `redis-server did not answer over TLS on ${address}:${REDIS_PORT}`,
      );
    }
    await sleep(100);
  }
}

type Sent = { from: string; text: string };
export type Delivery = { text: string; from: string; to: string; byId: number | undefined; byText: number };

export const notOnce = (d: Delivery): boolean => d.byId !== 1 || d.byText !== 1;
export const describeDelivery = (d: Delivery): string =>
  `${d.text} at ${d.to}: ${d.byId ?? 'never echoed by its sender, so not counted'} by id, ${d.byText} by text`;

/**
 * A conversation among named members of one room: what each said, and how often each member was
 * shown each message of the others, by the sender's message id (from the sender's own echo) and
 * by its text (unique per message).
 */
export class Conversation {
  readonly sent: Sent[] = [];

  constructor(readonly members: ReadonlyMap<string, Member>) {}

  say(from: string, text: string): void {
    this.member(from).send(text);
    this.sent.push({ from, text });
  }

  /** Each member says `n` messages `${tag}-${name}-${i}`, `gapMs` apart (one member after another). */
  async round(tag: string, n: number, gapMs = 40): Promise<void> {
    for (let i = 0; i < n; i++)
      for (const name of this.members.keys()) {
        this.say(name, `${tag}-${name}-${i}`);
        await sleep(gapMs);
      }
  }

  /** Every member has been shown every other member's message `text`-of-that-member at least once. */
  async allShown(texts: (from: string) => string, ms: number, what: string): Promise<void> {
    const missing = (): string[] => {
      const out: string[] = [];
      for (const [to, m] of this.members)
        for (const from of this.members.keys())
          if (from !== to && !received(m).some((e) => e.from === from && e.text === texts(from)))
            out.push(`${texts(from)} at ${to}`);
      return out;
    };
    await until(
      () => missing().length === 0,
      ms,
      what,
      () => `missing ${missing().join(', ')}`,
    );
  }

  /**
   * Everyone hears everyone: rounds of throw-away messages (`${tag} ${round} ${name}`) until each
   * member was shown one of this tag from each other member. A member's `sub` lands a moment
   * after its `joined` or its reconnection, and the relay keeps no history. These may be lost:
   * leave them out of what is counted.
   */
  async connected(ms: number, tag = 'warm-up'): Promise<void> {
    const deadline = Date.now() + ms;
    const heard = (to: string, from: string): boolean =>
      received(this.member(to)).some((e) => e.from === from && String(e.text).startsWith(`${tag} `));
    const pairs = (): string[] =>
      [...this.members.keys()].flatMap((to) =>
        [...this.members.keys()].filter((from) => from !== to && !heard(to, from)).map((from) => `${from}→${to}`),
      );
    for (let k = 0; pairs().length > 0; k++) {
      if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms: not heard: ${pairs().join(', ')}`);
      for (const name of this.members.keys()) this.say(name, `${tag} ${k} ${name}`);
      await until(() => pairs().length === 0, Math.min(1_500, Math.max(0, deadline - Date.now())), tag).catch(
        () => undefined,
      );
    }
  }

  /** The sender's id for a message it said (its own echo), or undefined if it never echoed it. */
  idOf(s: Sent): { id: string; fingerprint: string } | undefined {
    const echo = this.member(s.from).events.find((e) => e.type === 'message' && e.self === true && e.text === s.text);
    return echo ? { id: String(echo.id), fingerprint: String(echo.fingerprint) } : undefined;
  }

  /**
   * How often each member was shown each message the others said (that `filter` keeps): by the
   * sender's (fingerprint, id), undefined if the sender never echoed the message, and by text.
   */
  deliveries(filter: (s: Sent) => boolean = () => true): Delivery[] {
    const out: Delivery[] = [];
    for (const s of this.sent.filter(filter)) {
      const key = this.idOf(s);
      for (const [to, m] of this.members) {
        if (to === s.from) continue;
        const shown = received(m);
        out.push({
          text: s.text,
          from: s.from,
          to,
          byId: key && shown.filter((e) => e.id === key.id && e.fingerprint === key.fingerprint).length,
          byText: shown.filter((e) => e.text === s.text).length,
        });
      }
    }
    return out;
  }

  /** Every way the record differs from "each message shown exactly once at every other member": `[]` when it holds. */
  anomalies(filter: (s: Sent) => boolean = () => true): string[] {
    return this.deliveries(filter).filter(notOnce).map(describeDelivery);
  }

  private member(name: string): Member {
    const m = this.members.get(name);
    if (!m) throw new Error(`no member ${name}`);
    return m;
  }
}

/** The messages `m` was shown from others (not its own echoes). */
function received(m: Member): Json[] {
  return m.events.filter((e) => e.type === 'message' && e.self !== true);
}
