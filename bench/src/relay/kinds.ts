/**
 * The relays the bench runs: `ours` (the real server), `baseline` (plain `ws`, baseline.ts) and
 * `uws` (uWebSockets.js, uws.ts). Its own module, because server-proc.ts starts a relay when it
 * is loaded: the parent imports this list, never that file.
 */
export const SERVER_KINDS = ['ours', 'baseline', 'uws'] as const;
export type ServerKind = (typeof SERVER_KINDS)[number];

/** How the tables name each relay. */
export const KIND_NAMES: Readonly<Record<ServerKind, string>> = { ours: 'ours', baseline: 'ws', uws: 'uWS' };
