/** A QR code of `text`, as SVG elements (ui/qr.ts), with a text label for screen readers. */
import { useMemo } from 'preact/hooks';
import { qrPath } from './qr.js';

export function Qr({ text, label }: { text: string; label: string }) {
  const { size, d } = useMemo(() => qrPath(text), [text]);
  return (
    <svg class="qr" viewBox={`0 0 ${size} ${size}`} role="img" aria-label={label} shape-rendering="crispEdges">
      <rect width={size} height={size} fill="#fff" />
      <path d={d} fill="#000" />
    </svg>
  );
}
