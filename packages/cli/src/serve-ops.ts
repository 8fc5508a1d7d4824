/**
 * What `safehouse serve` adds for operators (docs/deploy.md), kept out of serve.ts: the admin
 * console on standard input, the password, TLS, the public URL behind a reverse proxy, and the
 * SSH reverse tunnel. `prepareOps` runs before the server starts (it decides server options);
 * `startOps` after (it starts the admin and the tunnel, and says which link to print).
 */
import { createInterface, type Interface } from 'node:readline';
import { readFile } from 'node:fs/promises';
import { importIdentity, type Identity } from '@safehouse/core/e2ee';
import { formatInvite, UsageError } from '@safehouse/core/protocol';
import { loadTls, selfSignedTls, type RunningServer, type ServerOptions } from '@safehouse/server';
import { Admin, type AdminEvent } from './admin/admin.js';
import { parseAdminLine } from './admin/commands.js';
import { askSecret, obtainSecret } from './secrets.js';
import { alsoForLink, parseAlso, type AlsoRelaySpec } from './serve-also.js';
import { parseSshTarget, SshTunnel } from './ssh-tunnel.js';
import { ADMIN_PASSPHRASE_ENV, PASSWORD_ENV } from './env.js';

export interface OpsOptions {
  json?: boolean;
  /** commander's `--no-admin` sets this to false. */
  admin?: boolean;
  adminName?: string;
  adminKey?: string;
  adminKeyPassphraseFile?: string;
  welcome?: string;
  disableAll?: boolean;
  onlyAdmin?: boolean;
  passwordFile?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsSelfSigned?: boolean;
  trustProxy?: boolean;
  maxConnectionsPerIp?: string;
  publicUrl?: string;
  sshReverse?: string;
  sshKey?: string;
  sshRemotePort?: string;
  sshStrictHostKeyChecking?: string;
  sshKnownHosts?: string;
  /** `--also URL` (repeatable): the other relays of this relay's cluster (serve-also.ts). */
  also?: string[];
}


export type PreparedOps = {
  server: Partial<ServerOptions>;
  pin: Uint8Array | undefined;
  identity: Identity | undefined;
  password: boolean;
  /** The other relays of the cluster (`--also`), for the links. */
  also: AlsoRelaySpec[];
};

