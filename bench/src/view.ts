/**
 * The view every interface draws (core/client/view.ts): what one message costs to reduce into a
 * room that already holds 0, 100 or 2,000 items (its bound), and to print in line mode, against
 * a baseline run side by side: the least any interface must do, appending the message to an
 * immutable list bounded like the view's. The ratio is what matters on a shared machine.
 */
import { initialView, reduceView, VIEW_LIMITS, type ClientEvent, type View } from '@safehouse/core/client';
import { LinePrinter } from '../../packages/cli/src/line-view.js';

export type ViewRow = { held: number; baselineUs: number; viewUs: number; printUs: number; ratio: number };

const message = (i: number): ClientEvent => ({ type: 'message', id: `m${i}`, room: 'room', roomName: 'lobby', from: i % 2 ? 'alice' : 'bob', fingerprint: i % 2 ? 'fp-a' : 'fp-b', text: `message number ${i}`, ts: i, direct: false });

function perMessageUs(n: number, run: (i: number) => void): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) run(i);
  return Number(process.hrtime.bigint() - t0) / n / 1_000;
}

export function viewBench(quick: boolean): ViewRow[] {
  // Few messages per row: the rows differ in how full the room is while they run.
  const n = quick ? 200 : 1_000;
  const rows: ViewRow[] = [];
  for (const held of [0, 100, 2_000]) {
    // Baseline: a bounded list of the same events.
    let list: ClientEvent[] = [];
    for (let i = 0; i < held; i++) list.push(message(i));
    // The same bound as the view's, which a room reaches after 2,000 items.
    const baselineUs = perMessageUs(n, (i) => {
      list = [...list, message(held + i)].slice(-VIEW_LIMITS.itemsPerRoom);
    });
    let view: View = initialView('me');
    let seq = 0;
    for (let i = 0; i < held; i++) view = reduceView(view, { seq: ++seq, at: seq, event: message(i) });
    const viewUs = perMessageUs(n, (i) => {
      view = reduceView(view, { seq: ++seq, at: seq, event: message(held + i) });
    });
    const printer = new LinePrinter(() => undefined);
    const printUs = perMessageUs(n, (i) => {
      const stamped = { seq: ++seq, at: seq, event: message(held + n + i) };
      view = reduceView(view, stamped);
      printer.update(view, stamped);
    });
    rows.push({ held, baselineUs, viewUs, printUs, ratio: viewUs / baselineUs });
  }
  return rows;
}

export function printViewTable(rows: ViewRow[]): void {
  console.log('room holds | baseline µs/msg | view µs/msg | view+line mode µs/msg | view/baseline');
  for (const r of rows)
    console.log(`${String(r.held).padStart(10)} | ${r.baselineUs.toFixed(2).padStart(15)} | ${r.viewUs.toFixed(2).padStart(11)} | ${r.printUs.toFixed(2).padStart(21)} | ${r.ratio.toFixed(2)}×`);
}
