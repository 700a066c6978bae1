import { GetObjectCommand } from '@aws-sdk/client-s3';
import { gunzipSync } from 'node:zlib';
import { isNotFound } from '../errors';
import { recordIdOfEntry, type LogEntry, type ProcessingLogWriter } from './writer';

/**
 * What an operation that keeps its own idempotency needs of the log: this invocation's object
 * key, and whether an object holds an entry's record. Apart from the writer, so that only the
 * functions that read their log back bundle the reading.
 */
export interface LogObjects {
  readonly objectKey: string;
  /**
   * Whether the object under `key` holds the record of `entry`: for this invocation's object,
   * whether it is queued; for another, undefined when nothing was written under `key` (yet), else
   * one GET (for replays only).
   */
  holds(key: string, entry: LogEntry): Promise<boolean | undefined>;
}

/** What {@link logObjectsOf} reads of a writer. */
export type ReadableWriter = Pick<ProcessingLogWriter, 'objectKey' | 'isQueued' | 'destination'>;

/** The {@link LogObjects} of a writer. */
export function logObjectsOf(log: ReadableWriter): LogObjects {
  return {
    get objectKey() {
      return log.objectKey;
    },
    holds: async (key, entry) => {
      if (key === log.objectKey) return log.isQueued(entry);
      const { s3, bucket } = log.destination;
      let text: string;
      try {
        const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        text = gunzipSync(Buffer.from(await got.Body!.transformToByteArray())).toString('utf8');
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
      return text.includes(`"recordId":"${recordIdOfEntry(entry)}"`);
    },
  };
}
