import fc from 'fast-check';
import * as hashing from '../../shared/transparency/hash';
import { Hash, hashLeaf, toBase64 } from '../../shared/transparency/hash';
import { MerkleTree } from '../../shared/transparency/merkle-tree';
import { verifyConsistency } from '../../shared/transparency/proof-verify';
import { extendTree, perfectSubtrees, TreeFrontier } from '../../shared/transparency/tree-frontier';
import { TreeStateError } from '../../shared/transparency/errors';
import { LEAF_INPUTS } from '../support/fixtures/merkle-vectors';

const toHex = (hashes: readonly Hash[]): string[] =>
  hashes.map((h) => Buffer.from(h).toString('hex'));
const leafHashesOf = (n: number, salt = 'leaf'): Hash[] =>
  Array.from({ length: n }, (_, i) => hashLeaf(Buffer.from(`${salt}-${i}`)));

/*
 * Compact trees of the eight RFC 6962 test leaves (LEAF_INPUTS), from transparency-dev/merkle
 * testonly/constants.go @ 582a6ad190b6848f1d26f8bf08ddef29955d9db1 (CompactTrees, built from
 * NodeHashes): the frontier of every size 0..8.
 */
const N = {
  l0: '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  l2: '0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7',
  l4: 'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
  l6: 'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
  n10: 'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  n12: '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
  n20: 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  n30: '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
};
const COMPACT_TREES = [
  [],
  [N.l0],
  [N.n10],
  [N.n10, N.l2],
  [N.n20],
  [N.n20, N.l4],
  [N.n20, N.n12],
  [N.n20, N.n12, N.l6],
  [N.n30],
];

describe('TreeFrontier: the incremental state of the tree', () => {
  it('holds the published compact tree of every size 0..8, appended one leaf at a time', () => {
    // Prepare
    let frontier = TreeFrontier.empty();
    const leafHashes = LEAF_INPUTS.map((leaf) => hashLeaf(leaf));
    COMPACT_TREES.forEach((expected, size) => {
      // Assess
      expect(toHex(frontier.nodes().map((n) => n.hash))).toEqual(expected);
      // Act
      if (size < leafHashes.length) frontier = frontier.append([leafHashes[size]!]);
    });
  });

  it('gives the same root as the whole tree, however the leaves are split into appends', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 40 }), { maxLength: 6 }), (batches) => {
        // Prepare
        const all = leafHashesOf(batches.reduce((a, b) => a + b, 0));
        let frontier = TreeFrontier.empty();
        let offset = 0;
        // Act
        for (const count of batches) {
          frontier = frontier.append(all.slice(offset, offset + count));
          offset += count;
          // Assess
          expect(frontier.size).toBe(offset);
          expect(toHex([frontier.root()])).toEqual(
            toHex([MerkleTree.fromLeafHashes(all).root(offset)]),
          );
        }
      }),
    );
  });

  it('round-trips through its stored form, which holds one hash per set bit of the size', () => {
    fc.assert(
      fc.property(fc.nat({ max: 300 }), (size) => {
        // Prepare
        const frontier = TreeFrontier.empty().append(leafHashesOf(size));
        // Act
        const stored = JSON.parse(JSON.stringify(frontier.toJson())) as unknown;
        const restored = TreeFrontier.fromJson(stored);
        // Assess
        expect(frontier.toJson().nodes).toHaveLength(size.toString(2).replace(/0/g, '').length);
        expect(restored.size).toBe(size);
        expect(toHex([restored.root()])).toEqual(toHex([frontier.root()]));
      }),
    );
  });

  it('refuses a stored form with the wrong node count, a bad hash, or a bad size', () => {
    // Prepare
    const good = TreeFrontier.empty().append(leafHashesOf(6)).toJson();
    const bad: unknown[] = [
      { ...good, nodes: good.nodes.slice(1) },
      { ...good, size: 7 },
      { ...good, nodes: [good.nodes[0], toBase64(Buffer.alloc(31))] },
      { ...good, nodes: [good.nodes[0], `${good.nodes[1]!.slice(0, -1)}*`] },
      { ...good, size: -2 },
      { ...good, size: 2.5 },
      { ...good, version: 2 },
      'not json',
    ];
    // Act / Assess
    for (const json of bad) expect(() => TreeFrontier.fromJson(json)).toThrow(TreeStateError);
  });

  it('covers [0, size) with one perfect subtree per set bit, largest first', () => {
    // Act / Assess
    expect(perfectSubtrees(0)).toEqual([]);
    expect(perfectSubtrees(13)).toEqual([
      { start: 0, end: 8 },
      { start: 8, end: 12 },
      { start: 12, end: 13 },
    ]);
  });
});

