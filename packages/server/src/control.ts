/**
 * The privileged control channel between `safehouse serve` (its admin console, packages/cli) and
 * the relay. It is an API of the running server object, never a wire frame: nothing a network
 * peer sends can reach it.
 *
 * - `openPrivileged(handlers)`: an in-process connection to the relay (the admin's). Frames go
 *   through the same relay code as any WebSocket's; room policies do not apply to it.
 * - `setPolicy(p)`: what the relay refuses (nack `E_FORBIDDEN`) from every other connection:
 *     announceRoom — `pub kind:app` to that room (`--disable-all`, `--only-admin`);
 *     confine      — `pub`/`join`/`welcome` in any room the privileged connection is not
 *                    subscribed to (`--only-admin`: members reach the admin only).
 * - `joinerHandle(room, joinId)` / `disconnect(handle)`: the relay knows connections, not names.
 *   The admin's client sees a join request (with its join id) and checks the identity in it; the
 *   relay knows which connection sent that request. The handle ties the two, so `/kick` can close
 *   the connection of the identity it removed. A handle goes stale when that member reconnects
 *   (the MLS removal is what really counts: it holds whatever the connection does).
 */
import type { Connection } from './connection.js';
import type { Relay } from './relay.js';
import { OWNER, type PeerSocket, type SocketEvents } from './socket.js';

export type RoomPolicy = {
  /** Only the privileged connection may post application messages to this room. */
  announceRoom?: string;
  /** Other connections may publish, join and admit only in rooms the privileged connection is in. */
  confine?: boolean;
};

/** The same shape as the client's transport handlers (core/client/transport.ts), without importing it. */
export type PrivilegedHandlers = {
  onOpen(): void;
  onFrame(bytes: Uint8Array): void;
  onClose(code: number, reason: string): void;
};
export type PrivilegedConnection = { send(bytes: Uint8Array): void; close(code?: number, reason?: string): void };

export interface ServerControl {
  openPrivileged(handlers: PrivilegedHandlers): PrivilegedConnection;
  setPolicy(policy: RoomPolicy): void;
  /** An opaque handle for the connection that sent the pending join request `joinId` to `room`. */
  joinerHandle(room: string, joinId: string): number | undefined;
  /** Closes that connection (`error E_KICKED`, close 1008). False if it is gone already. */
  disconnect(handle: number): boolean;
}

/**
 * The part of `ws.WebSocket` that `Connection` uses (socket.ts), carried in memory. Frames are
 * delivered in order on the microtask queue (never re-entering the relay), as copies.
 */
class LocalSocket implements PeerSocket {
  [OWNER]: SocketEvents | undefined = undefined;
  readonly extensions = '';
  readonly readyState = 1;
  readonly bufferedAmount = 0;
  #closed = false;

  constructor(
    private readonly toClient: (bytes: Uint8Array) => void,
    private readonly onClosed: (code: number, reason: string) => void,
  ) {}

  send(data: Uint8Array): void {
    if (this.#closed) return;
    const copy = new Uint8Array(data);
    queueMicrotask(() => !this.#closed && this.toClient(copy));
  }

  ping(): void {
    if (!this.#closed) setImmediate(() => this[OWNER]?.ponged(Buffer.alloc(0)));
  }

  /** The in-process client never pings. */
  pong(): void {}

  close(code = 1000, reason = ''): void {
    if (this.#closed) return;
    this.#closed = true;
    setImmediate(() => {
      this.onClosed(code, reason);
      this[OWNER]?.gone();
    });
  }

  terminate(): void {
    this.close(1006, '');
  }

  /** A frame from the in-process client. */
  deliver(bytes: Uint8Array): void {
    if (this.#closed) return;
    const buf = Buffer.from(bytes);
    queueMicrotask(() => !this.#closed && this[OWNER]?.received(buf, true));
  }
}

export function createControl(relay: Relay): ServerControl {
  let privileged: Connection | undefined;
  let policy: RoomPolicy = {};
  const handles = new WeakMap<Connection, number>();
  const byHandle = new Map<number, WeakRef<Connection>>();
  let nextHandle = 1;

  relay.policy = (conn, t, room, kind) => {
    if (conn === privileged || privileged === undefined) return undefined;
    if (t === 'pub' && kind === 'app' && room === policy.announceRoom) return 'E_FORBIDDEN';
    if (policy.confine === true && !relay.isSubscribed(privileged, room)) return 'E_FORBIDDEN';
    return undefined;
  };

  return {
    openPrivileged(handlers: PrivilegedHandlers): PrivilegedConnection {
      if (!relay.canAdmit('in-process')) {
        // Shutting down (or full): refused like any connection, so a reconnecting admin stops here.
        setImmediate(() => handlers.onClose(1001, 'E_SERVER_CLOSING'));
        return { send: () => undefined, close: () => undefined };
      }
      let open = true;
      const socket = new LocalSocket(
        (bytes) => handlers.onFrame(bytes),
        (code, reason) => {
          open = false;
          if (privileged === conn) privileged = undefined;
          handlers.onClose(code, reason);
        },
      );
      const conn = relay.attach(socket, 'in-process');
      privileged = conn;
      setImmediate(() => open && handlers.onOpen());
      return {
        send: (bytes) => socket.deliver(bytes),
        close: (code, reason) => socket.close(code ?? 1000, reason ?? ''),
      };
    },
    setPolicy(p: RoomPolicy): void {
      policy = { ...p };
    },
    joinerHandle(room: string, joinId: string): number | undefined {
      const conn = relay.joinOwner(room, joinId);
      if (!conn) return undefined;
      let h = handles.get(conn);
      if (h === undefined) {
        h = nextHandle++;
        handles.set(conn, h);
        byHandle.set(h, new WeakRef(conn));
      }
      return h;
    },
    disconnect(handle: number): boolean {
      const conn = byHandle.get(handle)?.deref();
      byHandle.delete(handle);
      if (!conn || conn === privileged || conn.state === 'closed' || conn.state === 'closing') return false;
      conn.fail('E_KICKED', 1008, true);
      return true;
    },
  };
}
