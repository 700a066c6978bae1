import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { EMPTY_ROOT, Hash, hashChildren, hashLeaf } from '../../shared/transparency/hash';
import { MerkleTree } from '../../shared/transparency/merkle-tree';
import { consistencyPath, inclusionPath, splitPoint } from '../../shared/transparency/proof-paths';
import { verifyConsistency, verifyInclusion } from '../../shared/transparency/proof-verify';
import {
  CONSISTENCY_PROOFS,
  INCLUSION_PROOFS,
  LEAF_INPUTS,
  NODE_HASHES,
  ROOT_HASHES,
} from '../support/fixtures/merkle-vectors';
import { referenceRoot } from '../support/merkle-reference';

const hex = (h: string): Buffer => Buffer.from(h, 'hex');
const toHex = (hashes: readonly Hash[]): string[] =>
  hashes.map((h) => Buffer.from(h).toString('hex'));

describe('Merkle tree (RFC 9162 §2.1): known answers from transparency-dev/merkle', () => {
  const tree = MerkleTree.fromLeaves(LEAF_INPUTS);

  it('hashes leaves and nodes with the 0x00 / 0x01 prefixes, and the empty tree as SHA-256("")', () => {
    // Assess
    expect(toHex([EMPTY_ROOT])).toEqual([ROOT_HASHES[0]]);
    expect(toHex(LEAF_INPUTS.map(hashLeaf))).toEqual(NODE_HASHES[0]);
    expect(toHex([hashChildren(hex(NODE_HASHES[0]![0]!), hex(NODE_HASHES[0]![1]!))])).toEqual([
      NODE_HASHES[1]![0],
    ]);
  });

  it('gives the published root of every size 0..8, from one tree and from each prefix', () => {
    ROOT_HASHES.forEach((expected, size) => {
      // Act / Assess
      expect(toHex([tree.root(size)])).toEqual([expected]);
      expect(toHex([MerkleTree.fromLeaves(LEAF_INPUTS.slice(0, size)).root()])).toEqual([expected]);
      expect(toHex([referenceRoot(LEAF_INPUTS.slice(0, size))])).toEqual([expected]);
    });
  });

  it.each(INCLUSION_PROOFS)(
    'gives and verifies the published inclusion proof of leaf $leaf of $size',
    ({ leaf, size, proof }) => {
      // Act
      const generated = tree.inclusionProof(leaf - 1, size);
      // Assess
      expect(toHex(generated)).toEqual(proof);
      expect(() =>
        verifyInclusion(
          leaf - 1,
          size,
          hashLeaf(LEAF_INPUTS[leaf - 1]!),
          proof.map(hex),
          hex(ROOT_HASHES[size]!),
        ),
      ).not.toThrow();
    },
  );

  it.each(CONSISTENCY_PROOFS)(
    'gives and verifies the published consistency proof $size1 → $size2',
    ({ size1, size2, proof }) => {
      // Act
      const generated = tree.consistencyProof(size1, size2);
      // Assess
      expect(toHex(generated)).toEqual(proof);
      expect(() =>
        verifyConsistency(
          size1,
          size2,
          hex(ROOT_HASHES[size1]!),
          hex(ROOT_HASHES[size2]!),
          proof.map(hex),
        ),
      ).not.toThrow();
    },
  );

  it('reproduces the accumulated subtree-hash vector of draft-ietf-plants-merkle-tree-certs', () => {
    // Vector from transparency-dev/merkle testonly/vectors_test.go @ 1c243046bea7805f274ffcdc2f0f58e69d73e25e
    // (TestSubtreeHashVectors): leaves d[i] = byte i, every valid subtree [start, end) with
    // end ≤ 130, folded into one SHA-256 of "[start, end) <hex MTH(D[start:end])>\n" lines.
    // Prepare
    const big = MerkleTree.fromLeaves(Array.from({ length: 130 }, (_, i) => Buffer.from([i])));
    const rolling = createHash('sha256');
    // Act
    for (let end = 1; end <= 130; end += 1)
      for (let start = 0; start < end; start += 1) {
        let width = 1;
        while (width < end - start) width *= 2;
        if (start !== 0 && start % width !== 0) continue;
        rolling.update(`[${start}, ${end}) ${toHex([big.hashRange(start, end)])[0]}\n`);
      }
    // Assess
    expect(rolling.digest('hex')).toBe(
      '94a95384a8c69acea9b50d035a58285b3a777cb7a724005faa5e1f1e1190007f',
    );
  });

  it('reproduces the accumulated subtree inclusion-proof vector of the same draft', () => {
    // Same source (TestSubtreeInclusionProofVectors): for every valid subtree [start, end) with
    // end ≤ 130 and every index in it, the line "<index> [start, end) <hex proof hashes…>", the
    // proof being PATH(index - start, D[start:end]); with start = 0 these are the RFC proofs.
    // Prepare
    const big = MerkleTree.fromLeaves(Array.from({ length: 130 }, (_, i) => Buffer.from([i])));
    const rolling = createHash('sha256');
    // Act
    for (let end = 1; end <= 130; end += 1)
      for (let start = 0; start < end; start += 1) {
        let width = 1;
        while (width < end - start) width *= 2;
        if (start !== 0 && start % width !== 0) continue;
        const hashRange = (s: number, e: number) => big.hashRange(s + start, e + start);
        for (let index = start; index < end; index += 1) {
          const proof = inclusionPath(index - start, end - start, hashRange);
          rolling.update(
            `${index} [${start}, ${end})${toHex(proof)
              .map((h) => ` ${h}`)
              .join('')}\n`,
          );
        }
      }
    // Assess
    expect(rolling.digest('hex')).toBe(
      'ac2a8f989e44d99e399db448050ff5f19757df53cfb716aa81015d3955d8163f',
    );
  });
});

describe('Merkle tree: sizes beyond 32 bits', () => {
  // With identical leaves, MTH of a range depends only on its length, so a tree of 2^45 leaves
  // has hashes we can compute; this checks the position arithmetic, not collision resistance.
  const leaf = hashLeaf(Buffer.from('same'));
  const memo = new Map<number, Hash>([[1, leaf]]);
  const mthOfLength = (n: number): Hash => {
    const known = memo.get(n);
    if (known) return known;
    const k = splitPoint(n);
    const hash = hashChildren(mthOfLength(k), mthOfLength(n - k));
    memo.set(n, hash);
    return hash;
  };
  const hashRange = (start: number, end: number): Hash => mthOfLength(end - start);

  it('builds and verifies inclusion and consistency proofs for sizes up to 2^53 - 1', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2 ** 32, max: Number.MAX_SAFE_INTEGER }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (second, fraction) => {
          // Prepare
          const first = Math.max(1, Math.floor(second * fraction));
          const index = Math.min(second - 1, Math.floor(second * fraction));
          // Act
          const inclusion = inclusionPath(index, second, hashRange);
          const consistency = consistencyPath(first, second, hashRange);
          // Assess
          expect(() =>
            verifyInclusion(index, second, leaf, inclusion, mthOfLength(second)),
          ).not.toThrow();
          expect(() =>
            verifyConsistency(first, second, mthOfLength(first), mthOfLength(second), consistency),
          ).not.toThrow();
        },
      ),
      { numRuns: 200 },
    );
  });
});
