/**
 * The message pane: the last `height` screen lines of the current room, or older ones when
 * scrolled back (PageUp); a marker says how much is below. Lines arrive laid out (lines.ts) at
 * this pane's width, so nothing here wraps: each line is exactly one row.
 */
import { Box, Text } from 'ink';
import type { ScreenLine } from './lines.js';

type Props = { lines: ScreenLine[]; width: number; height: number; scroll: number };

/** The largest useful scroll offset (lines from the bottom). */
export function maxScroll(total: number, height: number): number {
  return Math.max(0, total - height);
}

export function Row({ line, width }: { line: ScreenLine; width: number }) {
  return (
    <Box width={width} height={1} overflow="hidden">
      <Text wrap="truncate-end">
        {line.length === 0
          ? ' '
          : line.map((s, i) => (
              <Text key={i} color={s.color} bold={s.bold} dimColor={s.dim} italic={s.italic} inverse={s.inverse}>
                {s.text}
              </Text>
            ))}
      </Text>
    </Box>
  );
}

export function Messages({ lines, width, height, scroll }: Props) {
  const off = Math.min(scroll, maxScroll(lines.length, height));
  const rows = off > 0 ? height - 1 : height;
  const end = lines.length - off;
  const shown = lines.slice(Math.max(0, end - rows), end);
  return (
    <Box flexDirection="column" width={width} height={height}>
      {shown.length < rows && <Box height={rows - shown.length} />}
      {shown.map((l, i) => (
        <Row key={i} line={l} width={width} />
      ))}
      {off > 0 && (
        <Row
          line={[{ text: `── ${off} more line${off === 1 ? '' : 's'} below: PageDown ──`, color: 'yellow' }]}
          width={width}
        />
      )}
    </Box>
  );
}
