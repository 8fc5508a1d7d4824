/**
 * Between the client and the screen. Every client event goes into core's view (`ViewStore`:
 * rooms, members and their keys, messages, notices, the connection, proven time: the same for
 * every UI); this adds only what is the terminal's own (pane.ts `Screen`): the QR code over the
 * chat, the hidden banner, what was read per room, leaving.
 *
 * Lines typed go to the client as they are, in order; the client runs them one at a time
 * (a message typed before a member admitted this device waits inside it) and says what each did:
 * the answer to `/invite`, `/room create`, `/fingerprint`, `/verify` or `/safety` is shown as a
 * QR code. Nothing here asks the client anything else or guesses from timing.
 */
import {
  isQuit,
  keyWarnings,
  roomList,
  ViewStore,
  type ClientEvent,
  type SafehouseClient,
  type Stamped,
  type View,
} from '@safehouse/core/client';
import { SafehouseError, type ErrorCode } from '@safehouse/core/protocol';
import { copiedOverlay, fingerprintOverlay, inviteOverlay, safetyOverlay } from './overlay.js';
import { bannerWarnings, markSeen, warningKey, type Overlay, type Screen } from './pane.js';

/** The part of `SafehouseClient` the UI uses. */
export type ChatClient = Pick<SafehouseClient, 'name' | 'start' | 'command' | 'quit' | 'on'>;

/** How the session ended: `fatal` is why the last room ended, if it did. */
export type QuitResult = { delivered: boolean; fatal?: { code: ErrorCode; message: string } };

export class Session {
  readonly store: ViewStore;
  #screen: Screen;
  readonly #listeners = new Set<() => void>();
  readonly #now: () => number;
  #startCalled = false;
  #opened!: () => void;
  /** Settles once `start()` did (well or not): lines typed before wait for it, in order. */
  readonly #started = new Promise<void>((resolve) => (this.#opened = resolve));
  #quit: Promise<QuitResult> | undefined;
  #ended!: (r: QuitResult) => void;
  #over = false;
  /** Settles once the session has quit (by /quit, a key, a signal, or `quit()`), or was cut short. */
  readonly done = new Promise<QuitResult>((resolve) => (this.#ended = resolve));

  constructor(
    readonly client: ChatClient,
    readonly options: { quitTimeoutMs?: number; now?: () => number } = {},
  ) {
    this.#now = options.now ?? Date.now;
    this.store = new ViewStore(client, this.#now);
    this.#screen = {
      view: this.store.view,
      connectionAt: this.#now(),
      overlay: undefined,
      bannerHidden: new Set(),
      quitting: false,
      seen: new Map(),
    };
    this.store.subscribe((view, stamped) => this.#onView(view, stamped));
  }

  /** The screen's state now; the same object until something changed (for `useSyncExternalStore`). */
  getScreen = (): Screen => this.#screen;

  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  };

  /** Starts the client (once); a failure is shown, and the session stays until the user leaves. */
  start(): void {
    if (this.#startCalled) return;
    this.#startCalled = true;
    this.client
      .start()
      .catch((err: unknown) => this.#failed(err))
      .finally(this.#opened);
  }

  /** One line from the input: a message or a command. */
  submit(line: string): void {
    if (this.#screen.quitting) return;
    if (isQuit(line)) return void this.quit();
    void this.#run(line);
  }

  /** Makes the next (`+1`) or previous (`-1`) room current (as `/switch`). */
  cycleRoom(step: 1 | -1): void {
    const { view, quitting } = this.#screen;
    const ids = roomList(view).map((r) => r.id);
    if (ids.length < 2 || quitting) return;
    const at = Math.max(0, ids.indexOf(view.current ?? ''));
    const next = ids[(at + step + ids.length) % ids.length];
    if (next !== undefined) void this.#run(`/switch ${next}`);
  }

  closeOverlay(): boolean {
    if (!this.#screen.overlay) return false;
    this.#update({ overlay: undefined });
    return true;
  }

  /** After `c` on a QR code: the footer says the link went to the clipboard. */
  copied(): void {
    const { overlay } = this.#screen;
    if (overlay) this.#update({ overlay: copiedOverlay(overlay) });
  }

  /** Esc: hides the key-change banner until another key changes. */
  hideBanner(): boolean {
    if (bannerWarnings(this.#screen).length === 0) return false;
    this.#update({ bannerHidden: new Set(keyWarnings(this.#screen.view).map(warningKey)) });
    return true;
  }

  /** Delivers what is pending (what was typed first), leaves every room, closes. Idempotent. */
  quit(): Promise<QuitResult> {
    this.#quit ??= (async () => {
      this.#update({ quitting: true, overlay: undefined });
      let delivered = false;
      try {
        // Lines typed before start() finished are still on their way to the client.
        if (this.#startCalled) await this.#started;
        ({ delivered } = await this.client.quit({ timeoutMs: this.options.quitTimeoutMs ?? 5_000 }));
      } catch {
        // Closing failed half-way: nothing more to deliver from here; the caller still exits.
      }
      return this.#end(delivered);
    })();
    return this.#quit;
  }

  /**
   * Gives up on a quit that takes too long (a relay that is gone): the session is done at once,
   * with what was not delivered reported as such. Only while quitting.
   */
  abort(): void {
    if (this.#quit) this.#end(false);
  }

  #end(delivered: boolean): QuitResult {
    const fatal = this.#screen.view.fatal;
    const result: QuitResult = fatal ? { delivered, fatal } : { delivered };
    if (!this.#over) {
      this.#over = true;
      this.store.close();
      this.#ended(result);
    }
    return result;
  }

  async #run(line: string): Promise<void> {
    // Registered now, so lines reach the client in the order typed, after start().
    const outcome = this.#started.then(() => this.client.command(line));
    try {
      const o = await outcome;
      if (o.ok && o.shown) this.#show(o.shown);
    } catch (err) {
      this.#failed(err);
    }
  }

  /** The answer to a command, if the terminal shows it as a QR code (the view has it as a block too). */
  #show(ev: ClientEvent): void {
    if (this.#screen.quitting) return;
    let overlay: Overlay | undefined;
    if (ev.type === 'invite')
      overlay = inviteOverlay(this.#screen.view.rooms.get(ev.room)?.name ?? ev.roomName, ev.link);
    else if (ev.type === 'fingerprint') overlay = fingerprintOverlay(ev.name, ev.fingerprint);
    else if (ev.type === 'safety-number') overlay = safetyOverlay(ev.name, ev.safetyNumber);
    if (overlay) this.#update({ overlay });
  }

  /**
   * The client reports what a user can fix as events (the view has them); something thrown is a
   * bug: shown in the pane, in its place among the events, never fatal.
   */
  #failed(err: unknown): void {
    const code = err instanceof SafehouseError ? err.code : 'E_INTERNAL';
    this.store.apply({ type: 'error', code, message: err instanceof Error ? err.message : String(err) });
  }

  #onView(view: View, stamped: Stamped): void {
    const connectionAt =
      stamped.event.type === 'connection' && view.at.connection === stamped.seq
        ? stamped.at
        : this.#screen.connectionAt;
    this.#update({ view, connectionAt, seen: markSeen(view, this.#screen.seen) });
    // The client cannot reach the relay at all (a 404 to every try): nothing more to do here;
    // the terminal is given back and the reason printed (index.ts).
    if (stamped.event.type === 'fatal' && stamped.event.closed === true) void this.quit();
  }

  #update(patch: Partial<Screen>): void {
    this.#screen = { ...this.#screen, ...patch };
    for (const l of [...this.#listeners]) l();
  }
}
