/**
 * Real processes for end-to-end tests: `safehouse serve --json` and `safehouse join --json`,
 * each a child process of the built CLI, with their output collected line by line.
 * Everything binds port 0 or a port read back from the server; every wait has a deadline.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../../packages/cli/bin/safehouse.js', import.meta.url));

export type Json = Record<string, unknown> & { type: string };

class Proc {
  readonly lines: string[] = [];
  readonly events: Json[] = [];
  stderr = '';
  private waiters: { pred: (e: Json) => boolean; resolve: (e: Json) => void }[] = [];
  readonly exited: Promise<number | null>;

  constructor(readonly child: ChildProcess) {
    let buf = '';
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      buf += chunk;
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        this.lines.push(line);
        try {
          const ev = JSON.parse(line) as Json;
          this.events.push(ev);
          this.waiters = this.waiters.filter((w) => (w.pred(ev) ? (w.resolve(ev), false) : true));
        } catch {
          /* not JSON: kept in lines */
        }
      }
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (c: string) => (this.stderr += c));
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  /** Resolves with the first event (past or future) matching `pred`, or rejects after `ms`. */
  waitFor(pred: (e: Json) => boolean, ms = 30_000, what = 'event'): Promise<Json> {
    const seen = this.events.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const w = { pred, resolve: (e: Json) => (clearTimeout(t), resolve(e)) };
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error(`timed out after ${ms} ms waiting for ${what}; events: ${JSON.stringify(this.events.slice(-8))}; stderr: ${this.stderr.slice(-500)}`));
      }, ms);
      this.waiters.push(w);
    });
  }

  send(line: string): void {
    this.child.stdin?.write(line + '\n');
  }

  end(): void {
    this.child.stdin?.end();
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.child.exitCode === null) this.child.kill(signal);
  }
}

export class Server extends Proc {
  url = '';
  port = 0;
  basePath = '';
  /** The server's own pid (differs from the child's when it runs under strace). */
  pid = 0;
}

export interface ServeSpawn {
  /** Run under `strace -f -e trace=%file`, writing the trace to this file. */
  straceTo?: string;
  nodeArgs?: string[];
  cwd?: string;
  /** Run inside this network namespace (`ip netns exec`; root only). */
  netns?: string;
}

export async function startServe(args: string[] = [], how: ServeSpawn = {}): Promise<Server> {
  const nodeCmd = [process.execPath, ...(how.nodeArgs ?? []), BIN, 'serve', '--json', '--port', '0', ...args];
  const traced = how.straceTo ? ['strace', '-f', '-qq', '-e', 'trace=%file', '-o', how.straceTo, ...nodeCmd] : nodeCmd;
  const [cmd, ...cmdArgs] = how.netns ? ['ip', 'netns', 'exec', how.netns, ...traced] : traced;
  const child = spawn(cmd!, cmdArgs, { stdio: ['pipe', 'pipe', 'pipe'], cwd: how.cwd });
  const s = new Server(child);
  const ready = await Promise.race([
    s.waitFor((e) => e.type === 'ready', 20_000, 'ready'),
    s.exited.then((code) => {
      throw new Error(`serve exited with ${code}: ${s.stderr}`);
    }),
  ]);
  s.url = String(ready.url);
  s.port = Number(ready.port);
  s.basePath = new URL(s.url).pathname.replace(/\/$/, '');
  s.pid = Number(ready.pid);
  return s;
}

export class Member extends Proc {}

export function startJoin(link: string, name: string, extra: string[] = []): Member {
  const child = spawn(process.execPath, [BIN, 'join', link, '--name', name, '--json', ...extra], { stdio: ['pipe', 'pipe', 'pipe'] });
  return new Member(child);
}

/** Runs a command to completion and returns its exit code and output. */
export async function run(args: string[], input?: string, ms = 30_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  if (input !== undefined) child.stdin.end(input);
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/**
 * A TCP tap between clients and the relay that records every byte the relay sends. Frames
 * from the server are unmasked (RFC 6455 §5.1), so a byte search of this record finds any
 * plaintext the relay forwards.
 */
export async function startTap(targetPort: number): Promise<{ port: number; fromServer: () => Buffer; upgrades: () => number; close: () => void }> {
  const chunks: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  /** Connections that began with an HTTP request (WebSocket upgrades). */
  let upgrades = 0;
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    client.once('data', (d: Buffer) => {
      if (d.subarray(0, 4).toString('latin1') === 'GET ') upgrades++;
    });
    client.pipe(upstream);
    upstream.on('data', (d: Buffer) => chunks.push(d));
    upstream.pipe(client);
    const closeBoth = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', closeBoth).on('close', closeBoth);
    upstream.on('error', closeBoth).on('close', closeBoth);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    fromServer: () => Buffer.concat(chunks),
    upgrades: () => upgrades,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

export function messagesOf(m: Proc, room?: string): Json[] {
  return m.events.filter((e) => e.type === 'message' && e.self !== true && (room === undefined || e.room === room));
}
