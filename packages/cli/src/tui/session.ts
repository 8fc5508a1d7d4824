/**
 * Between the client and the screen: runs what the user typed through the client's command
 * language one line at a time, feeds every event to the model, keeps the member list and the
 * room code fresh (by asking the client quietly), and leaves cleanly on quit.
 */
import { parseCommand, type ClientEvent, type SafehouseClient } from '@safehouse/core/client';
import { SafehouseError } from '@safehouse/core/protocol';
import { ChatModel, type Origin } from './model.js';

/** The part of `SafehouseClient` the UI uses (tests pass a scripted one). */
export type ChatClient = Pick<SafehouseClient, 'name' | 'start' | 'command' | 'quit' | 'on' | 'currentRoom'>;

export type QuitResult = { delivered: boolean; fatal?: ClientEvent & { type: 'fatal' } };

/** Events after which the member list or the room code may have changed. */
const REFRESH_AFTER = new Set<ClientEvent['type']>([
  'joined',
  'member-joined',
  'member-left',
  'key-changed',
  'safety-number',
  'switched',
  'left',
]);

const ASKED: Partial<Record<string, Origin['asked']>> = {
  invite: 'invite',
  'room-create': 'invite',
  fingerprint: 'fingerprint',
  verify: 'verify',
  trust: 'trust',
};

export class Session {
  readonly model: ChatModel;
  #chain: Promise<void> = Promise.resolve();
  /** Where the events now arriving come from (the command in flight). */
  #origin: Origin = {};
  #refresh: ReturnType<typeof setTimeout> | undefined;
  #quit: Promise<QuitResult> | undefined;
  #fatal: (ClientEvent & { type: 'fatal' }) | undefined;
  readonly #off: () => void;
  /** Messages typed before the first room was joined; undefined once it was (or never will be). */
  #held: string[] | undefined = [];
  #ended!: (r: QuitResult) => void;
  /** Settles once the session has quit (by /quit, a key, or `quit()`). */
  readonly done = new Promise<QuitResult>((resolve) => (this.#ended = resolve));

  constructor(
    readonly client: ChatClient,
    model?: ChatModel,
    readonly options: { refreshMs?: number; quitTimeoutMs?: number } = {},
  ) {
    this.model = model ?? new ChatModel();
    this.model.me = { name: client.name };
    this.#off = client.on((ev) => this.#onEvent(ev));
  }

  start(): void {
    this.#enqueue(() => this.client.start(), {});
  }

  /** One line from the input: a message or a command. */
  submit(line: string): void {
    if (this.model.quitting) return;
    const parsed = parseCommand(line);
    if (parsed.ok && parsed.command.kind === 'quit') {
      void this.quit();
      return;
    }
    // Before a member has admitted us, messages wait (as with --json): typed early, not lost.
    if (parsed.ok && (parsed.command.kind === 'say' || parsed.command.kind === 'me') && this.#held !== undefined) {
      this.#held.push(line);
      this.model.notice(`held until a member admits you (${this.#held.length} waiting)`, 'info');
      this.model.changed();
      return;
    }
    const asked = parsed.ok ? ASKED[parsed.command.kind] : undefined;
    this.#enqueue(() => this.client.command(line), asked ? { asked } : {});
  }

  /** Sends what was held once the first room is joined; drops it (saying so) if none will be. */
  #release(joined: boolean): void {
    const held = this.#held;
    if (held === undefined) return;
    this.#held = undefined;
    if (joined) for (const line of held) this.#enqueue(() => this.client.command(line), {});
    else if (held.length > 0)
      this.model.notice(
        `${held.length} held message${held.length === 1 ? ' was' : 's were'} not sent: you are in no room`,
        'error',
      );
  }

  /** Makes the next (`+1`) or previous (`-1`) room current. */
  cycleRoom(step: 1 | -1): void {
    const ids = [...this.model.rooms.keys()];
    if (ids.length < 2 || this.model.quitting) return;
    const at = Math.max(0, ids.indexOf(this.model.current ?? ''));
    const next = ids[(at + step + ids.length) % ids.length];
    if (next === undefined) return;
    this.model.setCurrent(next);
    this.#enqueue(() => this.client.command(`/switch ${next}`), { quiet: true });
  }

  /** Delivers what is pending, leaves every room, closes. Idempotent. */
  quit(): Promise<QuitResult> {
    this.#quit ??= (async () => {
      this.model.quitting = true;
      this.model.changed();
      clearTimeout(this.#refresh);
      const timeoutMs = this.options.quitTimeoutMs ?? 5_000;
      // Commands already typed go first (they are part of "deliver what is pending").
      await Promise.race([this.#chain, new Promise((r) => setTimeout(r, timeoutMs).unref?.())]);
      let delivered = false;
      try {
        ({ delivered } = await this.client.quit({ timeoutMs }));
      } catch {
        // Closing failed half-way: nothing more to deliver from here; the caller still exits.
      }
      this.#off();
      const result = this.#fatal ? { delivered, fatal: this.#fatal } : { delivered };
      this.#ended(result);
      return result;
    })();
    return this.#quit;
  }

  /**
   * Gives up on a quit that takes too long (a relay that is gone): the session is done at once,
   * with what was not delivered reported as such. Only while quitting.
   */
  abort(): void {
    if (!this.#quit) return;
    this.#ended(this.#fatal ? { delivered: false, fatal: this.#fatal } : { delivered: false });
  }

  #enqueue(fn: () => Promise<unknown>, origin: Origin): void {
    this.#chain = this.#chain.then(async () => {
      this.#origin = origin;
      try {
        await fn();
      } catch (err) {
        // The client reports what a user can fix as events; anything thrown is shown, not fatal.
        const code = err instanceof SafehouseError ? err.code : 'E_INTERNAL';
        this.model.notice(`${err instanceof Error ? err.message : String(err)} (${code})`, 'error');
        this.model.changed();
      } finally {
        this.#origin = {};
      }
    });
  }

  #onEvent(ev: ClientEvent): void {
    const origin = this.#origin;
    if (origin.quiet) {
      // A quiet refresh of a room we are not (yet) a member of: nothing to say.
      if (ev.type === 'error' && ev.code === 'E_NO_ROOM') return;
      if (ev.type === 'switched') {
        this.model.setCurrent(ev.room);
        return this.#scheduleRefresh();
      }
    }
    const quiet = origin.quiet === true && (ev.type === 'users' || ev.type === 'room-code');
    if (ev.type === 'fatal') this.#fatal = ev;
    if (ev.type === 'joined' || ev.type === 'fatal') queueMicrotask(() => this.#release(ev.type === 'joined'));
    this.model.apply(ev, quiet ? { quiet } : origin.asked ? { asked: origin.asked } : {});
    // The client changes its current room as it joins, switches and leaves: follow it.
    queueMicrotask(() => {
      const cur = this.client.currentRoom();
      if (cur !== undefined) this.model.setCurrent(cur);
    });
    if (REFRESH_AFTER.has(ev.type) || (ev.type === 'info' && origin.asked === 'trust')) this.#scheduleRefresh();
  }

  #scheduleRefresh(): void {
    if (this.model.quitting) return;
    clearTimeout(this.#refresh);
    this.#refresh = setTimeout(() => {
      const room = this.model.currentRoom();
      if (!room?.joined || this.model.quitting) return;
      this.#enqueue(() => this.client.command('/users'), { quiet: true });
      if (!room.direct) this.#enqueue(() => this.client.command('/code'), { quiet: true });
    }, this.options.refreshMs ?? 150);
    this.#refresh.unref?.();
  }
}
