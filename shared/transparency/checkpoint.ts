import { KeyObject } from 'node:crypto';
import { Hash, hashFromBase64, isHash, toBase64 } from './hash';
import { ecdsaNoteVerifier, NoteSigner, signNoteText } from './note-ecdsa';
import { formatSignedNote, isValidKeyName, parseSignedNote, verifyNote } from './signed-note';
import { verifyConsistency } from './proof-verify';
import { MalformedError, ProofError } from './errors';

/*
 * C2SP tlog-checkpoint (see docs/transparency-format.md): the text of a signed note made of the origin,
 * the tree size in decimal, the base64 RFC 6962 root hash, then optional extension lines. Ours
 * carry one extension line, the time the checkpoint was made: `timestamp <ISO 8601 UTC>`, exactly
 * as JavaScript's `Date.toISOString()` writes it (`timestamp 2026-03-14T09:26:53.589Z`).
 */

/** A checkpoint: the signed head of the tree at one size. */
export interface Checkpoint {
  /** Unique name of the log; ours is also the signing key's name (no spaces, no `+`). */
  readonly origin: string;
  /** Number of leaves of the tree. */
  readonly size: number;
  /** Root hash (MTH) of the tree of `size` leaves. */
  readonly rootHash: Hash;
  /** Extension lines, in order (ours: one `timestamp …` line). */
  readonly extensions: readonly string[];
}

/** Prefix of the extension line carrying the checkpoint's time. */
export const TIMESTAMP_EXTENSION = 'timestamp ';
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const DECIMAL = /^(0|[1-9][0-9]*)$/;

/** A checkpoint of this log: origin, size, root and the timestamp line of `time`. */
export function newCheckpoint(
  origin: string,
  size: number,
  rootHash: Hash,
  time: Date,
): Checkpoint {
  return { origin, size, rootHash, extensions: [`${TIMESTAMP_EXTENSION}${time.toISOString()}`] };
}

/** The checkpoint's note text: origin, size, root hash, extension lines, each ending in a newline. */
export function formatCheckpoint(checkpoint: Checkpoint): string {
  const { origin, size, rootHash, extensions } = checkpoint;
  if (!isValidKeyName(origin))
    throw new MalformedError(
      'checkpoint',
      `origin "${origin}" must be non-empty, without spaces or "+"`,
    );
  if (!Number.isSafeInteger(size) || size < 0)
    throw new MalformedError('checkpoint', `bad size ${size}`);
  if (!isHash(rootHash)) throw new MalformedError('checkpoint', 'the root hash has 32 bytes');
  if (extensions.some((e) => e === '' || e.includes('\n')))
    throw new MalformedError('checkpoint', 'an extension line is empty or holds a newline');
  const text = [origin, String(size), toBase64(rootHash), ...extensions]
    .map((l) => `${l}\n`)
    .join('');
  parseCheckpoint(text); // what we write, we can read back
  return text;
}

/**
 * Parses a checkpoint's note text strictly: at least three non-empty lines, a decimal size without
 * leading zeros, a canonical base64 root of 32 bytes, non-empty extension lines, final newline.
 * Origins of other logs may hold spaces (Rekor's do): only non-empty is required here.
 */
export function parseCheckpoint(text: string): Checkpoint {
  if (!text.endsWith('\n')) throw new MalformedError('checkpoint', 'does not end with a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) throw new MalformedError('checkpoint', 'fewer than three lines');
  if (lines.some((l) => l === '')) throw new MalformedError('checkpoint', 'an empty line');
  const [origin, size, root, ...extensions] = lines as [string, string, string, ...string[]];
  if (!DECIMAL.test(size) || !Number.isSafeInteger(Number(size)))
    throw new MalformedError('checkpoint', `tree size "${size}" is not a decimal integer`);
  return {
    origin,
    size: Number(size),
    rootHash: hashFromBase64(root, 'checkpoint root hash'),
    extensions,
  };
}

/** The time of one of our checkpoints; refuses a missing, repeated or malformed timestamp line. */
export function checkpointTime(checkpoint: Checkpoint): Date {
  const lines = checkpoint.extensions.filter((e) => e.startsWith(TIMESTAMP_EXTENSION));
  if (lines.length !== 1)
    throw new MalformedError('checkpoint', `${lines.length} timestamp lines, expected one`);
  const iso = lines[0]!.slice(TIMESTAMP_EXTENSION.length);
  const time = new Date(iso);
  if (!ISO_UTC.test(iso) || Number.isNaN(time.getTime()) || time.toISOString() !== iso)
    throw new MalformedError('checkpoint', `timestamp "${iso}" is not YYYY-MM-DDTHH:MM:SS.sssZ`);
  return time;
}

/**
 * Signs a checkpoint and returns the whole signed note. The key name is the origin, as the
 * specification recommends ("the log's key name in its signature line SHOULD match the origin").
 */
export async function signCheckpoint(checkpoint: Checkpoint, signer: NoteSigner): Promise<string> {
  const text = formatCheckpoint(checkpoint);
  const signature = await signNoteText(text, checkpoint.origin, signer);
  return formatSignedNote({ text, signatures: [signature] });
}

/** How to trust a checkpoint: the public key, and the names it must carry. */
export interface CheckpointTrust {
  /** The log's public key: `KeyObject`, PEM, or SPKI DER (KMS `GetPublicKey`). */
  readonly publicKey: KeyObject | string | Uint8Array;
  /** The origin the checkpoint must have. Unchecked when omitted. */
  readonly origin?: string;
  /** Key name of the signature line; default the expected origin, else the checkpoint's own. */
  readonly keyName?: string;
}

/**
 * Verifies a signed checkpoint and returns it: the signature of the trusted key first (the text is
 * not read before), then the checkpoint format and the expected origin. Throws a
 * `SignatureError` or `MalformedError` saying which check failed.
 */
export function openCheckpoint(note: string | Uint8Array, trust: CheckpointTrust): Checkpoint {
  const parsed = parseSignedNote(note);
  // Without an expected name the signature line's name is taken from the text; the key ID and the
  // signature itself still come from the pinned public key, so nothing is trusted on its word.
  const firstLine = parsed.text.slice(0, parsed.text.indexOf('\n'));
  const keyName = trust.keyName ?? trust.origin ?? firstLine;
  const text = verifyNote(parsed, ecdsaNoteVerifier(keyName, trust.publicKey));
  const checkpoint = parseCheckpoint(text);
  if (trust.origin !== undefined && checkpoint.origin !== trust.origin)
    throw new MalformedError(
      'checkpoint',
      `origin "${checkpoint.origin}", expected "${trust.origin}"`,
    );
  return checkpoint;
}

/**
 * Checks that `next` is a checkpoint that may follow `previous` of the same log: same origin, a
 * size not smaller, a timestamp not earlier, and a consistency proof from one tree to the other
 * (RFC 9162 §2.1.4.2). Throws a `ProofError` or `MalformedError` saying which rule broke.
 */
export function verifyCheckpointSuccession(
  previous: Checkpoint,
  next: Checkpoint,
  consistencyProof: readonly Hash[],
): void {
  if (next.origin !== previous.origin)
    throw new ProofError(`origin "${next.origin}" follows "${previous.origin}"`);
  if (checkpointTime(next) < checkpointTime(previous))
    throw new ProofError(`checkpoint of size ${next.size} is dated before the one it follows`);
  verifyConsistency(previous.size, next.size, previous.rootHash, next.rootHash, consistencyProof);
}
