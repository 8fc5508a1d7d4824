/**
 * Where peer text becomes screen text (THREATS D.23). The view holds what peers sent as it came
 * (names, room names, messages, and the client's sentences that quote them): every drawing
 * function passes it through one of these before it is measured or drawn, so nothing a peer
 * sends reaches the terminal as a control sequence.
 */
import { safeText } from '@safehouse/core/client';

/** A name or a room name (a name has at most 32 characters: more is not a name). */
export const nameText = (x: string): string => safeText(x, { maxChars: 200 });

/** A sentence from the client (it may quote a name, a fingerprint or a link). */
export const lineText = (x: string): string => safeText(x, { maxChars: 2048 });

/** A message's text: its own lines kept. */
export const bodyText = (x: string): string => safeText(x, { multiline: true });
