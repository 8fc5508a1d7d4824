/**
 * The Roughtime packet (RFC 10049 §5, drafts 08+): the uint64 0x4d49544847554f52 ("ROUGHTIM"
 * in ASCII), a uint32 length of the message that follows, then the message (§4). Google's
 * original protocol sends the bare message with no frame.
 */
import { abytes, bytesEqual, concat, readU32, u32 } from './bytes.js';
import { parseMessage, type ParseMessageResult } from './tags.js';
import { reject, type Rejected } from './result.js';

export const FRAME_MAGIC: Uint8Array = new Uint8Array([0x52, 0x4f, 0x55, 0x47, 0x48, 0x54, 0x49, 0x4d]); // "ROUGHTIM"
export const FRAME_HEADER_BYTES = 12;

/**
 * Largest packet we parse: 65,535 bytes. A UDP datagram cannot carry more, a reply is never
 * larger than its request (§9.7, amplification), and our requests are 1,024 bytes.
 */
export const MAX_PACKET_BYTES = 65_535;

/** Wraps a message in the ROUGHTIM frame. */
export function framePacket(message: Uint8Array): Uint8Array {
  abytes('message', message);
  return concat(FRAME_MAGIC, u32(message.length), message);
}

export type UnframeResult = { readonly ok: true; readonly message: Uint8Array } | Rejected;

/** Strips the frame. The declared length must match the rest of the packet exactly. */
export function unframePacket(packet: Uint8Array): UnframeResult {
  if (!(packet instanceof Uint8Array)) return reject('E_USAGE', '"packet" expected Uint8Array');
  if (packet.length > MAX_PACKET_BYTES)
    return reject('E_ROUGHTIME_FRAMING', `packet of ${packet.length} bytes exceeds ${MAX_PACKET_BYTES}`);
  if (packet.length < FRAME_HEADER_BYTES)
    return reject('E_ROUGHTIME_FRAMING', `packet of ${packet.length} bytes is shorter than the 12-byte frame header`);
  if (!bytesEqual(packet.subarray(0, FRAME_MAGIC.length), FRAME_MAGIC))
    return reject('E_ROUGHTIME_FRAMING', 'packet does not start with "ROUGHTIM"');
  const declared = readU32(packet, 8);
  const actual = packet.length - FRAME_HEADER_BYTES;
  if (declared !== actual)
    return reject('E_ROUGHTIME_FRAMING', `frame declares ${declared} message bytes, packet carries ${actual}`);
  return { ok: true, message: packet.subarray(FRAME_HEADER_BYTES) };
}

/** Unframes (when `framed`) and parses the top-level message of a packet. */
export function parsePacket(packet: Uint8Array, framed: boolean): ParseMessageResult {
  if (!(packet instanceof Uint8Array)) return reject('E_USAGE', '"packet" expected Uint8Array');
  if (!framed) {
    if (packet.length > MAX_PACKET_BYTES)
      return reject('E_ROUGHTIME_FRAMING', `packet of ${packet.length} bytes exceeds ${MAX_PACKET_BYTES}`);
    return parseMessage(packet);
  }
  const un = unframePacket(packet);
  return un.ok ? parseMessage(un.message) : un;
}

/** True when the packet starts with the ROUGHTIM magic (IETF framing) rather than a bare message. */
export function isFramed(packet: Uint8Array): boolean {
  if (!(packet instanceof Uint8Array) || packet.length < FRAME_MAGIC.length) return false;
  return bytesEqual(packet.subarray(0, FRAME_MAGIC.length), FRAME_MAGIC);
}
