/**
 * One visit's chat: the identity, the client over the browser transport, and a queue that runs
 * typed lines and button actions one at a time, in order (as `safehouse join` does). Keys live
 * in this page's memory only; nothing is stored unless the user exports the identity.
 */
import { createClient, normalizeName, type ClientEvent, type SafehouseClient } from '@safehouse/core/client';
import { createE2ee, exportIdentity, PinStore, type Identity } from '@safehouse/core/e2ee';
import { parseInvite, passwordSubprotocol } from '@safehouse/core/protocol';
import { createBrowserTransport } from './transport.js';

export type SessionOptions = {
  name: string;
  /** The page's own URL, fragment included: read here, never sent anywhere. */
  link: string;
  /** An imported identity; otherwise a new one is made. */
  identity?: Identity;
  /** Make the new identity's private key extractable, so that it can be exported. */
  exportable: boolean;
  /** The server's password, when the operator set one (`serve --password-file`). */
  password?: string;
  onEvent(ev: ClientEvent, current: string | undefined): void;
  /** `/quit` ran: the outbox was delivered, every room left, the connection closed. */
  onQuit(): void;
};

export type Session = {
  /** Runs one line of the command language after everything queued before it. */
  run(line: string): void;
  /** Whether the identity can be saved to a file (created exportable this visit). */
  readonly canExport: boolean;
  exportIdentity(passphrase: string): Promise<Uint8Array>;
  quit(): Promise<void>;
};

/** A sentence for a name that cannot be used, or undefined when it can. */
export function checkName(name: string): string | undefined {
  const n = normalizeName(name);
  return n.ok ? undefined : n.message;
}

/** A sentence for a link that cannot be used, or undefined when it can. */
export function checkLink(link: string): string | undefined {
  const p = parseInvite(link);
  return p.ok ? undefined : p.message;
}

export async function startSession(o: SessionOptions): Promise<Session> {
  const pins = new PinStore();
  const e2ee = createE2ee({ pins });
  const identity = o.identity ?? (await e2ee.createIdentity({ exportable: o.exportable }));
  const invite = parseInvite(o.link);
  const subprotocol = o.password && invite.ok ? await passwordSubprotocol(o.password, new URL(invite.invite.base).pathname) : undefined;
  const transport = createBrowserTransport(subprotocol === undefined ? {} : { subprotocol });
  const client: SafehouseClient = createClient({ transport, e2ee, pins, identity, name: o.name, link: o.link });

  // Lines typed while a member is still admitting us wait until we are in (or joining failed).
  let ready!: () => void;
  const inRoom = new Promise<void>((resolve) => (ready = resolve));
  client.on((ev) => {
    o.onEvent(ev, client.currentRoom());
    if (ev.type === 'joined' || ev.type === 'fatal' || ev.type === 'left') ready();
  });
  let chain: Promise<unknown> = client.start().then(() => inRoom);
  const fail = (): void => o.onEvent({ type: 'error', code: 'E_INTERNAL', message: 'that action failed unexpectedly' }, client.currentRoom());
  chain = chain.catch(fail);

  return {
    run(line: string) {
      const quitting = /^\/quit\s*$/i.test(line.trim());
      chain = chain
        .then(() => client.command(line))
        .then(() => quitting && o.onQuit())
        .catch(fail);
    },
    canExport: o.identity === undefined && o.exportable,
    exportIdentity: (passphrase) => exportIdentity(identity, passphrase),
    async quit() {
      await chain;
      await client.quit({ timeoutMs: 2_000 });
    },
  };
}
