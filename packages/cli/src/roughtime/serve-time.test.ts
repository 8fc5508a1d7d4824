/** `safehouse serve --roughtime-port/--roughtime-key-file/--roughtime-upstream` (serve-time.ts). */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ed25519PublicKey } from '@safehouse/core/roughtime';
import { silentLogger } from '@safehouse/server';
import { startServeTime } from './serve-time.js';

const dir = mkdtempSync(join(tmpdir(), 'safehouse-rt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('serve --roughtime-*', () => {
  it('keepsTheKeyFromTheKeyFileAndListsItsOwnServerFirst', async () => {
    const seed = new Uint8Array(32).fill(5);
    const file = join(dir, 'key');
    writeFileSync(file, Buffer.from(seed).toString('base64') + '\n');
    const rt = await startServeTime({ host: '127.0.0.1', roughtimePort: '0', roughtimeKeyFile: file, roughtimeUpstream: ['10.0.0.9:2002'] }, silentLogger);
    try {
      expect(rt.server?.spec.endsWith(Buffer.from(ed25519PublicKey(seed)).toString('base64'))).toBe(true);
      expect(rt.upstreams).toEqual([{ host: '127.0.0.1', port: rt.server!.port }, { host: '10.0.0.9', port: 2002 }]);
    } finally {
      await rt.server?.close();
    }
  });

  it('withoutAPortRunsNoServerButKeepsUpstreams', async () => {
    const rt = await startServeTime({ host: '127.0.0.1', roughtimeUpstream: ['[::1]:2002'] }, silentLogger);
    expect(rt.server).toBeUndefined();
    expect(rt.upstreams).toEqual([{ host: '::1', port: 2002 }]);
  });

  it('refusesBadOptionsWithASentence', async () => {
    const bad = join(dir, 'bad');
    writeFileSync(bad, 'not a key');
    const cases: [Parameters<typeof startServeTime>[0], RegExp][] = [
      [{ host: '127.0.0.1', roughtimePort: '70000' }, /--roughtime-port expects/],
      [{ host: '127.0.0.1', roughtimePort: '0', roughtimeKeyFile: bad }, /32 bytes in base64/],
      [{ host: '127.0.0.1', roughtimePort: '0', roughtimeKeyFile: join(dir, 'missing') }, /cannot read/],
      [{ host: '127.0.0.1', roughtimeKeyFile: bad }, /needs --roughtime-port/],
      [{ host: '127.0.0.1', roughtimeUpstream: ['nowhere'] }, /--roughtime-upstream expects HOST:PORT/],
      [{ host: '0.0.0.0', roughtimePort: '0' }, /not a loopback address/],
    ];
    for (const [opts, message] of cases) await expect(startServeTime(opts, silentLogger), JSON.stringify(opts)).rejects.toThrow(message);
  });
});
