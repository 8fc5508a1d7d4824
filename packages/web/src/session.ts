/**
 * One visit's chat: the identity, the client over the browser transport, the view of it
 * (core's `ViewStore`) and the page's state around that view (state.ts). Typed lines and
 * buttons go to `client.command`, which runs them in order; a command's answer that the page
 * shows as a dialog comes from its outcome. Keys live in this page's memory only; nothing is
 * stored unless the user exports the identity.
 */
import { createClient, isQuit, normalizeName, ViewStore, type ClientEvent, type ClientOptions } from '@safehouse/core/client';
import { createE2ee, exportIdentity, PinStore, type Identity } from '@safehouse/core/e2ee';
import { parseInvite, passwordSubprotocol } from '@safehouse/core/protocol';
import { dialogFor, initialPage, reducePage, type PageAction, type PageState } from './state.js';
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
  /** Tests only: another WebSocket (Node's `ws`) under the page's own transport. */
  WebSocketImpl?: typeof WebSocket;
  /** Tests only: a controllable proven time, faster join timing. */
  client?: Pick<Partial<ClientOptions>, 'timeSource' | 'timing' | 'connection'>;
};

export type Session = {
  /** The page's state now. */
  readonly page: PageState;
  /** Called with the new state after every change. */
  subscribe(listener: (page: PageState) => void): () => void;
  /** The page's own affordances (dialogs, the tab hidden or shown). */
  dispatch(action: Exclude<PageAction, { type: 'view' }>): void;
  /** Runs one line of the command language (after the lines given before it); settles when it ran. */
  run(line: string): Promise<void>;
  /** Whether the identity can be saved to a file (created exportable this visit). */
  readonly canExport: boolean;
  exportIdentity(passphrase: string): Promise<Uint8Array>;
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

const FAILED: ClientEvent = { type: 'error', code: 'E_INTERNAL', message: 'that action failed unexpectedly' };

export async function startSession(o: SessionOptions): Promise<Session> {
  const pins = new PinStore();
  const e2ee = createE2ee({ pins });
  const identity = o.identity ?? (await e2ee.createIdentity({ exportable: o.exportable }));
  const invite = parseInvite(o.link);
  const subprotocol = o.password && invite.ok ? await passwordSubprotocol(o.password, new URL(invite.invite.base).pathname) : undefined;
  const transport = createBrowserTransport({ ...(subprotocol === undefined ? {} : { subprotocol }), ...(o.WebSocketImpl ? { WebSocketImpl: o.WebSocketImpl } : {}) });
  const client = createClient({ ...o.client, transport, e2ee, pins, identity, name: o.name, link: o.link });
  const store = new ViewStore(client);

  let page = initialPage(store.view);
  const listeners = new Set<(page: PageState) => void>();
  const dispatch = (a: PageAction): void => {
    page = reducePage(page, a);
    for (const l of [...listeners]) l(page);
  };
  // Which event answered a command: its dialog then stands in for it in the conversation.
  const seqOf = new WeakMap<ClientEvent, number>();
  store.subscribe((view, stamped) => {
    seqOf.set(stamped.event, stamped.seq);
    dispatch({ type: 'view', view });
  });
  await client.start().catch(() => store.apply(FAILED));

  return {
    get page() {
      return page;
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    dispatch,
    async run(line: string) {
      const quitting = isQuit(line);
      try {
        const out = await client.command(line);
        if (quitting && out.ok) return dispatch({ type: 'ended' });
        const dialog = dialogFor(out);
        if (dialog && out.ok && out.shown) dispatch({ type: 'dialog', dialog, ...withSeq(seqOf.get(out.shown)) });
      } catch {
        store.apply(FAILED);
      }
    },
    canExport: o.identity === undefined && o.exportable,
    exportIdentity: (passphrase) => exportIdentity(identity, passphrase),
  };
}

const withSeq = (seq: number | undefined): { answers?: number } => (seq === undefined ? {} : { answers: seq });
