/**
 * Line mode (line-view.ts) prints each view item once: whatever the view still holds is never
 * printed again, however many lines came since (i13 attack review, finding 5; the same on the
 * real relay in scenarios/i13-attack.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { initialView, reduceView, type ClientEvent, type View } from '@safehouse/core/client';
import { LinePrinter } from './line-view.js';

const message = (room: string, id: string, from: string, text: string): ClientEvent => ({
  type: 'message',
  id,
  room,
  roomName: room,
  from,
  fingerprint: `${from}-fp`,
  text,
  ts: 0,
  direct: false,
});

describe('LinePrinter', () => {
  it('aFloodInOneRoomDoesNotPrintWhatAQuietRoomStillHoldsAgain', { timeout: 120_000 }, () => {
    const printed: string[] = [];
    const printer = new LinePrinter((t) => printed.push(t));
    let view: View = initialView('alice');
    let seq = 0;
    const apply = (event: ClientEvent): void => {
      const stamped = { seq: ++seq, at: 0, event };
      view = reduceView(view, stamped);
      printer.update(view, stamped);
    };
    apply({ type: 'joined', room: 'quiet', roomName: 'quiet', name: 'alice', fingerprint: 'alice-fp', direct: false });
    apply({ type: 'current', room: 'quiet' });
    apply(message('quiet', 'q1', 'bob', 'the meeting is at five'));
    apply({ type: 'joined', room: 'loud', roomName: 'loud', name: 'alice', fingerprint: 'alice-fp', direct: false });
    for (let i = 0; i < 20_050; i++) apply(message('loud', `x${i}`, 'mallory', `x${i}`));
    expect(printed.filter((l) => l.includes('<bob> the meeting is at five'))).toHaveLength(1);
    expect(printed.filter((l) => l.includes('you are in quiet'))).toHaveLength(1);
  });
});
