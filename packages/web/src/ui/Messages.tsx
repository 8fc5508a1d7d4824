/**
 * A room's lines: messages (own ones echoed), join/leave and other notices, a "new messages"
 * marker. Everything here is a text node: a peer's `<script>` is shown, not run.
 */
import { useEffect, useRef } from 'preact/hooks';
import type { Line } from '../state.js';
import { clock, colourClass, shown, shownMessage } from './text.js';

function Message({ line }: { line: Extract<Line, { kind: 'message' }> }) {
  const who = <span class={`from ${colourClass(line.fingerprint)}`} title={`fingerprint ${line.fingerprint}`}>{shown(line.from)}</span>;
  return (
    <li class={line.self ? 'msg self' : 'msg'}>
      <time dateTime={new Date(line.ts).toISOString()}>{clock(line.ts)}</time>
      {line.untimed === true && (
        <span class="untimed" title="sent without the room's message timer: a manipulated client, or a member kept from the timer; this device timed it itself" aria-label="sent without the room's timer">
          ⚠ untimed
        </span>
      )}
      {line.expiresAt !== undefined && (
        <span class="timer" title={`disappears at ${new Date(line.expiresAt).toLocaleString()} (recipients can still copy it)`} aria-label="timed message">
          ⏱
        </span>
      )}
      {line.action ? (
        <span class="text action">
          * {who} {shownMessage(line.text)}
        </span>
      ) : (
        <>
          {who}
          <span class="text">{shownMessage(line.text)}</span>
        </>
      )}
    </li>
  );
}

export function Messages({ lines, markerAt, label }: { lines: Line[]; markerAt: number | undefined; label: string }) {
  const list = useRef<HTMLOListElement>(null);
  const stick = useRef(true);
  useEffect(() => {
    const el = list.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [lines]);
  return (
    <ol
      ref={list}
      class="lines"
      aria-label={label}
      aria-live="polite"
      tabIndex={0}
      onScroll={(e) => {
        const el = e.currentTarget;
        stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
      }}
    >
      {lines.map((line, i) => (
        <>
          {i === markerAt && (
            <li key={`marker-${line.key}`} class="marker" role="separator">
              New messages
            </li>
          )}
          {line.kind === 'message' ? (
            <Message key={line.key} line={line} />
          ) : (
            <li key={line.key} class={`notice ${line.tone}`}>
              <time dateTime={new Date(line.ts).toISOString()}>{clock(line.ts)}</time>
              <span class="text">{shownMessage(line.text)}</span>
            </li>
          )}
        </>
      ))}
    </ol>
  );
}
