/**
 * Separate hosts for the deployment tests, made of network namespaces (root only): `Lan` puts
 * each host on one bridge in the test's own namespace, which is on the LAN too (members run
 * there). Addresses are in 10/8 only, a random /24 per test run.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { isRoot, which } from './ops.js';

/** Why hosts cannot be made here, or undefined if they can (tried once, then removed). */
export function netnsUnavailable(): string | undefined {
  if (!isRoot) return 'network namespaces need root';
  if (!which('ip')) return 'ip (iproute2) is not installed';
  const probe = `shprobe${process.pid}`;
  try {
    execFileSync('ip', ['netns', 'add', probe], { stdio: 'ignore' });
    execFileSync('ip', ['netns', 'del', probe], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'this machine does not let us create a network namespace (ip netns add failed)';
  }
}

const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8' });

export class Lan {
  private readonly tag = randomBytes(3).toString('hex');
  private readonly bridge = `shb${this.tag}`;
  private readonly prefix = `10.${randomInt(10, 250)}.${randomInt(100, 250)}`;
  private readonly namespaces: string[] = [];
  /** This namespace's address on the LAN. */
  readonly address = `${this.prefix}.1`;

  constructor() {
    ip('link', 'add', this.bridge, 'type', 'bridge');
    ip('addr', 'add', `${this.address}/24`, 'dev', this.bridge);
    ip('link', 'set', this.bridge, 'up');
  }

  /** A new host on the LAN: its namespace's name and its address (`.N`, N from 2 to 254). */
  host(n: number): { ns: string; address: string } {
    if (!Number.isInteger(n) || n < 2 || n > 254)
      throw new RangeError(`host number expected an integer from 2 to 254, got ${n}`);
    const ns = `sh${this.tag}h${n}`;
    const outside = `shv${this.tag}${n}`;
    const address = `${this.prefix}.${n}`;
    ip('netns', 'add', ns);
    this.namespaces.push(ns);
    ip('link', 'add', outside, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
    ip('link', 'set', outside, 'master', this.bridge);
    ip('link', 'set', outside, 'up');
    ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${address}/24`, 'dev', 'eth0');
    ip('netns', 'exec', ns, 'ip', 'link', 'set', 'eth0', 'up');
    ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
    return { ns, address };
  }

  /** Removes every host (their veth pairs go with their namespaces) and the bridge. */
  remove(): void {
    for (const ns of this.namespaces) {
      try {
        ip('netns', 'del', ns);
      } catch {
        /* already gone */
      }
    }
    try {
      ip('link', 'del', this.bridge);
    } catch {
      /* already gone */
    }
  }
}
