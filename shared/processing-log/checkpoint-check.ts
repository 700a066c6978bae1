import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { KeyObject } from 'node:crypto';
import { listObjectVersions } from '../aws/object-versions';
import {
  openCheckpoint,
  verifyCheckpointSuccession,
  type Checkpoint,
} from '../transparency/checkpoint';
import { hashFromBase64, sameHash } from '../transparency/hash';
import { TreeFrontier } from '../transparency/tree-frontier';
import type { VerifiedObject, VerifyProblem } from './chain-check';
import {
  CHECKPOINT_PREFIX,
  CheckpointEntry,
  checkpointOrigin,
  sizeOfEntryKey,
} from './checkpoint-entry';

/** A log object as the checkpoint check needs it: its key and the hashes of its records (leaves). */
export type CheckedObject = Pick<VerifiedObject, 'key' | 'leafHashes'>;

/** What {@link checkCheckpoints} is given. */
export interface CheckpointCheckInput {
  readonly s3: S3Client;
  readonly bucket: string;
  /** The key checkpoints must be signed with (pinned PEM, or KMS `GetPublicKey`). */
  readonly publicKey: KeyObject;
  /** The origin checkpoints must carry. @default the origin of the log in `bucket` */
  readonly origin?: string;
  /**
   * Every current log object of the bucket, read; or undefined when only part of the log was read
   * (a period): then signatures and succession are checked, inclusion is not.
   */
  readonly objects?: readonly CheckedObject[];
  /** The anchor: the bucket in the other EU region the checkpoints are replicated to. */
  readonly anchor?: { readonly s3: S3Client; readonly bucket: string };
}

/** The findings of {@link checkCheckpoints}. */
export interface CheckpointCheck {
  readonly problems: VerifyProblem[];
  readonly notes: string[];
  /** The latest checkpoint that verified, if any. */
  readonly latest?: Checkpoint;
}

/** A checkpoint entry that was read, with its key and opened checkpoint. */
export interface OpenedEntry {
  readonly key: string;
  /** The entry as stored. */
  readonly body: string;
  readonly entry: CheckpointEntry;
  readonly checkpoint: Checkpoint;
}

/**
 * Checks the log against its signed checkpoints: every checkpoint entry written once and never
 * hidden, each signed by the key for this log's origin, each consistent with the one before it
 * (RFC 9162 consistency proof, sizes following without a gap), and, over the whole log, the
 * records of the objects each checkpoint lists, read back in its order, hash to its root; every
 * object a checkpoint lists is still there, and every object of the log is in a checkpoint.
 */
export async function checkCheckpoints(input: CheckpointCheckInput): Promise<CheckpointCheck> {
  const notes: string[] = [];
  const { current, opened, problems } = await openCheckpointEntries(input);
  if (input.anchor) problems.push(...(await anchorProblems(input.anchor, opened, notes)));
  if (current.length === 0) {
    notes.push(
      'no checkpoint yet: the newest object of each chain, and whole chains, are not proven present',
    );
    return { problems, notes };
  }
  if (input.objects) problems.push(...inclusionProblems(opened, input.objects));
  else notes.push('checkpoint inclusion is checked on the whole log only (no --from/--to)');
  const latest = opened.at(-1)?.checkpoint;
  if (latest)
    notes.push(
      `latest checkpoint: ${latest.size} records, ${latest.extensions.join(' ')}, signed by the checkpoint key`,
    );
  return { problems, notes, latest };
}

/**
 * Reads every checkpoint entry of the bucket, oldest first, and opens those whose signature and
 * succession verify; reports the others (rewritten, hidden, invalid, inconsistent).
 */
export async function openCheckpointEntries(
  input: Omit<CheckpointCheckInput, 'objects'>,
): Promise<{ current: string[]; opened: OpenedEntry[]; problems: VerifyProblem[] }> {
  const problems: VerifyProblem[] = [];
  const current = await entryVersions(input, problems);
  const opened: OpenedEntry[] = [];
  for (const key of current) {
    const entry = await readEntry(input, key, problems);
    if (entry) opened.push(entry);
  }
  problems.push(...successionProblems(opened));
  return { current, opened, problems };
}