export async function prepareOps(o: OpsOptions, host: string): Promise<PreparedOps> {
  const noAdmin = o.admin === false;
  if (
    noAdmin &&
    (o.welcome !== undefined || o.disableAll || o.onlyAdmin || o.adminKey !== undefined || o.adminName !== undefined)
  )
    throw new UsageError(
      'E_USAGE',
      '--no-admin runs a pure relay: --welcome, --disable-all, --only-admin, --admin-name and --admin-key need the admin',
    );
  if ((o.tlsCert === undefined) !== (o.tlsKey === undefined))
    throw new UsageError('E_USAGE', '--tls-cert and --tls-key go together');
  if (o.tlsSelfSigned && o.tlsCert !== undefined)
    throw new UsageError('E_USAGE', 'choose --tls-self-signed or --tls-cert/--tls-key, not both');
  if (o.publicUrl !== undefined && !/^https?:\/\/[^/\s?#]+$/.test(o.publicUrl))
    throw new UsageError(
      'E_USAGE',
      `--public-url expects scheme://host[:port] without a path (the path is --base-path), got ${JSON.stringify(o.publicUrl)}`,
    );
  if (o.sshReverse === undefined && (o.sshKey !== undefined || o.sshRemotePort !== undefined))
    throw new UsageError('E_USAGE', '--ssh-key and --ssh-remote-port need --ssh-reverse');
  if (o.sshReverse !== undefined) {
    parseSshTarget(o.sshReverse);
    if (o.sshRemotePort === undefined)
      throw new UsageError('E_USAGE', '--ssh-reverse needs --ssh-remote-port N (the port on the jump host)');
  }
  if (o.sshStrictHostKeyChecking !== undefined && !['yes', 'accept-new', 'no'].includes(o.sshStrictHostKeyChecking))
    throw new UsageError('E_USAGE', '--ssh-strict-host-key-checking expects yes, accept-new or no');
  const also = parseAlso(o.also ?? []);
  const perIp = o.maxConnectionsPerIp;
  if (perIp !== undefined && (!/^\d{1,7}$/.test(perIp) || Number(perIp) > 1_000_000))
    throw new UsageError(
      'E_USAGE',
      `--max-connections-per-ip expects a number from 0 (no per-address cap) to 1000000, got ${JSON.stringify(perIp)}`,
    );

  const password = await obtainSecret({
    file: o.passwordFile,
    env: PASSWORD_ENV,
    what: 'password',
    ask: false,
    hint: '',
    code: 'E_PASSWORD',
  });
  const tls = o.tlsSelfSigned
    ? await selfSignedTls(host)
    : o.tlsCert !== undefined && o.tlsKey !== undefined
      ? await loadTls(o.tlsCert, o.tlsKey)
      : undefined;
  let identity: Identity | undefined;
  if (o.adminKey !== undefined) {
    const pass = await obtainSecret({
      file: o.adminKeyPassphraseFile,
      env: ADMIN_PASSPHRASE_ENV,
      what: 'passphrase of the admin key',
      ask: true,
      hint: `use --admin-key-passphrase-file FILE or ${ADMIN_PASSPHRASE_ENV}`,
    });
    let bytes: Buffer;
    try {
      bytes = await readFile(o.adminKey);
    } catch {
      throw new UsageError('E_USAGE', `cannot read the admin key ${o.adminKey}`);
    }
    identity = await importIdentity(new Uint8Array(bytes), pass ?? '', { exportable: true });
  }
  return {
    server: {
      ...(password !== undefined ? { password } : {}),
      ...(tls ? { tls: { cert: tls.cert, key: tls.key } } : {}),
      ...(o.trustProxy ? { trustProxy: true } : {}),
      ...(perIp !== undefined ? { limits: { maxConnectionsPerIp: Number(perIp) } } : {}),
      ...(o.publicUrl !== undefined ? { allowedOrigins: [o.publicUrl] } : {}),
      ...(also.length > 0 ? { peerOrigins: also.map((a) => a.origin) } : {}),
    },
    pin: tls?.fingerprint,
    identity,
    password: password !== undefined,
    also,
  };
}

export type RunningOps = {
  /** The base URL members use (public URL, jump host, or the server's own). */
  base: string;
  /** What to print: the default room's link (with an admin), or the base link. */
  invite: string;
  ready: Record<string, unknown>;
  lines: string[];
  /** Reads console lines from stdin; `onQuit` runs for /quit. */
  console(onQuit: () => void): void;
  close(): Promise<void>;
};

export async function startOps(server: RunningServer, o: OpsOptions, p: PreparedOps, timeServer?: { host: string; port: number; publicKey: Uint8Array }): Promise<RunningOps> {
  const json = o.json === true;
  const scheme = server.url.startsWith('https') ? 'https' : 'http';
  const remotePort = o.sshRemotePort === undefined ? undefined : Number(o.sshRemotePort);
  const base =
    o.publicUrl !== undefined
      ? `${o.publicUrl}${server.basePath}/`
      : remotePort !== undefined
        ? `${scheme}://127.0.0.1:${remotePort}${server.basePath}/`
        : server.url;
  // The other relays of the cluster go into every link (`a`): the admin's client keeps them in its invites.
  const also = alsoForLink(p.also, base);
  const baseLink = formatInvite(base, undefined, { ...(p.pin ? { certFingerprint: p.pin } : {}), also });
  // Held until the ready line is out (it comes first), then written as they come.
  let held: string[] | undefined = [];
  const out = (event: AdminEvent, text: string): void => {
    if (!json && text === '') return; // nothing to say on the console (a view's snapshot)
    const line = `${json ? JSON.stringify(event) : text}\n`;
    if (held) held.push(line);
    else process.stdout.write(line);
  };

  let tunnel: SshTunnel | undefined;
  if (o.sshReverse !== undefined && remotePort !== undefined) {
    tunnel = new SshTunnel({
      target: parseSshTarget(o.sshReverse),
      ...(o.sshKey !== undefined ? { keyFile: o.sshKey } : {}),
      ...(o.sshKnownHosts !== undefined ? { knownHostsFile: o.sshKnownHosts } : {}),
      remotePort,
      localHost: server.host,
      localPort: server.port,
      strictHostKeyChecking: (o.sshStrictHostKeyChecking ?? 'yes') as 'yes' | 'accept-new' | 'no',
      onState: (s) =>
        out(
          { type: 'ssh-tunnel', ...s },
          `-- ssh tunnel ${s.state}${s.state === 'starting' && s.attempt > 1 ? ` (attempt ${s.attempt})` : ''}${s.detail ? `: ${s.detail}` : ''}`,
        ),
    });
    tunnel.start();
  }

  // While a passphrase is asked on the terminal, the console must not read stdin: the typed
  // passphrase would otherwise also arrive as a console line (a message to the room).
  let rl: Interface | undefined;
  let attach: (() => void) | undefined;
  const askPassphrase = async (): Promise<string> => {
    const given = await obtainSecret({
      file: o.adminKeyPassphraseFile,
      env: ADMIN_PASSPHRASE_ENV,
      what: 'passphrase',
      ask: false,
      hint: '',
    });
    if (given !== undefined) return given;
    const hint = `use --admin-key-passphrase-file FILE or ${ADMIN_PASSPHRASE_ENV}`;
    if (!process.stdin.isTTY) throw new UsageError('E_USAGE', `no terminal to ask on: ${hint}`);
    rl?.close();
    rl = undefined;
    try {
      const a = await askSecret('Passphrase for the exported admin key: ', hint);
      if ((await askSecret('The same passphrase again: ', hint)) !== a)
        throw new UsageError('E_USAGE', 'the two passphrases differ');
      return a;
    } finally {
      attach?.();
    }
  };
  const admin =
    o.admin === false
      ? undefined
      : await Admin.start(server, {
          name: o.adminName ?? 'ADMIN',
          ...(p.identity ? { identity: p.identity } : {}),
          ...(o.welcome !== undefined ? { welcome: o.welcome } : {}),
          disableAll: o.disableAll === true,
          onlyAdmin: o.onlyAdmin === true,
          link: baseLink,
          // The relay's own Roughtime server is its server 0 (serve-time.ts): members reach it
          // over UDP at the link's host (a wildcard address is no address to give out).
          ...(timeServer ? { timeServers: [{ ...timeServer, host: /^(0\.0\.0\.0|::)$/.test(timeServer.host) ? new URL(base).hostname.replace(/^\[|\]$/g, '') : timeServer.host }] } : {}),
          out,
          passphrase: askPassphrase,
        });
  const invite = admin?.invite ?? baseLink;
  const fingerprint = admin ? await admin.fingerprint() : undefined;
  const ready = {
    admin: fingerprint ?? null,
    password: p.password,
    tls: p.pin ? Buffer.from(p.pin).toString('hex') : null,
    ssh: tunnel ? { remotePort, pid: tunnel.pid ?? null } : null,
    also: also.map((a) => new URL(a.base).origin),
  };
  const lines = [
    ...(fingerprint
      ? [`Admin console on this terminal (/help). Admin fingerprint: ${fingerprint}`]
      : ['No admin (--no-admin): a pure relay; the first member to join creates a room.']),
    ...(p.password
      ? ['Joining needs the password: safehouse join LINK --password (asked) or --password-file FILE.']
      : []),
    ...(p.pin ? ["TLS: the link pins this server's certificate (c=); clients refuse any other."] : []),
    ...(also.length > 0
      ? [`Failover: the link also names ${also.map((a) => new URL(a.base).host).join(', ')} (a=); clients move there when this relay is down.`]
      : []),
    ...(tunnel
      ? [
          `SSH reverse tunnel: the link is as seen on the jump host (127.0.0.1:${remotePort}); members reach it with ssh -L.`,
        ]
      : []),
  ];

  let chain: Promise<unknown> = Promise.resolve();
  return {
    base,
    invite,
    ready,
    lines,
    console(onQuit: () => void): void {
      for (const line of held ?? []) process.stdout.write(line);
      held = undefined;
      // End of input (a service's /dev/null) leaves the server running.
      attach = () => {
        rl = createInterface({ input: process.stdin, terminal: false });
        rl.on('line', onLine);
      };
      const onLine = (line: string): void => {
        chain = chain.then(async () => {
          if (admin) {
            if ((await admin.command(line)) === 'quit') onQuit();
            return;
          }
          const parsed = parseAdminLine(line);
          if (parsed.ok && parsed.command.kind === 'quit') return onQuit();
          if (parsed.ok && parsed.command.kind === 'none') return;
          out(
            { type: 'error', code: 'E_USAGE', message: 'no admin console (--no-admin): only /quit' },
            '!! no admin console (--no-admin): only /quit (E_USAGE)',
          );
        });
      };
      attach();
    },
    async close(): Promise<void> {
      attach = undefined;
      rl?.close();
      await Promise.all([admin?.close(), tunnel?.stop()]);
    },
  };
}

/** The operator options of `safehouse serve` (docs/cli.md). */
export function addOpsOptions<
  T extends {
    option(flags: string, description: string): T;
    option(flags: string, description: string, parse: (value: string, previous: string[]) => string[], defaultValue: string[]): T;
  },
>(cmd: T): T {
  return cmd
    .option('--admin-name <name>', "the admin console's name in the rooms (default ADMIN)")
    .option(
      '--admin-key <file>',
      'start the admin with a saved identity (from /key export); passphrase asked, or --admin-key-passphrase-file, or SAFEHOUSE_ADMIN_KEY_PASSPHRASE',
    )
    .option('--admin-key-passphrase-file <file>', "the admin key's passphrase (first line); also used by /key export")
    .option('--no-admin', 'a pure relay: no admin, no keys in the server process; clients create rooms')
    .option('--welcome <text>', 'the admin sends TEXT, encrypted, as a direct message to each member who joins')
    .option('--disable-all', 'only the admin may post to the default room (members may still send direct messages)')
    .option('--only-admin', 'members see and reach the admin only (each gets a two-member room with the admin)')
    .option(
      '--password-file <file>',
      "joining needs the password on FILE's first line (or SAFEHOUSE_PASSWORD; never a command-line value)",
    )
    .option('--tls-cert <file>', 'serve HTTPS/WSS (TLS 1.3) with this certificate (PEM); with --tls-key')
    .option('--tls-key <file>', "the certificate's private key (PEM)")
    .option('--tls-self-signed', 'serve HTTPS/WSS with a certificate generated in memory; the link pins it (c=)')
    .option('--trust-proxy', 'behind a reverse proxy: count clients by X-Forwarded-For')
    .option(
      '--max-connections-per-ip <n>',
      'connections from one client address (default 256; 0: no per-address cap); loopback (a tunnel, a proxy) is never counted',
    )
    .option(
      '--public-url <origin>',
      'scheme://host[:port] members use (a reverse proxy), for the printed link and the Origin check',
    )
    .option(
      '--ssh-reverse <user@host[:port]>',
      'keep a reverse SSH tunnel to a jump host (ssh -N -R), restored when it drops',
    )
    .option('--ssh-key <file>', 'private key for the jump host')
    .option('--ssh-remote-port <n>', 'port the jump host listens on (its loopback)')
    .option(
      '--ssh-strict-host-key-checking <mode>',
      'yes (default: the jump host must be in known_hosts), accept-new or no',
    )
    .option('--ssh-known-hosts <file>', 'a known_hosts file for the jump host')
    .option(
      '--also <url>',
      'another relay of this cluster, http(s)://host[:port] or https://host[:port]#c=PIN (repeatable): put in the links for failover, its pages admitted',
      collect,
      [],
    );
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];
