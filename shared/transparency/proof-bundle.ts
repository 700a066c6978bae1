import { KeyObject } from 'node:crypto';
import * as z from 'zod/mini';
import { ProcessingLogRecord } from '../processing-log/record';
import { Checkpoint, CheckpointTrust, openCheckpoint } from './checkpoint';
import { hashFromBase64, hashLeaf, sameHash, toBase64 } from './hash';
import { leafOfLine } from './leaf';
import { MerkleTree } from './merkle-tree';
import { ecdsaKeyId, ecdsaPublicKey } from './note-ecdsa';
import { verifyInclusion } from './proof-verify';
import { ProofError } from './errors';

/** The `format` value of a proof bundle. */
export const PROOF_BUNDLE_FORMAT = 'privacy-ops/proof-bundle';

/**
 * What an auditor takes away: a signed checkpoint, the key that signed it, and records of the
 * processing log each with its leaf index and inclusion proof against that checkpoint. Checked
 * offline with {@link checkProofBundle}. Version 1; hashes in standard base64.
 */
export const ProofBundle = z.object({
  format: z.literal(PROOF_BUNDLE_FORMAT),
  version: z.literal(1),
  /** The signed checkpoint note (C2SP tlog-checkpoint, ECDSA P-256 signature). */
  checkpoint: z.string(),
  /** Key ID of the signing key (8 hex digits: SHA-256 of its SPKI DER, first 4 bytes). */
  keyId: z.string().check(z.regex(/^[0-9a-f]{8}$/)),
  /** The signing key as PEM, for information: the auditor checks against a key they pinned. */
  publicKey: z.optional(z.string()),
  /** The subject pseudonym every record is about, when the bundle answers for one subject. */
  subject: z.optional(z.string()),
  records: z.array(
    z.object({
      /** Position of the record in the log (0-based), in the tree order. */
      leafIndex: z.int().check(z.nonnegative()),
      /** The record's JSON line as stored, without its newline (the leaf is line + "\n"). */
      line: z.string(),
      /** Inclusion proof (RFC 9162 §2.1.3), leaf's sibling first. */
      proof: z.array(z.string()),
    }),
  ),
});
/** A proof bundle, version 1. */
export type ProofBundle = z.infer<typeof ProofBundle>;

/** What {@link buildProofBundle} needs. */
export interface ProofBundleInput {
  /** The signed checkpoint the proofs are against. */
  readonly checkpoint: string;
  /** The key that signed it (KMS `GetPublicKey`, or PEM). */
  readonly publicKey: KeyObject | string | Uint8Array;
  /** The tree of the whole log, at least as large as the checkpoint. */
  readonly tree: MerkleTree;
  /** The records to prove: their stored JSON line and leaf index. */
  readonly records: ReadonlyArray<{ readonly line: string; readonly leafIndex: number }>;
  readonly subject?: string;
}

/**
 * Builds a proof bundle and checks it on the way: the checkpoint verifies with the key, the tree
 * has the checkpoint's root at its size, each line is the leaf at its index. Throws otherwise.
 */
export function buildProofBundle(input: ProofBundleInput): ProofBundle {
  const publicKey = ecdsaPublicKey(input.publicKey);
  const checkpoint = openCheckpoint(input.checkpoint, { publicKey });
  if (
    checkpoint.size > input.tree.size ||
    !sameHash(input.tree.root(checkpoint.size), checkpoint.rootHash)
  )
    throw new ProofError(`the tree does not have the checkpoint's root at size ${checkpoint.size}`);
  const records = input.records.map(({ line, leafIndex }) => {
    if (
      leafIndex >= checkpoint.size ||
      !sameHash(input.tree.leafHash(leafIndex), hashLeaf(leafOfLine(line)))
    )
      throw new ProofError(
        `the record given for leaf ${leafIndex} is not that leaf of the checkpoint`,
      );
    return {
      leafIndex,
      line,
      proof: input.tree.inclusionProof(leafIndex, checkpoint.size).map(toBase64),
    };
  });
  return {
    format: PROOF_BUNDLE_FORMAT,
    version: 1,
    checkpoint: input.checkpoint,
    keyId: Buffer.from(ecdsaKeyId(publicKey)).toString('hex'),
    publicKey: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    ...(input.subject !== undefined ? { subject: input.subject } : {}),
    records,
  };
}

