/**
 * The bench's child processes: a relay (server-proc.ts) and the load generator (load-proc.ts),
 * each pinned to its own core with `taskset` where it exists, so the relay gets exactly one core
 * and the generator the other. Every child exits when the parent disconnects or after its own
 * deadline; `stop()` ends it at once.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ServerCommand, ServerKind, ServerReady, ServerUsage } from './server-proc.js';
import type { LoadCommand, LoadEvent } from './load-proc.js';

export const hasTaskset = spawnSync('which', ['taskset']).status === 0;
const LIFETIME_MS = 900_000;

type Msg = { type: string };

/** A child that speaks JSON over IPC; `next(type)` waits for the next message of that type. */
export class Child<Out extends Msg, In> {
  private readonly queue: Out[] = [];
  private readonly waiters: { type: string; resolve: (m: Out) => void; reject: (e: Error) => void }[] = [];
  private exited = false;

  constructor(readonly proc: ChildProcess) {
    proc.on('message', (m: Out) => {
      if (m.type === 'error') {
        for (const w of this.waiters.splice(0)) w.reject(new Error((m as unknown as { message: string }).message));
        return;
      }
      const i = this.waiters.findIndex((w) => w.type === m.type);
      if (i >= 0) this.waiters.splice(i, 1)[0]?.resolve(m);
      else this.queue.push(m);
    });
    proc.on('exit', (code) => {
      this.exited = true;
      for (const w of this.waiters.splice(0))
        w.reject(new Error(`child exited (${String(code)}) while waiting for ${w.type}`));
    });
  }

  send(m: In): void {
    if (!this.exited) this.proc.send(m as object);
  }

  next<T extends Out['type']>(type: T, ms = 120_000): Promise<Extract<Out, { type: T }>> {
    const i = this.queue.findIndex((m) => m.type === type);
    if (i >= 0) return Promise.resolve(this.queue.splice(i, 1)[0] as Extract<Out, { type: T }>);
    if (this.exited) return Promise.reject(new Error(`child has exited; no ${type} will come`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${type}`)), ms);
      this.waiters.push({
        type,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m as Extract<Out, { type: T }>);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
  }

  stop(): Promise<void> {
    if (this.exited) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.proc.kill('SIGKILL'), 5_000);
      this.proc.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      this.proc.disconnect();
    });
  }
}

/**
 * Extra Node options for the relay processes only, to profile them where they run
 * (`SAFEHOUSE_BENCH_RELAY_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof"`: Node refuses
 * --cpu-prof in NODE_OPTIONS). Empty in every measured run.
 */
const RELAY_NODE_ARGS = (process.env.SAFEHOUSE_BENCH_RELAY_NODE_ARGS ?? '').split(' ').filter(Boolean);

function start(script: string, args: string[], core: number, nodeArgs: string[] = []): ChildProcess {
  const file = fileURLToPath(new URL(script, import.meta.url));
  const node = [process.execPath, '--expose-gc', ...nodeArgs, '--import', 'tsx', file, ...args];
  const stdio: ['ignore', 'inherit', 'inherit', 'ipc'] = ['ignore', 'inherit', 'inherit', 'ipc'];
  return hasTaskset
    ? spawn('taskset', ['-c', String(core), ...node], { stdio })
    : spawn(node[0] as string, node.slice(1), { stdio });
}

export type Relay = Child<ServerReady | ServerUsage, ServerCommand> & { ready: ServerReady; kind: ServerKind };

/**
 * Starts a relay on core 0 and waits until it listens. `script` is the relay process to run: this
 * tree's server-proc.ts, or (ab.ts) the same file in another checkout, which then runs that
 * checkout's build of the server; `nodeArgs`, Node options for it (ab.ts).
 */
export async function startRelay(
  kind: ServerKind,
  defaultLimits = false,
  script = './server-proc.ts',
  nodeArgs: string[] = [],
): Promise<Relay> {
  const child = new Child<ServerReady | ServerUsage, ServerCommand>(
    start(script, [kind, String(LIFETIME_MS), ...(defaultLimits ? ['--default-limits'] : [])], 0, [
      ...RELAY_NODE_ARGS,
      ...nodeArgs,
    ]),
  );
  const ready = await child.next('ready', 30_000);
  return Object.assign(child, { ready, kind });
}

export async function usage(relay: Relay, gc = false): Promise<ServerUsage> {
  relay.send({ cmd: 'usage', gc });
  return relay.next('usage', 30_000);
}

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK']).stdout?.toString().trim()) || 100;

/**
 * CPU time the relay process has used (all threads), in µs, user and kernel apart: what its
 * process.cpuUsage() would say, read from /proc/<pid>/stat by the parent so that a relay busy
 * with thousands of sockets is not asked (its answer would come late and skew the window).
 * Resolution: one clock tick (10 ms); elsewhere than Linux, the relay is asked over IPC.
 */
export async function relayCpu(relay: Relay): Promise<{ user: number; system: number }> {
  try {
    const stat = readFileSync(`/proc/${relay.ready.pid}/stat`, 'latin1');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { user: (Number(fields[11]) * 1e6) / CLK_TCK, system: (Number(fields[12]) * 1e6) / CLK_TCK };
  } catch {
    const u = await usage(relay);
    return { user: u.userUs, system: u.systemUs };
  }
}

export type Generator = Child<LoadEvent, LoadCommand>;

/** Starts the load generator on core 1. */
export function startGenerator(): Generator {
  return new Child<LoadEvent, LoadCommand>(start('./load-proc.ts', [String(LIFETIME_MS)], 1));
}
