/**
 * The key-change warning: a red box across the top that stays until the user compares safety
 * numbers (/verify NAME) or accepts the new key (/trust NAME); Esc hides it, the status bar and
 * the member list keep saying so. A relay that swaps a key must not go unnoticed.
 */
import { Box, Text } from 'ink';
import type { KeyWarning } from './model.js';
import { wrapText } from './wrap.js';

export function bannerLines(warnings: KeyWarning[], cols: number): string[] {
  const inner = Math.max(10, cols - 4);
  const names = warnings.map((w) => w.name);
  const who = warnings.map((w) => `${w.name} (in ${w.roomName})`).join(', ');
  const first = names[0] ?? 'NAME';
  const text = `⚠ KEY CHANGED: ${who} ${warnings.length === 1 ? 'has' : 'have'} a new key. It may be a new device — or someone in the middle. Compare safety numbers: /verify ${first}; or accept: /trust ${first}. Esc hides this.`;
  return wrapText(text, inner).slice(0, 4);
}

/** Rows the banner takes (0 when hidden). */
export function bannerHeight(warnings: KeyWarning[], hidden: boolean, cols: number): number {
  return warnings.length === 0 || hidden ? 0 : bannerLines(warnings, cols).length + 2;
}

export function Banner({ warnings, width }: { warnings: KeyWarning[]; width: number }) {
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
