/**
 * Hashing and the Merkle tree (RFC 10049 §5.3). H is SHA-512 truncated to the version's hash
 * size (32 bytes; Google keeps all 64). Leaf = H(0x00 || leaf input), node = H(0x01 || left ||
 * right). The leaf input is the whole request packet (draft 12+) or the nonce (older versions).
 */
import { concat } from './bytes.js';
import { reject, type Rejected } from './result.js';

/** §5.2.4: "The PATH MUST NOT contain more than 32 hash values." */
export const MAX_PATH_NODES = 32;

const LEAF_PREFIX = new Uint8Array([0x00]);
const NODE_PREFIX = new Uint8Array([0x01]);

export async function sha512(data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-512', data));
}

/** The first `n` bytes of SHA-512(data) (§5.3.1: "H(x) denotes the first 32 bytes"). */
export async function hashTruncated(data: Uint8Array, n: 32 | 64): Promise<Uint8Array> {
  return (await sha512(data)).subarray(0, n);
}

export function hashLeaf(input: Uint8Array, n: 32 | 64): Promise<Uint8Array> {
  return hashTruncated(concat(LEAF_PREFIX, input), n);
}

export function hashNode(left: Uint8Array, right: Uint8Array, n: 32 | 64): Promise<Uint8Array> {
  return hashTruncated(concat(NODE_PREFIX, left, right), n);
}

export type RootResult = { readonly ok: true; readonly root: Uint8Array } | Rejected;

/**
 * §5.3.1 root value validity check: start from the leaf; for each PATH node take the next bit
 * of INDX (least significant first): 0 → h = H(0x01 || h || node), 1 → h = H(0x01 || node || h).
 * When PATH is exhausted every remaining bit of INDX must be zero.
 */
export async function rootFromPath(leaf: Uint8Array, index: number, path: Uint8Array, n: 32 | 64): Promise<RootResult> {
  if (path.length % n !== 0)
    return reject('E_ROUGHTIME_BAD_VALUE', `PATH of ${path.length} bytes is not a multiple of ${n}`);
  const steps = path.length / n;
  if (steps > MAX_PATH_NODES)
    return reject('E_ROUGHTIME_BAD_VALUE', `PATH has ${steps} nodes, at most ${MAX_PATH_NODES} allowed`);
  let h = leaf;
  let bits = index >>> 0;
  for (let i = 0; i < steps; i++) {
    const node = path.subarray(i * n, (i + 1) * n);
    h = (bits & 1) === 0 ? await hashNode(h, node, n) : await hashNode(node, h, n);
    bits >>>= 1;
  }
  if (bits !== 0) return reject('E_ROUGHTIME_MERKLE', `INDX ${index >>> 0} has bits set beyond the ${steps}-node PATH`);
  return { ok: true, root: h };
}

export interface MerkleTree {
  readonly root: Uint8Array;
  /** paths[i]: the sibling hashes from leaf i up to the root, concatenated (the PATH value). */
  readonly paths: readonly Uint8Array[];
}

/**
 * Builds a tree over precomputed leaves (server side). A level of odd width is completed by
 * repeating its last node, so every leaf has a full path; §5.3 leaves the shape to the server,
 * and the client's check only follows INDX and PATH.
 */
export async function buildTree(leaves: readonly Uint8Array[], n: 32 | 64): Promise<MerkleTree> {
  if (leaves.length === 0) throw new RangeError('buildTree: no leaves');
  const siblings: Uint8Array[][] = leaves.map(() => []);
  let level: Uint8Array[] = [...leaves];
  // positions[i]: where leaf i sits in the current level.
  const positions = leaves.map((_, i) => i);
  while (level.length > 1) {
    if (level.length % 2 === 1) level.push(level[level.length - 1] as Uint8Array);
    for (let i = 0; i < leaves.length; i++) {
      const p = positions[i] as number;
      (siblings[i] as Uint8Array[]).push(level[p ^ 1] as Uint8Array);
      positions[i] = p >>> 1;
    }
    const next: Uint8Array[] = [];
    for (let j = 0; j < level.length; j += 2)
      next.push(await hashNode(level[j] as Uint8Array, level[j + 1] as Uint8Array, n));
    level = next;
  }
  if (siblings[0] !== undefined && siblings[0].length > MAX_PATH_NODES)
    throw new RangeError(`buildTree: more than 2^${MAX_PATH_NODES} leaves`);
  return { root: level[0] as Uint8Array, paths: siblings.map((s) => concat(...s)) };
}
