/**
 * Real `safehouse` processes for the membership bench, started as a user would start them:
 * `node packages/cli/bin/safehouse.js serve --json ...` and `... join LINK --name N --json`, not
 * pinned to a core. Every JSON line a process prints is kept with the time it was read (ms on
 * the bench's clock, `now()`); waits have deadlines; every process started is in `live` until it
 * exits, and `killAll()` SIGKILLs what is left (also on the bench's own exit or Ctrl-C).
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../../packages/cli/bin/safehouse.js', import.meta.url));

const T0 = performance.now();
/** Milliseconds on the bench's clock. */
export function now(): number {
  return performance.now() - T0;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** One JSON event as a process printed it; `at`: when the bench read it. */
export type Ev = { at: number; type: string; [k: string]: unknown };

const live = new Set<CliProc>();

/** `SAFEHOUSE_BENCH_DUMP=DIR`: also append every event of every process to DIR/<name>.<start>.jsonl. */
const DUMP = process.env.SAFEHOUSE_BENCH_DUMP;
if (DUMP) mkdirSync(DUMP, { recursive: true });

/** SIGKILLs every process still running; returns how many there were. */
export function killAll(): number {
  let n = 0;
  for (const p of live) {
    if (p.kill('SIGKILL')) n++;
  }
  return n;
}

/** Waits (bounded) until every process started has exited. */
export async function reapAll(ms = 10_000): Promise<number> {
  const deadline = now() + ms;
  while (live.size > 0 && now() < deadline) await sleep(50);
  return live.size;
}

let guarded = false;
/** Kills the children if the bench itself is stopped or exits early. */
export function guardChildren(): void {
  if (guarded) return;
  guarded = true;
  process.on('exit', () => void killAll());
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
    process.once(sig, () => {
      killAll();
      process.exit(130);
    });
}

export class CliProc {
  readonly events: Ev[] = [];
  readonly startedAt = now();
  exitedAt: number | undefined;
  exit: { code: number | null; signal: string | null } | undefined;
  readonly exited: Promise<void>;
  private stderrTail = '';
  private readonly proc: ChildProcessWithoutNullStreams;
  private readonly listeners = new Set<(e: Ev) => void>();

  constructor(
    readonly name: string,
    args: string[],
  ) {
    // SAFEHOUSE_BENCH_PROF=DIR: every process writes a V8 tick log there (`node --prof-process` tells where the time goes).
    const prof = process.env.SAFEHOUSE_BENCH_PROF ? ['--prof', '--no-logfile-per-isolate', `--logfile=${process.env.SAFEHOUSE_BENCH_PROF}/%p.log`] : [];
    this.proc = spawn(process.execPath, [...prof, CLI, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
    });
    live.add(this);
    this.proc.stdin.on('error', () => undefined);
    this.proc.stderr.setEncoding('utf8');
    this.proc.stderr.on('data', (s: string) => {
      this.stderrTail = (this.stderrTail + s).slice(-2000);
    });
    createInterface({ input: this.proc.stdout }).on('line', (line) => {
      let ev: Ev;
      try {
        const parsed = JSON.parse(line) as Record<string, unknown>;
        ev = { ...parsed, type: String(parsed.type), at: now() };
      } catch {
        ev = { type: 'non-json', line, at: now() };
      }
      this.events.push(ev);
      if (DUMP)
        appendFileSync(joinPath(DUMP, `${this.name}.${this.startedAt.toFixed(0)}.jsonl`), JSON.stringify(ev) + '\n');
      for (const l of [...this.listeners]) l(ev);
    });
    this.exited = new Promise((resolve) => {
      this.proc.once('exit', (code, signal) => {
        this.exitedAt = now();
        this.exit = { code, signal };
        live.delete(this);
        resolve();
      });
      this.proc.once('error', () => {
        this.exitedAt ??= now();
        this.exit ??= { code: null, signal: 'spawn-error' };
        live.delete(this);
        resolve();
      });
    });
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  get alive(): boolean {
    return this.exit === undefined;
  }

  /** Writes one line to the process's standard input (its command language). */
  write(line: string): boolean {
    if (!this.alive || this.proc.stdin.destroyed) return false;
    this.proc.stdin.write(line + '\n');
    return true;
  }

  /** Ends standard input (the client then delivers, leaves and exits). */
  endInput(): void {
    if (!this.proc.stdin.destroyed) this.proc.stdin.end();
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): boolean {
    if (!this.alive) return false;
    return this.proc.kill(signal);
  }

  of(type: string): Ev[] {
    return this.events.filter((e) => e.type === type);
  }

  first(type: string): Ev | undefined {
    return this.events.find((e) => e.type === type);
  }

  last(type?: string): Ev | undefined {
    for (let i = this.events.length - 1; i >= 0; i--) {
      const e = this.events[i] as Ev;
      if (type === undefined || e.type === type) return e;
    }
    return undefined;
  }

  stderr(): string {
    return this.stderrTail.trim();
  }

  /**
   * Resolves with the first event (at index ≥ `from`) that matches, or undefined after `ms`, or
   * when the process exits without one.
   */
  waitFor(pred: (e: Ev) => boolean, ms: number, from = 0): Promise<Ev | undefined> {
    for (let i = from; i < this.events.length; i++)
      if (pred(this.events[i] as Ev)) return Promise.resolve(this.events[i]);
    if (!this.alive) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const done = (e: Ev | undefined): void => {
        clearTimeout(timer);
        this.listeners.delete(listener);
        resolve(e);
      };
      const listener = (e: Ev): void => {
        if (pred(e)) done(e);
      };
      const timer = setTimeout(() => done(undefined), ms);
      this.listeners.add(listener);
      void this.exited.then(() => setTimeout(() => done(undefined), 50));
    });
  }

  /** CPU time (user + system) in ms, from /proc; undefined when it cannot be read. */
  cpuMs(): number | undefined {
    return this.pid === undefined ? undefined : procCpuMs(this.pid);
  }

  /** A short account of where this process got to: its last events, its exit, its stderr. */
  summary(n = 3): {
    name: string;
    lastEvents: Ev[];
    lastError?: Ev;
    exit?: { code: number | null; signal: string | null };
    stderr?: string;
  } {
    const lastError = this.last('error') ?? this.last('fatal');
    const stderr = this.stderr();
    return {
      name: this.name,
      lastEvents: this.events.slice(-n),
      ...(lastError ? { lastError } : {}),
      ...(this.exit ? { exit: this.exit } : {}),
      ...(stderr ? { stderr } : {}),
    };
  }
}

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK']).stdout?.toString().trim()) || 100;

