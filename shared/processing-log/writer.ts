import { HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createHash, randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { LOG_SCHEMA_VERSION, ProcessingLogRecord } from './record';

/** Fields that may be omitted when adding a record: they default to null (or are derived). */
type Defaulted = 'schemaVersion' | 'recordId' | 'actor' | 'time';
type NullableKeys = {
  [K in keyof ProcessingLogRecord]: null extends ProcessingLogRecord[K] ? K : never;
}[keyof ProcessingLogRecord];

/** What a caller gives for one record: operation, outcome and tenant, and whatever else applies. */
export type LogEntry = Omit<ProcessingLogRecord, Defaulted | NullableKeys> &
  Partial<Pick<ProcessingLogRecord, Defaulted | NullableKeys>>;

/** Options of a {@link ProcessingLogWriter}. */
export interface ProcessingLogWriterOptions {
  readonly s3: S3Client;
  readonly bucket: string;
  /** Name of the acting function, written in every record. */
  readonly actor: string;
  readonly now?: () => Date;
}

/** The deterministic id of a record: the same effect always gets the same id. */
export function recordIdOf(
  r: Omit<ProcessingLogRecord, 'recordId' | 'time' | 'actor' | 'schemaVersion'>,
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
      ]),
    )
    .digest('hex')
    .slice(0, 32);
}

/**
 * Collects the records of one invocation and writes them as one gzip JSON Lines object under
 * `dt=YYYY-MM-DD/` of the log bucket: one PUT per invocation whatever the batch size.
 */
export class ProcessingLogWriter {
  private records: ProcessingLogRecord[] = [];
  private readonly now: () => Date;
  private key: string | undefined;

  constructor(private readonly options: ProcessingLogWriterOptions) {
    this.now = options.now ?? (() => new Date());
  }

  /** Number of records waiting for the next flush. */
  get pending(): number {
    return this.records.length;
  }

  /** Queues a record for the next flush (validated against the schema). */
  add(entry: LogEntry): ProcessingLogRecord {
    const base = {
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
    const record = ProcessingLogRecord.parse({
      ...base,
      schemaVersion: LOG_SCHEMA_VERSION,
      time: entry.time ?? this.now().toISOString(),
      actor: entry.actor ?? this.options.actor,
      recordId: entry.recordId ?? recordIdOf(base),
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
    const now = this.now();
    this.key = `dt=${now.toISOString().slice(0, 10)}/${this.options.actor}/${now.toISOString().replace(/[:.]/g, '')}-${randomUUID()}.jsonl.gz`;
    return this.key;
  }

  /** Key of the object the current invocation writes (see {@link begin}). */
  get objectKey(): string {
    return this.key ?? this.begin();
  }

  /** Drops the queued records (the batch failed as a whole and will be retried). */
  discard(): void {
    this.records = [];
  }

  /** Whether a log object was written under `key` (to tell a replay from a lost write). */
  async wasWritten(key: string): Promise<boolean> {
    try {
      await this.options.s3.send(new HeadObjectCommand({ Bucket: this.options.bucket, Key: key }));
      return true;
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata
        ?.httpStatusCode;
      if (status === 404 || (error as Error).name === 'NotFound') return false;
      throw error;
    }
  }

  /** Writes the queued records as one object; returns its key, or undefined when nothing was queued. */
  async flush(): Promise<string | undefined> {
    if (this.records.length === 0) return undefined;
    const key = this.objectKey;
    const body = gzipSync(this.records.map((r) => JSON.stringify(r)).join('\n') + '\n');
    await this.options.s3.send(
      new PutObjectCommand({
        Bucket: this.options.bucket,
        Key: key,
        Body: body,
        ContentType: 'application/x-ndjson',
        ContentEncoding: 'gzip',
        ChecksumAlgorithm: 'SHA256',
      }),
    );
    this.records = [];
    this.key = undefined;
    return key;
  }
}
