export { createClient, type ClientOptions, type SafehouseClient } from './client.js';
export type { ClientEvent, ClientEventType, ConnectionState, Listener, RoomInfo, UserInfo } from './events.js';
export { COMMAND_HELP, parseCommand, type Command, type CommandHelp, type ParseResult } from './commands.js';
export { checkNameAvailable, nameSkeleton, normalizeName, type NameCheck, type NameResult } from './names.js';
export { safeText, type SafeTextOptions } from './safe-text.js';
export { createManualClock, systemClock, type Clock, type ManualClock, type TimerId } from './clock.js';
export type { Transport, TransportConnection, TransportHandlers } from './transport.js';
export { backoffDelay, CONNECTION_DEFAULTS } from './connection.js';
export { TIMING_DEFAULTS, type Timing } from './context.js';
