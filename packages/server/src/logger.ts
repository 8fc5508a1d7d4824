/**
 * The server's only output channel. By construction it carries event names and numbers, never
 * strings from the network: the field type admits numbers, booleans and error codes only, so a
 * message body, a room id, an invite secret or the base path cannot be logged by accident
 * (THREATS B.15). The CLI prints the invite link itself; the server never does.
 */
import type { ErrorCode } from '@safehouse/core/protocol';

export type LogEvent =
  /** The gate is listening: fields `port`. */
  | 'listening'
  /** `close()` began: fields `connections`. */
  | 'closing'
  /** Everything is closed and wiped. */
  | 'closed'
  /** A connection was dropped for queueing more than `maxBufferedBytes`. */
  | 'slow-consumer'
  /** A connection did not answer a ping in time. */
  | 'dead-peer'
  /** A connection was closed for a sustained flood. */
  | 'rate-abuse'
  /** A connection was closed for a bad frame: fields `code`. */
  | 'protocol-violation'
  /** An unexpected error was caught and contained: fields `code`. */
  | 'internal-error'
  /** The Roughtime UDP server is listening: fields `port`. */
  | 'roughtime-listening'
  /** The Roughtime UDP server stopped: fields `requests`, `replies`, `dropped`. */
  | 'roughtime-closed'
  /** A cluster's relay reached its bus (Redis): fields `relays` (live relays it sees). */
  | 'bus-ready'
  /** A cluster's relay lost its bus: it disconnects its clients until the bus is back; fields `connections`. */
  | 'bus-lost'
  /** The bus is back: the relay serves again. */
  | 'bus-back'
  /** Another relay of the cluster stopped sending heartbeats: its members and join requests no longer count. */
  | 'relay-gone';

export type LogFields = Readonly<Record<string, number | boolean | ErrorCode>>;

export interface Logger {
  info(event: LogEvent, fields?: LogFields): void;
  warn(event: LogEvent, fields?: LogFields): void;
}

function line(level: string, event: LogEvent, fields?: LogFields): string {
  const kv = fields ? Object.entries(fields).map(([k, v]) => ` ${k}=${String(v)}`) : [];
  return `safehouse-server ${level} ${event}${kv.join('')}\n`;
}

/** Writes one line per event to stderr: lifecycle and counts, nothing from the network. */
export const defaultLogger: Logger = {
  info: (event, fields) => void process.stderr.write(line('info', event, fields)),
  warn: (event, fields) => void process.stderr.write(line('warn', event, fields)),
};

/** Writes nothing. */
export const silentLogger: Logger = { info: () => undefined, warn: () => undefined };
