import type { S3Client } from '@aws-sdk/client-s3';
import { requireEnv } from '../config';
import { ProcessingLogWriter } from '../processing-log/writer';

/** A processing-log writer for `actor` on the environment's log bucket (`LOG_BUCKET_NAME`). */
export function logWriterFor(
  actor: string,
  s3: S3Client,
  env: NodeJS.ProcessEnv = process.env,
): ProcessingLogWriter {
  return new ProcessingLogWriter({ s3, bucket: requireEnv('LOG_BUCKET_NAME', env), actor });
}
