/**
 * The Merkle tree (RFC 10049 §5.3) and its validity check (§5.3.1): every path of every tree
 * we build leads to its root, a wrong index or node does not, and INDX bits beyond PATH fail.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concat } from './bytes.js';
import { buildTree, hashLeaf, hashNode, rootFromPath, sha512 } from './merkle.js';

const leaves = (n: number, size: 32 | 64): Promise<Uint8Array[]> =>
  Promise.all(Array.from({ length: n }, (_, i) => hashLeaf(new Uint8Array([i, i >> 8]), size)));

describe('Merkle tree', () => {
  it('uses H(0x00 || x) for leaves and H(0x01 || left || right) for nodes, truncated', async () => {
    const x = new Uint8Array([1, 2, 3]);
    expect(await hashLeaf(x, 32)).toEqual((await sha512(concat(new Uint8Array([0]), x))).subarray(0, 32));
    expect(await hashLeaf(x, 64)).toEqual(await sha512(concat(new Uint8Array([0]), x)));
    const [a, b] = await leaves(2, 32);
    const tree = await buildTree([a!, b!], 32);
    expect(tree.root).toEqual((await sha512(concat(new Uint8Array([1]), a!, b!))).subarray(0, 32));
    expect(tree.paths).toEqual([b, a]);
  });

  it('a single request: ROOT is the leaf and PATH is empty (§5.2.4)', async () => {
    const [a] = await leaves(1, 32);
    const tree = await buildTree([a!], 32);
    expect(tree.root).toEqual(a);
    expect(tree.paths[0]!.length).toBe(0);
    const r = await rootFromPath(a!, 0, new Uint8Array(0), 32);
    expect(r.ok && r.root).toEqual(a);
  });

  for (const size of [32, 64] as const) {
    it(`every path leads to the root, for 1-40 leaves (${size}-byte hashes)`, async () => {
      for (let n = 1; n <= 40; n++) {
        const ls = await leaves(n, size);
        const tree = await buildTree(ls, size);
        for (let i = 0; i < n; i++) {
          const r = await rootFromPath(ls[i]!, i, tree.paths[i]!, size);
          expect(r.ok && r.root).toEqual(tree.root);
          if (n > 1) {
            const depth = tree.paths[i]!.length / size;
            const wrong = await rootFromPath(ls[i]!, i ^ 1, tree.paths[i]!, size);
            // i ^ 1 swaps the order at the lowest level: the root differs unless both children are equal.
            if (wrong.ok && !(i === n - 1 && n % 2 === 1)) expect(wrong.root).not.toEqual(tree.root);
            const beyond = await rootFromPath(ls[i]!, i | (1 << depth), tree.paths[i]!, size);
            expect(beyond.ok ? 'ok' : beyond.code).toBe('E_ROUGHTIME_MERKLE');
          }
        }
      }
    });
  }

  it('follows INDX bits least significant first: 0 → H(h || node), 1 → H(node || h) (§5.3.1)', async () => {
    const [leaf, n0, n1] = await leaves(3, 32);
    const r = await rootFromPath(leaf!, 0b10, concat(n0!, n1!), 32);
    expect(r.ok && r.root).toEqual(await hashNode(n1!, await hashNode(leaf!, n0!, 32), 32));
  });

  it('rejects a PATH that is not whole hashes, or longer than 32 nodes', async () => {
    const [leaf] = await leaves(1, 32);
    const r1 = await rootFromPath(leaf!, 0, new Uint8Array(33), 32);
    expect(r1.ok ? 'ok' : r1.code).toBe('E_ROUGHTIME_BAD_VALUE');
    const r2 = await rootFromPath(leaf!, 0, new Uint8Array(33 * 32), 32);
    expect(r2.ok ? 'ok' : r2.code).toBe('E_ROUGHTIME_BAD_VALUE');
  });

  it('a changed path node never leads to the same root', async () => {
    const ls = await leaves(13, 32);
    const tree = await buildTree(ls, 32);
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: 12 }), fc.nat(), fc.integer({ min: 1, max: 255 }), async (i, at, x) => {
        const path = tree.paths[i]!.slice();
        path[at % path.length]! ^= x;
        const r = await rootFromPath(ls[i]!, i, path, 32);
        expect(r.ok && r.root).not.toEqual(tree.root);
      }),
      { numRuns: 60 },
    );
  });
});
