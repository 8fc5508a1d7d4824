/**
 * The message field: a plain line is a message, `/…` a command (the same language as the
 * terminal: /help lists it). Enter sends; Shift+Enter starts a new line.
 */
import { useEffect, useRef, useState } from 'preact/hooks';

export function Composer({ placeholder, onSend, prefill }: { placeholder: string; onSend: (line: string) => void; prefill: { text: string; n: number } | undefined }) {
  const [text, setText] = useState('');
  const field = useRef<HTMLTextAreaElement>(null);
  // Focus is here once the chat opens (autofocus applies once per document: the name field had it).
  useEffect(() => field.current?.focus(), []);
  // A button elsewhere (a member's "Message") starts a line here: `/msg NAME `.
  useEffect(() => {
    if (!prefill) return;
    setText(prefill.text);
    field.current?.focus();
  }, [prefill?.n]);
  const send = () => {
    if (text.trim() === '') return;
    onSend(text);
    setText('');
  };
  return (
    <form
      class="composer"
      onSubmit={(e) => {
        e.preventDefault();
        send();
      }}
    >
      <textarea
        ref={field}
        id="message"
        aria-label="Message"
        rows={1}
        maxLength={4000}
        placeholder={placeholder}
        value={text}
        onInput={(e) => setText(e.currentTarget.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
            e.preventDefault();
            send();
          }
        }}
      />
      <button type="submit" class="primary">
        Send
      </button>
    </form>
  );
}
