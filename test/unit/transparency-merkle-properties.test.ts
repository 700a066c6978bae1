import fc from 'fast-check';
import { EMPTY_ROOT, Hash, hashLeaf } from '../../shared/transparency/hash';
import { MerkleTree } from '../../shared/transparency/merkle-tree';
import {
  rootFromInclusionProof,
  verifyConsistency,
  verifyInclusion,
} from '../../shared/transparency/proof-verify';
import { ProofError, TreeStateError } from '../../shared/transparency/errors';
import { LEAF_INPUTS } from '../support/fixtures/merkle-vectors';
import { referencePath, referenceRoot, referenceSubproof } from '../support/merkle-reference';

const toHex = (hashes: readonly Hash[]): string[] =>
  hashes.map((h) => Buffer.from(h).toString('hex'));

/** Distinct leaves: two equal leaves are interchangeable, so a proof for one also proves the other. */
const leavesArb = (minLength: number, maxLength = 70) =>
  fc.uniqueArray(fc.uint8Array({ maxLength: 12 }), {
    minLength,
    maxLength,
    selector: (leaf) => Buffer.from(leaf).toString('hex'),
  });
/** A copy of a proof with one bit flipped in element `i`. */
function flipBit(proof: readonly Hash[], i: number, bit: number): Hash[] {
  return proof.map((h, j) => {
    if (j !== i) return h;
    const copy = Buffer.from(h);
    copy[bit >> 3] ^= 1 << (bit & 7);
    return copy;
  });
}

