import { createHash } from 'node:crypto';
import { MalformedError } from './errors';

/**
 * RFC 9162 §2.1.1 (the same hashing as RFC 6962 §2.1) with SHA-256: leaves and interior nodes are
 * hashed with distinct one-byte prefixes, so no leaf can pass for a node (second-preimage
 * protection).
 */

/** A SHA-256 hash: 32 bytes. */
export type Hash = Uint8Array;

/** Length of every hash of the tree, in bytes. */
export const HASH_SIZE = 32;

const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);

/** The Merkle Tree Hash of the empty tree: SHA-256 of the empty string. */
export const EMPTY_ROOT: Hash = createHash('sha256').digest();

/** Hash of a leaf: `SHA-256(0x00 || leaf)`. */
export function hashLeaf(leaf: Uint8Array): Hash {
  return createHash('sha256').update(LEAF_PREFIX).update(leaf).digest();
}

/** Hash of an interior node: `SHA-256(0x01 || left || right)`. */
export function hashChildren(left: Hash, right: Hash): Hash {
  return createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest();
}

/** Whether two hashes are the same bytes. */
export function sameHash(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

/** Whether a value is a 32-byte hash. */
export function isHash(value: Uint8Array): boolean {
  return value.byteLength === HASH_SIZE;
}

/** Standard base64 (RFC 4648 §4, with padding) of bytes. */
export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Decodes standard base64 strictly: the padded RFC 4648 §4 alphabet only, and only the one
 * canonical encoding of the bytes (Node's own decoder skips invalid characters silently).
 */
export function fromBase64(text: string, what: string): Buffer {
  const bytes = Buffer.from(text, 'base64');
  if (!BASE64.test(text) || bytes.toString('base64') !== text)
    throw new MalformedError(what, `"${text.slice(0, 80)}" is not canonical standard base64`);
  return bytes;
}

/** Decodes a base64 hash strictly (see {@link fromBase64}); refuses anything but 32 bytes. */
export function hashFromBase64(text: string, what: string): Hash {
  const bytes = fromBase64(text, what);
  if (!isHash(bytes))
    throw new MalformedError(what, `a hash has ${HASH_SIZE} bytes, this one ${bytes.length}`);
  return bytes;
}
