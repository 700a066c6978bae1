import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';

/** One record of the processing log (skeleton shape; see issue 6 for the full schema). */
export interface ProcessingLogRecord {
  readonly time: string;
  readonly tenant: string;
  readonly operation: string;
  readonly outcome: string;
  readonly eventId?: string;
  readonly eventSource?: string;
  readonly [key: string]: unknown;
}

/**
 * Collects the records of one invocation and writes them as one gzip JSON Lines object under
 * `dt=YYYY-MM-DD/` of the log bucket, so one invocation costs one PUT whatever its batch size.
 */
export class ProcessingLogWriter {
  private records: ProcessingLogRecord[] = [];

  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly writer: string,
  ) {}

  /** Queues a record for the next flush. */
  add(record: ProcessingLogRecord): void {
    this.records.push(record);
  }

  /** Writes the queued records as one object; returns its key, or undefined when nothing was queued. */
  async flush(now: Date = new Date()): Promise<string | undefined> {
    if (this.records.length === 0) return undefined;
    const body = gzipSync(this.records.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const dt = now.toISOString().slice(0, 10);
    const key = `dt=${dt}/${this.writer}/${now.toISOString().replace(/[:.]/g, '')}-${randomUUID()}.jsonl.gz`;
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
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
