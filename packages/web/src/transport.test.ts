/** The browser transport (transport.ts) over a fake WebSocket: binary only, one close, no fragment. */
import { describe, expect, it, vi } from 'vitest';
import type { TransportHandlers } from '@safehouse/core/client';
import { checkRelayUrl, createBrowserTransport } from './transport.js';

class FakeWebSocket {
  static last: FakeWebSocket | undefined;
  binaryType = 'blob';
  readyState = 0;
  bufferedAmount = 0;
  sent: unknown[] = [];
  closed: [number | undefined, string | undefined] | undefined;
  onopen: (() => void) | null = null;
  onmessage: ((e: { data: unknown }) => void) | null = null;
  onerror: (() => void) | null = null;
  onclose: ((e: { code: number; reason: string }) => void) | null = null;
  constructor(
    readonly url: string,
    readonly protocols: string[] = [],
  ) {
    FakeWebSocket.last = this;
  }
  send(b: unknown) {
    this.sent.push(b);
  }
  close(code?: number, reason?: string) {
    this.closed = [code, reason];
    this.readyState = 2;
  }
  open() {
    this.readyState = 1;
    this.onopen?.();
  }
  end(code: number) {
    this.readyState = 3;
    this.onclose?.({ code, reason: '' });
  }
}

function handlers() {
  return { onOpen: vi.fn(), onFrame: vi.fn(), onClose: vi.fn() } satisfies TransportHandlers;
}

const transport = () => createBrowserTransport({ WebSocketImpl: FakeWebSocket as unknown as typeof WebSocket, maxPayload: 8 });

describe('browser transport', () => {
  it('asks for array buffers, passes binary frames, sends bytes, closes once', () => {
    const h = handlers();
    const conn = transport().open('ws://127.0.0.1:1/base/ws', h);
    const ws = FakeWebSocket.last!;
    expect(ws.binaryType).toBe('arraybuffer');
    ws.open();
    expect(h.onOpen).toHaveBeenCalledOnce();
    ws.onmessage!({ data: new Uint8Array([1, 2]).buffer });
    expect(h.onFrame).toHaveBeenCalledWith(new Uint8Array([1, 2]));
    conn.send(new Uint8Array([3]));
    expect(ws.sent).toHaveLength(1);
    conn.close(1000, 'bye');
    ws.end(1000);
    expect(h.onClose).toHaveBeenCalledOnce();
  });

  it('closes on a text frame (1003) and on an oversized frame (1009), passing neither on', () => {
    const h = handlers();
    transport().open('ws://127.0.0.1:1/base/ws', h);
    const ws = FakeWebSocket.last!;
    ws.open();
    ws.onmessage!({ data: 'text' });
    expect(ws.closed?.[0]).toBe(1003);
    ws.onmessage!({ data: new Uint8Array(9).buffer });
    expect(ws.closed?.[0]).toBe(1009);
    expect(h.onFrame).not.toHaveBeenCalled();
  });

  it('never opens a URL that carries a fragment, or is not ws(s)', async () => {
    expect(checkRelayUrl('ws://h/base/ws')).toBeUndefined();
    expect(checkRelayUrl('wss://h/base/ws')).toBeUndefined();
    expect(checkRelayUrl('ws://h/base/ws#k=secret')).toMatch(/fragment/);
    expect(checkRelayUrl('http://h/base/ws')).toMatch(/ws:/);
    FakeWebSocket.last = undefined;
    const h = handlers();
    transport().open('ws://h/base/ws#k=secret', h);
    expect(FakeWebSocket.last).toBeUndefined();
    await Promise.resolve();
    expect(h.onClose).toHaveBeenCalledWith(1006, expect.stringMatching(/fragment/));
  });

  it('opens the URL of each try, one transport for every relay of a link; a pin is left to the browser (a page cannot check one)', () => {
    const t = transport();
    const urls = ['ws://a.lan:8090/base/ws', 'wss://b.lan:8443/base/ws'].map((url) => {
      t.open(url, handlers(), { certFingerprint: new Uint8Array(32) });
      return FakeWebSocket.last!.url;
    });
    expect(urls).toEqual(['ws://a.lan:8090/base/ws', 'wss://b.lan:8443/base/ws']);
    expect(FakeWebSocket.last!.protocols).toEqual([]);
  });

  it('asks for the password subprotocol only when given one', () => {
    transport().open('ws://h/base/ws', handlers());
    expect(FakeWebSocket.last!.protocols).toEqual([]);
    createBrowserTransport({ WebSocketImpl: FakeWebSocket as unknown as typeof WebSocket, subprotocol: 'safehouse.abc' }).open('ws://h/base/ws', handlers());
    expect(FakeWebSocket.last!.protocols).toEqual(['safehouse.abc']);
  });

  it('a close code a page may not send becomes 1000', () => {
    const conn = transport().open('ws://h/base/ws', handlers());
    const ws = FakeWebSocket.last!;
    ws.open();
    conn.close(1001, 'going');
    expect(ws.closed).toEqual([1000, 'going']);
  });
});
