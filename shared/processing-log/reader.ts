import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { gunzipSync } from 'node:zlib';
import type { ProcessingLogRecord } from './record';

/** One object of the processing log: its key, its decompressed text and its records. */
export interface LogObject<T = ProcessingLogRecord> {
  readonly key: string;
  readonly text: string;
  readonly records: T[];
}

/**
 * Reads every current log object of the log bucket (all pages, under `dt=` unless another prefix
 * is given: checkpoints live beside them), in key order, `concurrency` GETs at a time. For tests,
 * the demo and the benchmark; auditors use `privacy-ops log query`.
 */
export async function readLogObjects<T = ProcessingLogRecord>(
  s3: S3Client,
  bucket: string,
  options: { prefix?: string; concurrency?: number } = {},
): Promise<LogObject<T>[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: options.prefix ?? 'dt=',
        ContinuationToken: token,
      }),
    );
    for (const o of page.Contents ?? []) keys.push(o.Key!);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  const objects: LogObject<T>[] = new Array(keys.length);
  let next = 0;
  const worker = async () => {
    while (next < keys.length) {
      const i = next++;
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: keys[i] }));
      const text = gunzipSync(Buffer.from(await got.Body!.transformToByteArray())).toString('utf8');
      const records = text
        .split('\n')
        .filter((line) => line.trim())
        .map((line) => JSON.parse(line) as T);
      objects[i] = { key: keys[i], text, records };
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(options.concurrency ?? 8, keys.length) }, worker),
  );
  return objects;
}

/** Every record of the log bucket's current objects, in key order. */
export async function readLogRecords<T = ProcessingLogRecord>(
  s3: S3Client,
  bucket: string,
  options: { prefix?: string; concurrency?: number } = {},
): Promise<T[]> {
  return (await readLogObjects<T>(s3, bucket, options)).flatMap((o) => o.records);
}
