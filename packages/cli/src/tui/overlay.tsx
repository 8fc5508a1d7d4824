/**
 * A QR code over the chat (an invite link, a fingerprint, a safety number), with its text. A
 * scanner needs the whole code on screen: when the terminal is too small, this says how large
 * it must be instead of showing a cut code. The code is drawn light-on-dark whatever the
 * terminal's colors, as scanners expect.
 */
import { Box, Text } from 'ink';
import type { Overlay } from './pane.js';
import { qrText } from './qr.js';
import { lineText, nameText } from './text.js';
import { digitGroups, wrapText } from './wrap.js';

const BACK = 'Esc, Enter or q goes back to the chat';

/** The QR code of a room's invite link (after `/invite` or `/room create`); `c` copies the link. */
export function inviteOverlay(roomName: string, link: string): Overlay {
  const shown = lineText(link.slice(0, 2048));
  return {
    title: `Invite to ${nameText(roomName)}`,
    text: ['Share privately: whoever holds this link can ask to join.', shown],
    qr: qrText(link),
    footer: `c copies the link · ${BACK}`,
    copy: shown,
  };
}

/** The QR code of this device's fingerprint (after `/fingerprint`). */
export function fingerprintOverlay(name: string, fingerprint: string): Overlay {
  const digits = lineText(fingerprint);
  return {
    title: `Your fingerprint (${nameText(name)})`,
    text: digitGroups(digits),
    qr: qrText(digits.replace(/ /g, '')),
    footer: BACK,
  };
}

/** The QR code of a safety number (after `/verify NAME` or `/safety NAME`). */
export function safetyOverlay(name: string, safetyNumber: string): Overlay {
  const who = nameText(name);
  const digits = lineText(safetyNumber);
  return {
    title: `Safety number with ${who}`,
    text: [...digitGroups(digits), `${who} scans this, or reads the digits aloud.`],
    qr: qrText(digits.replace(/ /g, '')),
    footer: BACK,
  };
}

/** After `c`: says what happened (a terminal may refuse programs the clipboard). */
export function copiedOverlay(overlay: Overlay): Overlay {
  return { ...overlay, footer: 'sent to the clipboard (if this terminal lets programs set it) · Esc goes back' };
}

/** `chrome`: the terminal rows around this view (status bar, input line). */
export function OverlayView({
  overlay,
  width,
  height,
  chrome,
}: {
  overlay: Overlay;
  width: number;
  height: number;
  chrome: number;
}) {
  const { qr } = overlay;
  const text = overlay.text.flatMap((t) => wrapText(t, Math.max(10, width - 2)));
  const fits = qr.cols <= width && qr.rows + 2 <= height;
  const withText = fits && qr.rows + 2 + text.length <= height;
  const lines: { text: string; qr?: boolean; bold?: boolean; dim?: boolean }[] = [{ text: overlay.title, bold: true }];
  if (fits) {
    for (const l of qr.lines) lines.push({ text: l, qr: true });
    if (withText) for (const t of text) lines.push({ text: t });
  } else {
    const why = `The QR code needs a terminal of ${qr.cols}×${qr.rows + 2 + chrome}; this one is ${width}×${height + chrome}. Enlarge it to see the code.`;
    for (const t of wrapText(why, Math.max(10, width - 2))) lines.push({ text: t, dim: true });
    for (const t of text) lines.push({ text: t });
  }
  lines.push({ text: overlay.footer, dim: true });
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden" alignItems="center">
      {lines.slice(0, height).map((l, i) => (
        <Text
          key={i}
          wrap="truncate-end"
          bold={l.bold}
          dimColor={l.dim}
          {...(l.qr ? { color: 'white', backgroundColor: 'black' } : {})}
        >
          {l.text}
        </Text>
      ))}
    </Box>
  );
}
