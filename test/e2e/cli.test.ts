/** The command line's interface: exit codes and clear errors for bad input. */
import { describe, expect, it } from 'vitest';
import { run } from './src/harness.js';

describe('safehouse command line', () => {
  it('refuses a public address without --public, with a sentence and exit 2', async () => {
    const r = await run(['serve', '--host', '0.0.0.0', '--port', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('E_ADDRESS_REFUSED');
    expect(r.stderr).toMatch(/--public/);
  });

  it('refuses a bad base path', async () => {
    const r = await run(['serve', '--port', '0', '--base-path', 'no-slash']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('E_BASE_PATH_INVALID');
  });

  it('refuses a bad port', async () => {
    const r = await run(['serve', '--port', '70000']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('E_USAGE');
  });

  it('join: a malformed link is E_BAD_LINK as a JSON error, exit 2', async () => {
    const r = await run(['join', 'not-a-link', '--name', 'a', '--json'], '');
    expect(r.code).toBe(2);
    const ev = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}');
    expect(ev).toMatchObject({ type: 'error', code: 'E_BAD_LINK' });
  });

  it('join --json without --name is a usage error', async () => {
    const r = await run(['join', 'http://127.0.0.1:1/abc/', '--json'], '');
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('E_USAGE');
  });

  it('an unknown subcommand exits 2', async () => {
    const r = await run(['frobnicate']);
    expect(r.code).toBe(2);
  });
});
