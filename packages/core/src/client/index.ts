export { createClient, type ClientOptions, type SafehouseClient } from './client.js';
export type { ClientEvent, ClientEventType, ConnectionState, Listener, MemberInfo, RoomInfo, UserInfo } from './events.js';
export type { CommandOutcome } from './dispatch.js';
export { COMMAND_HELP, isQuit, parseCommand, type Command, type CommandHelp, type ParseResult } from './commands.js';
export { checkNameAvailable, nameSkeleton, normalizeName, type NameCheck, type NameResult } from './names.js';
export { safeText, type SafeTextOptions } from './safe-text.js';
export { createManualClock, systemClock, type Clock, type ManualClock, type TimerId } from './clock.js';
export type { CloseInfo, OpenOptions, Transport, TransportConnection, TransportHandlers } from './transport.js';
export { backoffDelay, CONNECTION_DEFAULTS } from './connection.js';
export { TIMING_DEFAULTS, type JoinCandidate, type Timing } from './context.js';
export type { RefusalCode } from './envelope.js';
export { ExpiryKeeper, EXPIRY_DEFAULTS, type TimeSource } from './expiry.js';
export { formatDuration } from './duration.js';
export { ttlText, COPY_CAVEAT } from './ttl.js';
export { parseDuration } from './commands.js';
export { RelayTimeQuery, RELAY_TIME_TIMEOUT_MS, relayTimeServers } from './relay-time.js';
export {
  initialView,
  messageKey,
  reduceView,
  VIEW_LIMITS,
  type BlockItem,
  type MessageItem,
  type NoticeItem,
  type Stamped,
  type Tone as ViewTone,
  type View,
  type ViewItem,
  type ViewRoom,
} from './view.js';
export { currentRoom, isShown, itemKey, keyWarnings, roomList, timeline, unreadCount, ViewStore } from './view-select.js';
