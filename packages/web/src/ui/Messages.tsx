/**
 * A room's conversation as the view gives it (state.ts `conversation`): messages (own ones
 * echoed), notices in the view's wording, answers such as `/users`, and a "new messages" marker.
 * Everything here is a text node: a peer's `<script>` is shown, not run.
 */
import { itemKey, type BlockItem, type MessageItem, type NoticeItem, type ViewItem } from '@safehouse/core/client';
import { Fragment } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { clock, colourClass, shown, shownMessage } from './text.js';

function Message({ item }: { item: MessageItem }) {
  const who = <span class={`from ${colourClass(item.fingerprint)}`} title={`fingerprint ${item.fingerprint}`}>{shown(item.from)}</span>;
  return (
    <li class={item.self ? 'msg self' : 'msg'}>
      <time dateTime={new Date(item.ts).toISOString()}>{clock(item.ts)}</time>
      {item.untimed === true && (
        <span class="untimed" title="sent without the room's message timer: a manipulated client, or a member kept from the timer; this device timed it itself" aria-label="sent without the room's timer">
          ⚠ untimed
        </span>
      )}
      {item.expiresAt !== undefined && (
        <span class="timer" title={`disappears at ${new Date(item.expiresAt).toLocaleString()} (recipients can still copy it)`} aria-label="timed message">
          ⏱
        </span>
      )}
      {item.action ? (
        <span class="text action">
          * {who} {shownMessage(item.text)}
        </span>
      ) : (
        <>
          {who}
          <span class="text">{shownMessage(item.text)}</span>
        </>
      )}
    </li>
  );
}

function Notice({ item }: { item: NoticeItem }) {
  return (
    <li class={`notice ${item.tone}`}>
      <time dateTime={new Date(item.at).toISOString()}>{clock(item.at)}</time>
      <span class="text">{shownMessage(item.text)}</span>
    </li>
  );
}

/** An answer with a title over a list (`/users`, `/rooms`, a fingerprint). */
function Block({ item }: { item: BlockItem }) {
  return (
    <li class={`notice block ${item.tone}`}>
      <time dateTime={new Date(item.at).toISOString()}>{clock(item.at)}</time>
      <div class="text">
        {shownMessage(item.title)}
        <ul>
          {item.lines.map((line, i) => (
            <li key={i}>{shownMessage(line)}</li>
          ))}
        </ul>
      </div>
    </li>
  );
}

function Item({ item }: { item: ViewItem }) {
  switch (item.kind) {
    case 'message':
      return (
        <>
          {item.gap !== undefined && item.gap > 0 && (
            <li class="notice warn">
              <time dateTime={new Date(item.at).toISOString()}>{clock(item.at)}</time>
              <span class="text">
                {item.gap} earlier message{item.gap === 1 ? '' : 's'} from {shown(item.from)} did not arrive (dropped or delayed)
              </span>
            </li>
          )}
          <Message item={item} />
        </>
      );
    case 'notice':
      return <Notice item={item} />;
    case 'block':
      return <Block item={item} />;
    default: {
      const never: never = item;
      return never;
    }
  }
}

/** `markerBefore`: the key (`itemKey`) of the first unread message, where "New messages" goes. */
export function Messages({ items, markerBefore, label }: { items: ViewItem[]; markerBefore: string | undefined; label: string }) {
  const list = useRef<HTMLOListElement>(null);
  const stick = useRef(true);
  useEffect(() => {
    const el = list.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [items]);
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
      {items.map((item) => {
        const key = itemKey(item);
        return (
          <Fragment key={key}>
            {key === markerBefore && (
              <li class="marker" role="separator">
                New messages
              </li>
            )}
            <Item item={item} />
          </Fragment>
        );
      })}
    </ol>
  );
}