/** Keys of the current checkpoint entries, oldest (smallest tree) first; rewritten or hidden ones reported. */
async function entryVersions(
  input: Omit<CheckpointCheckInput, 'objects'>,
  problems: VerifyProblem[],
): Promise<string[]> {
  const versions = await listObjectVersions(input.s3, {
    bucket: input.bucket,
    prefix: CHECKPOINT_PREFIX,
  });
  const byKey = new Map<string, typeof versions>();
  for (const v of versions) byKey.set(v.key, [...(byKey.get(v.key) ?? []), v]);
  const current: string[] = [];
  for (const [key, all] of byKey) {
    const objects = all.filter((v) => !v.deleteMarker).length;
    const latest = all.find((v) => v.latest);
    if (objects > 1)
      problems.push({
        kind: 'checkpoint-rewritten',
        key,
        detail: `${objects} versions of a checkpoint: a checkpoint is written once`,
      });
    if (latest?.deleteMarker) {
      problems.push({
        kind: 'checkpoint-deleted',
        key,
        detail: 'the checkpoint is hidden by a delete marker',
      });
      continue;
    }
    if (sizeOfEntryKey(key) === undefined) {
      problems.push({
        kind: 'checkpoint-invalid',
        key,
        detail: 'not a checkpoint entry key: nothing but the checkpointer writes here',
      });
      continue;
    }
    current.push(key);
  }
  return current.sort((a, b) => sizeOfEntryKey(a)! - sizeOfEntryKey(b)!);
}

/** Reads one entry and opens its checkpoint with the trusted key; reports why it cannot. */
async function readEntry(
  input: Omit<CheckpointCheckInput, 'objects'>,
  key: string,
  problems: VerifyProblem[],
): Promise<OpenedEntry | undefined> {
  try {
    const got = await input.s3.send(new GetObjectCommand({ Bucket: input.bucket, Key: key }));
    const body = await got.Body!.transformToString();
    const entry = CheckpointEntry.parse(JSON.parse(body));
    const checkpoint = openCheckpoint(entry.checkpoint, {
      publicKey: input.publicKey,
      origin: input.origin ?? checkpointOrigin(input.bucket),
    });
    if (checkpoint.size !== sizeOfEntryKey(key))
      throw new Error(
        `the key stands for size ${sizeOfEntryKey(key)}, the checkpoint has ${checkpoint.size}`,
      );
    const listed = entry.objects.reduce((n, o) => n + o.records, 0);
    if (listed !== checkpoint.size - entry.previousSize)
      throw new Error(
        `lists ${listed} records, the checkpoint adds ${checkpoint.size - entry.previousSize}`,
      );
    return { key, body, entry, checkpoint };
  } catch (error) {
    if ((error as { $metadata?: unknown }).$metadata !== undefined) throw error;
    problems.push({ kind: 'checkpoint-invalid', key, detail: (error as Error).message });
    return undefined;
  }
}

/** Each checkpoint follows the previous one present: sizes without a gap, a valid consistency proof. */
function successionProblems(opened: readonly OpenedEntry[]): VerifyProblem[] {
  const problems: VerifyProblem[] = [];
  opened.forEach(({ key, entry, checkpoint }, i) => {
    const previous = opened[i - 1];
    const before = previous?.checkpoint.size ?? 0;
    if (entry.previousSize !== before) {
      problems.push({
        kind: 'checkpoint-inconsistent',
        key,
        detail: `follows a checkpoint of ${entry.previousSize} records, the one before it here has ${before}: a checkpoint is missing`,
      });
      return;
    }
    if (!previous) return;
    try {
      verifyCheckpointSuccession(
        previous.checkpoint,
        checkpoint,
        entry.consistencyProof.map((h, j) => hashFromBase64(h, `consistency proof hash ${j + 1}`)),
      );
    } catch (error) {
      problems.push({ kind: 'checkpoint-inconsistent', key, detail: (error as Error).message });
    }
  });
  return problems;
}