describe('extendTree: a checkpoint from the stored frontier and the new leaves only', () => {
  it('gives the same consistency proof as the whole tree, and it verifies', () => {
    fc.assert(
      fc.property(fc.nat({ max: 200 }), fc.nat({ max: 200 }), (m, added) => {
        // Prepare
        const all = leafHashesOf(m + added);
        const tree = MerkleTree.fromLeafHashes(all);
        const previous = TreeFrontier.fromJson(
          TreeFrontier.empty().append(all.slice(0, m)).toJson(),
        );
        // Act
        const next = extendTree(previous, tree.root(m), all.slice(m));
        // Assess
        expect(toHex([next.root])).toEqual(toHex([tree.root()]));
        expect(toHex(next.consistencyProof)).toEqual(toHex(tree.consistencyProof(m)));
        expect(() =>
          verifyConsistency(m, m + added, previous.root(), next.root, next.consistencyProof),
        ).not.toThrow();
        expect(next.frontier.size).toBe(m + added);
      }),
    );
  });

  it('chains checkpoint after checkpoint, each consistent with the one before', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 50 }), { minLength: 1, maxLength: 8 }), (batches) => {
        // Prepare
        let frontier = TreeFrontier.empty();
        let leaf = 0;
        for (const count of batches) {
          const before = { size: frontier.size, root: frontier.root() };
          // Act
          const next = extendTree(frontier, before.root, leafHashesOf(count, `batch-${leaf}`));
          // Assess
          verifyConsistency(
            before.size,
            next.frontier.size,
            before.root,
            next.root,
            next.consistencyProof,
          );
          frontier = next.frontier;
          leaf += count;
        }
        expect(frontier.size).toBe(leaf);
      }),
    );
  });

  it('refuses a stored state that is not the signed tree', () => {
    // Prepare: the state of other leaves, or of a shorter tree
    const signed = TreeFrontier.empty().append(leafHashesOf(9));
    const other = TreeFrontier.empty().append(leafHashesOf(9, 'other'));
    const shorter = TreeFrontier.empty().append(leafHashesOf(8));
    // Act / Assess
    expect(() => extendTree(other, signed.root(), leafHashesOf(1, 'new'))).toThrow(TreeStateError);
    expect(() => extendTree(shorter, signed.root(), leafHashesOf(1, 'new'))).toThrow(
      TreeStateError,
    );
    expect(extendTree(signed, signed.root(), []).consistencyProof).toEqual([]);
  });

  it('does not re-read old leaves: its hashing grows with the new leaves, not the tree', () => {
    // Prepare: a stored tree of 65,536 leaves, then 10 new ones
    const big = TreeFrontier.fromJson(
      TreeFrontier.empty()
        .append(leafHashesOf(1 << 16))
        .toJson(),
    );
    const signedRoot = big.root();
    const nodeHashes = jest.spyOn(hashing, 'hashChildren');
    // Act
    const next = extendTree(big, signedRoot, leafHashesOf(10, 'new'));
    // Assess: appending, two roots and the proof, each O(10 + log n) node hashes
    expect(next.frontier.size).toBe((1 << 16) + 10);
    expect(nodeHashes.mock.calls.length).toBeGreaterThan(0);
    expect(nodeHashes.mock.calls.length).toBeLessThan(150);
    nodeHashes.mockRestore();
  });
});