export function procCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
  } catch {
    return undefined;
  }
}

/** The whole machine's CPU time so far, busy and total, in ms summed over all cores (/proc/stat). */
export function machineCpuMs(): { busy: number; total: number } | undefined {
  try {
    const line = readFileSync('/proc/stat', 'latin1').split('\n')[0] ?? '';
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: ((total - idle) * 1000) / CLK_TCK, total: (total * 1000) / CLK_TCK };
  } catch {
    return undefined;
  }
}

/**
 * Over a span: how busy the machine was and how much of that was ours (the processes given),
 * each in % of the machine (all cores). The machine is shared: others' work shows as the rest.
 */
export function cpuShare(
  before: { busy: number; total: number } | undefined,
  after: { busy: number; total: number } | undefined,
  oursMs: number,
): { machineBusyPct: number; oursPct: number } | undefined {
  if (!before || !after || after.total <= before.total) return undefined;
  const total = after.total - before.total;
  return {
    machineBusyPct: Math.round((1000 * (after.busy - before.busy)) / total) / 10,
    oursPct: Math.round((1000 * oursMs) / total) / 10,
  };
}

export type ServeReady = { url: string; invite: string; port: number; pid: number };

/** `safehouse serve --json --no-admin` (a pure relay) and its `ready` line. */
export class Serve extends CliProc {
  ready: ServeReady | undefined;
  constructor(opts: { port?: number; basePath?: string; name?: string } = {}) {
    super(opts.name ?? 'relay', [
      'serve',
      '--json',
      '--no-admin',
      '--port',
      String(opts.port ?? 0),
      ...(opts.basePath !== undefined ? ['--base-path', opts.basePath] : []),
    ]);
  }

  async whenReady(ms = 20_000): Promise<ServeReady> {
    const e = await this.waitFor((x) => x.type === 'ready', ms);
    if (!e) {
      this.kill();
      throw new Error(`the relay did not print "ready" within ${ms} ms: ${JSON.stringify(this.summary())}`);
    }
    this.ready = e as unknown as ServeReady;
    return this.ready;
  }

  /** The base path (`/segment`) of the relay's URL: pass it back with the port to keep links valid. */
  basePath(): string {
    if (!this.ready) throw new Error('the relay is not ready');
    return new URL(this.ready.url).pathname.replace(/\/$/, '');
  }
}

/** `safehouse join LINK --name NAME --json`. */
export class Member extends CliProc {
  constructor(name: string, link: string) {
    super(name, ['join', link, '--name', name, '--json']);
  }

  get joinedAt(): number | undefined {
    return this.first('joined')?.at;
  }

  /** Texts of messages from others (not own echoes), as received. */
  received(): Ev[] {
    return this.events.filter((e) => e.type === 'message' && e.self !== true);
  }

  /**
   * Sends `/code` and resolves with the `room-code` event it prints (or undefined after `ms`).
   */
  async code(ms = 10_000): Promise<{ code: string; epoch: number; at: number } | undefined> {
    const from = this.events.length;
    if (!this.write('/code')) return undefined;
    const e = await this.waitFor((x) => x.type === 'room-code', ms, from);
    return e ? { code: String(e.code), epoch: Number(e.epoch), at: e.at } : undefined;
  }

  async users(ms = 10_000): Promise<string[] | undefined> {
    const from = this.events.length;
    if (!this.write('/users')) return undefined;
    const e = await this.waitFor((x) => x.type === 'users', ms, from);
    return e ? (e.users as { name: string }[]).map((u) => u.name) : undefined;
  }
}

/** Seeded PRNG (mulberry32): the same seed, the same schedule and choices. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function median(xs: number[]): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** Error events of a set of processes, counted by code. */
export function errorCodes(procs: CliProc[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of procs)
    for (const e of p.events)
      if (e.type === 'error' || e.type === 'fatal') out[String(e.code)] = (out[String(e.code)] ?? 0) + 1;
  return out;
}
