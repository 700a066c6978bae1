import {
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { gunzipSync } from 'node:zlib';
import type { NoteSignerSource } from '../aws/kms-note-signer';
import type { KeyObject } from 'node:crypto';
import {
  newCheckpoint,
  openCheckpoint,
  signCheckpoint,
  type Checkpoint,
} from '../transparency/checkpoint';
import { EMPTY_ROOT, hashLeaf, toBase64, type Hash } from '../transparency/hash';
import { appendOrder, leavesOfJsonLines } from '../transparency/leaf';
import { extendTree, TreeFrontier } from '../transparency/tree-frontier';
import {
  CHECKPOINT_ENTRY_FORMAT,
  CHECKPOINT_PREFIX,
  CheckpointEntry,
  checkpointEntryKey,
  checkpointOrigin,
  sizeOfEntryKey,
  type IncrementObject,
} from './checkpoint-entry';
import { LOG_OBJECT_METADATA } from './writer';

/**
 * How long after its key time a log object may still be written: the key is fixed when an
 * invocation starts and written when it ends, so this exceeds the longest function timeout
 * (15 minutes), with room for clock skew. Each run looks again at the keys of that span.
 */
export const LOG_WRITE_LAG_MS = 20 * 60_000;

/** What a checkpoint run did. */
export interface CheckpointRun {
  /** True when a new checkpoint was signed and written. */
  readonly written: boolean;
  /** Tree size of the latest checkpoint after the run. */
  readonly size: number;
  /** Size before the run. */
  readonly previousSize: number;
  /** Log objects appended by this run. */
  readonly objects: number;
  /** Key of the entry written, when one was. */
  readonly key?: string;
  /**
   * New objects left out, and checkpoint entries passed over, with why (no chain metadata,
   * unreadable, a fork; not signed, replayed): verify reports them.
   */
  readonly skipped: ReadonlyArray<{ readonly key: string; readonly reason: string }>;
}

/** Options of a {@link Checkpointer}. */
export interface CheckpointerOptions {
  readonly s3: S3Client;
  /** The log bucket: records under `dt=`, checkpoints under `checkpoints/`. */
  readonly bucket: string;
  /** Signs checkpoints (KMS ECC_NIST_P256 in the function). */
  readonly signer: NoteSignerSource;
  readonly now?: () => Date;
  /** Parallel object reads. @default 16 */
  readonly concurrency?: number;
}

/** A new log object read for the tree: its increment entry and its leaf hashes. */
interface ReadObject extends IncrementObject {
  readonly leafHashes: Hash[];
}

/** The key time of a writer's key (`…/<YYYY-MM-DDTHHMMSSmmmZ>-<instance>-<uuid>.jsonl.gz`). */
export function keyTime(key: string): number | undefined {
  const m = /\/(\d{4}-\d{2}-\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z-[^/]*$/.exec(key);
  return m ? Date.parse(`${m[1]}T${m[2]}:${m[3]}:${m[4]}.${m[5]}Z`) : undefined;
}

/** The key-time prefix of `time` as writers write it (`2026-03-14T092653589Z`). */
function compactTime(time: number): string {
  return new Date(time).toISOString().replace(/[:.]/g, '');
}

/**
 * Appends the log objects written since the previous checkpoint to the Merkle tree and writes a
 * signed checkpoint of it (see docs/transparency-format.md). Reads only the latest checkpoint
 * entry (its frontier and position) and the keys of the last minutes, never the whole log: one
 * listing of the latest entry, a few listings of the current day's writers, one GET per new
 * object, one KMS `Sign`, one PUT. The first run, with no entry yet, lists the whole log.
 *
 * Runs one at a time (reserved concurrency 1): two runs would both extend the same checkpoint.
 * Refuses to go on from a latest entry whose signature or stored state does not verify.
 */
export class Checkpointer {
  private readonly now: () => Date;
  readonly origin: string;

  constructor(private readonly options: CheckpointerOptions) {
    this.now = options.now ?? (() => new Date());
    this.origin = checkpointOrigin(options.bucket);
  }

  /** Runs one checkpoint: appends what is new, signs and writes, or does nothing if nothing is. */
  async run(): Promise<CheckpointRun> {
    const now = this.now();
    const signer = await this.options.signer.noteSigner();
    const skipped: Array<{ key: string; reason: string }> = [];
    const found = await this.latestEntry(signer.publicKey, skipped);
    const latest = found?.entry;
    const previous = found?.checkpoint;
    const frontier = latest ? TreeFrontier.fromJson(latest.frontier) : TreeFrontier.empty();
    const previousSize = previous?.size ?? 0;
    const known = new Set(latest?.recentKeys ?? []);
    const since = latest ? Date.parse(latest.lookedAt) - LOG_WRITE_LAG_MS : undefined;
    const keys = (await this.listKeys(since, now.getTime())).filter((k) => !known.has(k));
    const objects = this.inLeafOrder(await this.readObjects(keys, skipped), skipped);
    const leafHashes = objects.flatMap((o) => o.leafHashes);
    if (leafHashes.length === 0)
      return { written: false, size: previousSize, previousSize, objects: 0, skipped };

    const extension = extendTree(frontier, previous?.rootHash ?? EMPTY_ROOT, leafHashes);
    const checkpoint = newCheckpoint(this.origin, extension.frontier.size, extension.root, now);
    const horizon = now.getTime() - LOG_WRITE_LAG_MS;
    const entry: CheckpointEntry = {
      format: CHECKPOINT_ENTRY_FORMAT,
      version: 1,
      checkpoint: await signCheckpoint(checkpoint, signer),
      previousSize,
      consistencyProof: extension.consistencyProof.map(toBase64),
      objects: objects.map(({ key, writer, seq, records }) => ({ key, writer, seq, records })),
      frontier: extension.frontier.toJson(),
      lookedAt: now.toISOString(),
      recentKeys: [...known, ...objects.map((o) => o.key)].filter(
        (k) => (keyTime(k) ?? Infinity) >= horizon,
      ),
    };
    const key = checkpointEntryKey(checkpoint.size);
    await this.options.s3.send(
      new PutObjectCommand({
        Bucket: this.options.bucket,
        Key: key,
        Body: JSON.stringify(entry),
        ContentType: 'application/json',
        ChecksumAlgorithm: 'SHA256',
      }),
    );
    return {
      written: true,
      size: checkpoint.size,
      previousSize,
      objects: objects.length,
      key,
      skipped,
    };
  }

  /**
   * The newest checkpoint entry this key signed (the first key of the listing, normally), or
   * undefined before the first. Entries no checkpointer wrote (not an entry, not signed by the
   * key for this origin, or under the key of another size: an old one replayed) are passed over
   * and reported; verify reports them too.
   */
  private async latestEntry(
    publicKey: KeyObject,
    skipped: Array<{ key: string; reason: string }>,
  ): Promise<{ entry: CheckpointEntry; checkpoint: Checkpoint } | undefined> {
    const { s3, bucket } = this.options;
    let token: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({
          Bucket: bucket,
          Prefix: CHECKPOINT_PREFIX,
          MaxKeys: 10,
          ContinuationToken: token,
        }),
      );
      for (const { Key: key } of page.Contents ?? []) {
        const size = sizeOfEntryKey(key!);
        if (size === undefined) continue;
        const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        const body = await got.Body!.transformToString();
        try {
          const entry = CheckpointEntry.parse(JSON.parse(body));
          const checkpoint = openCheckpoint(entry.checkpoint, { publicKey, origin: this.origin });
          if (checkpoint.size !== size)
            throw new Error(`holds a checkpoint of size ${checkpoint.size}, not ${size}`);
          return { entry, checkpoint };
        } catch (error) {
          skipped.push({
            key: key!,
            reason: `not a checkpoint entry: ${(error as Error).message}`,
          });
        }
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return undefined;
  }

  /**
   * Keys of log objects whose key time is at or after `since` (all keys when undefined): for each
   * day from `since` to now (plus the lag, for skewed clocks), the writers' prefixes, each listed
   * from `since` on.
   */
  private async listKeys(since: number | undefined, now: number): Promise<string[]> {
    if (since === undefined) return this.list('dt=');
    const keys: string[] = [];
    const last = new Date(now + LOG_WRITE_LAG_MS).toISOString().slice(0, 10);
    const first = new Date(since).toISOString().slice(0, 10);
    for (let day = first; day <= last; day = nextDay(day)) {
      const actors = await this.list(`dt=${day}/`, '/');
      for (const actor of actors)
        keys.push(...(await this.list(actor, undefined, `${actor}${compactTime(since)}`)));
    }
    return keys;
  }

  /** Every key (or common prefix, with a delimiter) under `prefix`, after `startAfter`. */
  private async list(prefix: string, delimiter?: string, startAfter?: string): Promise<string[]> {
    const found: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.options.s3.send(
        new ListObjectsV2Command({
          Bucket: this.options.bucket,
          Prefix: prefix,
          Delimiter: delimiter,
          StartAfter: token ? undefined : startAfter,
          ContinuationToken: token,
        }),
      );
      if (delimiter) found.push(...(page.CommonPrefixes ?? []).map((p) => p.Prefix!));
      else found.push(...(page.Contents ?? []).map((o) => o.Key!));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return found;
  }

  /** Reads the new objects: chain metadata and leaf hashes; leaves out what the writer never writes. */
  private async readObjects(
    keys: readonly string[],
    skipped: Array<{ key: string; reason: string }>,
  ): Promise<ReadObject[]> {
    const read: ReadObject[] = [];
    let next = 0;
    const worker = async () => {
      while (next < keys.length) {
        const key = keys[next++]!;
        try {
          const got = await this.options.s3.send(
            new GetObjectCommand({ Bucket: this.options.bucket, Key: key }),
          );
          const meta = got.Metadata ?? {};
          const writer = meta[LOG_OBJECT_METADATA.writer];
          const seq = Number(meta[LOG_OBJECT_METADATA.seq]);
          if (!writer || !Number.isSafeInteger(seq) || seq < 0) {
            skipped.push({ key, reason: 'no writer chain metadata' });
            continue;
          }
          const body = gunzipSync(Buffer.from(await got.Body!.transformToByteArray()));
          const leafHashes = leavesOfJsonLines(body).map(hashLeaf);
          read.push({ key, writer, seq, records: leafHashes.length, leafHashes });
        } catch (error) {
          if ((error as { $metadata?: unknown }).$metadata !== undefined) throw error;
          skipped.push({ key, reason: `unreadable: ${(error as Error).message}` });
        }
      }
    };
    const workers = Math.min(this.options.concurrency ?? 16, keys.length);
    await Promise.all(Array.from({ length: workers }, worker));
    return read;
  }

  /** The objects in leaf order (writer, then seq); both objects of a fork are left out. */
  private inLeafOrder(
    objects: readonly ReadObject[],
    skipped: Array<{ key: string; reason: string }>,
  ): ReadObject[] {
    const place = (o: ReadObject) => `${o.writer}\n${o.seq}`;
    const count = new Map<string, number>();
    for (const o of objects) count.set(place(o), (count.get(place(o)) ?? 0) + 1);
    const forks = objects.filter((o) => count.get(place(o))! > 1);
    for (const o of forks) skipped.push({ key: o.key, reason: `fork at seq ${o.seq}` });
    return appendOrder(objects.filter((o) => count.get(place(o)) === 1));
  }
}

function nextDay(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}
