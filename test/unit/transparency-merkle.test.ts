import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { EMPTY_ROOT, Hash, hashChildren, hashLeaf } from '../../shared/transparency/hash';
import { MerkleTree } from '../../shared/transparency/merkle-tree';
import { consistencyPath, inclusionPath, splitPoint } from '../../shared/transparency/proof-paths';
import {
  rootFromInclusionProof,
  verifyConsistency,
  verifyInclusion,
} from '../../shared/transparency/proof-verify';
import { ProofError, TreeStateError } from '../../shared/transparency/errors';

const hex = (h: string): Buffer => Buffer.from(h, 'hex');
const toHex = (hashes: readonly Hash[]): string[] =>
  hashes.map((h) => Buffer.from(h).toString('hex'));

/*
 * Known-answer vectors of the RFC 6962 / RFC 9162 tree, from transparency-dev/merkle (the Go
 * library behind Trillian and the C2SP tlog tooling):
 * - testonly/constants.go @ 582a6ad190b6848f1d26f8bf08ddef29955d9db1: LeafInputs, NodeHashes,
 *   RootHashes (the same eight leaves as certificate-transparency's merkle_tree_test.cc);
 * - proof/verify_test.go @ 02194e9afb6c1d95b5381350007963aa70fff472: inclusionProofs (leaf
 *   numbers there are 1-based) and consistencyProofs.
 */
const LEAF_INPUTS = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
].map(hex);
const NODE_HASHES = [
  [
    '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
    '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
    '0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7',
    '07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7',
    'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    '4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658',
    'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
    '46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1',
  ],
  [
    'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
    '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
    '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
    'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
  ],
  [
    'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
  ],
  ['5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328'],
];
const ROOT_HASHES = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
const INCLUSION_PROOFS: Array<{ leaf: number; size: number; proof: string[] }> = [
  { leaf: 1, size: 1, proof: [] },
  {
    leaf: 1,
    size: 8,
    proof: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    leaf: 6,
    size: 8,
    proof: [
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
  { leaf: 3, size: 3, proof: ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125'] },
  {
    leaf: 2,
    size: 5,
    proof: [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  },
];
const CONSISTENCY_PROOFS: Array<{ size1: number; size2: number; proof: string[] }> = [
  { size1: 1, size2: 1, proof: [] },
  {
    size1: 1,
    size2: 8,
    proof: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    size1: 6,
    size2: 8,
    proof: [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
  {
    size1: 2,
    size2: 5,
    proof: [
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  },
  {
    size1: 6,
    size2: 7,
    proof: [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
];

/** RFC 9162 §2.1.1 MTH, written literally over the leaf inputs: the reference to check against. */
function referenceRoot(leaves: readonly Uint8Array[]): Hash {
  if (leaves.length === 0) return createHash('sha256').digest();
  if (leaves.length === 1) return hashLeaf(leaves[0]!);
  const k = splitPoint(leaves.length);
  return hashChildren(referenceRoot(leaves.slice(0, k)), referenceRoot(leaves.slice(k)));
}

/** RFC 9162 §2.1.3.1 PATH(m, D[n]), literally. */
function referencePath(m: number, leaves: readonly Uint8Array[]): Hash[] {
  if (leaves.length <= 1) return [];
  const k = splitPoint(leaves.length);
  return m < k
    ? [...referencePath(m, leaves.slice(0, k)), referenceRoot(leaves.slice(k))]
    : [...referencePath(m - k, leaves.slice(k)), referenceRoot(leaves.slice(0, k))];
}

/** RFC 9162 §2.1.4.1 SUBPROOF(m, D[n], b), literally. */
function referenceSubproof(m: number, leaves: readonly Uint8Array[], b: boolean): Hash[] {
  if (m === leaves.length) return b ? [] : [referenceRoot(leaves)];
  const k = splitPoint(leaves.length);
  return m <= k
    ? [...referenceSubproof(m, leaves.slice(0, k), b), referenceRoot(leaves.slice(k))]
    : [...referenceSubproof(m - k, leaves.slice(k), false), referenceRoot(leaves.slice(0, k))];
}

/** Distinct leaves: two equal leaves are interchangeable, so a proof for one also proves the other. */
const leavesArb = (minLength: number, maxLength = 70) =>
  fc.uniqueArray(fc.uint8Array({ maxLength: 12 }), {
    minLength,
    maxLength,
    selector: (leaf) => Buffer.from(leaf).toString('hex'),
  });

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
