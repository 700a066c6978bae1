import { EMPTY_ROOT, Hash, HASH_SIZE, hashChildren, hashLeaf, isHash } from './hash';
import { TreeStateError } from './errors';
import { assertCount, consistencyPath, inclusionPath, splitPoint } from './proof-paths';

/**
 * A whole Merkle tree in memory (RFC 9162 §2.1), for whoever holds every leaf: the verifier that
 * reads the whole log and the prover that answers for a subject. It keeps every perfect node
 * (2 × 32 bytes per leaf, one buffer per level), so the root of any size and any proof costs
 * O(log² n) hashes once built.
 *
 * For appending without the old leaves, use {@link TreeFrontier} instead.
 */
export class MerkleTree {
  /** `levels[h]` holds the perfect nodes of height h (2^h leaves each), 32 bytes apiece. */
  private readonly levels: Buffer[];

  private constructor(levels: Buffer[]) {
    this.levels = levels;
  }

  /** Builds the tree over leaf hashes (see `hashLeaf`), in leaf order. */
  static fromLeafHashes(leafHashes: readonly Hash[]): MerkleTree {
    leafHashes.forEach((h, i) => {
      if (!isHash(h)) throw new TreeStateError(`leaf hash ${i} has ${h.byteLength} bytes`);
    });
    const levels = [Buffer.concat(leafHashes)];
    for (let below = levels[0]!; below.length >= 2 * HASH_SIZE; below = levels.at(-1)!) {
      const count = Math.floor(below.length / HASH_SIZE / 2);
      const level = Buffer.alloc(count * HASH_SIZE);
      for (let i = 0; i < count; i += 1) {
        const left = below.subarray(2 * i * HASH_SIZE, (2 * i + 1) * HASH_SIZE);
        const right = below.subarray((2 * i + 1) * HASH_SIZE, (2 * i + 2) * HASH_SIZE);
        level.set(hashChildren(left, right), i * HASH_SIZE);
      }
      levels.push(level);
    }
    return new MerkleTree(levels);
  }

  /** Builds the tree over leaves (their bytes, hashed with `hashLeaf`). */
  static fromLeaves(leaves: readonly Uint8Array[]): MerkleTree {
    return MerkleTree.fromLeafHashes(leaves.map(hashLeaf));
  }

  /** Number of leaves. */
  get size(): number {
    return this.levels[0]!.length / HASH_SIZE;
  }

  /** Hash of leaf `index`. */
  leafHash(index: number): Hash {
    this.assertSize(index + 1);
    return this.node(0, index);
  }

  /** Root hash (MTH) of the tree of the first `size` leaves (default: all). */
  root(size: number = this.size): Hash {
    this.assertSize(size);
    return size === 0 ? EMPTY_ROOT : this.hashRange(0, size);
  }

  /** Inclusion proof of leaf `index` in the tree of the first `size` leaves (default: all). */
  inclusionProof(index: number, size: number = this.size): Hash[] {
    this.assertSize(size);
    return inclusionPath(index, size, this.hashRange);
  }

  /** Consistency proof from the tree of `first` leaves to the tree of `second` (default: all). */
  consistencyProof(first: number, second: number = this.size): Hash[] {
    this.assertSize(second);
    return consistencyPath(first, second, this.hashRange);
  }

  /** MTH(D[start:end]): a stored perfect node when the range is one, else split as RFC 9162 does. */
  readonly hashRange = (start: number, end: number): Hash => {
    const n = end - start;
    if (n < 1) throw new TreeStateError(`empty range [${start}, ${end})`);
    if (n === 1) return this.node(0, start);
    let height = 0;
    while (2 ** height < n) height += 1;
    if (2 ** height === n && start % n === 0) return this.node(height, start / n);
    const k = splitPoint(n);
    return hashChildren(this.hashRange(start, start + k), this.hashRange(start + k, end));
  };

  private node(height: number, index: number): Hash {
    return this.levels[height]!.subarray(index * HASH_SIZE, (index + 1) * HASH_SIZE);
  }

  private assertSize(size: number): void {
    assertCount(size, 'tree size');
    if (size > this.size) throw new TreeStateError(`size ${size} exceeds the ${this.size} leaves`);
  }
}
