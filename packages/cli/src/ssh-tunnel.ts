/**
 * `safehouse serve --ssh-reverse user@host[:port]`: a reverse SSH tunnel to a jump host, so that
 * members reach the relay as `127.0.0.1:<remote port>` on the jump host (through their own
 * `ssh -L`), while the relay itself binds only this machine's loopback.
 *
 * Runs the system's OpenSSH client (`ssh -N -R`), never a shell, with options that make it fail
 * instead of hanging or asking: BatchMode (no prompts), ExitOnForwardFailure (a remote port it
 * cannot bind is an error, not a tunnel-less session), ServerAliveInterval/CountMax (a dead link
 * is noticed in ~45 s), IdentitiesOnly with the given key, StrictHostKeyChecking as asked (`yes`
 * by default: the jump host must be in known_hosts). It is supervised: when ssh exits it is started
 * again after a back-off (1 s doubling to 60 s, reset after a minute up), until `stop()`.
 * Nothing here logs the base path; ssh's own messages go to the callback, never to disk.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { UsageError } from '@safehouse/core/protocol';

export type SshTarget = { user: string; host: string; port: number };

export type SshTunnelOptions = {
  target: SshTarget;
  /** Private key file for the jump host (`-i`, with IdentitiesOnly). */
  keyFile?: string;
  /** Port the jump host listens on (on its loopback). */
  remotePort: number;
  /** Where it forwards to: this relay. */
  localHost: string;
  localPort: number;
  /** `yes` (default), `accept-new` or `no`: OpenSSH's StrictHostKeyChecking. */
  strictHostKeyChecking?: 'yes' | 'accept-new' | 'no';
  /** A known_hosts file to use instead of the user's (UserKnownHostsFile). */
  knownHostsFile?: string;
  /** The ssh program. Default `ssh` (from PATH). */
  sshCommand?: string;
  backoffBaseMs?: number;
  backoffCapMs?: number;
  /** Lifecycle, for the operator's console: 'up' once the forward is in place (no exit for 2 s), 'down' with ssh's exit. */
  onState?: (state: { state: 'starting' | 'up' | 'down'; attempt: number; detail?: string }) => void;
};

export function parseSshTarget(s: string): SshTarget {
  // Neither part may start with '-': nothing here can turn into an ssh option.
  const m = /^([A-Za-z0-9._][A-Za-z0-9._-]*)@(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9][A-Za-z0-9.-]*)(?::(\d{1,5}))?$/.exec(s);
  if (!m?.[1] || !m[2])
    throw new UsageError('E_USAGE', `--ssh-reverse expects user@host[:port], got ${JSON.stringify(s)}`);
  const port = m[3] === undefined ? 22 : Number(m[3]);
  if (port < 1 || port > 65535) throw new UsageError('E_USAGE', `--ssh-reverse: port ${port} is out of range`);
  return { user: m[1], host: m[2].replace(/^\[(.*)\]$/, '$1'), port };
}

/** The ssh command line (exported for tests and for docs/deploy.md to match). */
export function sshArgs(o: SshTunnelOptions): string[] {
  const local = o.localHost.includes(':') ? `[${o.localHost}]` : o.localHost;
  return [
    '-N',
    '-T',
    '-o',
    'BatchMode=yes',
    '-o',
    'ExitOnForwardFailure=yes',
    '-o',
    'ServerAliveInterval=15',
    '-o',
    'ServerAliveCountMax=3',
    '-o',
    `StrictHostKeyChecking=${o.strictHostKeyChecking ?? 'yes'}`,
    ...(o.knownHostsFile ? ['-o', `UserKnownHostsFile=${o.knownHostsFile}`] : []),
    ...(o.keyFile ? ['-o', 'IdentitiesOnly=yes', '-i', o.keyFile] : []),
    '-o',
    'ClearAllForwardings=no',
    '-p',
    String(o.target.port),
    // The jump host binds the forward on its loopback only.
    '-R',
    `127.0.0.1:${o.remotePort}:${local}:${o.localPort}`,
    `${o.target.user}@${o.target.host}`,
  ];
}

export class SshTunnel {
  readonly #o: SshTunnelOptions;
  #child: ChildProcess | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #attempt = 0;

  constructor(o: SshTunnelOptions) {
    if (!Number.isInteger(o.remotePort) || o.remotePort < 1 || o.remotePort > 65535)
      throw new UsageError('E_USAGE', '--ssh-remote-port expects a port from 1 to 65535');
    this.#o = o;
  }

  /** The running ssh's pid (tests kill it to see the tunnel come back). */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  start(): void {
    if (this.#stopped || this.#child) return;
    this.#attempt++;
    const attempt = this.#attempt;
    this.#o.onState?.({ state: 'starting', attempt });
    let stderr = '';
    const startedAt = Date.now();
    const child = spawn(this.#o.sshCommand ?? 'ssh', sshArgs(this.#o), { stdio: ['ignore', 'ignore', 'pipe'] });
    this.#child = child;
    child.stderr?.setEncoding('utf8').on('data', (c: string) => (stderr = (stderr + c).slice(-2_000)));
    const up = setTimeout(() => this.#o.onState?.({ state: 'up', attempt }), 2_000);
    child.once('error', (e: NodeJS.ErrnoException) => {
      stderr +=
        e.code === 'ENOENT'
          ? 'the ssh command was not found (install openssh-client)'
          : String(e.code ?? 'spawn error');
    });
    child.once('close', (code, signal) => {
      clearTimeout(up);
      this.#child = undefined;
      if (this.#stopped) return;
      const detail =
        `${stderr.trim().split('\n').pop() ?? ''}${signal ? ` (signal ${signal})` : code !== null ? ` (exit ${code})` : ''}`.trim();
      this.#o.onState?.({ state: 'down', attempt, detail });
      // Up for a minute: the next failure starts the back-off over.
      if (Date.now() - startedAt > 60_000) this.#attempt = 0;
      const base = this.#o.backoffBaseMs ?? 1_000;
      const delay = Math.min(this.#o.backoffCapMs ?? 60_000, base * 2 ** Math.min(this.#attempt - 1, 16));
      this.#timer = setTimeout(() => this.start(), delay);
      this.#timer.unref();
    });
  }

  /** Stops ssh (SIGTERM, then SIGKILL after 2 s) and stops restarting it. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    const child = this.#child;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      const kill = setTimeout(() => child.kill('SIGKILL'), 2_000);
      child.once('close', () => {
        clearTimeout(kill);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }
}
