/**
 * Protocol limits. Each default is declared here, once, with the reason for its value; the
 * relay and the clients read them from here (the relay may be configured lower, never higher
 * than a client accepts).
 */
export const LIMITS = {
  /** Largest WebSocket message either side accepts (THREATS A.1). A Welcome carrying the
   *  ratchet tree of a ~200-member room is ~60 KiB of binary, so 64 KiB is the floor. */
  maxFrameBytes: 64 * 1024,
  /** Largest JSON header in a frame; it holds ids and numbers only. Checked before parsing. */
  maxHeaderBytes: 1024,
  /** Deepest nesting a header may have; checked on the raw bytes before JSON.parse (A.4). */
  maxHeaderDepth: 3,
  /** Largest message text a client accepts to send, in UTF-8 bytes. */
  maxTextBytes: 16 * 1024,
  /** Rooms one connection may subscribe to at once. */
  maxRoomsPerConnection: 64,
  /** Join requests waiting for a Welcome on one connection. */
  maxPendingJoinsPerConnection: 8,
  /** Length of ids (room, message, join request, session) in base64url characters: 16 bytes. */
  idChars: 22,
  /** Display names: characters after normalisation. */
  maxNameChars: 32,
  /** Roughtime packets carried through the relay (`rt` frames): a request is at least 1,024 bytes
   *  (RFC 10049 §5.1) and a reply never larger than its request (§9.7); 1,280 leaves room. */
  maxRoughtimeBytes: 1280,
  /** Longest message time-to-live (`/ttl`): 7 days. */
  maxTtlMs: 7 * 86_400_000,
} as const;

export const PROTOCOL_VERSION = 1 as const;
