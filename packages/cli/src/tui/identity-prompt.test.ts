/**
 * Before the chat: the name prompt and the passphrase prompt (never echoed; a wrong passphrase
 * is said and asked again, never a crash).
 */
import type { Identity } from '@safehouse/core/e2ee';
import { CryptoError } from '@safehouse/core/protocol';
import { render } from 'ink-testing-library';
import { createElement } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { Setup, type IdentityPlan } from './identity-prompt.js';

const tick = (ms = 30): Promise<void> => new Promise((r) => setTimeout(r, ms));
const ID = { fingerprint: new Uint8Array(32) } as unknown as Identity;
let unmount: (() => void) | undefined;
afterEach(() => unmount?.());

function setup(props: { name?: string; identity?: IdentityPlan }) {
  const ready: [string, Identity | undefined][] = [];
  const failed: unknown[] = [];
  const r = render(
    createElement(Setup, {
      ...props,
      width: 80,
      onReady: (n, id) => ready.push([n, id]),
      onFail: (e) => failed.push(e),
    }),
  );
  unmount = r.unmount;
  const frame = (): string => (r.lastFrame() ?? '').replace(/\s+/g, ' ');
  const type = async (s: string): Promise<void> => {
    r.stdin.write(s);
    await tick();
  };
  return { ready, failed, type, frame };
}

function plan(exists: boolean, good = 'correct horse'): IdentityPlan & { tried: string[] } {
  const tried: string[] = [];
  return {
    path: '/tmp/id.safehouse',
    exists,
    tried,
    open: (p) => {
      tried.push(p);
      return p === good ? Promise.resolve(ID) : Promise.reject(new CryptoError('E_IDENTITY_LOCKED', 'locked'));
    },
  };
}

describe('setup prompts', () => {
  it('asks for a name and refuses one that breaks the rules', async () => {
    const s = setup({});
    await tick();
    expect(s.frame()).toContain('Your display name');
    await s.type('bad name');
    await s.type('\r');
    expect(s.frame()).toContain('E_NAME_INVALID');
    expect(s.ready).toEqual([]);
    for (let i = 0; i < 8; i++) await s.type('\x7f');
    await s.type('ｃａｒｏｌ\r');
    expect(s.ready).toEqual([['carol', undefined]]);
  });

  it('the passphrase is not echoed; a wrong one is said and asked again', async () => {
    const p = plan(true);
    const s = setup({ name: 'alice', identity: p });
    await tick();
    expect(s.frame()).toContain('Passphrase of your identity /tmp/id.safehouse');
    await s.type('wrong one');
    expect(s.frame()).not.toContain('wrong one');
    await s.type('\r');
    await tick();
    expect(s.frame()).toContain('E_IDENTITY_LOCKED');
    expect(s.frame()).toContain('2 more tries');
    await s.type('correct horse');
    expect(s.frame()).not.toContain('correct horse');
    await s.type('\r');
    await tick();
    expect(p.tried).toEqual(['wrong one', 'correct horse']);
    expect(s.ready).toEqual([['alice', ID]]);
  });

  it('three wrong passphrases end with E_IDENTITY_LOCKED (the caller exits with its code)', async () => {
    const s = setup({ name: 'alice', identity: plan(true) });
    await tick();
    for (let i = 0; i < 3; i++) {
      await s.type('nope\r');
      await tick();
    }
    expect(s.failed).toHaveLength(1);
    expect(s.failed[0]).toMatchObject({ code: 'E_IDENTITY_LOCKED' });
  });

  it('a new identity asks twice and starts over when they differ', async () => {
    const p = plan(false, 'pw one');
    const s = setup({ name: 'alice', identity: p });
    await tick();
    expect(s.frame()).toContain('A new identity will be saved');
    await s.type('pw one\r');
    expect(s.frame()).toContain('The same passphrase again');
    await s.type('pw two\r');
    expect(s.frame()).toContain('the two passphrases differ');
    await s.type('pw one\r');
    await s.type('pw one\r');
    await tick();
    expect(p.tried).toEqual(['pw one']);
    expect(s.ready).toHaveLength(1);
  });

  it('a passphrase from a file is not asked; Ctrl-C cancels', async () => {
    const p = { ...plan(true), passphrase: 'correct horse' };
    const s = setup({ name: 'alice', identity: p });
    await tick(60);
    expect(s.ready).toEqual([['alice', ID]]);
    const c = setup({});
    await tick();
    await c.type('\x03');
    expect(c.failed).toEqual([undefined]);
  });
});
