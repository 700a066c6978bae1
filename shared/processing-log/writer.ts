import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
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

  /** Drops the queued records (the batch failed as a whole and will be retried). */
  discard(): void {
    this.records = [];
  }

  /** Writes the queued records as one object; returns its key, or undefined when nothing was queued. */
  async flush(): Promise<string | undefined> {
    if (this.records.length === 0) return undefined;
    const now = this.now();
    const body = gzipSync(this.records.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const key = `dt=${now.toISOString().slice(0, 10)}/${this.options.actor}/${now.toISOString().replace(/[:.]/g, '')}-${randomUUID()}.jsonl.gz`;
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
    return key;
  }
}
