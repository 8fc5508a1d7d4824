/**
 * The key-change warning: a red box across the top while a member's key is not the one this
 * device pinned for that name (core's `keyWarnings`), until the user compares safety numbers
 * (/verify NAME) or accepts the new key (/trust NAME); Esc hides it until another key changes,
 * the status bar and the member list keep saying so. A relay that swaps a key must not go
 * unnoticed.
 */
import { Box, Text } from 'ink';
import type { KeyWarning } from './pane.js';
import { nameText } from './text.js';
import { wrapText } from './wrap.js';

export function bannerLines(warnings: readonly KeyWarning[], cols: number): string[] {
  const inner = Math.max(10, cols - 4);
  const names = warnings.map((w) => nameText(w.name));
  const who = warnings.map((w) => `${nameText(w.name)} (in ${nameText(w.roomName)})`).join(', ');
  const first = names[0] ?? 'NAME';
  // A verified key that changed blocks the room: nothing is sent there until then (core: send.ts).
  const blocked = [...new Set(warnings.filter((w) => w.blocked).map((w) => nameText(w.roomName)))];
  const held = blocked.length === 0 ? '' : ` Nothing is sent to ${blocked.join(', ')} until then.`;
  const text = `⚠ KEY CHANGED: ${who} ${warnings.length === 1 ? 'has' : 'have'} a new key. It may be a new device — or someone in the middle. Compare safety numbers: /verify ${first}; or accept: /trust ${first}.${held} Esc hides this.`;
  return wrapText(text, inner).slice(0, 4);
}

/** Rows the banner takes (0 without warnings to show). */
export function bannerHeight(warnings: readonly KeyWarning[], cols: number): number {
  return warnings.length === 0 ? 0 : bannerLines(warnings, cols).length + 2;
}

export function Banner({ warnings, width }: { warnings: readonly KeyWarning[]; width: number }) {
  const lines = bannerLines(warnings, width);
  return (
    <Box
      flexDirection="column"
      width={width}
      height={lines.length + 2}
      borderStyle="double"
      borderColor="redBright"
      paddingX={1}
      flexShrink={0}
    >
      {lines.map((l, i) => (
        <Text key={i} color="redBright" bold wrap="truncate-end">
          {l}
        </Text>
      ))}
    </Box>
  );
}
