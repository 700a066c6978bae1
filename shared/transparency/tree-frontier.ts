import * as z from 'zod/mini';
import { EMPTY_ROOT, Hash, hashChildren, hashFromBase64, isHash, sameHash, toBase64 } from './hash';
import { TreeStateError } from './errors';
import { assertCount, consistencyPath, splitPoint } from './proof-paths';

/** The stored form of a {@link TreeFrontier}: JSON, hashes in standard base64. */
export const TreeFrontierJson = z.object({
  version: z.literal(1),
  size: z.int().check(z.nonnegative()),
  /** Roots of the perfect subtrees covering `[0, size)`, largest (leftmost) first. */
  nodes: z.array(z.string()),
});
/** The stored form of a {@link TreeFrontier}. */
export type TreeFrontierJson = z.infer<typeof TreeFrontierJson>;

/**
 * The incremental state of an append-only Merkle tree: the roots of the perfect subtrees that
 * cover leaves `[0, size)` (the compact range, or right frontier), one per set bit of `size`,
 * largest first: O(log n) hashes. It gives the root, takes new leaf hashes in O(new leaves), and,
 * with the new leaves, yields the consistency proof from the old size to the new one (see
 * {@link extendTree}): all a checkpointer needs to keep between runs instead of the old leaves.
 *
 * Immutable: appending returns a new frontier.
 */
export class TreeFrontier {
  private constructor(
    /** Number of leaves covered. */
    readonly size: number,
    private readonly roots: readonly Hash[],
  ) {}

  /** The frontier of the empty tree. */
  static empty(): TreeFrontier {
    return new TreeFrontier(0, []);
  }

  /** Reads a stored frontier; refuses a node count that does not match the size. */
  static fromJson(json: unknown): TreeFrontier {
    const parsed = TreeFrontierJson.safeParse(json);
    if (!parsed.success)
      throw new TreeStateError(`not a stored frontier: ${z.prettifyError(parsed.error)}`);
    const { size, nodes } = parsed.data;
    assertCount(size, 'tree size');
    const expected = perfectSubtrees(size).length;
    if (nodes.length !== expected)
      throw new TreeStateError(
        `size ${size} has ${expected} frontier node(s), got ${nodes.length}`,
      );
    const roots = nodes.map((node, i) => {
      try {
        return hashFromBase64(node, 'frontier node');
      } catch (error) {
        throw new TreeStateError(`frontier node ${i}: ${(error as Error).message}`);
      }
    });
    return new TreeFrontier(size, roots);
  }

  /** The stored form: `{ version: 1, size, nodes }`. */
  toJson(): TreeFrontierJson {
    return { version: 1, size: this.size, nodes: this.roots.map(toBase64) };
  }

  /** The frontier nodes, largest subtree first, with the leaf range each covers. */
  nodes(): Array<{ start: number; end: number; hash: Hash }> {
    return perfectSubtrees(this.size).map((range, i) => ({ ...range, hash: this.roots[i]! }));
  }

  /** The root hash (MTH) of the tree: the frontier folded right to left. */
  root(): Hash {
    if (this.roots.length === 0) return EMPTY_ROOT;
    let root = this.roots.at(-1)!;
    for (let i = this.roots.length - 2; i >= 0; i -= 1) root = hashChildren(this.roots[i]!, root);
    return root;
  }

  /** The frontier after appending leaf hashes, in order: O(new leaves) hashes. */
  append(leafHashes: readonly Hash[]): TreeFrontier {
    assertCount(this.size + leafHashes.length, 'tree size');
    const stack = [...this.roots];
    let size = this.size;
    for (const [i, leafHash] of leafHashes.entries()) {
      if (!isHash(leafHash))
        throw new TreeStateError(`leaf hash ${i} has ${leafHash.byteLength} bytes`);
      // Each trailing 1 bit of the old size is a subtree the new leaf completes.
      let node = leafHash;
      for (let s = size; s % 2 === 1; s = Math.floor(s / 2))
        node = hashChildren(stack.pop()!, node);
      stack.push(node);
      size += 1;
    }
    return new TreeFrontier(size, stack);
  }
}

/** The perfect subtrees `[start, end)` covering `[0, size)`, largest first (one per set bit). */
export function perfectSubtrees(size: number): Array<{ start: number; end: number }> {
  const ranges: Array<{ start: number; end: number }> = [];
  let start = 0;
  for (let width = size > 0 ? splitPoint(size + 1) : 0; width >= 1; width /= 2)
    if (size - start >= width) {
      ranges.push({ start, end: start + width });
      start += width;
    }
  return ranges;
}

/** What {@link extendTree} returns. */
export interface TreeExtension {
  /** The frontier after the new leaves. */
  readonly frontier: TreeFrontier;
  /** Root of the new tree. */
  readonly root: Hash;
  /** Consistency proof from the old size to the new one (RFC 9162 §2.1.4.1). */
  readonly consistencyProof: Hash[];
}

/**
 * Appends new leaf hashes to a stored frontier and proves the new tree consistent with the old,
 * without the old leaves: a consistency proof from m to n only needs the MTH of perfect subtrees
 * ending at or before m, which are exactly the nodes of the frontier at m, and of ranges starting
 * at or after m, which hold new leaves only (see `consistencyPath`). O(new leaves) hashes.
 *
 * `previousRoot` is the root of the last signed checkpoint (`EMPTY_ROOT` for the first one): a
 * stored state that does not fold to it was altered or lost, and is refused.
 */
export function extendTree(
  previous: TreeFrontier,
  previousRoot: Hash,
  newLeafHashes: readonly Hash[],
): TreeExtension {
  if (!sameHash(previous.root(), previousRoot))
    throw new TreeStateError(`the stored state of size ${previous.size} is not the signed tree`);
  const frontier = previous.append(newLeafHashes);
  const m = previous.size;
  const old = new Map(previous.nodes().map((n) => [`${n.start}:${n.end}`, n.hash]));
  const hashRange = (start: number, end: number): Hash => {
    if (start >= m)
      return TreeFrontier.empty()
        .append(newLeafHashes.slice(start - m, end - m))
        .root();
    const node = old.get(`${start}:${end}`);
    if (!node) throw new TreeStateError(`range [${start}, ${end}) is neither old frontier nor new`);
    return node;
  };
  return {
    frontier,
    root: frontier.root(),
    consistencyProof: consistencyPath(m, frontier.size, hashRange),
  };
}
