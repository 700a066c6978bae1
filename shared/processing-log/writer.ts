import { HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createHash, randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { isNotFound } from '../errors';
import { LOG_SCHEMA_VERSION, ProcessingLogRecord } from './record';

/** `prev-sha256` of the first object of a writer instance. */
export const GENESIS = 'genesis';

/**
 * S3 user metadata of every log object (sent as `x-amz-meta-<name>`): the tamper-evidence chain.
 * A verifier needs nothing but the log bucket to check it (see `verify.ts`).
 */
export const LOG_OBJECT_METADATA = {
  /** Hex SHA-256 of the object's records: the uncompressed JSON Lines bytes. */
  recordsSha256: 'records-sha256',
  /** `records-sha256` of the previous object of the same writer, or `genesis`. */
  prevSha256: 'prev-sha256',
  /** The writer instance: `<actor>/<random instance id>` (one per function instance). */
  writer: 'writer',
  /** Position of the object in its writer's chain: 0, 1, 2… without gaps. */
  seq: 'seq',
  /** Number of records in the object. */
  records: 'records',
  /** Record schema version of the object's records. */
  schemaVersion: 'schema-version',
} as const;

/** The hex SHA-256 of a log object's records (its uncompressed JSON Lines bytes). */
export function recordsDigest(jsonLines: Buffer | string): string {
  return createHash('sha256').update(jsonLines).digest('hex');
}

/** The JSON Lines bytes of records, as written (one JSON object per line, final newline). */
export function toJsonLines(records: readonly ProcessingLogRecord[]): Buffer {
  return Buffer.from(records.map((r) => JSON.stringify(r)).join('\n') + '\n', 'utf8');
}

/** Fields that may be omitted when adding a record: they default to null (or are derived). */
type Defaulted = 'schemaVersion' | 'recordId' | 'actor' | 'time';
type NullableKeys = {
  [K in keyof ProcessingLogRecord]: null extends ProcessingLogRecord[K] ? K : never;
}[keyof ProcessingLogRecord];

/** What a caller gives for one record: operation, outcome and tenant, and whatever else applies. */
export type LogEntry = Omit<ProcessingLogRecord, Defaulted | NullableKeys> &
  Partial<Pick<ProcessingLogRecord, Defaulted | NullableKeys>> & {
    /**
     * What tells this effect from another of the same operation on the same thing (a destroyed
     * key's id, an export's prefix, a document's stored version): folded into the record id, so
     * distinct effects get distinct ids while a replay of one effect keeps its id. Never written.
     */
    readonly effect?: string;
  };

/** Options of a {@link ProcessingLogWriter}. */
export interface ProcessingLogWriterOptions {
  readonly s3: S3Client;
  readonly bucket: string;
  /** Name of the acting function, written in every record. */
  readonly actor: string;
  readonly now?: () => Date;
  /** Random id of this writer instance (one per function instance). @default random */
  readonly instanceId?: string;
}

/**
 * The deterministic id of a record: the same effect always gets the same id; `effect` (see
 * {@link LogEntry}) tells apart effects the other fields do not.
 */
export function recordIdOf(
  r: Omit<ProcessingLogRecord, 'recordId' | 'time' | 'actor' | 'schemaVersion'>,
  effect?: string,
): string {
  return createHash('sha256')
    .update(
      JSON.stringify([
        r.tenant,
        r.eventSource,
        r.eventId,
        r.operation,
        r.outcome,
        r.subject,
        r.category,
        r.document,
        r.requestId,
        ...(effect === undefined ? [] : [effect]),
      ]),
    )
    .digest('hex')
    .slice(0, 32);
}

/** The record id an entry gets when added (see {@link recordIdOf}). */
export function recordIdOfEntry({ effect, ...fields }: LogEntry): string {
  return fields.recordId ?? recordIdOf(withNulls(fields), effect);
}

/** An entry with every nullable field present (null when not given), as a record holds it. */
function withNulls(entry: Omit<LogEntry, 'effect'>) {
  return {
    subject: null,
    category: null,
    legalBasis: null,
    purpose: null,
    requestId: null,
    deadline: null,
    document: null,
    eventId: null,
    eventSource: null,
    eventType: null,
    reason: null,
    retainUntil: null,
    ...entry,
  };
}

/**
 * Collects the records of one invocation and writes them as one gzip JSON Lines object under
 * `dt=YYYY-MM-DD/<actor>/` of the log bucket: one PUT per invocation whatever the batch size,
 * with an S3 SHA-256 checksum.
 *
 * Tamper evidence: the writer instance (module scope of one function instance) chains its
 * objects. Each carries, as S3 user metadata, the digest of its records, the digest of the
 * previous object of the same writer (`genesis` for the first), the writer id and a sequence
 * number without gaps, so a removed object shows as a gap and an altered one as a digest mismatch.
 * A PUT whose outcome is unknown (error after sending) is resolved at the next flush by looking
 * the object up, so the chain never forks.
 */
export class ProcessingLogWriter {
  private records: ProcessingLogRecord[] = [];
  private readonly now: () => Date;
  private key: string | undefined;
  /** This writer instance: `<actor>/<instance id>`. */
  readonly writerId: string;
  private seq = 0;
  private prev = GENESIS;
  /** An object whose PUT failed: it may still have been written. */
  private unconfirmed: { key: string; digest: string } | undefined;
  /** Serializes flushes, so the chain stays linear even if invocations overlap. */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: ProcessingLogWriterOptions) {
    this.now = options.now ?? (() => new Date());
    if (!/^[A-Za-z0-9._-]+$/.test(options.actor))
      throw new Error(`invalid processing-log actor "${options.actor}"`);
    this.writerId = `${options.actor}/${options.instanceId ?? randomUUID().replace(/-/g, '').slice(0, 16)}`;
  }

  /** Sequence number the next object of this writer gets. */
  get nextSeq(): number {
    return this.seq;
  }

  /** Number of records waiting for the next flush. */
  get pending(): number {
    return this.records.length;
  }

  /** Queues a record for the next flush (validated against the schema). */
  add({ effect, ...entry }: LogEntry): ProcessingLogRecord {
    const base = withNulls(entry);
    const record = ProcessingLogRecord.parse({
      ...base,
      schemaVersion: LOG_SCHEMA_VERSION,
      time: entry.time ?? this.now().toISOString(),
      actor: entry.actor ?? this.options.actor,
      recordId: entry.recordId ?? recordIdOf(base, effect),
    });
    this.records.push(record);
    return record;
  }

  /**
   * Starts an invocation: drops anything left from a failed one and fixes the key of the object
   * this invocation will write, so an operation can remember where its records went.
   */
  begin(): string {
    this.records = [];
    this.key = this.newKey();
    return this.key;
  }

  /**
   * Key of the object the next flush writes (see {@link begin}); fixed on first use, without
   * touching the records already queued.
   */
  get objectKey(): string {
    this.key ??= this.newKey();
    return this.key;
  }

  private newKey(): string {
    const now = this.now();
    const instance = this.writerId.slice(this.options.actor.length + 1);
    return `dt=${now.toISOString().slice(0, 10)}/${this.options.actor}/${now.toISOString().replace(/[:.]/g, '')}-${instance}-${randomUUID()}.jsonl.gz`;
  }

  /** Drops the queued records (the batch failed as a whole and will be retried). */
  discard(): void {
    this.records = [];
  }

  /** Whether the record of `entry` is queued for this invocation's object. */
  isQueued(entry: LogEntry): boolean {
    const recordId = recordIdOfEntry(entry);
    return this.records.some((r) => r.recordId === recordId);
  }

  /** Where the objects go: the client and bucket, for a reader of what was written. */
  get destination(): { readonly s3: S3Client; readonly bucket: string } {
    return { s3: this.options.s3, bucket: this.options.bucket };
  }

  /** Whether a log object was written under `key` (to tell a replay from a lost write). */
  async wasWritten(key: string): Promise<boolean> {
    try {
      await this.options.s3.send(new HeadObjectCommand({ Bucket: this.options.bucket, Key: key }));
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  /**
   * Writes the queued records as one object under {@link objectKey}, chained to the previous
   * object of this writer; returns its key, or undefined when nothing was queued. On failure the
   * records stay queued (the caller discards them and the batch is retried).
   */
  async flush(): Promise<string | undefined> {
    if (this.records.length === 0) return undefined;
    const key = this.objectKey;
    const records = this.records;
    const run = this.chain.then(() => this.put(key, records));
    this.chain = run.catch(() => undefined);
    await run;
    if (this.records === records) this.records = [];
    if (this.key === key) this.key = undefined;
    return key;
  }

  private async put(key: string, records: readonly ProcessingLogRecord[]): Promise<void> {
    if (this.unconfirmed) {
      // The previous PUT failed after sending: if it landed, it is part of the chain.
      if (await this.wasWritten(this.unconfirmed.key)) this.advance(this.unconfirmed.digest);
      this.unconfirmed = undefined;
    }
    const jsonLines = toJsonLines(records);
    const digest = recordsDigest(jsonLines);
    const m = LOG_OBJECT_METADATA;
    try {
      await this.options.s3.send(
        new PutObjectCommand({
          Bucket: this.options.bucket,
          Key: key,
          Body: gzipSync(jsonLines),
          ContentType: 'application/x-ndjson',
          ContentEncoding: 'gzip',
          ChecksumAlgorithm: 'SHA256',
          Metadata: {
            [m.recordsSha256]: digest,
            [m.prevSha256]: this.prev,
            [m.writer]: this.writerId,
            [m.seq]: String(this.seq),
            [m.records]: String(records.length),
            [m.schemaVersion]: String(LOG_SCHEMA_VERSION),
          },
        }),
      );
    } catch (error) {
      this.unconfirmed = { key, digest };
      throw error;
    }
    this.advance(digest);
  }

  private advance(digest: string): void {
    this.prev = digest;
    this.seq += 1;
  }
}