describe('Merkle tree: properties against the literal RFC 9162 definitions', () => {
  it('computes the same root as the recursive MTH for any number of leaves', () => {
    fc.assert(
      fc.property(leavesArb(0), (leaves) => {
        // Act / Assess
        expect(toHex([MerkleTree.fromLeaves(leaves).root()])).toEqual(
          toHex([referenceRoot(leaves)]),
        );
      }),
    );
  });

  it('gives the RFC audit path for every leaf of every prefix, and it verifies', () => {
    fc.assert(
      fc.property(leavesArb(1), fc.nat(), fc.nat(), (leaves, a, b) => {
        // Prepare
        const tree = MerkleTree.fromLeaves(leaves);
        const size = 1 + (a % leaves.length);
        const index = b % size;
        // Act
        const proof = tree.inclusionProof(index, size);
        // Assess
        expect(toHex(proof)).toEqual(toHex(referencePath(index, leaves.slice(0, size))));
        expect(() =>
          verifyInclusion(index, size, tree.leafHash(index), proof, tree.root(size)),
        ).not.toThrow();
      }),
    );
  });

  it('refuses an inclusion proof for a wrong leaf, index, size or root, or with any bit changed', () => {
    fc.assert(
      fc.property(leavesArb(2), fc.nat(), fc.nat(), fc.nat(), (leaves, a, b, c) => {
        // Prepare
        const tree = MerkleTree.fromLeaves(leaves);
        const size = 2 + (a % (leaves.length - 1));
        const index = b % size;
        const proof = tree.inclusionProof(index, size);
        const root = tree.root(size);
        const leaf = tree.leafHash(index);
        const other = (index + 1 + (c % (size - 1))) % size;
        const attempts: Array<() => void> = [
          () => verifyInclusion(index, size, hashLeaf(Buffer.from('not a leaf')), proof, root),
          () => verifyInclusion(other, size, leaf, proof, root),
          () => verifyInclusion(index, size * 2, leaf, proof, root),
          () => verifyInclusion(index, size, leaf, proof, EMPTY_ROOT),
          () => verifyInclusion(index, size, leaf, [...proof, root], root),
          () => verifyInclusion(index, size, leaf, [root, ...proof], root),
          () => verifyInclusion(index, size, leaf, proof.slice(0, -1), root),
          () => verifyInclusion(index, size, leaf, flipBit(proof, c % proof.length, c % 256), root),
        ];
        // Act / Assess
        for (const attempt of attempts) expect(attempt).toThrow(ProofError);
      }),
    );
  });

  it('gives the RFC consistency proof between any two sizes, and it verifies', () => {
    fc.assert(
      fc.property(leavesArb(0), fc.nat(), fc.nat(), (leaves, a, b) => {
        // Prepare
        const tree = MerkleTree.fromLeaves(leaves);
        const second = a % (leaves.length + 1);
        const first = b % (second + 1);
        // Act
        const proof = tree.consistencyProof(first, second);
        // Assess
        const expected =
          first === 0 || first === second
            ? []
            : referenceSubproof(first, leaves.slice(0, second), true);
        expect(toHex(proof)).toEqual(toHex(expected));
        expect(() =>
          verifyConsistency(first, second, tree.root(first), tree.root(second), proof),
        ).not.toThrow();
      }),
    );
  });

  it('refuses a consistency proof for wrong sizes or roots, or with any bit changed', () => {
    fc.assert(
      fc.property(leavesArb(3), fc.nat(), fc.nat(), fc.nat(), (leaves, a, b, c) => {
        // Prepare: 0 < first < second
        const tree = MerkleTree.fromLeaves(leaves);
        const second = 2 + (a % (leaves.length - 1));
        const first = 1 + (b % (second - 1));
        const proof = tree.consistencyProof(first, second);
        const [r1, r2] = [tree.root(first), tree.root(second)];
        const attempts: Array<() => void> = [
          () => verifyConsistency(first, second, r2, r1, proof),
          () => verifyConsistency(first, second, r1, EMPTY_ROOT, proof),
          () => verifyConsistency(first, second, EMPTY_ROOT, r2, proof),
          () => verifyConsistency(second, first, r1, r2, proof),
          () => verifyConsistency(first, second * 2, r1, r2, proof),
          () => verifyConsistency(first, second, r1, r2, []),
          () => verifyConsistency(first, second, r1, r2, [...proof, r1]),
          () => verifyConsistency(first, second, r1, r2, [r2, ...proof]),
          () => verifyConsistency(first, second, r1, r2, proof.slice(0, -1)),
          () => verifyConsistency(first, second, r1, r2, flipBit(proof, c % proof.length, c % 256)),
        ];
        // Act / Assess
        for (const attempt of attempts) expect(attempt).toThrow(ProofError);
        if (first + 1 < second)
          expect(() => verifyConsistency(first + 1, second, r1, r2, proof)).toThrow(ProofError);
        if (first > 1)
          expect(() => verifyConsistency(first - 1, second, r1, r2, proof)).toThrow(ProofError);
      }),
    );
  });

  it('refuses the degenerate cases: empty tree, equal sizes, index out of range, short hashes', () => {
    // Prepare
    const tree = MerkleTree.fromLeaves(LEAF_INPUTS);
    const [r3, r5] = [tree.root(3), tree.root(5)];
    // Act / Assess
    expect(() => verifyConsistency(0, 5, EMPTY_ROOT, r5, [])).not.toThrow();
    expect(() => verifyConsistency(0, 5, r3, r5, [])).toThrow(ProofError);
    expect(() => verifyConsistency(0, 5, EMPTY_ROOT, r5, [r3])).toThrow(ProofError);
    expect(() => verifyConsistency(3, 3, r3, r3, [])).not.toThrow();
    expect(() => verifyConsistency(3, 3, r3, r5, [])).toThrow(ProofError);
    expect(() => verifyConsistency(3, 3, r3, r3, [r3])).toThrow(ProofError);
    expect(() => verifyInclusion(0, 0, tree.leafHash(0), [], EMPTY_ROOT)).toThrow(ProofError);
    expect(() => verifyInclusion(5, 5, tree.leafHash(4), tree.inclusionProof(4, 5), r5)).toThrow(
      ProofError,
    );
    expect(() => rootFromInclusionProof(0, 2, Buffer.alloc(31), [tree.leafHash(1)])).toThrow(
      ProofError,
    );
    expect(() => tree.inclusionProof(8, 8)).toThrow(TreeStateError);
    expect(() => tree.root(9)).toThrow(TreeStateError);
    expect(() => tree.consistencyProof(6, 5)).toThrow(TreeStateError);
  });
});
