import { EMPTY_ROOT, Hash, HASH_SIZE, hashChildren, isHash, sameHash } from './hash';
import { ProofError } from './errors';
import { assertCount } from './proof-paths';

/*
 * Proof verification exactly as RFC 9162 §2.1.3.2 and §2.1.4.2 write it. Tree positions are
 * handled with arithmetic, not 32-bit bitwise operators, so sizes up to 2^53 - 1 work.
 */

const lsb = (x: number): boolean => x % 2 === 1;
const half = (x: number): number => Math.floor(x / 2);

function assertHashes(hashes: readonly Uint8Array[], what: string): void {
  hashes.forEach((h, i) => {
    if (!isHash(h))
      throw new ProofError(`${what}[${i}] has ${h.byteLength} bytes, not ${HASH_SIZE}`);
  });
}

/**
 * The root an inclusion proof leads to from `leafHash` at `index` in a tree of `size` leaves
 * (RFC 9162 §2.1.3.2 steps 1-4). Throws when the proof has the wrong length for that position.
 */
export function rootFromInclusionProof(
  index: number,
  size: number,
  leafHash: Hash,
  proof: readonly Hash[],
): Hash {
  assertCount(index, 'leaf index');
  assertCount(size, 'tree size');
  assertHashes([leafHash], 'leaf hash');
  assertHashes(proof, 'proof');
  if (index >= size) throw new ProofError(`leaf index ${index} is not below tree size ${size}`);
  let fn = index;
  let sn = size - 1;
  let r = leafHash;
  for (const p of proof) {
    if (sn === 0) throw new ProofError(`proof too long for leaf ${index} of ${size}`);
    if (lsb(fn) || fn === sn) {
      r = hashChildren(p, r);
      while (!lsb(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      r = hashChildren(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) throw new ProofError(`proof too short for leaf ${index} of ${size}`);
  return r;
}

/**
 * Verifies that `leafHash` is the leaf at `index` of the tree of `size` leaves whose root is
 * `root` (RFC 9162 §2.1.3.2). Throws a {@link ProofError} saying why otherwise.
 */
export function verifyInclusion(
  index: number,
  size: number,
  leafHash: Hash,
  proof: readonly Hash[],
  root: Hash,
): void {
  assertHashes([root], 'root');
  const computed = rootFromInclusionProof(index, size, leafHash, proof);
  if (!sameHash(computed, root))
    throw new ProofError(`leaf ${index} of ${size} does not lead to the expected root`);
}

/**
 * Verifies that the tree of `second` leaves with root `secondRoot` extends the tree of `first`
 * leaves with root `firstRoot` by appending only (RFC 9162 §2.1.4.2). Equal sizes need an empty
 * proof and equal roots; size 0 needs an empty proof and the empty-tree root (stricter than the
 * RFC, which leaves size 0 out: a checkpoint of size 0 with another root is a wrong checkpoint).
 */
export function verifyConsistency(
  first: number,
  second: number,
  firstRoot: Hash,
  secondRoot: Hash,
  proof: readonly Hash[],
): void {
  assertCount(first, 'first tree size');
  assertCount(second, 'second tree size');
  assertHashes([firstRoot, secondRoot], 'root');
  assertHashes(proof, 'proof');
  if (first > second) throw new ProofError(`first size ${first} is larger than second ${second}`);
  if (first === 0 || first === second) {
    if (proof.length > 0) throw new ProofError(`proof from ${first} to ${second} must be empty`);
    if (first === 0 && !sameHash(firstRoot, EMPTY_ROOT))
      throw new ProofError('a tree of size 0 has the empty-tree root');
    if (first === second && !sameHash(firstRoot, secondRoot))
      throw new ProofError(`two different roots for the same size ${first}`);
    return;
  }
  if (proof.length === 0) throw new ProofError(`empty proof from ${first} to ${second}`);
  const path = isPowerOfTwo(first) ? [firstRoot, ...proof] : [...proof];
  let fn = first - 1;
  let sn = second - 1;
  while (lsb(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) throw new ProofError(`proof too long from ${first} to ${second}`);
    if (lsb(fn) || fn === sn) {
      fr = hashChildren(c, fr);
      sr = hashChildren(c, sr);
      while (!lsb(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = hashChildren(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) throw new ProofError(`proof too short from ${first} to ${second}`);
  if (!sameHash(fr, firstRoot))
    throw new ProofError(`proof does not lead to the root of size ${first}`);
  if (!sameHash(sr, secondRoot))
    throw new ProofError(`proof does not lead to the root of size ${second}`);
}

function isPowerOfTwo(n: number): boolean {
  let x = n;
  while (x > 1 && x % 2 === 0) x /= 2;
  return x === 1;
}
