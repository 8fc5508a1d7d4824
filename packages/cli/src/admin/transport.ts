/**
 * The admin's transport: the server's privileged in-process connection (packages/server
 * control.ts), under the client's `Transport` interface. No socket, no TLS, no password: the
 * admin is the server process itself. The URL is not used.
 */
import type { Transport } from '@safehouse/core/client';
import type { ServerControl } from '@safehouse/server';

export function privilegedTransport(control: ServerControl): Transport {
  return { open: (_url, handlers) => control.openPrivileged(handlers) };
}
