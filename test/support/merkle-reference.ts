import { createHash } from 'node:crypto';
import { hashChildren, hashLeaf, type Hash } from '../../shared/transparency/hash';
import { splitPoint } from '../../shared/transparency/proof-paths';

// The tree's definitions of RFC 9162 §2.1, written literally (recursive, slicing the leaves): the
// reference the tree and its proofs are checked against.

/** RFC 9162 §2.1.1 MTH, written literally over the leaf inputs: the reference to check against. */
export function referenceRoot(leaves: readonly Uint8Array[]): Hash {
  if (leaves.length === 0) return createHash('sha256').digest();
  if (leaves.length === 1) return hashLeaf(leaves[0]!);
  const k = splitPoint(leaves.length);
  return hashChildren(referenceRoot(leaves.slice(0, k)), referenceRoot(leaves.slice(k)));
}

/** RFC 9162 §2.1.3.1 PATH(m, D[n]), literally. */
export function referencePath(m: number, leaves: readonly Uint8Array[]): Hash[] {
  if (leaves.length <= 1) return [];
  const k = splitPoint(leaves.length);
  return m < k
    ? [...referencePath(m, leaves.slice(0, k)), referenceRoot(leaves.slice(k))]
    : [...referencePath(m - k, leaves.slice(k)), referenceRoot(leaves.slice(0, k))];
}

/** RFC 9162 §2.1.4.1 SUBPROOF(m, D[n], b), literally. */
export function referenceSubproof(m: number, leaves: readonly Uint8Array[], b: boolean): Hash[] {
  if (m === leaves.length) return b ? [] : [referenceRoot(leaves)];
  const k = splitPoint(leaves.length);
  return m <= k
    ? [...referenceSubproof(m, leaves.slice(0, k), b), referenceRoot(leaves.slice(k))]
    : [...referenceSubproof(m - k, leaves.slice(k), false), referenceRoot(leaves.slice(0, k))];
}
