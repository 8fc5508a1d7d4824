/**
 * `safehouse serve --roughtime-port N [--roughtime-key-file FILE] [--roughtime-upstream HOST:PORT]...`:
 * starts Safehouse's own Roughtime server (UDP, same bind rule as the relay) and gives the
 * relay its list of servers to carry browsers' requests to: its own first (number 0), then the
 * upstreams in the order given. The key file holds a 32-byte Ed25519 seed in base64 (e.g.
 * `head -c 32 /dev/urandom | base64 > FILE`); without one the key is random per start.
 */
import { readFile } from 'node:fs/promises';
import { UsageError } from '@safehouse/core/protocol';
import { parseAddress } from '@safehouse/core/roughtime';
import { startRoughtimeServer, type Logger, type RunningRoughtimeServer, type Upstream } from '@safehouse/server';

export interface ServeTimeOptions {
  host: string;
  public?: boolean;
  roughtimePort?: string;
  roughtimeKeyFile?: string;
  roughtimeUpstream?: string[];
}

export type ServeTime = { server: RunningRoughtimeServer | undefined; upstreams: Upstream[] };

async function readSeed(file: string): Promise<Uint8Array> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new UsageError('E_USAGE', `--roughtime-key-file cannot read ${file} (${(e as { code?: string }).code ?? 'error'})`);
  }
  const seed = Buffer.from(text.trim(), 'base64');
  if (seed.length !== 32 || seed.toString('base64') !== text.trim())
    throw new UsageError('E_USAGE', '--roughtime-key-file expects 32 bytes in base64 (head -c 32 /dev/urandom | base64)');
  return new Uint8Array(seed);
}

export async function startServeTime(opts: ServeTimeOptions, logger: Logger): Promise<ServeTime> {
  const upstreams: Upstream[] = (opts.roughtimeUpstream ?? []).map((u) => {
    const a = parseAddress(u);
    if (!a || a.port === 0) throw new UsageError('E_USAGE', `--roughtime-upstream expects HOST:PORT, got "${u}"`);
    return a;
  });
  if (opts.roughtimeKeyFile !== undefined && opts.roughtimePort === undefined)
    throw new UsageError('E_USAGE', '--roughtime-key-file needs --roughtime-port N');
  if (opts.roughtimePort === undefined) return { server: undefined, upstreams };
  const port = Number(opts.roughtimePort);
  if (!/^\d+$/.test(opts.roughtimePort) || port > 65535)
    throw new UsageError('E_USAGE', `--roughtime-port expects a number from 0 to 65535, got "${opts.roughtimePort}"`);
  const seed = opts.roughtimeKeyFile === undefined ? undefined : await readSeed(opts.roughtimeKeyFile);
  const server = await startRoughtimeServer({ host: opts.host, port, allowPublic: opts.public === true, logger, ...(seed ? { seed } : {}) });
  // The relay reaches its own server on loopback when it listens on a wildcard address.
  const own = { host: server.host === '0.0.0.0' ? '127.0.0.1' : server.host === '::' ? '::1' : server.host, port: server.port };
  return { server, upstreams: [own, ...upstreams] };
}
