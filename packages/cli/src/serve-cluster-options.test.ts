/**
 * `safehouse serve --cluster` refuses what cannot work, with a stable code and a sentence that
 * says what to do (docs/cli.md): no shared base path, options without `--cluster`, a URL that is
 * no Redis URL; the password comes from a file or the environment, never the command line.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startServer, silentLogger } from '@safehouse/server';
import { clusterOptions, type ServeOptions } from './serve.js';

const base: ServeOptions = { host: '127.0.0.1', port: '0' };
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  delete process.env.SAFEHOUSE_CLUSTER_PASSWORD;
});

describe('serve --cluster options', () => {
  it('needs --base-path: the relays of a cluster serve one path', () => {
    expect(() => clusterOptions({ ...base, cluster: 'redis://10.0.0.5:6379' })).toThrow(expect.objectContaining({ code: 'E_USAGE', message: expect.stringContaining('--base-path') }));
  });

  it("refuses a room policy with --cluster: the admin's relay alone would enforce it", () => {
    for (const p of [{ disableAll: true }, { onlyAdmin: true }])
      expect(() => clusterOptions({ ...base, basePath: '/p', cluster: 'redis://h:1', ...p })).toThrow(expect.objectContaining({ code: 'E_USAGE', message: expect.stringContaining('policy') }));
  });

  it('refuses a password in the --cluster URL: the command line is readable by every user (ps)', () => {
    expect(() => clusterOptions({ ...base, basePath: '/p', cluster: 'redis://:hunter2@10.0.0.5:6379' })).toThrow(
      expect.objectContaining({ code: 'E_USAGE', message: expect.not.stringContaining('hunter2') }),
    );
  });

  it('refuses --cluster-password-file or --cluster-ca without --cluster', () => {
    expect(() => clusterOptions({ ...base, clusterCa: 'ca.pem' })).toThrow(expect.objectContaining({ code: 'E_USAGE' }));
    expect(() => clusterOptions({ ...base, clusterPasswordFile: 'pw' })).toThrow(expect.objectContaining({ code: 'E_USAGE' }));
  });

  it('reads the password from the file (first line), else from SAFEHOUSE_CLUSTER_PASSWORD', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sh-cluster-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'pw'), 's3cret\nignored\n');
    expect(clusterOptions({ ...base, basePath: '/p', cluster: 'redis://h:1', clusterPasswordFile: join(dir, 'pw') })).toEqual({ url: 'redis://h:1', password: 's3cret' });
    process.env.SAFEHOUSE_CLUSTER_PASSWORD = 'from-env';
    expect(clusterOptions({ ...base, basePath: '/p', cluster: 'redis://h:1' })).toEqual({ url: 'redis://h:1', password: 'from-env' });
    expect(() => clusterOptions({ ...base, basePath: '/p', cluster: 'redis://h:1', clusterPasswordFile: join(dir, 'missing') })).toThrow(expect.objectContaining({ code: 'E_USAGE' }));
  });

  it('a URL that is no Redis URL is refused before anything listens (the password never in the message)', async () => {
    for (const url of ['http://h:1', 'redis:/h', 'unix://relative/path', 'redis://user:hunter2@h:1 x'])
      await expect(startServer({ port: 0, basePath: '/p', logger: silentLogger, cluster: { url } })).rejects.toThrow(
        expect.objectContaining({ code: 'E_USAGE', message: expect.not.stringContaining('hunter2') }),
      );
  });

  it('a Redis that cannot be reached: E_CONNECT, saying where (without the password)', async () => {
    await expect(startServer({ port: 0, basePath: '/p', logger: silentLogger, cluster: { url: 'unix:///nonexistent/redis.sock' } })).rejects.toThrow(
      expect.objectContaining({ code: 'E_CONNECT', message: expect.stringContaining('/nonexistent/redis.sock') }),
    );
    await expect(startServer({ port: 0, basePath: '/p', logger: silentLogger, cluster: { url: 'redis://user:hunter2@127.0.0.1:1' } })).rejects.toThrow(
      expect.objectContaining({ code: 'E_CONNECT', message: expect.not.stringContaining('hunter2') }),
    );
  });
});