/**
 * Rebuilds the tree from the objects in the order the checkpoints list them and compares each
 * root; reports listed objects that are gone, and objects that no checkpoint lists.
 */
function inclusionProblems(
  opened: readonly OpenedEntry[],
  objects: readonly CheckedObject[],
): VerifyProblem[] {
  const problems: VerifyProblem[] = [];
  const byKey = new Map(objects.map((o) => [o.key, o]));
  const listed = new Set<string>();
  let tree: TreeFrontier | undefined = TreeFrontier.empty();
  for (const { key, entry, checkpoint } of opened) {
    for (const o of entry.objects) {
      if (listed.has(o.key))
        problems.push({ kind: 'checkpoint-invalid', key, detail: `lists ${o.key} a second time` });
      listed.add(o.key);
      const found = byKey.get(o.key);
      if (!found) {
        problems.push({
          kind: 'checkpointed-missing',
          key,
          detail: `${o.key} (writer ${o.writer}, seq ${o.seq}, ${o.records} records) is in this checkpoint but not in the log: removed`,
        });
        tree = undefined;
      } else if (tree) tree = tree.append(found.leafHashes ?? []);
    }
    if (tree && (tree.size !== checkpoint.size || !sameHash(tree.root(), checkpoint.rootHash))) {
      problems.push({
        kind: 'checkpoint-mismatch',
        key,
        detail: `the records of the objects it lists do not hash to its root (size ${checkpoint.size}): a record was altered`,
      });
      tree = undefined;
    }
  }
  const latest = opened.at(-1)?.checkpoint;
  for (const o of objects)
    if (!listed.has(o.key))
      problems.push({
        kind: 'not-checkpointed',
        key: o.key,
        detail: `in no checkpoint${latest ? ` (latest: ${latest.size} records, ${latest.extensions.join(' ')})` : ''}: written after it, or put by someone else than a writer; take a checkpoint (privacy-ops log checkpoint) and verify again`,
      });
  return problems;
}

/**
 * Compares the log bucket's checkpoints with the anchor's copies: every checkpoint the anchor
 * holds must be in the log bucket, byte for byte. A checkpoint the anchor does not hold yet is
 * only noted (replication takes seconds to minutes).
 */
async function anchorProblems(
  anchor: NonNullable<CheckpointCheckInput['anchor']>,
  opened: readonly OpenedEntry[],
  notes: string[],
): Promise<VerifyProblem[]> {
  const problems: VerifyProblem[] = [];
  const inLog = new Map(opened.map((o) => [o.key, o.body]));
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await anchor.s3.send(
      new ListObjectsV2Command({
        Bucket: anchor.bucket,
        Prefix: CHECKPOINT_PREFIX,
        ContinuationToken: token,
      }),
    );
    keys.push(...(page.Contents ?? []).map((o) => o.Key!));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  for (const key of keys) {
    const got = await anchor.s3.send(new GetObjectCommand({ Bucket: anchor.bucket, Key: key }));
    const body = await got.Body!.transformToString();
    const local = inLog.get(key);
    if (local === undefined)
      problems.push({
        kind: 'anchor-mismatch',
        key,
        detail: `the anchor ${anchor.bucket} holds this checkpoint; the log bucket has no valid one under its key: removed or replaced`,
      });
    else if (local !== body)
      problems.push({
        kind: 'anchor-mismatch',
        key,
        detail: `differs from its copy in the anchor ${anchor.bucket}: rewritten`,
      });
  }
  const pending = opened.filter((o) => !keys.includes(o.key)).length;
  notes.push(
    `anchor ${anchor.bucket}: ${keys.length} checkpoint(s)${pending > 0 ? `, ${pending} not replicated yet` : ''}`,
  );
  return problems;
}
