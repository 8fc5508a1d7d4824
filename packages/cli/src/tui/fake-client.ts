/**
 * A scripted client for the UI's tests: records the lines it was given, and emits whatever
 * events a test hands it, as the real client would.
 */
import type { CommandOutcome } from '@safehouse/core/client';
import type { ClientEvent, Listener } from '@safehouse/core/client';
import type { ChatClient } from './session.js';

export class FakeClient implements ChatClient {
  readonly lines: string[] = [];
  readonly #listeners = new Set<Listener>();
  current: string | undefined;
  quitCalls = 0;
  started = false;
  /** What `command` does besides recording (a test may answer with events). */
  onCommand: (line: string) => void = () => undefined;

  constructor(readonly name = 'alice') {}

  start(): Promise<void> {
    this.started = true;
    return Promise.resolve();
  }

  command(line: string): Promise<CommandOutcome> {
    this.lines.push(line);
    this.onCommand(line);
    return Promise.resolve({ ok: true, command: 'say' });
  }

  quit(): Promise<{ delivered: boolean }> {
    this.quitCalls++;
    return Promise.resolve({ delivered: true });
  }

  on(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  currentRoom(): string | undefined {
    return this.current;
  }

  emit(ev: ClientEvent): void {
    if (ev.type === 'joined' && !ev.direct) this.current ??= ev.room;
    if (ev.type === 'switched') this.current = ev.room;
    for (const l of [...this.#listeners]) l(ev);
  }
}
