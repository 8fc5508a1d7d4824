/**
 * Roughtime (RFC 10049; drafts 08, 11, 12-19; Google's protocol): the public API of
 * `@safehouse/core/roughtime`. See README.md beside this file for what it must never do.
 */
export {
  RoughtimeVersion,
  DEFAULT_VERSIONS,
  versionProfile,
  isSupportedVersion,
  type VersionProfile,
} from './versions.js';
export { Tag, tagName, tagValue, parseMessage, encodeMessage, RtMessage, type ParseMessageResult } from './tags.js';
export { framePacket, unframePacket, parsePacket, isFramed, FRAME_MAGIC, MAX_PACKET_BYTES } from './packet.js';
export {
  buildRequest,
  srvValue,
  MIN_REQUEST_BYTES,
  type BuildRequestOptions,
  type RoughtimeRequest,
} from './request.js';
export {
  verifyReply,
  DEFAULT_MAX_RADIUS_SECONDS,
  type VerifyReplyInput,
  type VerifyReplyResult,
  type VerifiedReply,
  type TimeInterval,
} from './verify.js';
export {
  anchorInterval,
  boundsAt,
  intersectBounds,
  ProvenClock,
  DEFAULT_DRIFT_PPM,
  DEFAULT_MAX_AGE_MS,
  type AnchoredBounds,
  type CurrentTime,
  type ProvenClockOptions,
} from './bounds.js';
export {
  measure,
  chooseServers,
  type MeasureOptions,
  type MeasureResult,
  type MeasuredLink,
  type LinkOutcome,
  type Malfeasance,
  type RoughtimeQuery,
  type RoughtimeServer,
} from './chain.js';
export {
  buildMalfeasanceReport,
  checkMalfeasanceReport,
  causalViolations,
  chainNonce,
  MALFEASANCE_MEDIA_TYPE,
  type ChainLink,
  type CheckReportResult,
  type MalfeasanceReport,
  type MalfeasanceReportEntry,
} from './malfeasance.js';
export {
  parseRequest,
  createDelegation,
  signReplies,
  respond,
  type Delegation,
  type ServerRequest,
  type SignRepliesOptions,
  type ParseRequestResult,
} from './server.js';
export {
  parseServerList,
  parseAddress,
  SERVER_LIST_MEDIA_TYPE,
  GOOGLE_LIST_VERSION,
  type ListedServer,
  type ServerAddress,
  type ServerList,
  type ParseServerListResult,
} from './serverlist.js';
export { queryRetryDelayMs, reportRetryDelayMs } from './backoff.js';
export { ProvenTimeSource, type TimeSourceOptions } from './timesource.js';
export { ed25519SignerFromSeed, ed25519PublicKey, verifyEd25519, type Ed25519Signer } from './ed25519.js';
export { toError, type Rejected, type RoughtimeRejectCode } from './result.js';
export {
  DEFAULT_SERVER_LIST,
  defaultServers,
  parseServerSpec,
  formatAddress,
  type ParseServerSpecResult,
} from './servers.js';
