import { Hash } from './hash';
import { TreeStateError } from './errors';

/**
 * The Merkle Tree Hash of the leaves `[start, end)` of the log, MTH(D[start:end]) in RFC 9162
 * terms. Proof generation asks a source of hashes (a whole tree, or a stored frontier plus the new
 * leaves) only for the ranges the proof needs.
 */
export type RangeHasher = (start: number, end: number) => Hash;

/** Checks that a tree size or index is a non-negative safe integer. */
export function assertCount(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new TreeStateError(`${what} must be a non-negative integer, got ${value}`);
}

/** The largest power of two strictly below `n` (n ≥ 2): the split point `k` of RFC 9162 §2.1.1. */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * The audit path of leaf `index` in the tree of the first `size` leaves: RFC 9162 §2.1.3.1
 * (PATH(m, D[n])), siblings ordered from the leaf up to the root. Refuses an index outside the tree.
 */
export function inclusionPath(index: number, size: number, hashRange: RangeHasher): Hash[] {
  assertCount(index, 'leaf index');
  assertCount(size, 'tree size');
  if (index >= size) throw new TreeStateError(`leaf index ${index} is not below tree size ${size}`);
  // Walk down from the root: each level contributes the MTH of the side the leaf is not in.
  const topDown: Hash[] = [];
  let start = 0;
  let end = size;
  while (end - start > 1) {
    const k = splitPoint(end - start);
    if (index - start < k) {
      topDown.push(hashRange(start + k, end));
      end = start + k;
    } else {
      topDown.push(hashRange(start, start + k));
      start += k;
    }
  }
  return topDown.reverse();
}

/**
 * The consistency proof from the tree of the first `first` leaves to the tree of the first
 * `second` leaves: RFC 9162 §2.1.4.1 (PROOF(m, D[n]) = SUBPROOF(m, D[n], true)), ordered as the
 * RFC writes it (deepest node first). Empty when `first` is 0 or equal to `second`.
 *
 * The ranges it asks `hashRange` for are of two kinds only: perfect subtrees that end at or before
 * `first` (nodes of the old tree's frontier) and ranges that start at or after `first` (new leaves
 * only). So a stored frontier of the old tree plus the new leaves are enough to produce it.
 */
export function consistencyPath(first: number, second: number, hashRange: RangeHasher): Hash[] {
  assertCount(first, 'first tree size');
  assertCount(second, 'second tree size');
  if (first > second)
    throw new TreeStateError(`first tree size ${first} is larger than second ${second}`);
  if (first === 0 || first === second) return [];
  const topDown: Hash[] = [];
  let start = 0;
  let end = second;
  let completeOldRoot = true; // the `b` flag of SUBPROOF: the old root is the subtree itself
  for (;;) {
    const m = first - start;
    if (m === end - start) {
      if (!completeOldRoot) topDown.push(hashRange(start, end));
      break;
    }
    const k = splitPoint(end - start);
    if (m <= k) {
      topDown.push(hashRange(start + k, end));
      end = start + k;
    } else {
      topDown.push(hashRange(start, start + k));
      start += k;
      completeOldRoot = false;
    }
  }
  return topDown.reverse();
}
