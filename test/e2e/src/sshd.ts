/**
 * OpenSSH's sshd as a test-owned process on a high loopback port (root only): host and client
 * keys generated into a temp dir, `UsePAM no`, `StrictModes no`, an absolute AuthorizedKeysFile,
 * a known_hosts file for the client. The same settings docs/deploy.md shows for a jump host.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { freePort, isRoot, TempDir, waitForPort, which } from './ops.js';

export type Sshd = {
  port: number;
  dir: TempDir;
  clientKey: string;
  knownHosts: string;
  user: string;
  child: ChildProcess;
  stop(): Promise<void>;
};

/** Why sshd cannot run here, or undefined if it can. */
export function sshdUnavailable(): string | undefined {
  if (!isRoot) return 'sshd needs root here (its privilege separation); run the tests as root';
  for (const b of ['sshd', 'ssh', 'ssh-keygen'])
    if (!which(b)) return `${b} is not installed (apt-get install openssh-server openssh-client)`;
  return undefined;
}

export async function startSshd(): Promise<Sshd> {
  const dir = new TempDir();
  const keygen = (file: string): void =>
    void execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', dir.at(file)]);
  keygen('host_key');
  keygen('client_key');
  // As docs/deploy.md restricts the key: forwarding only, listening only on the jump host's loopback.
  dir.file(
    'authorized_keys',
    `restrict,port-forwarding,permitlisten="127.0.0.1:*" ${readFileSync(dir.at('client_key.pub'), 'utf8')}`,
  );
  mkdirSync('/run/sshd', { recursive: true });
  const port = await freePort();
  const [type, key] = readFileSync(dir.at('host_key.pub'), 'utf8').trim().split(/\s+/);
  const knownHosts = dir.file('known_hosts', `[127.0.0.1]:${port} ${type ?? ''} ${key ?? ''}\n`);
  const config = dir.file(
    'sshd_config',
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${dir.at('host_key')}`,
      `PidFile ${dir.at('sshd.pid')}`,
      'UsePAM no',
      'StrictModes no',
      `AuthorizedKeysFile ${dir.at('authorized_keys')}`,
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      'PermitRootLogin prohibit-password',
      'AllowTcpForwarding yes',
      'GatewayPorts no',
      'ClientAliveInterval 5',
      '',
    ].join('\n'),
    0o600,
  );
  const child = spawn(which('sshd') ?? 'sshd', ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (c: string) => (stderr = (stderr + c).slice(-4000)));
  await waitForPort(port).catch((e: Error) => {
    child.kill('SIGKILL');
    throw new Error(`${e.message}; sshd said: ${stderr}`);
  });
  return {
    port,
    dir,
    clientKey: dir.at('client_key'),
    knownHosts,
    user: 'root',
    child,
    stop: async () => {
      if (child.exitCode === null) {
        const done = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await done;
      }
      dir.remove();
    },
  };
}