/** One failing item of a bundle: which, and what is wrong, in words. */
export interface BundleProblem {
  /** `bundle`, `public key`, `checkpoint`, or `record <n> (leaf <index>)` (n from 1). */
  readonly item: string;
  readonly detail: string;
}

/** The outcome of {@link checkProofBundle}. */
export interface ProofBundleReport {
  /** True when the checkpoint and every record verified. */
  readonly ok: boolean;
  /** The checkpoint, once its signature verified with the pinned key. */
  readonly checkpoint?: Checkpoint;
  /** Records proven included in the checkpoint (their ids and leaf indexes). */
  readonly proven: ReadonlyArray<{ readonly leafIndex: number; readonly recordId: string }>;
  readonly problems: readonly BundleProblem[];
}

/**
 * Verifies a proof bundle offline against a public key the auditor pinned (PEM): the bundle's
 * format, the checkpoint's signature (the bundle's own key is never trusted), then each record:
 * a record of the log schema, about the bundle's subject if it names one, at a leaf index inside
 * the checkpoint, not listed twice, and its inclusion proof leading to the checkpoint's root.
 * Reports every failing item instead of stopping at the first.
 */
export function checkProofBundle(
  bundle: unknown,
  publicKeyPem: string,
  trust: Omit<CheckpointTrust, 'publicKey'> = {},
): ProofBundleReport {
  const problems: BundleProblem[] = [];
  const fail = (item: string, detail: string): ProofBundleReport => {
    problems.push({ item, detail });
    return { ok: false, proven: [], problems };
  };
  const parsed = ProofBundle.safeParse(bundle);
  if (!parsed.success)
    return fail('bundle', `not a version 1 proof bundle: ${z.prettifyError(parsed.error)}`);
  let publicKey: KeyObject;
  try {
    publicKey = ecdsaPublicKey(publicKeyPem);
  } catch (error) {
    return fail('public key', (error as Error).message);
  }
  const pinnedId = Buffer.from(ecdsaKeyId(publicKey)).toString('hex');
  if (parsed.data.keyId !== pinnedId)
    problems.push({
      item: 'public key',
      detail: `bundle names key ${parsed.data.keyId}, the pinned key is ${pinnedId}`,
    });
  let checkpoint: Checkpoint;
  try {
    checkpoint = openCheckpoint(parsed.data.checkpoint, { ...trust, publicKey });
  } catch (error) {
    return fail('checkpoint', (error as Error).message);
  }
  const proven: Array<{ leafIndex: number; recordId: string }> = [];
  const seen = new Set<number>();
  parsed.data.records.forEach((entry, i) => {
    const item = `record ${i + 1} (leaf ${entry.leafIndex})`;
    const problem = checkRecord(entry, checkpoint, parsed.data.subject, seen);
    if (typeof problem === 'string') problems.push({ item, detail: problem });
    else proven.push({ leafIndex: entry.leafIndex, recordId: problem.recordId });
  });
  return { ok: problems.length === 0, checkpoint, proven, problems };
}

/** Checks one record of a bundle: the problem in words, or the record when it is proven. */
function checkRecord(
  entry: ProofBundle['records'][number],
  checkpoint: Checkpoint,
  subject: string | undefined,
  seen: Set<number>,
): string | ProcessingLogRecord {
  if (seen.has(entry.leafIndex)) return 'the same leaf is listed twice';
  seen.add(entry.leafIndex);
  if (entry.leafIndex >= checkpoint.size)
    return `leaf index is not below the checkpoint size ${checkpoint.size}`;
  let record: ProcessingLogRecord;
  try {
    const parsed = ProcessingLogRecord.safeParse(JSON.parse(entry.line));
    if (!parsed.success) return `not a processing-log record: ${z.prettifyError(parsed.error)}`;
    record = parsed.data;
  } catch {
    return 'the line is not JSON';
  }
  if (subject !== undefined && record.subject !== subject)
    return `record ${record.recordId} is not about subject ${subject}`;
  try {
    const proof = entry.proof.map((h, j) => hashFromBase64(h, `proof hash ${j + 1}`));
    verifyInclusion(
      entry.leafIndex,
      checkpoint.size,
      hashLeaf(leafOfLine(entry.line)),
      proof,
      checkpoint.rootHash,
    );
  } catch (error) {
    return `record ${record.recordId}: ${(error as Error).message}`;
  }
  return record;
}
